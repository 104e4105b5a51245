//! The catalogue version (migration `20261204000001_catalog_version.sql`).
//!
//! Every committed change to `albums` or `songs` moves one counter forward by
//! exactly one, in commit order. A writer takes it first in its transaction
//! ([`bump`]); a reader that needs to know how old its data is reads it in the
//! same snapshot as the data ([`Snapshot`]).

use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, Transaction};

/// Moves the version forward for the calling transaction and returns it.
/// Call it before any other write: it takes the row lock that serialises
/// catalogue writers (so versions follow commit order), and makes the
/// tables' safety-net trigger a no-op for the rest of the transaction.
pub async fn bump(tx: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "UPDATE catalog_version SET version = version + 1, last_txid = txid_current() \
         RETURNING version",
    )
    .fetch_one(tx)
    .await
}

/// The newest committed version.
pub async fn current<'e>(db: impl PgExecutor<'e>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT version FROM catalog_version")
        .fetch_one(db)
        .await
}

/// A read-only, repeatable-read transaction and the catalogue version its
/// snapshot sees: every query run on it sees exactly the changes up to and
/// including `version`, and none after.
pub struct Snapshot {
    pub tx: Transaction<'static, Postgres>,
    pub version: i64,
}

impl Snapshot {
    pub async fn begin(pool: &PgPool) -> sqlx::Result<Self> {
        let mut tx = pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        // The snapshot is taken by this, the transaction's first query.
        let version = current(&mut *tx).await?;
        Ok(Self { tx, version })
    }

    /// Ends the read (nothing to commit; releases the connection cleanly)
    /// and gives the version everything read in it belongs to.
    pub async fn finish(self) -> sqlx::Result<i64> {
        self.tx.commit().await?;
        Ok(self.version)
    }
}
