//! Removing media objects that no row references, without racing a create
//! that is about to reference them.
//!
//! The race: an album is deleted (its cover `K` looks unreferenced) while
//! another request creates an album with the same `K`. The create HEADs
//! `K`, the delete commits and purges `K` from the bucket, the create
//! commits: a row now points at a deleted object. A check inside the
//! deleting transaction cannot see the uncommitted create, and the purge
//! runs after both commits anyway.
//!
//! The rule, with one PostgreSQL advisory lock per object key
//! (`hashtextextended(key, 0)`; a collision only makes two keys wait on
//! each other):
//!
//! - A request that will make a row reference `K` takes the key's lock
//!   **shared** ([`KeyLocks::hold`]) *before* it verifies the object with
//!   HEAD and keeps it until its transaction has committed or failed.
//! - Removing `K` from its place in the bucket
//!   ([`KeyLocks::trash_if_unreferenced`], used by the post-commit purge and
//!   by the sweeper; it moves `K` to `trash/K`) takes the lock **exclusive**,
//!   re-reads the catalogue and moves `K` only if no row references it, all
//!   while holding it. Restoring from the trash takes it exclusive too.
//!
//! So either the creator holds the lock first (the purge waits, then sees
//! the committed row and keeps `K`), or the purge does (the creator waits,
//! then its HEAD finds `K` gone and it answers 422). The
//! `orphaned_keys` a write returns are candidates only.
//!
//! Holds are session-level locks on connections of their own small pool, so
//! a creator never waits for a second connection from the pool its
//! transaction needs, and no lock is ever held by a connection that goes
//! back to a pool.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres, Transaction};

use crate::db;
use crate::objects::MediaStore;
use crate::trash::{self, Reason, TrashError};

/// Longest a purge waits for creators holding a key.
const PURGE_LOCK_TIMEOUT: &str = "10s";

#[derive(Clone)]
pub struct KeyLocks {
    pool: PgPool,
}

impl KeyLocks {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// A pool of its own on `database_url` (lazy, like the main one).
    pub fn connect_lazy(database_url: &SecretString) -> Result<Self, sqlx::Error> {
        Ok(Self::new(
            PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(3))
                .connect_lazy(database_url.expose_secret())?,
        ))
    }

    /// Holds `keys` shared until [`KeyHold::release`] (or drop).
    pub async fn hold<I, S>(&self, keys: I) -> Result<KeyHold, sqlx::Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut keys: Vec<String> = keys.into_iter().map(Into::into).collect();
        keys.sort();
        keys.dedup();
        if keys.is_empty() {
            return Ok(KeyHold { conn: None });
        }
        let mut conn = self.pool.acquire().await?;
        // One statement, keys in order: two holders never wait on each other.
        sqlx::query(
            "SELECT pg_advisory_lock_shared(hashtextextended(k, 0)) \
             FROM (SELECT unnest($1::text[]) AS k ORDER BY 1) AS s",
        )
        .bind(&keys)
        .execute(&mut *conn)
        .await?;
        Ok(KeyHold { conn: Some(conn) })
    }

    /// A transaction holding `key`'s lock exclusive (until it ends), waiting
    /// at most [`PURGE_LOCK_TIMEOUT`] for creators holding it.
    pub async fn exclusive(
        &self,
        key: &str,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!("SET LOCAL lock_timeout = '{PURGE_LOCK_TIMEOUT}'"))
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// Moves `key` to the trash (see [`crate::trash`]) if, under the key's
    /// exclusive lock, no row references it. `Ok(true)`: trashed;
    /// `Ok(false)`: referenced, kept.
    pub async fn trash_if_unreferenced(
        &self,
        media: &MediaStore,
        key: &str,
        reason: Reason,
    ) -> Result<bool, TrashError> {
        let mut tx = self.exclusive(key).await?;
        let orphan = db::unreferenced_keys(&mut *tx, vec![key.to_owned()]).await?;
        if orphan.is_empty() {
            tracing::info!(key, "object referenced again; not trashed");
            return Ok(false);
        }
        // Still under the lock: a creator waiting for it will HEAD after this.
        trash::move_to_trash(&mut tx, media, key, reason).await?;
        tx.commit().await.inspect_err(|e| {
            tracing::error!(key, error = %e, "trash entry not committed; the object stays under trash/ unrecorded");
        })?;
        Ok(true)
    }
}

/// Shared locks on some object keys, held by a connection of the lock pool.
#[must_use = "release the hold after the write's transaction has ended"]
pub struct KeyHold {
    conn: Option<PoolConnection<Postgres>>,
}

impl KeyHold {
    /// Releases the locks (after the write committed or failed).
    pub async fn release(mut self) {
        if let Some(conn) = self.conn.take() {
            unlock(conn).await;
        }
    }
}

async fn unlock(mut conn: PoolConnection<Postgres>) {
    if let Err(e) = sqlx::query("SELECT pg_advisory_unlock_all()")
        .execute(&mut *conn)
        .await
    {
        // Never hand a connection that may still hold locks back to the pool.
        tracing::warn!(error = %e, "releasing object-key locks failed; closing the connection");
        let _ = conn.close().await;
    }
}

impl Drop for KeyHold {
    fn drop(&mut self) {
        // An early return (`?`) between hold and release lands here.
        if let Some(conn) = self.conn.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(unlock(conn));
                }
                // No runtime: close the session, which drops its locks.
                Err(_) => drop(conn.detach()),
            }
        }
    }
}
