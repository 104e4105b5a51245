//! Refresh-token sessions: rotation with reuse detection, logout, listing.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cadenza_auth::{AuthUser, Claims};
use cadenza_platform::extract::Path;
use cadenza_platform::{ApiResult, Problem};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::{AppState, SESSION_ABSOLUTE, SESSION_IDLE};
use crate::client_ip::ClientIp;
use crate::routes::{
    clear_refresh_cookie, refresh_cookie, set_refresh_cookie, user_agent, Message,
};
use crate::store::{self, SessionDoc, UserDoc};
use crate::tokens::{random_token, token_hash, Subject};

pub struct Started {
    pub access_token: String,
    pub refresh_token: String,
    pub max_age_secs: i64,
}

fn mint(state: &AppState, user: &UserDoc, sid: &str) -> ApiResult<String> {
    let subject = Subject {
        user_id: &user.id_str(),
        email: &user.email,
        role: user.role(),
        is_verified: user.verified,
        sid,
    };
    state
        .issuer
        .mint(&subject)
        .map(|(token, _)| token)
        .map_err(Problem::internal)
}

/// A new refresh-token family for `user` (a login).
pub async fn start_session(
    state: &AppState,
    user: &UserDoc,
    ip: IpAddr,
    headers: &HeaderMap,
) -> ApiResult<Started> {
    let refresh_token = random_token();
    let sid = uuid::Uuid::new_v4().to_string();
    let t = store::now();
    let session = SessionDoc {
        id: sid.clone(),
        user_id: user.id_str(),
        family_id: sid.clone(),
        token_hash: token_hash(&refresh_token),
        previous_token_hash: None,
        rotated_at: None,
        created_at: t,
        last_used_at: t,
        expires_at: store::after(SESSION_ABSOLUTE),
        idle_expires_at: store::after(SESSION_IDLE),
        user_agent: user_agent(headers),
        ip: Some(ip.to_string()),
        revoked_at: None,
        token_version: Some(user.token_version),
    };
    state.store.insert_session(&session).await?;
    // `user` was read before the password was checked (argon2 can queue for
    // seconds): a reset or change that committed meanwhile revoked only the
    // sessions that existed then. Re-read now that ours exists; if the
    // credentials moved on, this login is void. A change committing after
    // this read is caught by refresh, which compares the versions again.
    let current = state.store.user_by_id(&session.user_id).await?;
    if !current.is_some_and(|u| session.matches_credentials(&u)) {
        revoke_family(state, &sid).await?;
        return Err(Problem::unauthorized(
            "the password changed while signing in; please sign in again",
        ));
    }
    let access_token = mint(state, user, &sid)?;
    Ok(Started {
        access_token,
        refresh_token,
        max_age_secs: SESSION_ABSOLUTE.as_secs() as i64,
    })
}

fn max_age(session: &SessionDoc) -> i64 {
    (session.expires_at.timestamp_millis() - store::now().timestamp_millis()) / 1000
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessTokenResponse {
    #[serde(rename = "accessToken")]
    pub access_token: String,
}

/// 401 that also drops the browser's cookie.
fn refused(state: &AppState, detail: &str) -> Response {
    let mut resp = Problem::unauthorized(detail).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        clear_refresh_cookie(state.cookie_secure),
    );
    resp
}

async fn revoke_family(state: &AppState, sid: &str) -> ApiResult<()> {
    if let Some(s) = state.store.revoke_session(sid, None).await? {
        state.revocations.session(&s.id, &s.user_id).await;
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/user/refresh-token", operation_id = "refresh_token", tag = "session",
    responses((status = 200, body = AccessTokenResponse, description = "Rotates the refreshToken cookie (not within the grace window)"),
              (status = 401, description = "missing, unknown, expired or reused refresh token (reuse revokes the family)"),
              (status = 429)))]
