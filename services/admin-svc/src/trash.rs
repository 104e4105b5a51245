//! Deletion that can be undone: media objects are never deleted outright by
//! the sweeper or by the purge after a catalogue delete. They are moved to
//! `trash/<original key>` (S3 copy, then delete) and recorded in the `trash`
//! table with when and why. [`restore`] copies an object back to its original
//! key; [`purge`] deletes trash older than the retention window
//! (`TRASH_RETENTION_DAYS`, default 7).
//!
//! Every step runs under the original key's exclusive lock (see `orphans`),
//! so a restore never interleaves with a sweep or purge of the same key.
//! Restoring a key whose row is gone brings back an unreferenced object: if
//! it is a ledger key, the next sweep past the grace period trashes it again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, Transaction};

use crate::objects::{MediaStore, S3Error};
use crate::orphans::KeyLocks;

pub const TRASH_PREFIX: &str = "trash/";

/// How long trashed objects are kept by default.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Why an object was trashed (the `trash.reason` column; an unknown stored
/// value is an error, not a guess).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// An unreferenced ledger key found by the sweeper.
    Sweep,
    /// The post-commit purge after an album or song was deleted or repointed.
    Delete,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sweep => "sweep",
            Self::Delete => "delete",
        }
    }
}

/// A move to or from the trash that failed (it is retried, or reported).
#[derive(Debug, thiserror::Error)]
pub enum TrashError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    S3(#[from] S3Error),
}

/// Where `key` lives while in the trash.
pub fn trash_key(key: &str) -> String {
    format!("{TRASH_PREFIX}{key}")
}

/// Copies `key` to the trash, records it in `tx` and deletes the original.
/// The caller holds `key`'s exclusive lock in `tx` and commits it. If the
/// delete fails, the transaction is dropped (no entry) and the object is
/// still at its key; the copy is overwritten by the next attempt.
pub(crate) async fn move_to_trash(
    tx: &mut Transaction<'static, Postgres>,
    media: &MediaStore,
    key: &str,
    reason: Reason,
) -> Result<(), TrashError> {
    if media.head(key).await?.is_none() {
        // Nothing to move (already gone): record nothing.
        return Ok(());
    }
    media.copy(key, &trash_key(key)).await?;
    sqlx::query(
        "INSERT INTO trash (key, trashed_at, reason) VALUES ($1, now(), $2) \
         ON CONFLICT (key) DO UPDATE SET trashed_at = now(), reason = EXCLUDED.reason",
    )
    .bind(key)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    media.delete(key).await?;
    tracing::info!(key, reason = reason.as_str(), "media object moved to trash");
    Ok(())
}

/// One entry of the trash table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct TrashEntry {
    pub key: String,
    pub trashed_at: DateTime<Utc>,
    pub reason: Reason,
}

pub async fn list(db: &PgPool) -> Result<Vec<TrashEntry>, sqlx::Error> {
    sqlx::query_as("SELECT key, trashed_at, reason FROM trash ORDER BY trashed_at, key")
        .fetch_all(db)
        .await
}

/// Copies `trash/<key>` back to `key` and forgets the entry. `Ok(false)`:
/// `key` is not in the trash.
pub async fn restore(locks: &KeyLocks, media: &MediaStore, key: &str) -> Result<bool, TrashError> {
    let mut tx = locks.exclusive(key).await?;
    let found: Option<String> =
        sqlx::query_scalar("DELETE FROM trash WHERE key = $1 RETURNING key")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
    if found.is_none() {
        return Ok(false);
    }
    let from = trash_key(key);
    media.copy(&from, key).await?;
    media.delete(&from).await?;
    tx.commit().await?;
    tracing::info!(key, "media object restored from trash");
    Ok(true)
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreReport {
    pub restored: Vec<String>,
    pub failed: Vec<String>,
}

/// Restores every entry trashed at or after `since`.
pub async fn restore_since(
    db: &PgPool,
    locks: &KeyLocks,
    media: &MediaStore,
    since: DateTime<Utc>,
) -> Result<RestoreReport, sqlx::Error> {
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT key FROM trash WHERE trashed_at >= $1 ORDER BY key")
            .bind(since)
            .fetch_all(db)
            .await?;
    let mut report = RestoreReport::default();
    for key in keys {
        match restore(locks, media, &key).await {
            Ok(true) => report.restored.push(key),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(key, error = %e, "restore failed");
                report.failed.push(key);
            }
        }
    }
    Ok(report)
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Trash entries deleted for good.
    pub purged: Vec<String>,
    pub failed: Vec<String>,
}

/// Deletes for good every trash entry older than `retention`.
pub async fn purge(
    db: &PgPool,
    locks: &KeyLocks,
    media: &MediaStore,
    retention: Duration,
) -> Result<PurgeReport, sqlx::Error> {
    let secs = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT key FROM trash WHERE trashed_at < now() - make_interval(secs => $1) ORDER BY key",
    )
    .bind(secs as f64)
    .fetch_all(db)
    .await?;
    let mut report = PurgeReport::default();
    for key in keys {
        match purge_one(locks, media, &key, secs).await {
            Ok(true) => report.purged.push(key),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(key, error = %e, "trash purge failed");
                report.failed.push(key);
            }
        }
    }
    tracing::info!(
        purged = report.purged.len(),
        failed = report.failed.len(),
        "trash purge finished"
    );
    Ok(report)
}

async fn purge_one(
    locks: &KeyLocks,
    media: &MediaStore,
    key: &str,
    secs: i64,
) -> Result<bool, TrashError> {
    let mut tx = locks.exclusive(key).await?;
    // Re-read under the lock: a restore or a fresh trashing may have won.
    let gone: Option<String> = sqlx::query_scalar(
        "DELETE FROM trash WHERE key = $1 AND trashed_at < now() - make_interval(secs => $2) \
         RETURNING key",
    )
    .bind(key)
    .bind(secs as f64)
    .fetch_optional(&mut *tx)
    .await?;
    if gone.is_none() {
        return Ok(false);
    }
    media.delete(&trash_key(key)).await?;
    tx.commit().await?;
    Ok(true)
}
