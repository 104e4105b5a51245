//! The OpenAPI 3.1 document and the docs page.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{albums, songs, upload, FieldErrorDoc, MessageBody, ProblemDoc};

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
    modifiers(&BearerAuth),
    tags((name = "uploads"), (name = "albums"), (name = "songs"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

pub async fn openapi_json() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}

/// The Scalar UI loads its script from jsDelivr, so this page alone gets a
/// CSP that allows it (the standard layers only add theirs when absent).
const DOCS_CSP: &str = "default-src 'none'; script-src 'unsafe-inline' https://cdn.jsdelivr.net; \
    style-src 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; \
    font-src data: https://cdn.jsdelivr.net https://fonts.gstatic.com; img-src 'self' data: https:; \
    connect-src 'self'; frame-ancestors 'none'";

pub async fn docs() -> impl IntoResponse {
    let html = utoipa_scalar::Scalar::new(ApiDoc::openapi()).to_html();
    ([(header::CONTENT_SECURITY_POLICY, DOCS_CSP)], Html(html))
}
