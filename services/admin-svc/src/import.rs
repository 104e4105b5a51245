//! `admin-svc import-seed`: copies the catalogue of a running
//! spotify-microservices deployment (its Prisma tables `"album"` and
//! `"song"`, quoted camelCase columns) into Cadenza's schema, keeping ids,
//! keys and timestamps.
//!
//! - Idempotent: a row whose id already exists is left as it is, so a second
//!   run changes nothing (and an album or song edited since is not undone).
//! - Every referenced object (`thumbnailKey`, `audioKey`, `imageUrl`) is
//!   checked with HEAD. Missing ones are reported; the row is imported
//!   anyway, or skipped with `skip_missing_objects` (a song with it too when
//!   its album is skipped).
//! - Everything is written in one transaction; a dry run rolls it back, so
//!   its counts are exactly what a real run would do.
//! - The seed had no size caps: imported objects keep whatever size they
//!   have; only new uploads are capped.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::media::{normalize_content_type, MediaKind};
use crate::objects::MediaStore;

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub dry_run: bool,
    pub skip_missing_objects: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Rows read from the seed.
    pub seen: usize,
    /// Rows written (or, in a dry run, that would be).
    pub imported: usize,
    /// Rows whose id Cadenza already has: left unchanged.
    pub existing: usize,
    /// Rows not imported (missing objects with the flag, bad ids, conflicts).
    pub skipped: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingObject {
    pub table: &'static str,
    pub id: String,
    pub field: &'static str,
    pub key: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub dry_run: bool,
    pub albums: Counts,
    pub songs: Counts,
    pub missing_objects: Vec<MissingObject>,
    /// Rows that could not be imported, with the reason.
    pub problems: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct SeedAlbum {
    id: String,
    name: String,
    artist: String,
    #[sqlx(rename = "thumbnailKey")]
    thumbnail_key: String,
    #[sqlx(rename = "createdAt")]
    created_at: NaiveDateTime,
}

#[derive(sqlx::FromRow)]
struct SeedSong {
    id: String,
    title: String,
    artist: String,
    #[sqlx(rename = "audioKey")]
    audio_key: String,
    duration: f64,
    #[sqlx(rename = "albumId")]
    album_id: String,
    #[sqlx(rename = "createdAt")]
    created_at: NaiveDateTime,
    #[sqlx(rename = "imageUrl")]
    image_url: Option<String>,
}

/// The type S3 reports, else the one the key's extension implies.
fn audio_type(reported: Option<&str>, key: &str) -> String {
    let reported = reported.map(normalize_content_type).unwrap_or_default();
    if MediaKind::Audio.extension(&reported).is_some() {
        return reported;
    }
    match key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()) {
        Some(e) if e == "flac" => "audio/flac".into(),
        Some(e) if e == "ogg" => "audio/ogg".into(),
        Some(e) if e == "m4a" || e == "mp4" => "audio/mp4".into(),
        Some(e) if e == "wav" => "audio/wav".into(),
        _ => "audio/mpeg".into(),
    }
}

