//! Row types, one field per column (CONTRACTS §7).

use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AlbumRow {
    pub id: Uuid,
    pub name: String,
    pub artist: String,
    /// S3 key of the cover, `thumbnails/<uuid>.<ext>`.
    pub thumbnail_key: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The album's loudness gain, dB, once every song is measured
    /// (docs/media.md).
    pub gain_db: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SongRow {
    pub id: Uuid,
    pub album_id: Uuid,
    pub title: String,
    pub artist: String,
    /// S3 key of the audio, `songs/<uuid>.<ext>`. Never shown to listeners.
    pub audio_key: String,
    /// As reported by S3 when the song was created.
    pub content_type: String,
    pub size_bytes: i64,
    pub duration_seconds: f64,
    pub track_number: i32,
    /// Optional per-song artwork, `thumbnails/<uuid>.<ext>`.
    pub image_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether listeners see it (docs/media.md).
    pub status: SongStatus,
    /// Why the media worker rejected it (only when `Rejected`).
    pub status_reason: Option<String>,
}

/// A song's state as the media worker sees it (`songs.status`). A value
/// this build does not know is an error when read, never a silent default.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    sqlx::Type,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum SongStatus {
    /// Waiting for the media worker: hidden from listeners.
    Processing,
    /// Listed and streamable.
    Ready,
    /// Not usable audio: hidden from listeners; `status_reason` says why.
    Rejected,
}

impl SongStatus {
    /// What a song is created as (or becomes when its audio is replaced):
    /// `Processing` when a media worker will read it, `Ready` when none
    /// will (a deployment without the worker).
    pub fn for_new_audio(media_worker: bool) -> Self {
        if media_worker {
            SongStatus::Processing
        } else {
            SongStatus::Ready
        }
    }
}

impl AlbumRow {
    /// The S3 keys this row owns.
    pub fn object_keys(&self) -> Vec<String> {
        vec![self.thumbnail_key.clone()]
    }
}

impl SongRow {
    /// The S3 keys this row owns.
    pub fn object_keys(&self) -> Vec<String> {
        let mut keys = vec![self.audio_key.clone()];
        keys.extend(self.image_key.clone());
        keys
    }
}
