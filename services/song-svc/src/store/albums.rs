//! The `albums` table: every album (or a page of them), one album with
//! its ready songs.

use cadenza_catalog::page::fetch_page;
use cadenza_catalog::{queries, Cursor, Snapshot};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{SongListRow, SongView, Store, READY, SONG_SELECT};
use crate::cache::Versioned;

/// An album as listeners see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlbumView {
    pub id: Uuid,
    pub name: String,
    pub artist: String,
    /// S3 key of the cover (`thumbnails/…`), as in the seed: a client builds
    /// `<CDN>/<key>` from it.
    pub thumbnail_key: String,
    /// Plain CDN URL of the cover.
    pub thumbnail_url: String,
    pub created_at: DateTime<Utc>,
    /// The album's loudness gain to −14 LUFS, dB; null until every song is
    /// measured (docs/media.md).
    pub album_gain_db: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct AlbumsBody {
    pub albums: Vec<AlbumView>,
}

#[derive(Serialize, ToSchema)]
pub struct AlbumDetailBody {
    pub album: AlbumView,
    pub songs: Vec<SongView>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlbumsPage {
    pub albums: Vec<AlbumView>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl Store {
    /// Every album, read in one snapshot (cached).
    #[tracing::instrument(name = "db.albums", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn albums(&self) -> sqlx::Result<Versioned<AlbumsBody>> {
        let mut snap = Snapshot::begin(&self.pool).await?;
        let rows = queries::all_albums(&mut *snap.tx).await?;
        let version = snap.finish().await?;
        Ok(Versioned {
            version,
            value: AlbumsBody {
                albums: rows.into_iter().map(|r| self.album_view(r)).collect(),
            },
        })
    }

    #[tracing::instrument(name = "db.albums_page", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn albums_page(&self, limit: i64, after: Option<Cursor>) -> sqlx::Result<AlbumsPage> {
        let (rows, next) = fetch_page(
            limit,
            |n| queries::albums_page(&self.pool, n, after),
            |r| Cursor::new(r.created_at, r.id),
        )
        .await?;
        Ok(AlbumsPage {
            albums: rows.into_iter().map(|r| self.album_view(r)).collect(),
            next_cursor: next,
        })
    }

    /// One album and its songs, read in one snapshot (cached).
    #[tracing::instrument(name = "db.album", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn album(&self, id: Uuid) -> sqlx::Result<Versioned<Option<AlbumDetailBody>>> {
        let mut snap = Snapshot::begin(&self.pool).await?;
        let version = snap.version;
        let Some(album) = queries::album(&mut *snap.tx, id).await? else {
            snap.finish().await?;
            return Ok(Versioned {
                version,
                value: None,
            });
        };
        let songs = sqlx::query_as::<_, SongListRow>(&format!(
            "{SONG_SELECT} WHERE s.album_id = $1 AND {READY} \
             ORDER BY s.track_number, s.created_at, s.id"
        ))
        .bind(id)
        .fetch_all(&mut *snap.tx)
        .await?;
        snap.finish().await?;
        Ok(Versioned {
            version,
            value: Some(AlbumDetailBody {
                album: self.album_view(album),
                songs: songs.into_iter().map(|r| self.song_view(r)).collect(),
            }),
        })
    }
}