pub async fn import_seed(
    seed: &PgPool,
    target: &PgPool,
    media: &MediaStore,
    opts: ImportOptions,
) -> anyhow::Result<ImportReport> {
    let albums: Vec<SeedAlbum> = sqlx::query_as(
        r#"SELECT "id", "name", "artist", "thumbnailKey", "createdAt" FROM "album" ORDER BY "createdAt", "id""#,
    )
    .fetch_all(seed)
    .await?;
    let songs: Vec<SeedSong> = sqlx::query_as(
        r#"SELECT "id", "title", "artist", "audioKey", "duration", "albumId", "createdAt", "imageUrl" FROM "song" ORDER BY "albumId", "createdAt", "id""#,
    )
    .fetch_all(seed)
    .await?;

    let mut report = ImportReport {
        dry_run: opts.dry_run,
        ..Default::default()
    };
    let mut tx = target.begin().await?;
    let mut usable_albums: HashSet<String> = HashSet::new();

    for a in &albums {
        report.albums.seen += 1;
        let Ok(id) = Uuid::try_parse(&a.id) else {
            report.albums.skipped += 1;
            report
                .problems
                .push(format!("album {:?}: id is not a UUID", a.id));
            continue;
        };
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM albums WHERE id = $1)")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if exists {
            report.albums.existing += 1;
            usable_albums.insert(a.id.clone());
            continue;
        }
        if media.head(&a.thumbnail_key).await?.is_none() {
            report.missing_objects.push(MissingObject {
                table: "album",
                id: a.id.clone(),
                field: "thumbnailKey",
                key: a.thumbnail_key.clone(),
            });
            if opts.skip_missing_objects {
                report.albums.skipped += 1;
                continue;
            }
        }
        let at = a.created_at.and_utc();
        sqlx::query(
            "INSERT INTO albums (id, name, artist, thumbnail_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(id)
        .bind(&a.name)
        .bind(&a.artist)
        .bind(&a.thumbnail_key)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        report.albums.imported += 1;
        usable_albums.insert(a.id.clone());
    }

    // Track numbers follow the seed's album order (oldest first), after any
    // track the album already has.
    let mut next_track: HashMap<String, i32> = HashMap::new();
    for s in &songs {
        report.songs.seen += 1;
        let Ok(id) = Uuid::try_parse(&s.id) else {
            report.songs.skipped += 1;
            report
                .problems
                .push(format!("song {:?}: id is not a UUID", s.id));
            continue;
        };
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM songs WHERE id = $1)")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if exists {
            report.songs.existing += 1;
            continue;
        }
        let (Some(album_id), true) = (
            Uuid::try_parse(&s.album_id).ok(),
            usable_albums.contains(&s.album_id),
        ) else {
            report.songs.skipped += 1;
            report.problems.push(format!(
                "song {}: its album {} was not imported",
                s.id, s.album_id
            ));
            continue;
        };
        let audio = media.head(&s.audio_key).await?;
        let mut missing = false;
        if audio.is_none() {
            missing = true;
            report.missing_objects.push(MissingObject {
                table: "song",
                id: s.id.clone(),
                field: "audioKey",
                key: s.audio_key.clone(),
            });
        }
        let image_key = s
            .image_url
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty());
        if let Some(key) = image_key {
            if media.head(key).await?.is_none() {
                missing = true;
                report.missing_objects.push(MissingObject {
                    table: "song",
                    id: s.id.clone(),
                    field: "imageUrl",
                    key: key.to_owned(),
                });
            }
        }
        if missing && opts.skip_missing_objects {
            report.songs.skipped += 1;
            continue;
        }
        let track = match next_track.get(&s.album_id) {
            Some(n) => *n,
            None => {
                let max: Option<i32> =
                    sqlx::query_scalar("SELECT max(track_number) FROM songs WHERE album_id = $1")
                        .bind(album_id)
                        .fetch_one(&mut *tx)
                        .await?;
                max.unwrap_or(0) + 1
            }
        };
        if track > cadenza_catalog::MAX_TRACK_NUMBER {
            report.songs.skipped += 1;
            report.problems.push(format!(
                "song {}: album {} has no free track number",
                s.id, s.album_id
            ));
            continue;
        }
        // A missing object's size is unknown; the schema needs a positive one.
        let (content_type, size) = match &audio {
            Some(info) => (
                audio_type(info.content_type.as_deref(), &s.audio_key),
                info.size.max(1),
            ),
            None => (audio_type(None, &s.audio_key), 1),
        };
        let duration = if s.duration.is_finite() && s.duration >= 0.0 {
            s.duration.min(cadenza_catalog::MAX_DURATION_SECONDS)
        } else {
            0.0
        };
        let inserted = sqlx::query(
            "INSERT INTO songs (id, album_id, title, artist, audio_key, content_type, size_bytes, \
             duration_seconds, track_number, image_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
             ON CONFLICT (audio_key) DO NOTHING",
        )
        .bind(id)
        .bind(album_id)
        .bind(&s.title)
        .bind(&s.artist)
        .bind(&s.audio_key)
        .bind(&content_type)
        .bind(size)
        .bind(duration)
        .bind(track)
        .bind(image_key)
        .bind(s.created_at.and_utc())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            report.songs.skipped += 1;
            report.problems.push(format!(
                "song {}: audioKey {} is used by another song",
                s.id, s.audio_key
            ));
            continue;
        }
        // The server reads every imported file too (issue 20).
        crate::media_jobs::enqueue(&mut tx, id, &s.audio_key).await?;
        next_track.insert(s.album_id.clone(), track + 1);
        report.songs.imported += 1;
    }

    if opts.dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    tracing::info!(
        albums = report.albums.imported,
        songs = report.songs.imported,
        missing = report.missing_objects.len(),
        dry_run = opts.dry_run,
        at = %Utc::now(),
        "seed catalogue import finished"
    );
    Ok(report)
}
