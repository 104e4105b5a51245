//! `/api/song` handlers. Catalogue reads return cached JSON bytes; only the
//! paged and search variants are rendered per request.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cadenza_auth::AuthUser;
use cadenza_catalog::Cursor;
use cadenza_platform::client_ip::ClientIp;
use cadenza_platform::extract::{Path, Query};
use cadenza_platform::{ApiResult, Problem};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::cache::keys;
use crate::encoding::{self, Accepts, Body};
use crate::state::AppState;
use crate::store::{to_bytes, BatchSong, StreamMeta};

pub const MAX_PAGE: u32 = 100;
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_QUERY_CHARS: usize = 100;
pub const MAX_SEARCH_RESULTS: u32 = 50;
pub const DEFAULT_SEARCH_RESULTS: u32 = 20;

fn json(bytes: Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response()
}

fn db_down(e: sqlx::Error) -> Problem {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            Problem::unavailable("postgres", e)
        }
        other => Problem::internal(other),
    }
}

/// A search PostgreSQL cancelled at its statement timeout is a 503 (retry),
/// not a 500.
fn search_failed(e: sqlx::Error) -> Problem {
    match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("57014") => {
            Problem::unavailable("postgres", e)
        }
        _ => db_down(e),
    }
}

/// `{id}` path segments; a struct so that a bad value names the field.
#[derive(Debug, Deserialize)]
pub struct IdParam {
    pub id: Uuid,
}

/// Keyset pagination parameters; without both, the seed's full list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1–100 (default 50 when only `cursor` is given).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `nextCursor` from the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    /// `None` when the caller wants the unpaged seed shape.
    fn page(&self) -> ApiResult<Option<(i64, Option<Cursor>)>> {
        if self.limit.is_none() && self.cursor.is_none() {
            return Ok(None);
        }
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Problem::invalid_field(
                "limit",
                format!("must be between 1 and {MAX_PAGE}"),
            ));
        }
        let cursor = self
            .cursor
            .as_deref()
            .map(Cursor::decode)
            .transpose()
            .map_err(|e| Problem::invalid_field("cursor", e.to_string()))?;
        Ok(Some((limit as i64, cursor)))
    }
}

/// Every album, newest first.
#[utoipa::path(get, path = "/api/song/album", tag = "albums", params(PageParams),
    responses(
        (status = 200, description = "All albums (or one page with `limit`/`cursor`: `{albums, nextCursor}`)", body = crate::store::AlbumsBody),
        (status = 422, description = "Bad `limit` or `cursor`"),
        (status = 503, description = "PostgreSQL unavailable"),
    ))]
pub async fn albums(
    State(state): State<AppState>,
    Accepts(coding): Accepts,
    Query(params): Query<PageParams>,
) -> ApiResult<Response> {
    if let Some((limit, after)) = params.page()? {
        let page = state
            .store
            .albums_page(limit, after)
            .await
            .map_err(db_down)?;
        return Ok(json(to_bytes(&page)));
    }
    // The state's handle, not a copy of the store: only a miss uses it.
    let loader = state.clone();
    let body = state
        .cache
        .body_or_load(keys::ALBUMS_ALL, move || async move {
            Ok(loader
                .store
                .albums()
                .await
                .map_err(db_down)?
                .map(|b| Some(to_bytes(&b))))
        })
        .await?;
    Ok(encoding::respond(
        body.unwrap_or_else(|| Body::plain(Bytes::new())),
        coding,
    ))
}

/// One album with its songs by track number.
#[utoipa::path(get, path = "/api/song/album/{id}", tag = "albums",
    params(("id" = Uuid, Path, description = "Album id")),
    responses(
        (status = 200, body = crate::store::AlbumDetailBody),
        (status = 400, description = "`id` is not a UUID"),
        (status = 404, description = "No such album"),
    ))]
pub async fn album(
    State(state): State<AppState>,
    Accepts(coding): Accepts,
    Path(IdParam { id }): Path<IdParam>,
) -> ApiResult<Response> {
    let loader = state.clone();
    let body = state
        .cache
        .body_or_load(&keys::album(id), move || async move {
            Ok(loader
                .store
                .album(id)
                .await
                .map_err(db_down)?
                .map(|b| b.map(|b| to_bytes(&b))))
        })
        .await?;
    body.map(|b| encoding::respond(b, coding))
        .ok_or_else(|| Problem::not_found(format!("album {id} not found")))
}

/// `GET /api/song/`: the seed's bare array, or `{songs, nextCursor}` when a
/// page is asked for (documentation only; the handler writes cached bytes).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum SongsResponse {
    All(Vec<crate::store::SongView>),
    Page(crate::store::SongsPage),
}

