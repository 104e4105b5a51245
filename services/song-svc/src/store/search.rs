//! Search over both tables, ranked: song titles, song artists and album
//! names (albums: names and artists).

use cadenza_catalog::{AlbumRow, Snapshot, ALBUM_COLUMNS};
use serde::Serialize;
use utoipa::ToSchema;

use super::{AlbumView, SongListRow, SongView, Store, READY, SONG_SELECT};
use crate::cache::Versioned;

#[derive(Serialize, ToSchema)]
pub struct SearchBody {
    pub albums: Vec<AlbumView>,
    pub songs: Vec<SongView>,
}

/// Queries shorter than this match word prefixes only (no trigram or
/// substring scan).
pub const FUZZY_MIN_CHARS: usize = 3;
/// The longest a search may run before PostgreSQL cancels it (503).
pub const SEARCH_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1500);

impl Store {
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
        let version = snap.finish().await?;
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
        let albums = sqlx::query_as::<_, AlbumRow>(&format!(
            "SELECT {ALBUM_COLUMNS} FROM ( \
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
             ) ranked ORDER BY score DESC, created_at DESC, id LIMIT $3"
        ))
        .bind(q)
        .bind(&like)
        .bind(limit)
        .fetch_all(&mut *db)
        .await?;
        let songs = sqlx::query_as::<_, SongListRow>(&format!(
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
               WHERE {READY} AND (lower(s.title) % $1 OR $1 <% lower(s.title) \
                  OR lower(s.artist) % $1 OR $1 <% lower(s.artist) \
                  OR lower(a.name) % $1 OR $1 <% lower(a.name) \
                  OR lower(s.title) LIKE $2 OR lower(s.artist) LIKE $2 OR lower(a.name) LIKE $2 \
                  OR to_tsvector('simple', s.title) @@ plainto_tsquery('simple', $1) \
                  OR to_tsvector('simple', s.artist) @@ plainto_tsquery('simple', $1) \
                  OR to_tsvector('simple', a.name) @@ plainto_tsquery('simple', $1)) \
             ) ranked ORDER BY score DESC, created_at, id LIMIT $3"
        ))
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
        let albums = sqlx::query_as::<_, AlbumRow>(&format!(
            "SELECT {ALBUM_COLUMNS} FROM albums a \
             WHERE to_tsvector('simple', a.name) @@ to_tsquery('simple', $1) \
                OR to_tsvector('simple', a.artist) @@ to_tsquery('simple', $1) \
             ORDER BY created_at DESC, id LIMIT $2"
        ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like("100%_a\\b"), "100\\%\\_a\\\\b");
    }
}
