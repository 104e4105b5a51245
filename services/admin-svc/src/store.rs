//! Catalogue writes. admin-svc is the only writer; reads shared with song-svc
//! live in `cadenza_catalog::queries`. Every write is one transaction, and
//! returns what the caller needs after the commit (events, object cleanup).

use cadenza_catalog::media::refresh_album_gain;
use cadenza_catalog::{
    AlbumRow, SongRow, SongStatus, ALBUM_COLUMNS, MAX_TRACK_NUMBER, SONG_COLUMNS,
};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("no such album")]
    AlbumMissing,
    #[error("the album has no free track number left")]
    AlbumFull,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

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

/// An object checked with HEAD: its key, normalised type and size.
#[derive(Debug, Clone)]
pub struct VerifiedObject {
    pub key: String,
    pub content_type: String,
    pub size_bytes: i64,
}

#[derive(Debug, Clone)]
pub struct NewSong {
    pub album_id: Uuid,
    pub title: String,
    pub artist: String,
    pub audio: VerifiedObject,
    pub duration_seconds: f64,
    pub track_number: Option<i32>,
    pub image_key: Option<String>,
    /// `processing` when a media worker will read the audio.
    pub status: SongStatus,
}

#[derive(Debug, Clone, Default)]
pub struct SongChanges {
    pub album_id: Option<Uuid>,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub audio: Option<VerifiedObject>,
    pub duration_seconds: Option<f64>,
    pub track_number: Option<i32>,
    /// `Some(None)` clears the artwork.
    pub image_key: Option<Option<String>>,
    /// What the song becomes when `audio` replaces its audio.
    pub status_on_new_audio: Option<SongStatus>,
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

#[tracing::instrument(name = "db.insert_album", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
pub async fn insert_album(pool: &PgPool, new: &NewAlbum) -> StoreResult<Written<AlbumRow>> {
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
pub async fn update_album(
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
    .ok_or(StoreError::NotFound)?;
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
pub async fn delete_album(
    pool: &PgPool,
    id: Uuid,
) -> StoreResult<Written<(AlbumRow, Vec<SongRow>)>> {
    let (mut tx, version) = begin_write(pool).await?;
    sqlx::query("SELECT id FROM albums WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
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
async fn lock_album(tx: &mut Transaction<'_, Postgres>, album_id: Uuid) -> StoreResult<()> {
    sqlx::query("SELECT id FROM albums WHERE id = $1 FOR UPDATE")
        .bind(album_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|_| ())
        .ok_or(StoreError::AlbumMissing)
}

async fn next_track_number(tx: &mut Transaction<'_, Postgres>, album_id: Uuid) -> StoreResult<i32> {
    let next: i32 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(track_number), 0) + 1 FROM songs WHERE album_id = $1",
    )
    .bind(album_id)
    .fetch_one(&mut **tx)
    .await?;
    if next > MAX_TRACK_NUMBER {
        return Err(StoreError::AlbumFull);
    }
    Ok(next)
}

#[tracing::instrument(name = "db.insert_song", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
pub async fn insert_song(pool: &PgPool, new: &NewSong) -> StoreResult<Written<SongRow>> {
    let (mut tx, version) = begin_write(pool).await?;
    lock_album(&mut tx, new.album_id).await?;
    let track = match new.track_number {
        Some(n) => n,
        None => next_track_number(&mut tx, new.album_id).await?,
    };
    let row = sqlx::query_as::<_, SongRow>(&format!(
        "INSERT INTO songs (album_id, title, artist, audio_key, content_type, size_bytes, \
         duration_seconds, track_number, image_key, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {SONG_COLUMNS}"
    ))
    .bind(new.album_id)
    .bind(&new.title)
    .bind(&new.artist)
    .bind(&new.audio.key)
    .bind(&new.audio.content_type)
    .bind(new.audio.size_bytes)
    .bind(new.duration_seconds)
    .bind(track)
    .bind(&new.image_key)
    .bind(new.status)
    .fetch_one(&mut *tx)
    .await?;
    crate::media_jobs::enqueue(&mut tx, row.id, &row.audio_key).await?;
    tx.commit().await?;
    Ok(Written::inserted(row, version))
}

/// Returns the song before and after.
#[tracing::instrument(name = "db.update_song", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
pub async fn update_song(
    pool: &PgPool,
    id: Uuid,
    changes: &SongChanges,
) -> StoreResult<Written<(SongRow, SongRow)>> {
    let (mut tx, version) = begin_write(pool).await?;
    let before = sqlx::query_as::<_, SongRow>(&format!(
        "SELECT {SONG_COLUMNS} FROM songs WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let moving = changes.album_id.filter(|a| *a != before.album_id);
    let track = match (moving, changes.track_number) {
        (_, Some(n)) => n,
        (Some(album), None) => {
            lock_album(&mut tx, album).await?;
            next_track_number(&mut tx, album).await?
        }
        (None, None) => before.track_number,
    };
    if let (Some(album), Some(_)) = (moving, changes.track_number) {
        lock_album(&mut tx, album).await?;
    }
    let audio = changes.audio.as_ref();
    let image_key = match &changes.image_key {
        Some(v) => v.clone(),
        None => before.image_key.clone(),
    };
    let after = sqlx::query_as::<_, SongRow>(&format!(
        "UPDATE songs SET album_id = $2, title = COALESCE($3, title), artist = COALESCE($4, artist), \
         audio_key = COALESCE($5, audio_key), content_type = COALESCE($6, content_type), \
         size_bytes = COALESCE($7, size_bytes), duration_seconds = COALESCE($8, duration_seconds), \
         track_number = $9, image_key = $10, updated_at = now(), \
         status = CASE WHEN $5::text IS NULL OR $5 = audio_key THEN status ELSE $11 END, \
         status_reason = CASE WHEN $5::text IS NULL OR $5 = audio_key THEN status_reason ELSE NULL END \
         WHERE id = $1 RETURNING {SONG_COLUMNS}"
    ))
    .bind(id)
    .bind(changes.album_id.unwrap_or(before.album_id))
    .bind(&changes.title)
    .bind(&changes.artist)
    .bind(audio.map(|a| &a.key))
    .bind(audio.map(|a| &a.content_type))
    .bind(audio.map(|a| a.size_bytes))
    .bind(changes.duration_seconds)
    .bind(track)
    .bind(image_key)
    .bind(changes.status_on_new_audio.unwrap_or(SongStatus::Ready))
    .fetch_one(&mut *tx)
    .await?;
    if after.audio_key != before.audio_key {
        crate::media_jobs::enqueue(&mut tx, after.id, &after.audio_key).await?;
    }
    if before.album_id != after.album_id {
        // Both albums' songs changed: their gains follow.
        for album in [before.album_id, after.album_id] {
            refresh_album_gain(&mut tx, album, cadenza_media::album_gain).await?;
        }
    }
    let replaced = replaced_keys(&before.object_keys(), &after.object_keys());
    let orphaned_keys = unreferenced(&mut tx, replaced).await?;
    tx.commit().await?;
    Ok(Written {
        value: (before, after),
        version,
        orphaned_keys,
    })
}

#[tracing::instrument(name = "db.delete_song", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
pub async fn delete_song(pool: &PgPool, id: Uuid) -> StoreResult<Written<SongRow>> {
    let (mut tx, version) = begin_write(pool).await?;
    let song = sqlx::query_as::<_, SongRow>(&format!(
        "DELETE FROM songs WHERE id = $1 RETURNING {SONG_COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    // The album may be settled now (the deleted song was the last one
    // processing), or its gain counted the deleted song.
    refresh_album_gain(&mut tx, song.album_id, cadenza_media::album_gain).await?;
    let orphaned_keys = unreferenced(&mut tx, song.object_keys()).await?;
    tx.commit().await?;
    Ok(Written {
        value: song,
        version,
        orphaned_keys,
    })
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
    unreferenced_keys(&mut **tx, keys).await
}

/// [`unreferenced`] outside a transaction (the sweeper).
#[tracing::instrument(name = "db.unreferenced_keys", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
pub async fn unreferenced_keys<'e>(
    db: impl sqlx::PgExecutor<'e>,
    mut keys: Vec<String>,
) -> StoreResult<Vec<String>> {
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return Ok(keys);
    }
    Ok(sqlx::query_scalar(
        "SELECT k FROM unnest($1::text[]) AS k \
         WHERE NOT EXISTS (SELECT 1 FROM albums WHERE thumbnail_key = k) \
           AND NOT EXISTS (SELECT 1 FROM songs WHERE audio_key = k OR image_key = k) \
         ORDER BY k",
    )
    .bind(&keys)
    .fetch_all(db)
    .await?)
}