/// Every song, newest first: a bare array, as in the seed.
#[utoipa::path(get, path = "/api/song/", tag = "songs", params(PageParams),
    responses(
        (status = 200, description = "All songs (or one page with `limit`/`cursor`: `{songs, nextCursor}`)", body = SongsResponse),
        (status = 422, description = "Bad `limit` or `cursor`"),
    ))]
pub async fn songs(
    State(state): State<AppState>,
    Accepts(coding): Accepts,
    Query(params): Query<PageParams>,
) -> ApiResult<Response> {
    if let Some((limit, after)) = params.page()? {
        let page = state
            .store
            .songs_page(limit, after)
            .await
            .map_err(db_down)?;
        return Ok(json(to_bytes(&page)));
    }
    let loader = state.clone();
    let body = state
        .cache
        .body_or_load(keys::SONGS_ALL, move || async move {
            Ok(loader
                .store
                .songs()
                .await
                .map_err(db_down)?
                .map(|s| Some(to_bytes(&s))))
        })
        .await?;
    Ok(encoding::respond(
        body.unwrap_or_else(|| Body::plain(Bytes::new())),
        coding,
    ))
}

/// One song.
#[utoipa::path(get, path = "/api/song/{id}", tag = "songs",
    params(("id" = Uuid, Path, description = "Song id")),
    responses(
        (status = 200, body = crate::store::SongView),
        (status = 400, description = "`id` is not a UUID"),
        (status = 404, description = "No such song"),
    ))]
pub async fn song(
    State(state): State<AppState>,
    Path(IdParam { id }): Path<IdParam>,
) -> ApiResult<Response> {
    let loader = state.clone();
    let bytes = state
        .cache
        .get_or_load(&keys::song(id), move || async move {
            Ok(loader
                .store
                .song(id)
                .await
                .map_err(db_down)?
                .map(|s| s.map(|s| to_bytes(&s))))
        })
        .await?;
    bytes
        .map(json)
        .ok_or_else(|| Problem::not_found(format!("song {id} not found")))
}

/// A song's waveform for the seek bar.
#[derive(Serialize, ToSchema)]
pub struct WaveformBody {
    /// The loudest sample of each of 800 equal slices of the song, 0–255.
    pub peaks: Vec<u8>,
}

/// The waveform of a ready song, read from its audio by the media worker.
/// It changes only when the song's audio is replaced, which changes its
/// `ETag`; caches revalidate every time (`no-cache`).
#[utoipa::path(get, path = "/api/song/{id}/waveform", tag = "songs",
    params(("id" = Uuid, Path, description = "Song id")),
    responses(
        (status = 200, body = WaveformBody),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, description = "No such song, or not read yet"),
        (status = 503, description = "PostgreSQL unavailable; retry"),
    ))]
