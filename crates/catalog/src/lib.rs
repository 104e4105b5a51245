//! The Cadenza catalogue: albums and their songs in PostgreSQL.
//!
//! One crate owns the schema so that admin-svc (the writer) and song-svc (the
//! reader) can never disagree about it. The migrations are embedded in the
//! binary with [`sqlx::migrate!`]; [`migrate`] applies them (idempotent, and
//! safe to run from several replicas at once: sqlx takes an advisory lock).
//!
//! Queries are runtime-checked (`sqlx::query_as::<_, Row>`), not the
//! compile-time `query!` macros, so building needs neither a database nor
//! committed offline metadata. The price is that a typo is only found when the
//! query runs, which is why every query here and in the services is exercised
//! by integration tests against a real PostgreSQL.

pub mod cursor;
pub mod json;
pub mod media;
pub mod page;
pub mod queries;
pub mod rows;
pub mod version;

pub use cursor::{Cursor, CursorError};
pub use json::{AlbumJson, SongJson};
pub use rows::{AlbumRow, SongRow, SongStatus};
pub use version::Snapshot;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::PgPool;

/// The embedded migrations (`crates/catalog/migrations`).
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Applies every pending migration. Safe to call on an up-to-date database.
pub async fn migrate(pool: &PgPool) -> Result<(), MigrateError> {
    MIGRATOR.run(pool).await
}

/// Adds the `postgres` check to a service's `/readyz`. It touches the
/// schema too: a database that answers but is not migrated would turn every
/// request into a 500, so it must not receive traffic.
pub fn ready_check(
    readiness: cadenza_platform::health::Readiness,
    pool: PgPool,
) -> cadenza_platform::health::Readiness {
    readiness.check("postgres", move || {
        let pool = pool.clone();
        async move {
            sqlx::query("SELECT 1 FROM albums LIMIT 1")
                .execute(&pool)
                .await
                .map(|_| ())
        }
    })
}

/// Column lists in the order the row types expect them, for `SELECT`s and
/// `RETURNING` clauses.
pub const ALBUM_COLUMNS: &str = "id, name, artist, thumbnail_key, created_at, updated_at, gain_db";
pub const SONG_COLUMNS: &str = "id, album_id, title, artist, audio_key, content_type, size_bytes, \
     duration_seconds, track_number, image_key, created_at, updated_at, status, status_reason";

/// Text limits shared by the writer and any reader that validates input.
pub const MAX_TEXT_CHARS: usize = 200;
/// Tracks are numbered 1..=MAX_TRACK_NUMBER within an album.
pub const MAX_TRACK_NUMBER: i32 = 999;
/// No track is longer than a day.
pub const MAX_DURATION_SECONDS: f64 = 24.0 * 3600.0;

/// Exports the pool's connections at every scrape as
/// `db_pool_connections{state="in_use"|"idle"}` and
/// `db_pool_max_connections`, for as long as `pool` (the `Arc`) lives.
pub fn export_pool_metrics(pool: &std::sync::Arc<sqlx::PgPool>) {
    use cadenza_platform::metrics as m;
    let max = pool.options().get_max_connections();
    let weak = std::sync::Arc::downgrade(pool);
    ::metrics::describe_gauge!(
        "db_pool_connections",
        "PostgreSQL pool connections by state."
    );
    ::metrics::describe_gauge!(
        "db_pool_max_connections",
        "The PostgreSQL pool's size limit."
    );
    m::on_scrape(move || {
        let Some(pool) = weak.upgrade() else {
            return false;
        };
        let (size, idle) = (pool.size(), pool.num_idle() as u32);
        ::metrics::gauge!("db_pool_connections", "state" => "in_use")
            .set(size.saturating_sub(idle) as f64);
        ::metrics::gauge!("db_pool_connections", "state" => "idle").set(idle as f64);
        ::metrics::gauge!("db_pool_max_connections").set(max as f64);
        true
    });
}
