//! The OpenAPI 3.1 document, served at `/api/user/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{account, favorites, meta, sessions};

#[derive(OpenApi)]
#[openapi(
    info(title = "Cadenza user-svc", description = "Accounts, sessions, favourites and signing keys. Errors are RFC 9457 problem+json."),
    paths(
        account::register, account::login, account::verify_email, account::resend_verification,
        account::forgot_password, account::validate_token, account::set_password,
        account::change_password, account::check_auth,
        sessions::refresh, sessions::logout, sessions::logout_all, sessions::list, sessions::revoke,
        favorites::list, favorites::add, favorites::remove, favorites::remove_seed,
        meta::jwks,
    ),
    modifiers(&BearerAuth),
    tags((name = "account"), (name = "session"), (name = "favorites"), (name = "keys"))
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
