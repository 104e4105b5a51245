//! The OpenAPI 3.1 document, served at `/api/user/openapi.json`.

use cadenza_platform::openapi::{
    BearerAuth, FieldErrorDoc, ProblemDoc, ProblemResponses, Shared, When,
};
use utoipa::OpenApi;

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
    modifiers(&BearerAuth, &PROBLEM_RESPONSES),
    tags((name = "account"), (name = "session"), (name = "favorites"), (name = "playlists"), (name = "history"), (name = "keys"))
)]
pub struct ApiDoc;

/// What routes answer besides their own cases: 400 for input that cannot be
/// read (JSON syntax, a query value of the wrong type), 413 and 415 from the
/// JSON extractor, 422 for a body of the wrong shape, 401 on every route
/// that takes a bearer token, and 503 when MongoDB is down (every route but
/// the JWKS).
const PROBLEM_RESPONSES: ProblemResponses = ProblemResponses(&[
    Shared::new(
        When::PathNotEndingWith("/jwks.json"),
        "503",
        "MongoDB unavailable; see Retry-After",
    ),
    Shared::new(
        When::Secured,
        "401",
        "missing, invalid, expired or revoked access token",
    ),
    Shared::new(
        When::BodyOrQuery,
        "400",
        "malformed input (JSON syntax, a query value of the wrong type)",
    ),
    Shared::new(When::Body, "413", "the JSON body is too large"),
    Shared::new(When::Body, "415", "the body is not `application/json`"),
    Shared::new(
        When::Body,
        "422",
        "a field is missing, of the wrong type or breaks a rule",
    ),
]);
