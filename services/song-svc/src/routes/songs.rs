//! `/api/song/` and `/api/song/{id}`: every song (or a page of them), one
//! song, and a song's waveform.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cadenza_platform::extract::{Path, Query};
use cadenza_platform::{ApiResult, Problem};
use serde::Serialize;
use utoipa::ToSchema;

use super::{json, IdParam, PageParams};
use crate::app::AppState;
use crate::cache::keys;
use crate::encoding::{self, Accepts};
use crate::store::to_bytes;

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
        let page = state.store.songs_page(limit, after).await?;
        return Ok(json(to_bytes(&page)));
    }
    let loader = state.clone();
    let body = state
        .cache
        .body_or_load(keys::SONGS_ALL, move || async move {
            Ok(loader.store.songs().await?.map(|s| Some(to_bytes(&s))))
        })
        .await?;
    Ok(encoding::respond(
        body.ok_or_else(|| Problem::internal("a catalogue list loaded as nothing"))?,
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
                .await?
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
    headers: HeaderMap,
) -> ApiResult<Response> {
    // Cached as the ETag, a newline, then the JSON body: the ETag is
    // worked out once per load, not per request.
    let loader = state.clone();
    let entry = state
        .cache
        .get_or_load(&keys::waveform(id), move || async move {
            Ok(loader.store.waveform(id).await?.map(|row| {
                row.map(|(audio_key, peaks)| {
                    let mut entry = etag_of(&audio_key).into_bytes();
                    entry.push(b'\n');
                    entry.extend_from_slice(&to_bytes(&WaveformBody { peaks }));
                    Bytes::from(entry)
                })
            }))
        })
        .await?
        .ok_or_else(|| Problem::not_found(format!("no waveform for song {id}")))?;
    let split = entry
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| Problem::internal("waveform cache entry without an ETag"))?;
    let etag = HeaderValue::from_maybe_shared(entry.slice(..split))
        .map_err(|_| Problem::internal("bad waveform ETag"))?;
    let body = entry.slice(split + 1..);
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
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((cache, json(body)).into_response())
}

/// The audio key names one immutable object (`songs/<uuid>.<ext>`): its
/// uuid is the waveform's version.
fn etag_of(audio_key: &str) -> String {
    let name = audio_key.rsplit('/').next().unwrap_or_default();
    format!("\"{}\"", name.split('.').next().unwrap_or_default())
}
