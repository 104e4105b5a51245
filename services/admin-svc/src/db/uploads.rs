//! The `upload_ledger` table: every key admin-svc has issued an upload URL
//! for (the sweeper only ever considers these keys).

use sqlx::PgPool;

use crate::domain::media::MediaKind;

/// Records `key` before any URL for it exists.
pub async fn record(
    pool: &PgPool,
    key: &str,
    kind: MediaKind,
    content_type: &str,
    size: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO upload_ledger (key, kind, content_type, size_bytes) VALUES ($1, $2, $3, $4)",
    )
    .bind(key)
    .bind(kind)
    .bind(content_type)
    .bind(size)
    .execute(pool)
    .await?;
    Ok(())
}
