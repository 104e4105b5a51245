//! `/api/song` handlers, one file per resource, and what they share.
//! Catalogue reads return cached JSON bytes; only the paged and search
//! variants are rendered per request. Database errors become problems
//! through `cadenza_platform`'s `From<sqlx::Error>` (`?`).

pub mod albums;
pub mod batch;
pub mod search;
pub mod songs;
pub mod stream;

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;

/// The paged lists' query (`?limit=&cursor=`), shared with admin-svc.
pub use cadenza_catalog::page::{PageParams, DEFAULT_PAGE, MAX_PAGE};

/// Serialized JSON as an `application/json` answer.
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

/// `{id}` path segments; a struct so that a bad value names the field.
#[derive(Debug, Deserialize)]
pub struct IdParam {
    pub id: Uuid,
}

/// The OpenAPI 3.1 document.
pub async fn openapi(State(state): State<AppState>) -> Response {
    json(state.openapi.clone())
}
