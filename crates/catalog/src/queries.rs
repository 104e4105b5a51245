//! Read queries both services need. Writes live in admin-svc, the only writer.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::cursor::Cursor;
use crate::rows::{AlbumRow, SongRow};
use crate::{ALBUM_COLUMNS, SONG_COLUMNS};

/// Rows of `table`, newest first (`(created_at, id)` descending, which
/// the `(created_at, id)` indexes serve by a backward scan), strictly after
/// `after`, at most `limit` of them (`None`: all).
async fn newest_first<'e, T>(
    db: impl PgExecutor<'e>,
    table: &str,
    columns: &str,
    limit: Option<i64>,
    after: Option<Cursor>,
) -> sqlx::Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    sqlx::query_as::<_, T>(&format!(
        "SELECT {columns} FROM {table} \
         WHERE $1::timestamptz IS NULL OR (created_at, id) < ($1, $2) \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind(after.map(|c| c.created_at))
    .bind(after.map(|c| c.id))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Every album, newest first (the seed's `GET /album`).
pub async fn all_albums<'e>(db: impl PgExecutor<'e>) -> sqlx::Result<Vec<AlbumRow>> {
    newest_first(db, "albums", ALBUM_COLUMNS, None, None).await
}

/// One page of albums, newest first, strictly after `after`.
pub async fn albums_page<'e>(
    db: impl PgExecutor<'e>,
    limit: i64,
    after: Option<Cursor>,
) -> sqlx::Result<Vec<AlbumRow>> {
    newest_first(db, "albums", ALBUM_COLUMNS, Some(limit), after).await
}

pub async fn album<'e>(db: impl PgExecutor<'e>, id: Uuid) -> sqlx::Result<Option<AlbumRow>> {
    sqlx::query_as::<_, AlbumRow>(&format!("SELECT {ALBUM_COLUMNS} FROM albums WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Every song, newest first, as the seed's `GET /song` (admin) and `GET /`
/// (song) listed them.
pub async fn all_songs<'e>(db: impl PgExecutor<'e>) -> sqlx::Result<Vec<SongRow>> {
    newest_first(db, "songs", SONG_COLUMNS, None, None).await
}

/// One page of songs, newest first, strictly after `after` (the same order
/// as [`all_songs`]).
pub async fn songs_page<'e>(
    db: impl PgExecutor<'e>,
    limit: i64,
    after: Option<Cursor>,
) -> sqlx::Result<Vec<SongRow>> {
    newest_first(db, "songs", SONG_COLUMNS, Some(limit), after).await
}

pub async fn song<'e>(db: impl PgExecutor<'e>, id: Uuid) -> sqlx::Result<Option<SongRow>> {
    sqlx::query_as::<_, SongRow>(&format!("SELECT {SONG_COLUMNS} FROM songs WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// An album's songs by track number (ties: oldest first).
pub async fn album_songs<'e>(
    db: impl PgExecutor<'e>,
    album_id: Uuid,
) -> sqlx::Result<Vec<SongRow>> {
    sqlx::query_as::<_, SongRow>(&format!(
        "SELECT {SONG_COLUMNS} FROM songs WHERE album_id = $1 \
         ORDER BY track_number, created_at, id"
    ))
    .bind(album_id)
    .fetch_all(db)
    .await
}
