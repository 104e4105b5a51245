//! `/api/song/album`: every album (or a page of them), one album with its
//! songs.

use axum::extract::State;
use axum::response::Response;
use cadenza_platform::extract::{Path, Query};
use cadenza_platform::{ApiResult, Problem};

use super::{json, IdParam, PageParams};
use crate::app::AppState;
use crate::cache::keys;
use crate::encoding::{self, Accepts};
use crate::store::to_bytes;

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
        let page = state.store.albums_page(limit, after).await?;
        return Ok(json(to_bytes(&page)));
    }
    // The state's handle, not a copy of the store: only a miss uses it.
    let loader = state.clone();
    let body = state
        .cache
        .body_or_load(keys::ALBUMS_ALL, move || async move {
            Ok(loader.store.albums().await?.map(|b| Some(to_bytes(&b))))
        })
        .await?;
    Ok(encoding::respond(
        body.ok_or_else(|| Problem::internal("a catalogue list loaded as nothing"))?,
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
                .await?
                .map(|b| b.map(|b| to_bytes(&b))))
        })
        .await?;
    body.map(|b| encoding::respond(b, coding))
        .ok_or_else(|| Problem::not_found(format!("album {id} not found")))
}