pub async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> ApiResult<Response> {
    state
        .limiter
        .hit_ip("refresh:ip", ip, state.limits.refresh_per_ip)
        .await?;
    let Some(presented) = refresh_cookie(&headers) else {
        return Ok(refused(&state, "missing refresh token"));
    };
    let old = token_hash(&presented);

    if let Some(session) = state.store.session_by_token(&old).await? {
        if !session.is_live() {
            return Ok(refused(&state, "session expired"));
        }
        let Some(user) = state.store.user_by_id(&session.user_id).await? else {
            revoke_family(&state, &session.id).await?;
            return Ok(refused(&state, "account no longer exists"));
        };
        if !session.matches_credentials(&user) {
            revoke_family(&state, &session.id).await?;
            return Ok(refused(
                &state,
                "the password was changed; please sign in again",
            ));
        }
        let new_token = random_token();
        let rotated = state
            .store
            .rotate(&session, &old, &token_hash(&new_token), SESSION_IDLE)
            .await?;
        if let Some(session) = rotated {
            let access_token = mint(&state, &user, &session.id)?;
            return Ok((
                [(
                    header::SET_COOKIE,
                    set_refresh_cookie(&new_token, max_age(&session), state.cookie_secure),
                )],
                axum::Json(AccessTokenResponse { access_token }),
            )
                .into_response());
        }
        // Another request rotated this token a moment ago: fall through to
        // the grace-window check below.
    }

    if let Some(session) = state.store.session_by_previous_token(&old).await? {
        let within_grace = session.rotated_at.is_some_and(|at| {
            state.clock.now().timestamp_millis() - at.timestamp_millis()
                <= state.refresh_grace.as_millis() as i64
        });
        if within_grace && session.is_live() {
            let Some(user) = state.store.user_by_id(&session.user_id).await? else {
                return Ok(refused(&state, "account no longer exists"));
            };
            if !session.matches_credentials(&user) {
                revoke_family(&state, &session.id).await?;
                return Ok(refused(
                    &state,
                    "the password was changed; please sign in again",
                ));
            }
            let access_token = mint(&state, &user, &session.id)?;
            // No cookie: the racing request that rotated holds the new one.
            return Ok(axum::Json(AccessTokenResponse { access_token }).into_response());
        }
        tracing::warn!(sid = %session.id, "refresh token reused after rotation; revoking the family");
        metrics::counter!("user_refresh_reuse_total").increment(1);
        revoke_family(&state, &session.id).await?;
        return Ok(refused(
            &state,
            "refresh token reuse detected; please sign in again",
        ));
    }

    if let Some(sid) = state.store.session_by_retired_token(&old).await? {
        tracing::warn!(%sid, "old refresh token reused; revoking the family");
        metrics::counter!("user_refresh_reuse_total").increment(1);
        revoke_family(&state, &sid).await?;
        return Ok(refused(
            &state,
            "refresh token reuse detected; please sign in again",
        ));
    }
    Ok(refused(&state, "invalid refresh token"))
}

/// The claims of a valid bearer token, if one was sent (logout tolerates a bad one).
async fn optional_claims(state: &AppState, headers: &HeaderMap) -> Option<Claims> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    state.verifier.verify(token.trim()).await.ok()
}

#[utoipa::path(post, path = "/api/user/logout", tag = "session",
    responses((status = 200, body = Message, description = "Revokes the cookie's session (and the bearer token's) and clears the cookie")))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let mut sids = Vec::new();
    if let Some(token) = refresh_cookie(&headers) {
        let hash = token_hash(&token);
        let found = match state.store.session_by_token(&hash).await? {
            Some(s) => Some(s),
            None => state.store.session_by_previous_token(&hash).await?,
        };
        if let Some(s) = found {
            sids.push((s.id, None));
        }
    }
    if let Some(claims) = optional_claims(&state, &headers).await {
        sids.push((claims.sid.clone(), Some(claims.sub.clone())));
    }
    for (sid, owner) in sids {
        if let Some(s) = state.store.revoke_session(&sid, owner.as_deref()).await? {
            state.revocations.session(&s.id, &s.user_id).await;
        }
    }
    Ok((
        [(
            header::SET_COOKIE,
            clear_refresh_cookie(state.cookie_secure),
        )],
        Message::new("Logged out"),
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/user/logout-all", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = Message, description = "Revokes every session of the account"), (status = 401)))]
pub async fn logout_all(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
) -> ApiResult<Response> {
    crate::routes::require_live_session(&state, &claims).await?;
    let revoked = state.store.revoke_user_sessions(&claims.sub).await?;
    state.revocations.sessions(&revoked).await;
    state.revocations.user(&claims.sub).await;
    Ok((
        [(
            header::SET_COOKIE,
            clear_refresh_cookie(state.cookie_secure),
        )],
        Message::new("Logged out everywhere"),
    )
        .into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    #[serde(rename = "userAgent")]
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "lastUsedAt")]
    pub last_used_at: String,
    /// The session of the access token making this request.
    pub current: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
}

#[utoipa::path(get, path = "/api/user/sessions", operation_id = "list_sessions", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401)))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
) -> ApiResult<Response> {
    crate::routes::require_live_session(&state, &claims).await?;
    let sessions = state.store.live_sessions(&claims.sub).await?;
    let sessions = sessions
        .into_iter()
        .map(|s| SessionView {
            current: s.id == claims.sid,
            created_at: store::rfc3339(s.created_at),
            last_used_at: store::rfc3339(s.last_used_at),
            id: s.id,
            user_agent: s.user_agent,
            ip: s.ip,
        })
        .collect();
    Ok(axum::Json(SessionList { sessions }).into_response())
}

#[utoipa::path(delete, path = "/api/user/sessions/{id}", operation_id = "revoke_session", tag = "session", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 204, description = "revoked"), (status = 401), (status = 404, description = "no such session of yours")))]
pub async fn revoke(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    crate::routes::require_live_session(&state, &claims).await?;
    if id.len() > 64 {
        return Err(Problem::not_found("no such session"));
    }
    match state.store.revoke_session(&id, Some(&claims.sub)).await? {
        Some(s) => state.revocations.session(&s.id, &s.user_id).await,
        None => {
            // Already revoked is fine if it is ours; anyone else's is "not found".
            let ours = state
                .store
                .session_by_id(&id)
                .await?
                .is_some_and(|s| s.user_id == claims.sub);
            if !ours {
                return Err(Problem::not_found("no such session"));
            }
        }
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if id == claims.sid {
        resp.headers_mut().insert(
            header::SET_COOKIE,
            clear_refresh_cookie(state.cookie_secure),
        );
    }
    Ok(resp)
}