pub async fn waveform(
    State(state): State<AppState>,
    Path(IdParam { id }): Path<IdParam>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    let (audio_key, peaks) = state
        .store
        .waveform(id)
        .await
        .map_err(db_down)?
        .ok_or_else(|| Problem::not_found(format!("no waveform for song {id}")))?;
    // The audio key names one immutable object: its uuid is the version.
    let etag = format!(
        "\"{}\"",
        audio_key
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .split('.')
            .next()
            .unwrap_or_default()
    );
    let etag = HeaderValue::from_str(&etag).map_err(|_| Problem::internal("bad etag"))?;
    let cache = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            // Revalidated each time (cheap, by ETag): the URL is the song's,
            // and its audio may be replaced.
            HeaderValue::from_static("public, no-cache"),
        ),
    ];
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag.to_str().unwrap_or_default()
        });
    if matches {
        return Ok((axum::http::StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((cache, json(to_bytes(&WaveformBody { peaks }))).into_response())
}

/// The most ids one batch lookup takes.
pub const MAX_BATCH_IDS: usize = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchParams {
    /// Comma-separated song ids (UUIDs), 1–500. Long lists: use the POST form.
    pub ids: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchRequest {
    /// Song ids (UUIDs), 1–500.
    pub ids: Vec<String>,
}

/// The ids of a batch lookup, in order, each once; a bad one is a 422 that
/// names its position.
fn batch_ids<'a>(raw: impl ExactSizeIterator<Item = &'a str>) -> Result<Vec<Uuid>, Problem> {
    if raw.len() == 0 {
        return Err(Problem::invalid_field(
            "ids",
            "at least one song id is required",
        ));
    }
    if raw.len() > MAX_BATCH_IDS {
        return Err(Problem::invalid_field(
            "ids",
            format!("at most {MAX_BATCH_IDS} song ids per lookup"),
        ));
    }
    let mut seen = std::collections::HashSet::with_capacity(raw.len());
    let mut ids = Vec::with_capacity(raw.len());
    for (i, s) in raw.enumerate() {
        let id = Uuid::parse_str(s.trim()).map_err(|_| {
            Problem::invalid_field("ids", format!("item {i} is not a song id (a UUID)"))
        })?;
        if seen.insert(id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

async fn batch_body(state: &AppState, ids: Vec<Uuid>) -> ApiResult<Response> {
    let views = state
        .cache
        .songs_or_load(&ids, |wanted| async move {
            let found = state.store.songs_by_ids(&wanted).await.map_err(db_down)?;
            Ok(found.map(|songs| {
                songs
                    .into_iter()
                    .map(|song| match song {
                        BatchSong::Ready(v) => (v.id, to_bytes(&v)),
                        BatchSong::Unavailable(id) => (id, unavailable_marker(id)),
                    })
                    .collect::<std::collections::HashMap<_, _>>()
            }))
        })
        .await?;
    Ok(json(batch_json(&ids, &views)))
}

/// What the batch memo keeps for a song that exists but is not ready: its
/// id as a JSON string (a ready song's view is a JSON object).
fn unavailable_marker(id: Uuid) -> Bytes {
    Bytes::from(format!("\"{}\"", id.hyphenated()))
}

/// `SongBatch` as JSON, put together from each song's kept view: the
/// ready songs in the order asked, then the ids of songs that do not
/// exist, then of those not ready.
fn batch_json(ids: &[Uuid], views: &[Option<Bytes>]) -> Bytes {
    let size: usize = views.iter().flatten().map(|v| v.len() + 1).sum();
    let mut out = Vec::with_capacity(size + 40 + ids.len() * 39);
    let is_marker = |v: &Bytes| v.first() == Some(&b'"');
    out.extend_from_slice(b"{\"songs\":[");
    let mut first = true;
    for view in views.iter().flatten().filter(|v| !is_marker(v)) {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        out.extend_from_slice(view);
    }
    out.extend_from_slice(b"],\"missing\":[");
    let mut first = true;
    for (id, _) in ids.iter().zip(views).filter(|(_, v)| v.is_none()) {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(
            id.hyphenated()
                .encode_lower(&mut Uuid::encode_buffer())
                .as_bytes(),
        );
        out.push(b'"');
    }
    out.extend_from_slice(b"],\"unavailable\":[");
    let mut first = true;
    for marker in views.iter().flatten().filter(|v| is_marker(v)) {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        out.extend_from_slice(marker);
    }
    out.extend_from_slice(b"]}");
    Bytes::from(out)
}

/// Many songs in one call (a playlist, a history page): the songs that
/// can be played, in the order asked (each id once), the ids that do not
/// exist (`missing`: gone for good), and the ids of songs that exist but
/// cannot be played now (`unavailable`: processing or rejected; keep them).
/// Each song's view is kept in memory until the next catalogue change, so
/// any list of songs looked up before costs no PostgreSQL read.
#[utoipa::path(get, path = "/api/song/songs", tag = "songs", params(BatchParams),
    responses(
        (status = 200, body = crate::store::SongBatch),
        (status = 422, description = "`ids` empty, longer than 500, or not UUIDs"),
        (status = 503, description = "PostgreSQL unavailable; retry"),
    ))]
pub async fn batch(
    State(state): State<AppState>,
    Query(params): Query<BatchParams>,
) -> ApiResult<Response> {
    let raw: Vec<&str> = params
        .ids
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .collect();
    let ids = batch_ids(raw.into_iter())?;
    batch_body(&state, ids).await
}

/// The same lookup with the ids in a JSON body, for lists too long for a
/// URL (500 ids are ~18 kB; proxies refuse request lines over 8 kB).
#[utoipa::path(post, path = "/api/song/songs", tag = "songs", request_body = BatchRequest,
    responses(
        (status = 200, body = crate::store::SongBatch),
        (status = 422, description = "`ids` empty, longer than 500, or not UUIDs"),
        (status = 503, description = "PostgreSQL unavailable; retry"),
    ))]
pub async fn batch_post(
    State(state): State<AppState>,
    cadenza_platform::extract::Json(req): cadenza_platform::extract::Json<BatchRequest>,
) -> ApiResult<Response> {
    let ids = batch_ids(req.ids.iter().map(String::as_str))?;
    batch_body(&state, ids).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// 1–100 characters (after trimming), no control characters.
    #[param(min_length = 1, max_length = 100)]
    pub q: String,
    /// 1–50 results per kind (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
}

/// Typo-tolerant search across song titles, artists and album names.
#[utoipa::path(get, path = "/api/song/search", tag = "search", params(SearchParams),
    responses(
        (status = 200, body = crate::store::SearchBody),
        (status = 400, description = "`q` missing"),
        (status = 422, description = "`q` empty or longer than 100 characters, or bad `limit`"),
        (status = 429, description = "Too many searches from this client address (`Retry-After` says when to retry)"),
        (status = 503, description = "PostgreSQL unavailable, or the search ran past its time limit"),
    ))]
