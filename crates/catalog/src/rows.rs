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
