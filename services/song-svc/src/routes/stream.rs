//! `/api/song/stream/{id}`: a signed CDN URL for a song's audio, for
//! signed-in listeners.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use cadenza_auth::AuthUser;
use cadenza_platform::extract::Path;
use cadenza_platform::{ApiResult, Problem};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{json, IdParam};
use crate::app::AppState;
use crate::cache::keys;
use crate::store::{to_bytes, StreamMeta};

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
                .await?
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
