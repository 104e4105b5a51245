//! A user's favourite songs.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cadenza_auth::AuthUser;
use cadenza_platform::extract::{Json, Path, Query};
use cadenza_platform::{ApiResult, Problem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::store::{self, FavoriteDoc};

#[derive(Debug, Deserialize, ToSchema)]
pub struct SongRef {
    #[serde(rename = "songId")]
    pub song_id: String,
}

/// One favourite: the seed's `id, userId, songId, addedAt`, plus
/// `createdAt` (the same instant).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Favorite {
    pub id: String,
    pub user_id: String,
    pub song_id: String,
    /// RFC 3339, when the song was added.
    pub added_at: String,
    /// Same as `addedAt`.
    pub created_at: String,
}

impl From<FavoriteDoc> for Favorite {
    fn from(f: FavoriteDoc) -> Self {
        let at = store::rfc3339(f.created_at);
        Self {
            id: f.id.map(|id| id.to_string()).unwrap_or_default(),
            user_id: f.user_id,
            song_id: f.song_id,
            added_at: at.clone(),
            created_at: at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FavoriteList {
    pub favorites: Vec<Favorite>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FavoriteAdded {
    pub message: String,
    pub favorite: Favorite,
}

/// Song ids are catalogue UUIDs; anything id-like up to 64 characters is
/// accepted so that a malformed id is a 422, never a stored oddity.
pub(crate) fn song_id(raw: &str) -> Result<String, Problem> {
    let id = raw.trim();
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(Problem::invalid_field(
            "songId",
            "must be a song id (a UUID)",
        ))
    }
}

/// Optional paging; without it the newest 1000 are returned (the seed's shape).
#[derive(Debug, Deserialize, IntoParams)]
pub struct Page {
    /// 1 to 1000 (default 1000).
    pub limit: Option<u32>,
    /// How many to skip (default 0; at most 2^63 - 1).
    pub offset: Option<u64>,
}

pub const MAX_PAGE: u32 = 1000;

#[utoipa::path(get, path = "/api/user/favorites", operation_id = "list_favorites", tag = "favorites", security(("bearer" = [])),
    params(Page), responses((status = 200, body = FavoriteList), (status = 401), (status = 422, description = "`limit` or `offset` out of range")))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Query(page): Query<Page>,
) -> ApiResult<Response> {
    let limit = page.limit.unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Problem::invalid_field(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    // MongoDB's skip is a signed 64-bit integer: a larger offset made the
    // driver fail (500) instead of being refused.
    let offset = page.offset.unwrap_or(0);
    if i64::try_from(offset).is_err() {
        return Err(Problem::invalid_field(
            "offset",
            format!("must be at most {}", i64::MAX),
        ));
    }
    let favorites = state
        .store
        .favorites_of(&claims.sub, offset, limit as i64)
        .await?;
    Ok(axum::Json(FavoriteList {
        favorites: favorites.into_iter().map(Favorite::from).collect(),
    })
    .into_response())
}

#[utoipa::path(post, path = "/api/user/favorites", operation_id = "add_favorite", tag = "favorites", security(("bearer" = [])), request_body = SongRef,
    responses((status = 201, body = FavoriteAdded, description = "Added (or already there)"), (status = 401), (status = 422)))]
pub async fn add(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Json(body): Json<SongRef>,
) -> ApiResult<Response> {
    crate::routes::require_live_session(&state, &claims).await?;
    let id = song_id(&body.song_id)?;
    let fav = state.store.add_favorite(&claims.sub, &id).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(FavoriteAdded {
            message: "Added to favorites".into(),
            favorite: fav.into(),
        }),
    )
        .into_response())
}

async fn remove_id(state: &AppState, user_id: &str, raw: &str) -> ApiResult<Response> {
    let id = song_id(raw)?;
    if state.store.remove_favorite(user_id, &id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(Problem::not_found("that song is not in your favorites"))
    }
}

#[utoipa::path(delete, path = "/api/user/favorites/{songId}", operation_id = "remove_favorite", tag = "favorites", security(("bearer" = [])),
    params(("songId" = String, Path)),
    responses((status = 204), (status = 401), (status = 404, description = "not one of your favourites"), (status = 422, description = "`songId` is not a song id")))]
pub async fn remove(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Path(song): Path<String>,
) -> ApiResult<Response> {
    crate::routes::require_live_session(&state, &claims).await?;
    remove_id(&state, &claims.sub, &song).await
}

/// The seed's form: `DELETE /favorites` with `{songId}` in the body.
#[utoipa::path(delete, path = "/api/user/favorites", operation_id = "remove_favorite_by_body", tag = "favorites", security(("bearer" = [])), request_body = SongRef,
    responses((status = 204), (status = 401), (status = 404), (status = 422, description = "`songId` is not a song id")))]
pub async fn remove_seed(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Json(body): Json<SongRef>,
) -> ApiResult<Response> {
    crate::routes::require_live_session(&state, &claims).await?;
    remove_id(&state, &claims.sub, &body.song_id).await
}
