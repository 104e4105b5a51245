//! Read queries and the public JSON shapes (seed-compatible, camelCase),
//! one file per table: [`albums`](self::albums) (albums, an album with its
//! songs), [`songs`](self::songs) (songs, batch lookups, waveforms, what
//! `/stream` needs), [`search`](self::search) (both, ranked). Every method
//! returns `sqlx::Error`; the handlers turn it into a problem with `?`.
//! `audio_key` is selected only for `/stream` and never serialised.

mod albums;
mod search;
mod songs;

use bytes::Bytes;
use cadenza_catalog::{AlbumRow, SongStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

pub use self::albums::{AlbumDetailBody, AlbumView, AlbumsBody, AlbumsPage};
pub use self::search::SearchBody;
pub use self::songs::{BatchSong, SongBatch, SongView, SongsPage, StreamMeta};

#[derive(sqlx::FromRow)]
struct SongListRow {
    id: Uuid,
    album_id: Uuid,
    title: String,
    artist: String,
    duration_seconds: f64,
    track_number: i32,
    image_key: Option<String>,
    created_at: DateTime<Utc>,
    album_thumbnail_key: String,
    track_gain_db: Option<f64>,
    album_gain_db: Option<f64>,
    status: SongStatus,
}

/// Every song query's columns and joins; the media reading counts only
/// for the song's current audio. Listeners' queries add [`READY`].
const SONG_SELECT: &str = "SELECT s.id, s.album_id, s.title, s.artist, s.duration_seconds, \
     s.track_number, s.image_key, s.created_at, a.thumbnail_key AS album_thumbnail_key, \
     m.track_gain_db, a.gain_db AS album_gain_db, s.status \
     FROM songs s JOIN albums a ON a.id = s.album_id \
     LEFT JOIN song_media m ON m.song_id = s.id AND m.audio_key = s.audio_key";

/// Listeners see only songs the media worker has read (docs/media.md).
const READY: &str = "s.status = 'ready'";

/// Reads the catalogue and renders it with CDN URLs.
#[derive(Clone)]
pub struct Store {
    pool: PgPool,
    cdn: String,
}

pub fn to_bytes<T: Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("catalogue views always serialise"))
}

impl Store {
    pub fn new(pool: PgPool, cloudfront_domain: &str) -> Self {
        Self {
            pool,
            cdn: cloudfront_domain.trim_end_matches('/').to_owned(),
        }
    }

    /// `<CLOUDFRONT_DOMAIN>/<key>`.
    pub fn cdn_url(&self, key: &str) -> String {
        format!("{}/{}", self.cdn, key.trim_start_matches('/'))
    }

    fn album_view(&self, row: AlbumRow) -> AlbumView {
        AlbumView {
            id: row.id,
            thumbnail_url: self.cdn_url(&row.thumbnail_key),
            thumbnail_key: row.thumbnail_key,
            name: row.name,
            artist: row.artist,
            created_at: row.created_at,
            album_gain_db: row.gain_db,
        }
    }

    fn song_view(&self, row: SongListRow) -> SongView {
        let image = row.image_key.as_deref().unwrap_or(&row.album_thumbnail_key);
        SongView {
            id: row.id,
            image_src: self.cdn_url(image),
            image_url: row.image_key,
            title: row.title,
            artist: row.artist,
            duration: row.duration_seconds,
            track_number: row.track_number,
            album_id: row.album_id,
            created_at: row.created_at,
            track_gain_db: row.track_gain_db,
            album_gain_db: row.album_gain_db,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn song_view_keeps_the_key_and_falls_back_to_the_album_cover_for_the_src() {
        let store = Store {
            pool: PgPool::connect_lazy("postgres://x@127.0.0.1/x").unwrap(),
            cdn: "https://cdn.example".into(),
        };
        let row = |image_key: Option<&str>| SongListRow {
            id: Uuid::nil(),
            album_id: Uuid::nil(),
            title: "t".into(),
            artist: "a".into(),
            duration_seconds: 1.0,
            track_number: 1,
            image_key: image_key.map(Into::into),
            created_at: Utc::now(),
            album_thumbnail_key: "thumbnails/album.jpg".into(),
            track_gain_db: Some(-3.5),
            album_gain_db: None,
            status: SongStatus::Ready,
        };
        let bare = store.song_view(row(None));
        assert_eq!(bare.image_src, "https://cdn.example/thumbnails/album.jpg");
        assert_eq!(bare.image_url, None, "the seed's imageUrl was null");
        let v = store.song_view(row(Some("thumbnails/own.png")));
        assert_eq!(v.image_src, "https://cdn.example/thumbnails/own.png");
        assert_eq!(v.image_url.as_deref(), Some("thumbnails/own.png"));
        let json = serde_json::to_string(&v).unwrap();
        assert!(!json.contains("audio"), "{json}");
        assert!(
            json.contains("\"trackNumber\":1") && json.contains("\"albumId\""),
            "{json}"
        );
        assert!(
            json.contains("\"trackGainDb\":-3.5") && json.contains("\"albumGainDb\":null"),
            "{json}"
        );
    }
}
