use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cadenza song-svc",
        description = "Catalogue reads (albums, songs, search) and signed stream URLs. \
                       Errors are RFC 9457 problem+json.",
    ),
    paths(
        crate::routes::albums,
        crate::routes::album,
        crate::routes::songs,
        crate::routes::song,
        crate::routes::search,
        crate::routes::stream,
    ),
    components(schemas(
        crate::store::AlbumView,
        crate::store::SongView,
        crate::store::AlbumsBody,
        crate::store::AlbumDetailBody,
        crate::store::AlbumsPage,
        crate::store::SongsPage,
        crate::store::SearchBody,
        crate::routes::StreamBody,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
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
}
