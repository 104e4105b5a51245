//! The OpenAPI 3.1 document, served at `/api/user/openapi.json`.

use cadenza_platform::openapi::{BearerAuth, FieldErrorDoc, ProblemDoc};
use utoipa::{Modify, OpenApi};

use crate::routes::{account, favorites, history, library, meta, playlists, sessions};

#[derive(OpenApi)]
#[openapi(
    info(title = "Cadenza user-svc", description = "Accounts, sessions, favourites, playlists and signing keys. Errors are RFC 9457 problem+json."),
    paths(
        account::register, account::login, account::verify_email, account::resend_verification,
        account::forgot_password, account::validate_token, account::set_password,
        account::change_password, account::check_auth,
        sessions::refresh, sessions::logout, sessions::logout_all, sessions::list, sessions::revoke,
        favorites::list, favorites::add, favorites::remove, favorites::remove_seed,
        playlists::list, playlists::create, playlists::get, playlists::update, playlists::delete,
        playlists::add, playlists::move_entry, playlists::remove, library::prune,
        history::report, history::recent, history::top, history::trending,
        meta::jwks,
    ),
    components(schemas(ProblemDoc, FieldErrorDoc)),
    modifiers(&BearerAuth, &ProblemResponses),
    tags((name = "account"), (name = "session"), (name = "favorites"), (name = "playlists"), (name = "history"), (name = "keys"))
)]
pub struct ApiDoc;

/// Documents what routes answer besides their own cases: 400 for input that
/// cannot be read (JSON syntax, a query value of the wrong type), 413 and 415
/// from the JSON extractor, 422 for a body of the wrong shape, 401 on every
/// route that takes a bearer token, and 503 when MongoDB is down (every route
/// but the JWKS). Every error is `application/problem+json` ([`ProblemDoc`]).
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

        for (path, item) in openapi.paths.paths.iter_mut() {
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
                let has_body = op.request_body.is_some();
                let mut extra = vec![];
                if !path.ends_with("/jwks.json") {
                    extra.push(("503", "MongoDB unavailable; see Retry-After"));
                }
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    extra.push(("401", "missing, invalid, expired or revoked access token"));
                }
                if has_body || has_query {
                    extra.push((
                        "400",
                        "malformed input (JSON syntax, a query value of the wrong type)",
                    ));
                }
                if has_body {
                    extra.push(("413", "the JSON body is too large"));
                    extra.push(("415", "the body is not `application/json`"));
                    extra.push((
                        "422",
                        "a field is missing, of the wrong type or breaks a rule",
                    ));
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
