//! The `songs` table (and the media job a song's new audio needs).

use cadenza_catalog::media::refresh_album_gain;
use cadenza_catalog::{SongRow, SongStatus, MAX_TRACK_NUMBER, SONG_COLUMNS};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{
    albums, begin_write, replaced_keys, unreferenced, StoreError, StoreResult, VerifiedObject,
    Written,
};

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
pub async fn insert(pool: &PgPool, new: &NewSong) -> StoreResult<Written<SongRow>> {
    let (mut tx, version) = begin_write(pool).await?;
    albums::lock_for_songs(&mut tx, new.album_id).await?;
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
pub async fn update(
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
    .ok_or(StoreError::NotFound("song"))?;
    let moving = changes.album_id.filter(|a| *a != before.album_id);
    let track = match (moving, changes.track_number) {
        (_, Some(n)) => n,
        (Some(album), None) => {
            albums::lock_for_songs(&mut tx, album).await?;
            next_track_number(&mut tx, album).await?
        }
        (None, None) => before.track_number,
    };
    if let (Some(album), Some(_)) = (moving, changes.track_number) {
        albums::lock_for_songs(&mut tx, album).await?;
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
pub async fn delete(pool: &PgPool, id: Uuid) -> StoreResult<Written<SongRow>> {
    let (mut tx, version) = begin_write(pool).await?;
    let song = sqlx::query_as::<_, SongRow>(&format!(
        "DELETE FROM songs WHERE id = $1 RETURNING {SONG_COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound("song"))?;
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
