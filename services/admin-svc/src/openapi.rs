//! The OpenAPI 3.1 document and the docs page.

use axum::response::IntoResponse;
use utoipa::OpenApi;

use cadenza_platform::openapi::{
    BearerAuth, FieldErrorDoc, ProblemDoc, ProblemResponses, Shared, When,
};

use crate::routes::{albums, songs, upload, MessageBody};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cadenza admin API",
        description = "Catalogue administration: presigned uploads, albums and songs. Every route needs an access token with role `admin`. Errors are RFC 9457 problem+json."
    ),
    servers((url = "/api/admin")),
    paths(
        upload::create_upload_url,
        albums::list, albums::create, albums::update, albums::delete, albums::songs,
        songs::list, songs::create, songs::update, songs::delete,
    ),
    components(schemas(
        upload::UploadUrlRequest, upload::UploadUrlResponse,
        albums::CreateAlbum, albums::UpdateAlbum, albums::AlbumList, albums::AlbumBody, albums::AlbumSongs,
        songs::CreateSong, songs::UpdateSong, songs::SongList, songs::SongBody,
        cadenza_catalog::AlbumJson, cadenza_catalog::SongJson,
        MessageBody, ProblemDoc, FieldErrorDoc,
    )),
    modifiers(&BearerAuth, &PROBLEM_RESPONSES),
    tags((name = "uploads"), (name = "albums"), (name = "songs"))
)]
pub struct ApiDoc;

/// The answers every route can give besides its own: the admin-only guard
/// (401, 403), unreadable input (400: malformed JSON, path or query), the
/// JSON extractor's 413 and 415, 422 for a bad `limit` or `cursor`, and 503
/// when PostgreSQL or S3 is down.
const PROBLEM_RESPONSES: ProblemResponses = ProblemResponses(&[
    Shared::new(
        When::Always,
        "401",
        "missing, invalid, expired or revoked access token",
    ),
    Shared::new(When::Always, "403", "the token's role is not `admin`"),
    Shared::new(
        When::Always,
        "503",
        "a dependency (PostgreSQL, S3) is unavailable; see Retry-After",
    ),
    Shared::new(
        When::Input,
        "400",
        "malformed input (JSON syntax, a path or query value of the wrong type)",
    ),
    Shared::new(When::Body, "413", "the JSON body exceeds 16 KiB"),
    Shared::new(When::Body, "415", "the body is not `application/json`"),
    Shared::new(
        When::Body,
        "422",
        "a field breaks a rule (named in `errors`)",
    ),
    Shared::new(When::Query, "422", "`limit` or `cursor` out of range"),
]);

pub async fn openapi_json() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}
