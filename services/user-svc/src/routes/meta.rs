//! The JWKS and the OpenAPI document.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;

use crate::app::AppState;
use crate::openapi::ApiDoc;

#[utoipa::path(get, path = "/api/user/.well-known/jwks.json", tag = "keys",
    responses((status = 200, description = "The RS256 verification keys (RFC 7517); two during a rotation")))]
pub async fn jwks(State(state): State<AppState>) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        axum::Json(state.jwks.as_ref().clone()),
    )
        .into_response()
}

pub async fn openapi() -> Response {
    axum::Json(ApiDoc::openapi()).into_response()
}
