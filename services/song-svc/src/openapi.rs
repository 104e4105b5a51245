use cadenza_platform::openapi::{BearerAuth, FieldErrorDoc, ProblemDoc};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cadenza song-svc",
        description = "Catalogue reads (albums, songs, search) and signed stream URLs. \
                       Errors are RFC 9457 problem+json.",
    ),
    paths(
        crate::routes::albums::albums,
        crate::routes::albums::album,
        crate::routes::songs::songs,
        crate::routes::songs::song,
        crate::routes::search::search,
        crate::routes::batch::batch,
        crate::routes::batch::batch_post,
        crate::routes::stream::stream,
        crate::routes::songs::waveform,
    ),
    components(schemas(
        crate::store::AlbumView,
        crate::store::SongView,
        crate::store::AlbumsBody,
        crate::store::AlbumDetailBody,
        crate::store::AlbumsPage,
        crate::store::SongsPage,
        crate::store::SearchBody,
        crate::store::SongBatch,
        crate::routes::batch::BatchRequest,
        crate::routes::stream::StreamBody,
        crate::routes::songs::WaveformBody,
        crate::routes::songs::SongsResponse,
        ProblemDoc,
        FieldErrorDoc,
    )),
    modifiers(&BearerAuth, &ProblemResponses),
)]
pub struct ApiDoc;

/// Documents what every route can answer besides its own cases: 400 for a
/// path or query value that cannot be read (a non-UUID id, a non-integer
/// `limit`, a repeated parameter), 422 for query values out of range, 503
/// while PostgreSQL is down; for a JSON body (the batch lookup) also 400,
/// 413, 415 and 422 from the extractor. Every error is `application/problem+json`
/// with the [`ProblemDoc`] shape.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

        for item in openapi.paths.paths.values_mut() {
            for (op, has_body) in [(item.get.as_mut(), false), (item.post.as_mut(), true)] {
                let Some(op) = op else {
                    continue;
                };
                let params = op.parameters.as_deref().unwrap_or_default();
                let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
                let mut extra = vec![("503", "PostgreSQL unavailable; see Retry-After")];
                if !params.is_empty() {
                    extra.push(("400", "a path or query value of the wrong type"));
                }
                if has_query {
                    extra.push(("422", "a query value out of range"));
                }
                if has_body {
                    extra.push(("400", "the body is not JSON"));
                    extra.push(("413", "the JSON body is too large"));
                    extra.push(("415", "the body is not `application/json`"));
                    extra.push(("422", "the body has the wrong shape"));
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
