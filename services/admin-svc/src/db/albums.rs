//! The `albums` table.

use cadenza_catalog::{AlbumRow, SongRow, ALBUM_COLUMNS, SONG_COLUMNS};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{begin_write, replaced_keys, unreferenced, StoreError, StoreResult, Written};

#[derive(Debug, Clone)]
pub struct NewAlbum {
    pub name: String,
    pub artist: String,
    pub thumbnail_key: String,
}

#[derive(Debug, Clone, Default)]
pub struct AlbumChanges {
    pub name: Option<String>,
    pub artist: Option<String>,
    pub thumbnail_key: Option<String>,
}

#[tracing::instrument(name = "db.insert_album", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
pub async fn insert(pool: &PgPool, new: &NewAlbum) -> StoreResult<Written<AlbumRow>> {
    let (mut tx, version) = begin_write(pool).await?;
    let row = sqlx::query_as::<_, AlbumRow>(&format!(
        "INSERT INTO albums (name, artist, thumbnail_key) VALUES ($1, $2, $3) RETURNING {ALBUM_COLUMNS}"
    ))
    .bind(&new.name)
    .bind(&new.artist)
    .bind(&new.thumbnail_key)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Written::inserted(row, version))
}

/// Returns the album before and after.
#[tracing::instrument(name = "db.update_album", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
pub async fn update(
    pool: &PgPool,
    id: Uuid,
    changes: &AlbumChanges,
) -> StoreResult<Written<(AlbumRow, AlbumRow)>> {
    let (mut tx, version) = begin_write(pool).await?;
    let before = sqlx::query_as::<_, AlbumRow>(&format!(
        "SELECT {ALBUM_COLUMNS} FROM albums WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound("album"))?;
    let after = sqlx::query_as::<_, AlbumRow>(&format!(
        "UPDATE albums SET name = COALESCE($2, name), artist = COALESCE($3, artist), \
         thumbnail_key = COALESCE($4, thumbnail_key), updated_at = now() \
         WHERE id = $1 RETURNING {ALBUM_COLUMNS}"
    ))
    .bind(id)
    .bind(&changes.name)
    .bind(&changes.artist)
    .bind(&changes.thumbnail_key)
    .fetch_one(&mut *tx)
    .await?;
    let replaced = replaced_keys(
        std::slice::from_ref(&before.thumbnail_key),
        &after.object_keys(),
    );
    let orphaned_keys = unreferenced(&mut tx, replaced).await?;
    tx.commit().await?;
    Ok(Written {
        value: (before, after),
        version,
        orphaned_keys,
    })
}

/// Deletes the album and (by cascade) its songs; returns both.
#[tracing::instrument(name = "db.delete_album", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
pub async fn delete(pool: &PgPool, id: Uuid) -> StoreResult<Written<(AlbumRow, Vec<SongRow>)>> {
    let (mut tx, version) = begin_write(pool).await?;
    sqlx::query("SELECT id FROM albums WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("album"))?;
    let songs = sqlx::query_as::<_, SongRow>(&format!(
        "SELECT {SONG_COLUMNS} FROM songs WHERE album_id = $1 ORDER BY track_number, created_at, id FOR UPDATE"
    ))
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let album = sqlx::query_as::<_, AlbumRow>(&format!(
        "DELETE FROM albums WHERE id = $1 RETURNING {ALBUM_COLUMNS}"
    ))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let mut keys = album.object_keys();
    keys.extend(songs.iter().flat_map(SongRow::object_keys));
    let orphaned_keys = unreferenced(&mut tx, keys).await?;
    tx.commit().await?;
    Ok(Written {
        value: (album, songs),
        version,
        orphaned_keys,
    })
}

/// Locks the album (so concurrent track-number picks serialise) or fails
/// with `AlbumMissing`.
pub(super) async fn lock_for_songs(
    tx: &mut Transaction<'_, Postgres>,
    album_id: Uuid,
) -> StoreResult<()> {
    sqlx::query("SELECT id FROM albums WHERE id = $1 FOR UPDATE")
        .bind(album_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|_| ())
        .ok_or(StoreError::AlbumMissing)
}
