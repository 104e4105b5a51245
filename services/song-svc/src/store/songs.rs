//! The `songs` table (with its album's cover and its `song_media`
//! reading): every song (or a page of them), one song, batch lookups, a
//! song's waveform, and what `/stream` needs. Listeners' queries add
//! [`READY`].

use cadenza_catalog::page::fetch_page;
use cadenza_catalog::{Cursor, Snapshot, SongStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{SongListRow, Store, READY, SONG_SELECT};
use crate::cache::Versioned;

/// A song as listeners see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SongView {
    pub id: Uuid,
    pub title: String,
    pub artist: String,
    /// Seconds.
    pub duration: f64,
    /// S3 key of the song's own artwork, null when it has none (as in the
    /// seed: a client builds `<CDN>/<key>` from it).
    pub image_url: Option<String>,
    /// Plain CDN URL of the song's own artwork, else of its album's cover.
    pub image_src: String,
    pub track_number: i32,
    pub album_id: Uuid,
    pub created_at: DateTime<Utc>,
    /// The song's loudness gain to −14 LUFS, dB (true peak kept at or
    /// below −1 dBTP); null until measured.
    pub track_gain_db: Option<f64>,
    /// Its album's gain, the same reference, for playing the album in
    /// order; null until every song of the album is measured.
    pub album_gain_db: Option<f64>,
}

/// A batch lookup: the songs found, in the order asked; the ids of songs
/// that do not exist (deleted, or never were); and the ids of songs that
/// exist but cannot be played now (processing or rejected: keep them).
#[derive(Debug, Serialize, ToSchema)]
pub struct SongBatch {
    pub songs: Vec<SongView>,
    pub missing: Vec<Uuid>,
    pub unavailable: Vec<Uuid>,
}

/// One song of a batch lookup that exists.
#[derive(Debug)]
pub enum BatchSong {
    Ready(SongView),
    /// Processing or rejected.
    Unavailable(Uuid),
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SongsPage {
    pub songs: Vec<SongView>,
    pub next_cursor: Option<String>,
}

/// What `/stream/{id}` needs; cached as JSON like the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamMeta {
    #[serde(rename = "k")]
    pub audio_key: String,
    #[serde(rename = "d")]
    pub duration_seconds: f64,
}

impl Store {
    /// Every song, read in one snapshot (cached).
    #[tracing::instrument(name = "db.songs", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn songs(&self) -> sqlx::Result<Versioned<Vec<SongView>>> {
        let mut snap = Snapshot::begin(&self.pool).await?;
        let rows = sqlx::query_as::<_, SongListRow>(&format!(
            "{SONG_SELECT} WHERE {READY} ORDER BY s.created_at DESC, s.id DESC"
        ))
        .fetch_all(&mut *snap.tx)
        .await?;
        let version = snap.finish().await?;
        Ok(Versioned {
            version,
            value: rows.into_iter().map(|r| self.song_view(r)).collect(),
        })
    }

    #[tracing::instrument(name = "db.songs_page", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn songs_page(&self, limit: i64, after: Option<Cursor>) -> sqlx::Result<SongsPage> {
        let query = format!(
            "{SONG_SELECT} WHERE {READY} AND ($1::timestamptz IS NULL OR (s.created_at, s.id) < ($1, $2)) \
             ORDER BY s.created_at DESC, s.id DESC LIMIT $3"
        );
        let (rows, next) = fetch_page(
            limit,
            |n| {
                sqlx::query_as::<_, SongListRow>(&query)
                    .bind(after.map(|c| c.created_at))
                    .bind(after.map(|c| c.id))
                    .bind(n)
                    .fetch_all(&self.pool)
            },
            |r| Cursor::new(r.created_at, r.id),
        )
        .await?;
        Ok(SongsPage {
            songs: rows.into_iter().map(|r| self.song_view(r)).collect(),
            next_cursor: next,
        })
    }

    /// One song, read in one snapshot (cached).
    #[tracing::instrument(name = "db.song", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn song(&self, id: Uuid) -> sqlx::Result<Versioned<Option<SongView>>> {
        let mut snap = Snapshot::begin(&self.pool).await?;
        let row =
            sqlx::query_as::<_, SongListRow>(&format!("{SONG_SELECT} WHERE s.id = $1 AND {READY}"))
                .bind(id)
                .fetch_optional(&mut *snap.tx)
                .await?;
        let version = snap.finish().await?;
        Ok(Versioned {
            version,
            value: row.map(|r| self.song_view(r)),
        })
    }

    /// The songs of `ids` that exist, ready or not, in no particular order,
    /// read in one snapshot (each song's view cached on its own).
    #[tracing::instrument(name = "db.songs_by_ids", skip_all, fields(otel.kind = "client", db.system = "postgresql", count = ids.len()))]
    pub async fn songs_by_ids(&self, ids: &[Uuid]) -> sqlx::Result<Versioned<Vec<BatchSong>>> {
        let mut snap = Snapshot::begin(&self.pool).await?;
        let rows = sqlx::query_as::<_, SongListRow>(&format!("{SONG_SELECT} WHERE s.id = ANY($1)"))
            .bind(ids)
            .fetch_all(&mut *snap.tx)
            .await?;
        let version = snap.finish().await?;
        Ok(Versioned {
            version,
            value: rows
                .into_iter()
                .map(|r| match r.status {
                    SongStatus::Ready => BatchSong::Ready(self.song_view(r)),
                    _ => BatchSong::Unavailable(r.id),
                })
                .collect(),
        })
    }

    /// A ready song's waveform peaks and the audio they were read from,
    /// read in one snapshot (cached).
    #[tracing::instrument(name = "db.waveform", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn waveform(&self, id: Uuid) -> sqlx::Result<Versioned<Option<Waveform>>> {
        let mut snap = Snapshot::begin(&self.pool).await?;
        let row = sqlx::query_as(&format!(
            "SELECT m.audio_key, m.peaks FROM songs s \
             JOIN song_media m ON m.song_id = s.id AND m.audio_key = s.audio_key \
             WHERE s.id = $1 AND {READY} AND m.peaks IS NOT NULL"
        ))
        .bind(id)
        .fetch_optional(&mut *snap.tx)
        .await?;
        let version = snap.finish().await?;
        Ok(Versioned {
            version,
            value: row,
        })
    }

    /// What `/stream/{id}` needs, read in one snapshot (cached).
    #[tracing::instrument(name = "db.stream_meta", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn stream_meta(&self, id: Uuid) -> sqlx::Result<Versioned<Option<StreamMeta>>> {
        let mut snap = Snapshot::begin(&self.pool).await?;
        let row: Option<(String, f64)> = sqlx::query_as(&format!(
            "SELECT audio_key, duration_seconds FROM songs s WHERE s.id = $1 AND {READY}"
        ))
        .bind(id)
        .fetch_optional(&mut *snap.tx)
        .await?;
        let version = snap.finish().await?;
        Ok(Versioned {
            version,
            value: row.map(|(audio_key, duration_seconds)| StreamMeta {
                audio_key,
                duration_seconds,
            }),
        })
    }
}

/// A ready song's waveform: the audio key it was read from, and its peaks.
pub type Waveform = (String, Vec<u8>);
