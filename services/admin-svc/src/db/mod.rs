//! Catalogue persistence. admin-svc is the only writer; reads shared with
//! song-svc live in `cadenza_catalog::queries`. One module per table
//! ([`albums`], [`songs`], [`uploads`]); every write is one transaction and
//! returns what the caller needs after the commit (events, object cleanup).
//! Nothing here knows about HTTP: failures are [`StoreError`]s.

pub mod albums;
pub mod songs;
pub mod uploads;

use sqlx::{PgPool, Postgres, Transaction};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row the path names (`"album"`, `"song"`) does not exist.
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("no such album")]
    AlbumMissing,
    #[error("the album has no free track number left")]
    AlbumFull,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// An object checked with HEAD: its key, normalised type and size.
#[derive(Debug, Clone)]
pub struct VerifiedObject {
    pub key: String,
    pub content_type: String,
    pub size_bytes: i64,
}

/// A change, the catalogue version it committed as (events carry it), and
/// the object keys that no row references any more and may be deleted from
/// the bucket once the transaction has committed.
#[derive(Debug, Clone)]
pub struct Written<T> {
    pub value: T,
    pub version: i64,
    pub orphaned_keys: Vec<String>,
}

impl<T> Written<T> {
    /// A new row: nothing it replaced, so nothing orphaned.
    fn inserted(value: T, version: i64) -> Self {
        Self {
            value,
            version,
            orphaned_keys: vec![],
        }
    }
}

/// Starts a catalogue write: a transaction that has already taken the next
/// catalogue version (and with it the lock that orders writers).
async fn begin_write(pool: &PgPool) -> StoreResult<(Transaction<'static, Postgres>, i64)> {
    let mut tx = pool.begin().await?;
    let version = cadenza_catalog::version::bump(&mut tx).await?;
    Ok((tx, version))
}

fn replaced_keys(before: &[String], after: &[String]) -> Vec<String> {
    before
        .iter()
        .filter(|k| !after.contains(k))
        .cloned()
        .collect()
}

/// The subset of `keys` that no album or song references any more (a song
/// may reuse its album's cover as artwork; that cover must survive).
/// Candidates only: a concurrent create may still reference one, so objects
/// are deleted through `orphans::KeyLocks::trash_if_unreferenced`, which
/// re-checks under the key's lock.
async fn unreferenced(
    tx: &mut Transaction<'_, Postgres>,
    keys: Vec<String>,
) -> StoreResult<Vec<String>> {
    Ok(unreferenced_keys(&mut **tx, keys).await?)
}

/// [`unreferenced`] outside a transaction (the sweeper).
#[tracing::instrument(name = "db.unreferenced_keys", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
pub async fn unreferenced_keys<'e>(
    db: impl sqlx::PgExecutor<'e>,
    mut keys: Vec<String>,
) -> Result<Vec<String>, sqlx::Error> {
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return Ok(keys);
    }
    sqlx::query_scalar(
        "SELECT k FROM unnest($1::text[]) AS k \
         WHERE NOT EXISTS (SELECT 1 FROM albums WHERE thumbnail_key = k) \
           AND NOT EXISTS (SELECT 1 FROM songs WHERE audio_key = k OR image_key = k) \
         ORDER BY k",
    )
    .bind(&keys)
    .fetch_all(db)
    .await
}

/// Whether an album or song references `key`.
pub async fn is_referenced(pool: &PgPool, key: &str) -> StoreResult<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM albums WHERE thumbnail_key = $1) \
             OR EXISTS (SELECT 1 FROM songs WHERE audio_key = $1 OR image_key = $1)",
    )
    .bind(key)
    .fetch_one(pool)
    .await?)
}
