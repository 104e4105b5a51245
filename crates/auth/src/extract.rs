//! axum extractors. Any state that can hand out a [`TokenVerifier`]
//! (`FromRef`) can use them.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::{header, request::Parts, StatusCode};
use cadenza_platform::Problem;

use crate::claims::Claims;
use crate::verifier::{AuthError, TokenVerifier};

/// A request with a valid access token.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Claims);

/// A request with a valid access token, or none at all. A token that is
/// present but bad is still refused: silently treating it as anonymous would
/// hide a client bug.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<Claims>);

/// A request with a valid access token of an admin.
#[derive(Debug, Clone)]
pub struct AdminUser(pub Claims);

impl From<AuthError> for Problem {
    fn from(e: AuthError) -> Self {
        let detail = match e {
            AuthError::Expired => "Token expired".to_owned(),
            other => other.to_string(),
        };
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            detail,
        )
    }
}

fn bearer(parts: &Parts) -> Result<Option<&str>, AuthError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AuthError::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(Some(token.trim()))
}

impl<S> FromRequestParts<S> for MaybeUser
where
    TokenVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(token) = bearer(parts)? else {
            return Ok(MaybeUser(None));
        };
        let verifier = TokenVerifier::from_ref(state);
        let claims = verifier.verify(token).await?;
        Ok(MaybeUser(Some(claims)))
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    TokenVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match MaybeUser::from_request_parts(parts, state).await? {
            MaybeUser(Some(claims)) => Ok(AuthUser(claims)),
            MaybeUser(None) => Err(AuthError::Missing.into()),
        }
    }
}

impl<S> FromRequestParts<S> for AdminUser
where
    TokenVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let AuthUser(claims) = AuthUser::from_request_parts(parts, state).await?;
        if !claims.is_admin() {
            return Err(Problem::forbidden("admin role required"));
        }
        Ok(AdminUser(claims))
    }
}
