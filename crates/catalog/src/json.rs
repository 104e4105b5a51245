//! The seed-compatible JSON shapes (camelCase) of catalogue rows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::rows::{AlbumRow, SongRow, SongStatus};

/// An album as the APIs return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlbumJson {
    pub id: Uuid,
    pub name: String,
    pub artist: String,
    /// S3 key of the cover image (`thumbnails/…`).
    pub thumbnail_key: String,
    /// The cover's CDN URL, when the API knows the CDN's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The album's loudness gain, dB; null until every song is measured.
    pub album_gain_db: Option<f64>,
}

impl From<AlbumRow> for AlbumJson {
    fn from(row: AlbumRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            artist: row.artist,
            thumbnail_key: row.thumbnail_key,
            thumbnail_url: None,
            created_at: row.created_at,
            updated_at: row.updated_at,
            album_gain_db: row.gain_db,
        }
    }
}

impl AlbumJson {
    /// Adds `thumbnailUrl` under `cdn_base` (scheme and host, no trailing slash).
    pub fn with_cdn(mut self, cdn_base: Option<&str>) -> Self {
        self.thumbnail_url = cdn_base.map(|base| format!("{base}/{}", self.thumbnail_key));
        self
    }
}

/// A song as the APIs return it. `audioKey` is only present on the admin API
/// ([`SongJson::with_audio_key`]); the public API never exposes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SongJson {
    pub id: Uuid,
    pub title: String,
    pub artist: String,
    pub album_id: Uuid,
    /// Seconds.
    pub duration: f64,
    pub track_number: i32,
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Song artwork: the S3 key on the admin API, a CDN URL on the public one.
    pub image_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_key: Option<String>,
    /// `processing` until the media worker has read the audio, then
    /// `ready` or `rejected` (docs/media.md).
    pub status: SongStatus,
    /// Why the audio was rejected; null otherwise.
    pub status_reason: Option<String>,
}

impl SongJson {
    /// The public shape; `image_url` is whatever the caller resolved the
    /// row's `image_key` to (a CDN URL, or the key itself).
    pub fn new(row: SongRow, image_url: Option<String>) -> Self {
        Self {
            id: row.id,
            title: row.title,
            artist: row.artist,
            album_id: row.album_id,
            duration: row.duration_seconds,
            track_number: row.track_number,
            content_type: row.content_type,
            size: row.size_bytes,
            image_url,
            created_at: row.created_at,
            updated_at: row.updated_at,
            audio_key: None,
            status: row.status,
            status_reason: row.status_reason,
        }
    }

    /// The admin shape: `imageUrl` is the stored key and `audioKey` is shown.
    pub fn with_audio_key(row: SongRow) -> Self {
        let audio_key = row.audio_key.clone();
        let image = row.image_key.clone();
        Self {
            audio_key: Some(audio_key),
            ..Self::new(row, image)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song() -> SongRow {
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap();
        SongRow {
            id: Uuid::nil(),
            album_id: Uuid::max(),
            title: "T".into(),
            artist: "A".into(),
            audio_key: "songs/x.mp3".into(),
            content_type: "audio/mpeg".into(),
            size_bytes: 42,
            duration_seconds: 1.5,
            track_number: 3,
            image_key: Some("thumbnails/y.png".into()),
            created_at: at,
            updated_at: at,
            status: SongStatus::Rejected,
            status_reason: Some("not audio".into()),
        }
    }

    #[test]
    fn public_song_json_hides_the_audio_key_and_is_camel_case() {
        let v = serde_json::to_value(SongJson::new(song(), Some("https://cdn/x".into()))).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert!(!keys.contains(&"audioKey".to_string()), "{keys:?}");
        for k in [
            "id",
            "title",
            "artist",
            "albumId",
            "duration",
            "trackNumber",
            "contentType",
            "size",
            "imageUrl",
            "createdAt",
            "updatedAt",
        ] {
            assert!(keys.contains(&k.to_string()), "missing {k} in {keys:?}");
        }
        assert_eq!(v["imageUrl"], "https://cdn/x");
        assert_eq!(v["createdAt"], "2023-11-14T22:13:20.123456Z");
    }

    #[test]
    fn admin_song_json_shows_keys() {
        let v = serde_json::to_value(SongJson::with_audio_key(song())).unwrap();
        assert_eq!(v["audioKey"], "songs/x.mp3");
        assert_eq!(v["imageUrl"], "thumbnails/y.png");
        assert_eq!(v["trackNumber"], 3);
        assert_eq!(v["size"], 42);
        assert_eq!(v["status"], "rejected");
        assert_eq!(v["statusReason"], "not audio");
    }
}
