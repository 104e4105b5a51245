//! The OpenAPI 3.1 document and the docs page.

use axum::response::IntoResponse;
use utoipa::{Modify, OpenApi};

use cadenza_platform::openapi::{BearerAuth, FieldErrorDoc, ProblemDoc};

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
    modifiers(&BearerAuth, &ProblemResponses),
    tags((name = "uploads"), (name = "albums"), (name = "songs"))
)]
pub struct ApiDoc;

/// Documents the answers every route can give besides its own: the
/// admin-only guard (401, 403), unreadable input (400: malformed JSON, path
/// or query), the JSON extractor's 413 and 415, 422 for a bad `limit` or
/// `cursor`, and 503 when PostgreSQL or S3 is down. Every error response is
/// `application/problem+json` with the [`ProblemDoc`] shape, which is what
/// `cadenza_platform::Problem` sends.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                let params = op.parameters.as_deref().unwrap_or_default();
                let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
                let has_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
                let has_body = op.request_body.is_some();
                let mut extra = vec![
                    ("401", "missing, invalid, expired or revoked access token"),
                    ("403", "the token's role is not `admin`"),
                    (
                        "503",
                        "a dependency (PostgreSQL, S3) is unavailable; see Retry-After",
                    ),
                ];
                if has_body || has_path || has_query {
                    extra.push((
                        "400",
                        "malformed input (JSON syntax, a path or query value of the wrong type)",
                    ));
                }
                if has_body {
                    extra.push(("413", "the JSON body exceeds 16 KiB"));
                    extra.push(("415", "the body is not `application/json`"));
                    extra.push(("422", "a field breaks a rule (named in `errors`)"));
                }
                if has_query {
                    extra.push(("422", "`limit` or `cursor` out of range"));
                }
                for (status, description) in extra {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| ResponseBuilder::new().description(description).into());
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    if !(status.starts_with('4') || status.starts_with('5')) {
                        continue;
                    }
                    if let RefOr::T(response) = response {
                        response.content.clear();
                        response.content.insert(
                            "application/problem+json".to_owned(),
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ProblemDoc")))
                                .build(),
                        );
                    }
                }
            }
        }
    }
}

pub async fn openapi_json() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}