pub async fn search(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(params): Query<SearchParams>,
) -> ApiResult<Response> {
    let q = params.q.trim();
    let chars = q.chars().count();
    if chars == 0 || chars > MAX_QUERY_CHARS {
        return Err(Problem::invalid_field(
            "q",
            format!("must be 1 to {MAX_QUERY_CHARS} characters"),
        ));
    }
    if q.chars().any(char::is_control) {
        return Err(Problem::invalid_field(
            "q",
            "must not contain control characters",
        ));
    }
    let limit = params.limit.unwrap_or(DEFAULT_SEARCH_RESULTS);
    if !(1..=MAX_SEARCH_RESULTS).contains(&limit) {
        return Err(Problem::invalid_field(
            "limit",
            format!("must be between 1 and {MAX_SEARCH_RESULTS}"),
        ));
    }
    let loader = state.clone();
    let query = q.to_lowercase();
    let key = format!("{limit}:{query}");
    let (limiter, rule) = (state.limiter.clone(), state.search_per_ip);
    let bytes = state
        .cache
        .search_or_load(&key, || async move {
            // Only searches that reach PostgreSQL count: a popular query
            // answered from memory costs nothing, a scan of fresh queries
            // from one address is cut off.
            limiter.hit_ip("search:ip", ip, rule).await?;
            let body = loader
                .store
                .search(&query, limit as i64)
                .await
                .map_err(search_failed)?;
            Ok(body.map(|b| to_bytes(&b)))
        })
        .await?;
    Ok(json(bytes))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamBody {
    /// CloudFront signed URL (canned policy).
    pub url: String,
    /// RFC 3339; the URL is refused by the CDN after it.
    pub expires_at: String,
}

/// A signed CDN URL for the song's audio. Requires an access token.
#[utoipa::path(get, path = "/api/song/stream/{id}", tag = "songs",
    params(("id" = Uuid, Path, description = "Song id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = StreamBody),
        (status = 401, description = "No valid access token"),
        (status = 404, description = "No such song"),
    ))]
pub async fn stream(
    State(state): State<AppState>,
    AuthUser(_claims): AuthUser,
    Path(IdParam { id }): Path<IdParam>,
) -> ApiResult<Response> {
    let loader = state.clone();
    let bytes = state
        .cache
        .get_or_load(&keys::stream_meta(id), move || async move {
            Ok(loader
                .store
                .stream_meta(id)
                .await
                .map_err(db_down)?
                .map(|m| m.map(|m| to_bytes(&m))))
        })
        .await?
        .ok_or_else(|| Problem::not_found(format!("song {id} not found")))?;
    let meta: StreamMeta = serde_json::from_slice(&bytes).map_err(Problem::internal)?;
    let now = Utc::now().timestamp();
    let (url, expires) = state
        .signer
        .url(id, &meta.audio_key, meta.duration_seconds, now)
        .await
        .map_err(Problem::internal)?;
    let expires_at = DateTime::<Utc>::from_timestamp(expires, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let body = StreamBody {
        url: url.to_string(),
        expires_at,
    };
    let mut response = json(to_bytes(&body));
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// The OpenAPI 3.1 document.
pub async fn openapi(State(state): State<AppState>) -> Response {
    json(state.openapi.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_put_together_from_kept_views_is_the_song_batch_as_serde_writes_it() {
        let view = |title: &str| crate::store::SongView {
            id: Uuid::new_v4(),
            image_src: "https://cdn.example/c.jpg".into(),
            image_url: None,
            title: title.into(),
            artist: "A \"quoted\" artist".into(),
            duration: 61.5,
            track_number: 2,
            album_id: Uuid::new_v4(),
            created_at: Utc::now(),
            track_gain_db: Some(-6.25),
            album_gain_db: None,
        };
        let (a, b) = (view("a"), view("b"));
        let (ghost1, ghost2) = (Uuid::new_v4(), Uuid::new_v4());
        let (busy1, busy2) = (Uuid::new_v4(), Uuid::new_v4());
        let ids = [busy1, b.id, ghost1, a.id, busy2, ghost2];
        let views = [
            Some(unavailable_marker(busy1)),
            Some(to_bytes(&b)),
            None,
            Some(to_bytes(&a)),
            Some(unavailable_marker(busy2)),
            None,
        ];
        let expected = serde_json::to_vec(&crate::store::SongBatch {
            songs: vec![b, a],
            missing: vec![ghost1, ghost2],
            unavailable: vec![busy1, busy2],
        })
        .unwrap();
        assert_eq!(&batch_json(&ids, &views)[..], &expected[..]);
        let empty = serde_json::to_vec(&crate::store::SongBatch {
            songs: vec![],
            missing: vec![ghost1],
            unavailable: vec![],
        })
        .unwrap();
        assert_eq!(&batch_json(&[ghost1], &[None])[..], &empty[..]);
    }
}
