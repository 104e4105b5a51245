//! Read queries and the public JSON shapes (seed-compatible, camelCase).
//! `audio_key` is selected only for `/stream` and never serialised.

use bytes::Bytes;
use cadenza_catalog::{AlbumRow, Cursor, Snapshot, SongStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

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

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SongsPage {
    pub songs: Vec<SongView>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchBody {
    pub albums: Vec<AlbumView>,
    pub songs: Vec<SongView>,
}

/// What `/stream/{id}` needs; cached as JSON like the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamMeta {
    #[serde(rename = "k")]
    pub audio_key: String,
    #[serde(rename = "d")]
    pub duration_seconds: f64,
}

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

/// Queries shorter than this match word prefixes only (no trigram or
/// substring scan).
pub const FUZZY_MIN_CHARS: usize = 3;
/// The longest a search may run before PostgreSQL cancels it (503).
pub const SEARCH_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1500);

/// Reads the catalogue and renders it with CDN URLs.
#[derive(Clone)]
pub struct Store {
    pub pool: PgPool,
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

    /// Every album, read in one snapshot (cached).
    #[tracing::instrument(name = "db.albums", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn albums(&self) -> sqlx::Result<Versioned<AlbumsBody>> {
        let mut snap = Snapshot::begin(&self.pool).await?;
        let rows = cadenza_catalog::queries::all_albums(&mut *snap.tx).await?;
        let version = snap.version;
        snap.finish().await?;
        Ok(Versioned {
            version,
            value: AlbumsBody {
                albums: rows.into_iter().map(|r| self.album_view(r)).collect(),
            },
        })
    }

    #[tracing::instrument(name = "db.albums_page", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn albums_page(&self, limit: i64, after: Option<Cursor>) -> sqlx::Result<AlbumsPage> {
        let rows = cadenza_catalog::queries::albums_page(&self.pool, limit + 1, after).await?;
        let (rows, next) = split_page(rows, limit, |r| Cursor::new(r.created_at, r.id));
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
        let Some(album) = cadenza_catalog::queries::album(&mut *snap.tx, id).await? else {
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

    /// Every song, read in one snapshot (cached).
    #[tracing::instrument(name = "db.songs", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn songs(&self) -> sqlx::Result<Versioned<Vec<SongView>>> {
        let mut snap = Snapshot::begin(&self.pool).await?;
        let rows = sqlx::query_as::<_, SongListRow>(&format!(
            "{SONG_SELECT} WHERE {READY} ORDER BY s.created_at DESC, s.id DESC"
        ))
        .fetch_all(&mut *snap.tx)
        .await?;
        let version = snap.version;
        snap.finish().await?;
        Ok(Versioned {
            version,
            value: rows.into_iter().map(|r| self.song_view(r)).collect(),
        })
    }

    #[tracing::instrument(name = "db.songs_page", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn songs_page(&self, limit: i64, after: Option<Cursor>) -> sqlx::Result<SongsPage> {
        let rows = sqlx::query_as::<_, SongListRow>(&format!(
            "{SONG_SELECT} WHERE {READY} AND ($1::timestamptz IS NULL OR (s.created_at, s.id) < ($1, $2)) \
             ORDER BY s.created_at DESC, s.id DESC LIMIT $3"
        ))
        .bind(after.map(|c| c.created_at))
        .bind(after.map(|c| c.id))
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let (rows, next) = split_page(rows, limit, |r| Cursor::new(r.created_at, r.id));
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
        let version = snap.version;
        snap.finish().await?;
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
        let version = snap.version;
        snap.finish().await?;
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

    /// A ready song's waveform peaks and the audio they were read from.
    #[tracing::instrument(name = "db.waveform", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn waveform(&self, id: Uuid) -> sqlx::Result<Option<(String, Vec<u8>)>> {
        sqlx::query_as(
            "SELECT m.audio_key, m.peaks FROM songs s \
             JOIN song_media m ON m.song_id = s.id AND m.audio_key = s.audio_key \
             WHERE s.id = $1 AND s.status = 'ready' AND m.peaks IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// What `/stream/{id}` needs, read in one snapshot (cached).
    #[tracing::instrument(name = "db.stream_meta", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn stream_meta(&self, id: Uuid) -> sqlx::Result<Versioned<Option<StreamMeta>>> {
        let mut snap = Snapshot::begin(&self.pool).await?;
        let row: Option<(String, f64)> = sqlx::query_as(
            "SELECT audio_key, duration_seconds FROM songs WHERE id = $1 AND status = 'ready'",
        )
        .bind(id)
        .fetch_optional(&mut *snap.tx)
        .await?;
        let version = snap.version;
        snap.finish().await?;
        Ok(Versioned {
            version,
            value: row.map(|(audio_key, duration_seconds)| StreamMeta {
                audio_key,
                duration_seconds,
            }),
        })
    }

    /// Search, in one snapshot (so its result can be cached by version) and
    /// under a statement timeout ([`SEARCH_TIMEOUT`]): typo-tolerant for
    /// queries of [`FUZZY_MIN_CHARS`] or more, word prefixes below that.
    #[tracing::instrument(name = "db.search", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn search(&self, q: &str, limit: i64) -> sqlx::Result<Versioned<SearchBody>> {
        let q = q.trim().to_lowercase();
        let mut snap = Snapshot::begin(&self.pool).await?;
        sqlx::query(&format!(
            "SET LOCAL statement_timeout = {}",
            SEARCH_TIMEOUT.as_millis()
        ))
        .execute(&mut *snap.tx)
        .await?;
        let body = if q.chars().count() < FUZZY_MIN_CHARS {
            self.prefix_search(&mut snap.tx, &q, limit).await?
        } else {
            self.fuzzy_search(&mut snap.tx, &q, limit).await?
        };
        let version = snap.version;
        snap.finish().await?;
        Ok(Versioned {
            version,
            value: body,
        })
    }

    /// Ranked, typo-tolerant search over song titles, artists and album
    /// names: PostgreSQL full-text (`simple` config) plus trigram similarity
    /// (`%`, `<%`) and substring (`LIKE`) matches, all served by the
    /// catalogue's GIN indexes. Ranked by the best similarity, with a bonus
    /// for whole-word matches.
    async fn fuzzy_search(
        &self,
        db: &mut sqlx::PgConnection,
        q: &str,
        limit: i64,
    ) -> sqlx::Result<SearchBody> {
        let like = format!("%{}%", escape_like(q));
        let albums = sqlx::query_as::<_, AlbumRow>(
            "SELECT id, name, artist, thumbnail_key, created_at, updated_at, gain_db FROM ( \
               SELECT a.*, GREATEST( \
                   similarity(lower(a.name), $1), word_similarity($1, lower(a.name)), \
                   similarity(lower(a.artist), $1), word_similarity($1, lower(a.artist))) \
                 + CASE WHEN to_tsvector('simple', a.name) @@ plainto_tsquery('simple', $1) \
                          OR to_tsvector('simple', a.artist) @@ plainto_tsquery('simple', $1) \
                        THEN 0.5 ELSE 0 END AS score \
               FROM albums a \
               WHERE lower(a.name) % $1 OR $1 <% lower(a.name) \
                  OR lower(a.artist) % $1 OR $1 <% lower(a.artist) \
                  OR lower(a.name) LIKE $2 OR lower(a.artist) LIKE $2 \
                  OR to_tsvector('simple', a.name) @@ plainto_tsquery('simple', $1) \
                  OR to_tsvector('simple', a.artist) @@ plainto_tsquery('simple', $1) \
             ) ranked ORDER BY score DESC, created_at DESC, id LIMIT $3",
        )
        .bind(q)
        .bind(&like)
        .bind(limit)
        .fetch_all(&mut *db)
        .await?;
        let songs = sqlx::query_as::<_, SongListRow>(
            "SELECT id, album_id, title, artist, duration_seconds, track_number, image_key, \
                    created_at, album_thumbnail_key, track_gain_db, album_gain_db, status FROM ( \
               SELECT s.*, a.thumbnail_key AS album_thumbnail_key, m.track_gain_db, \
                   a.gain_db AS album_gain_db, GREATEST( \
                   similarity(lower(s.title), $1), word_similarity($1, lower(s.title)), \
                   similarity(lower(s.artist), $1), word_similarity($1, lower(s.artist)), \
                   0.8 * similarity(lower(a.name), $1), 0.8 * word_similarity($1, lower(a.name))) \
                 + CASE WHEN to_tsvector('simple', s.title) @@ plainto_tsquery('simple', $1) \
                          OR to_tsvector('simple', s.artist) @@ plainto_tsquery('simple', $1) \
                        THEN 0.5 ELSE 0 END AS score \
               FROM songs s JOIN albums a ON a.id = s.album_id \
               LEFT JOIN song_media m ON m.song_id = s.id AND m.audio_key = s.audio_key \
               WHERE s.status = 'ready' AND (lower(s.title) % $1 OR $1 <% lower(s.title) \
                  OR lower(s.artist) % $1 OR $1 <% lower(s.artist) \
                  OR lower(a.name) % $1 OR $1 <% lower(a.name) \
                  OR lower(s.title) LIKE $2 OR lower(s.artist) LIKE $2 OR lower(a.name) LIKE $2 \
                  OR to_tsvector('simple', s.title) @@ plainto_tsquery('simple', $1) \
                  OR to_tsvector('simple', s.artist) @@ plainto_tsquery('simple', $1) \
                  OR to_tsvector('simple', a.name) @@ plainto_tsquery('simple', $1)) \
             ) ranked ORDER BY score DESC, created_at, id LIMIT $3",
        )
        .bind(q)
        .bind(&like)
        .bind(limit)
        .fetch_all(&mut *db)
        .await?;
        Ok(SearchBody {
            albums: albums.into_iter().map(|r| self.album_view(r)).collect(),
            songs: songs.into_iter().map(|r| self.song_view(r)).collect(),
        })
    }

    /// One- and two-character queries: whole words that start with it,
    /// through the full-text indexes only (a 1-character `LIKE '%a%'` or
    /// trigram match would read every row).
    async fn prefix_search(
        &self,
        db: &mut sqlx::PgConnection,
        prefix: &str,
        limit: i64,
    ) -> sqlx::Result<SearchBody> {
        let word: String = prefix.chars().filter(|c| c.is_alphanumeric()).collect();
        if word.is_empty() {
            return Ok(SearchBody {
                albums: vec![],
                songs: vec![],
            });
        }
        let query = format!("{word}:*");
        let albums = sqlx::query_as::<_, AlbumRow>(
            "SELECT id, name, artist, thumbnail_key, created_at, updated_at, gain_db FROM albums a              WHERE to_tsvector('simple', a.name) @@ to_tsquery('simple', $1)                 OR to_tsvector('simple', a.artist) @@ to_tsquery('simple', $1)              ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(&query)
        .bind(limit)
        .fetch_all(&mut *db)
        .await?;
        let songs = sqlx::query_as::<_, SongListRow>(&format!(
            "{SONG_SELECT} WHERE {READY} AND (to_tsvector('simple', s.title) @@ to_tsquery('simple', $1) \
             OR to_tsvector('simple', s.artist) @@ to_tsquery('simple', $1) \
             OR to_tsvector('simple', a.name) @@ to_tsquery('simple', $1)) \
             ORDER BY s.created_at, s.id LIMIT $2"
        ))
        .bind(&query)
        .bind(limit)
        .fetch_all(&mut *db)
        .await?;
        Ok(SearchBody {
            albums: albums.into_iter().map(|r| self.album_view(r)).collect(),
            songs: songs.into_iter().map(|r| self.song_view(r)).collect(),
        })
    }
}

/// `LIKE` metacharacters in user input match literally.
fn escape_like(q: &str) -> String {
    let mut out = String::with_capacity(q.len());
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Rows were fetched with `limit + 1`: the extra one proves a next page.
fn split_page<T>(
    mut rows: Vec<T>,
    limit: i64,
    cursor: impl Fn(&T) -> Cursor,
) -> (Vec<T>, Option<String>) {
    let limit = limit.max(0) as usize;
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(|r| cursor(r).encode());
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like("100%_a\\b"), "100\\%\\_a\\\\b");
    }

    #[test]
    fn pages_carry_a_cursor_only_when_more_rows_exist() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        let (rows, next) = split_page(ids.clone(), 2, |id| Cursor::new(at, *id));
        assert_eq!(rows, ids[..2]);
        assert_eq!(Cursor::decode(&next.unwrap()).unwrap().id, ids[1]);
        let (rows, next) = split_page(ids.clone(), 3, |id| Cursor::new(at, *id));
        assert_eq!(rows.len(), 3);
        assert!(next.is_none());
    }

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
