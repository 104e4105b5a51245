//! HTTP handlers, one file per resource, and their shared helpers.

pub mod account;
pub mod favorites;
pub mod history;
pub mod library;
pub mod meta;
pub mod playlists;
pub mod sessions;

use axum::http::{header, HeaderMap, HeaderValue};
use cadenza_auth::Claims;
use cadenza_platform::{ApiResult, Problem};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::store::{StoreError, UserDoc};

/// For user-svc's sensitive routes: the token's session must still exist,
/// unrevoked, in MongoDB. The in-memory denylist alone can lag a revocation
/// made on another replica while Redis is unreachable.
pub async fn require_live_session(state: &AppState, claims: &Claims) -> ApiResult<()> {
    let live = state
        .store
        .session_by_id(&claims.sid)
        .await?
        .is_some_and(|s| s.user_id == claims.sub && s.revoked_at.is_none());
    if live {
        Ok(())
    } else {
        Err(Problem::unauthorized("session revoked"))
    }
}

/// A store error as problem+json. A database failure is classified by
/// `cadenza_platform` (unreachable or transient: 503 with Retry-After; a
/// duplicate key: 409; else 500, its cause only logged).
impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Db(e) => Problem::from(e),
            StoreError::Duplicate => Problem::conflict("already exists"),
            StoreError::NeedsPassword => Problem::invalid_field("password", "is required"),
        }
    }
}

pub const REFRESH_COOKIE: &str = "refreshToken";
const COOKIE_PATH: &str = "/api/user";

/// `{message}`, the seed's plain success body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub message: String,
}

impl Message {
    pub fn new(m: &str) -> axum::Json<Message> {
        axum::Json(Message {
            message: m.to_owned(),
        })
    }
}

/// The public fields of a user: never the hash or any token.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicUser {
    pub id: String,
    pub email: String,
    #[serde(rename = "isVerified")]
    pub is_verified: bool,
    /// `user` or `admin`.
    pub role: String,
}

impl From<&UserDoc> for PublicUser {
    fn from(u: &UserDoc) -> Self {
        Self {
            id: u.id_str(),
            email: u.email.clone(),
            is_verified: u.verified,
            role: u.role().as_str().to_owned(),
        }
    }
}

/// The refresh token from the `Cookie` header(s), if any.
pub fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == REFRESH_COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 256)
}

pub fn set_refresh_cookie(token: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{REFRESH_COOKIE}={token}; HttpOnly; SameSite=Strict; Path={COOKIE_PATH}; Max-Age={}{secure}",
        max_age_secs.max(0)
    );
    HeaderValue::from_str(&value).expect("cookie is ASCII")
}

pub fn clear_refresh_cookie(secure: bool) -> HeaderValue {
    set_refresh_cookie("", 0, secure)
}

pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(256).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; refreshToken=abc_-9; b=2"),
        );
        assert_eq!(refresh_cookie(&h).as_deref(), Some("abc_-9"));
        h.insert(header::COOKIE, HeaderValue::from_static("refreshTokenX=1"));
        assert_eq!(refresh_cookie(&h), None);
    }

    #[test]
    fn cookie_attributes_match_the_contract() {
        let v = set_refresh_cookie("tok", 2_592_000, true);
        assert_eq!(
            v,
            "refreshToken=tok; HttpOnly; SameSite=Strict; Path=/api/user; Max-Age=2592000; Secure"
        );
        let v = clear_refresh_cookie(false);
        assert_eq!(
            v,
            "refreshToken=; HttpOnly; SameSite=Strict; Path=/api/user; Max-Age=0"
        );
    }
}
