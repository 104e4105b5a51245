//! Backup and restore of Cadenza's three stores.
//!
//! A backup is a directory:
//!
//! ```text
//! manifest.json            what is inside, and the SHA-256 of every file
//! postgres/catalog.pgdump  the catalogue, `pg_dump --format=custom`
//! mongo/NNNN.json          one collection: canonical Extended JSON, one
//!                          document per line (what `mongoexport
//!                          --jsonFormat=canonical` writes and `mongoimport`
//!                          reads)
//! mongo/NNNN.indexes.json  that collection's index specifications
//! media/index.jsonl        one line per object: key, file, content type
//! media/objects/NNNNNN     the objects' bytes
//! ```
//!
//! Restoring first checks every file against the manifest and refuses a
//! backup that is incomplete or altered, before it touches any store. Each
//! part then replaces what its store holds: the catalogue's tables are
//! dropped and recreated (`pg_restore --clean --single-transaction`), each
//! backed-up collection is dropped and refilled, each object is written
//! again. Nothing outside the backup is deleted.
//!
//! The parts are taken one after another, accounts first, then the
//! catalogue, then media: a media object is uploaded before the row that
//! names it, so every object a backed-up row names is in the backup, except
//! one deleted while the backup runs, which is there under `trash/<key>`
//! (catalogue deletions move objects rather than delete them). A restore
//! writes media first, then accounts, then the catalogue.

pub mod manifest;
pub mod media;
pub mod mongo;
pub mod postgres;
pub mod remote;

use std::path::Path;

use anyhow::{bail, Context};
use chrono::Utc;

pub use manifest::Manifest;

/// One store of the three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Part {
    /// The MongoDB-wire database user-svc keeps accounts in.
    Mongo,
    /// The PostgreSQL catalogue.
    Postgres,
    /// The media bucket.
    Media,
}

pub const ALL_PARTS: [Part; 3] = [Part::Mongo, Part::Postgres, Part::Media];

/// Where the stores are. A part whose store is not given cannot be backed
/// up or restored.
#[derive(Clone, Default)]
pub struct Stores {
    /// The catalogue database (`DATABASE_URL`).
    pub database_url: Option<String>,
    /// user-svc's MongoDB (`MONGODB_URI`, `MONGODB_DB`).
    pub mongo: Option<(String, String)>,
    /// The media bucket.
    pub media: Option<media::Bucket>,
}

/// Backs up `parts` of `stores` into `out`, a directory that must not exist
/// yet or be empty. Returns the manifest written there.
pub async fn create(stores: &Stores, parts: &[Part], out: &Path) -> anyhow::Result<Manifest> {
    let created = fresh_dir(out)?;
    let written = write_parts(stores, parts, out).await;
    if written.is_err() {
        // Only what this run wrote is there: leave no half backup behind.
        discard(out, created);
    }
    written
}

/// Makes `dir` (which must not exist or be empty); true when it was made.
pub(crate) fn fresh_dir(dir: &Path) -> anyhow::Result<bool> {
    if dir.exists() {
        if dir.read_dir()?.next().is_some() {
            bail!("{} exists and is not empty", dir.display());
        }
        return Ok(false);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(true)
}

/// Removes what a failed run wrote into a directory [`fresh_dir`] gave it.
pub(crate) fn discard(dir: &Path, created: bool) {
    if created {
        let _ = std::fs::remove_dir_all(dir);
    } else if let Ok(entries) = dir.read_dir() {
        for e in entries.flatten() {
            let _ = std::fs::remove_dir_all(e.path()).or_else(|_| std::fs::remove_file(e.path()));
        }
    }
}

async fn write_parts(stores: &Stores, parts: &[Part], out: &Path) -> anyhow::Result<Manifest> {
    let mut m = Manifest::new(Utc::now());
    for part in sorted(parts) {
        match part {
            Part::Mongo => {
                let (uri, db) = stores.mongo.as_ref().context("no MONGODB_URI")?;
                m.mongo = Some(mongo::dump(uri, db, out, &mut m.files).await?);
            }
            Part::Postgres => {
                let url = stores.database_url.as_deref().context("no DATABASE_URL")?;
                m.postgres = Some(postgres::dump(url, out, &mut m.files).await?);
            }
            Part::Media => {
                let bucket = stores.media.as_ref().context("no S3_BUCKET")?;
                m.media = Some(media::dump(bucket, out, &mut m.files).await?);
            }
        }
        tracing::info!(?part, "backed up");
    }
    m.finished_at = Some(Utc::now());
    m.write(out)?;
    Ok(m)
}

/// Restores `parts` from the backup in `from` into `stores`, after checking
/// every file of the backup against its manifest.
pub async fn restore(stores: &Stores, parts: &[Part], from: &Path) -> anyhow::Result<Manifest> {
    let m = Manifest::read(from)?;
    m.verify(from)?;
    // Everything that can be checked is checked before the first write:
    // each requested part is in the backup, its store is configured, its
    // files read (every document parses, pg_restore can read the archive,
    // every object file is checksummed).
    let parts = sorted(parts);
    for part in &parts {
        match part {
            Part::Mongo => {
                let section = m.mongo.as_ref().context("the backup holds no mongo part")?;
                stores.mongo.as_ref().context("no MONGODB_URI")?;
                mongo::check(section, from)?;
            }
            Part::Postgres => {
                let section = m
                    .postgres
                    .as_ref()
                    .context("the backup holds no postgres part")?;
                stores.database_url.as_deref().context("no DATABASE_URL")?;
                postgres::check(section, from).await?;
            }
            Part::Media => {
                let section = m.media.as_ref().context("the backup holds no media part")?;
                stores.media.as_ref().context("no S3_BUCKET")?;
                media::check(section, from, &m.files)?;
            }
        }
    }
    // Media first, so that every object is back before a row names it.
    let mut order = parts.clone();
    order.sort_by_key(|p| *p != Part::Media);
    for part in order {
        match part {
            Part::Mongo => {
                let section = m.mongo.as_ref().context("the backup holds no mongo part")?;
                let (uri, db) = stores.mongo.as_ref().context("no MONGODB_URI")?;
                mongo::load(uri, db, section, from).await?;
            }
            Part::Postgres => {
                let section = m
                    .postgres
                    .as_ref()
                    .context("the backup holds no postgres part")?;
                let url = stores.database_url.as_deref().context("no DATABASE_URL")?;
                postgres::load(url, section, from).await?;
            }
            Part::Media => {
                let section = m.media.as_ref().context("the backup holds no media part")?;
                let bucket = stores.media.as_ref().context("no S3_BUCKET")?;
                media::load(bucket, section, from).await?;
            }
        }
        tracing::info!(?part, "restored");
    }
    Ok(m)
}

fn sorted(parts: &[Part]) -> Vec<Part> {
    let mut v = parts.to_vec();
    v.sort();
    v.dedup();
    v
}
