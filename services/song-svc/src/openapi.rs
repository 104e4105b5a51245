use cadenza_platform::openapi::{
    BearerAuth, FieldErrorDoc, ProblemDoc, ProblemResponses, Shared, When,
};
use utoipa::OpenApi;

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
    modifiers(&BearerAuth, &PROBLEM_RESPONSES),
)]
pub struct ApiDoc;

/// What every route can answer besides its own cases: 400 for a path or
/// query value that cannot be read (a non-UUID id, a non-integer `limit`,
/// a repeated parameter), 422 for query values out of range, 503 while
/// PostgreSQL is down; for a JSON body (the batch lookup) also 400, 413,
/// 415 and 422 from the extractor.
const PROBLEM_RESPONSES: ProblemResponses = ProblemResponses(&[
    Shared::new(
        When::Always,
        "503",
        "PostgreSQL unavailable; see Retry-After",
    ),
    Shared::new(
        When::Params,
        "400",
        "a path or query value of the wrong type",
    ),
    Shared::new(When::Query, "422", "a query value out of range"),
    Shared::new(When::Body, "400", "the body is not JSON"),
    Shared::new(When::Body, "413", "the JSON body is too large"),
    Shared::new(When::Body, "415", "the body is not `application/json`"),
    Shared::new(When::Body, "422", "the body has the wrong shape"),
]);
