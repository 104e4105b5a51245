//! Registration, login, email verification, password reset and change.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cadenza_auth::AuthUser;
use cadenza_platform::extract::{Json, Query};
use cadenza_platform::{ApiResult, FieldError, Problem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::{AppState, RESET_TOKEN_TTL, VERIFY_TOKEN_TTL};
use crate::client_ip::ClientIp;
use crate::domain::password::{Verified, MAX_LEN};
use crate::domain::{Email, PasswordPolicy};
use crate::outbox::{EmailJob, JobKind};
use crate::ratelimit::allow_mail;
use crate::routes::sessions::start_session;
use crate::routes::{set_refresh_cookie, Message, PublicUser};
use crate::store::{self, EmailTokenDoc, Purpose, StoreError, UserDoc};
use crate::tokens::{random_token, token_hash};

#[derive(Debug, Deserialize, ToSchema)]
pub struct Credentials {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailOnly {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenBody {
    pub token: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TokenQuery {
    pub token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetPassword {
    pub token: String,
    pub password: String,
    #[serde(rename = "passwordAgain")]
    pub password_again: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePassword {
    #[serde(rename = "currentPassword")]
    pub current_password: String,
    #[serde(rename = "newPassword")]
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserData {
    pub sub: String,
    #[serde(rename = "isVerified")]
    pub is_verified: bool,
    pub email: String,
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub message: String,
    #[serde(rename = "userData")]
    pub user_data: UserData,
    #[serde(rename = "accessToken")]
    pub access_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub message: String,
    pub user: PublicUser,
}

const REGISTERED: &str = "Registration received. Check your inbox to verify your email address.";
const BAD_CREDENTIALS: &str = "Invalid email or password";
const BAD_TOKEN: &str = "Invalid or expired token";

fn bad_token() -> Problem {
    Problem::bad_request(BAD_TOKEN)
        .with_errors(vec![FieldError::new("token", "is invalid or expired")])
}

fn link(state: &AppState, page: &str, token: &str) -> String {
    format!("{}/{page}?token={token}", state.public_base_url)
}

/// A fresh one-time token of `purpose` for `user`, and the job mailing its link.
fn email_token(state: &AppState, user: &UserDoc, purpose: Purpose) -> (EmailTokenDoc, EmailJob) {
    let (ttl, page, kind) = match purpose {
        Purpose::VerifyEmail => (VERIFY_TOKEN_TTL, "verify-email", JobKind::VerifyEmail),
        Purpose::PasswordReset => (RESET_TOKEN_TTL, "password-reset", JobKind::PasswordReset),
    };
    let token = random_token();
    let expires_at = store::after(ttl);
    let doc = EmailTokenDoc {
        user_id: user.id_str(),
        purpose,
        token_hash: token_hash(&token),
        expires_at,
        created_at: store::now(),
    };
    let job = EmailJob::new(
        kind,
        &user.email,
        link(state, page, &token),
        Some(store::rfc3339(expires_at)),
    );
    (doc, job)
}

/// A notice that links to the forgot-password page (no token in it).
fn notice(state: &AppState, kind: JobKind, to: &str) -> EmailJob {
    EmailJob::new(
        kind,
        to,
        format!("{}/forgot-password", state.public_base_url),
        None,
    )
}

#[utoipa::path(post, path = "/api/user/register", tag = "account", request_body = Credentials,
    responses((status = 201, body = Message, description = "Always the same answer, whether or not the address was taken"),
              (status = 422, description = "invalid email or weak password"), (status = 429), (status = 503)))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<Credentials>,
) -> ApiResult<Response> {
    let email = Email::from_field("email", &body.email)?;
    state
        .limiter
        .hit_ip("register:ip", ip, state.limits.register_per_ip)
        .await?;
    state
        .limiter
        .hit(
            "register:email",
            email.as_str(),
            state.limits.register_per_email,
        )
        .await?;
    let local = email.as_str().split('@').next().unwrap_or_default();
    PasswordPolicy::check_field("password", &body.password, &[email.as_str(), local])?;
    // Hash whether or not the address is taken: both answers cost the same.
    let hash = state.hasher.hash(&body.password).await?;

    let existing = state.store.user_by_email(email.as_str()).await?;
    let job = match existing {
        Some(_) => notice(&state, JobKind::AccountExists, email.as_str()).into_outbox(),
        None => {
            let user = UserDoc::new(email.as_str(), hash, cadenza_auth::Role::User, false);
            let (token, job) = email_token(&state, &user, Purpose::VerifyEmail);
            let job = job.into_outbox();
            match state.store.create_user(&user, &token, &job).await {
                Ok(()) => job,
                // Lost a race with a concurrent registration of the same address.
                Err(StoreError::Duplicate) => {
                    notice(&state, JobKind::AccountExists, email.as_str()).into_outbox()
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    if job.kind == JobKind::AccountExists {
        if !allow_mail(
            &state.limiter,
            email.as_str(),
            state.limits.mail_per_address_per_day,
        )
        .await
        {
            return Ok((StatusCode::CREATED, Message::new(REGISTERED)).into_response());
        }
        state.store.insert_job(&job).await?;
    } else {
        // A first registration's verify mail is counted, never dropped: it
        // happens once per account.
        allow_mail(
            &state.limiter,
            email.as_str(),
            state.limits.mail_per_address_per_day,
        )
        .await;
    }
    state.send_after_reply(job.id);
    Ok((StatusCode::CREATED, Message::new(REGISTERED)).into_response())
}

#[utoipa::path(post, path = "/api/user/login", tag = "account", request_body = Credentials,
    responses((status = 200, body = LoginResponse, description = "Also sets the refreshToken cookie"),
              (status = 401, description = "unknown email or wrong password (one uniform answer)"),
              (status = 422), (status = 429), (status = 503)))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(body): Json<Credentials>,
) -> ApiResult<Response> {
    let email = Email::from_field("email", &body.email)?;
    state
        .limiter
        .hit_ip("login:ip", ip, state.limits.login_per_ip)
        .await?;
    // Failures, not attempts: each attempt reserves one failure on its
    // (email, client IP) pair and on the address, atomically, so concurrent
    // guesses cannot slip past the limit; a success clears both. Junk logins
    // from one client lock only that client's pair. Checked pair first, so a
    // refused pair does not add to the address-wide count.
    let pair = format!("{}|{ip}", email.as_str());
    state
        .limiter
        .hit("login:fail:email-ip", &pair, state.limits.login_per_email)
        .await?;
    state
        .limiter
        .hit(
            "login:fail:email",
            email.as_str(),
            state.limits.login_failures_per_email,
        )
        .await?;
    if body.password.is_empty() || body.password.chars().count() > MAX_LEN * 8 {
        return Err(Problem::unauthorized(BAD_CREDENTIALS));
    }
    let user = state.store.user_by_email(email.as_str()).await?;
    let Some(user) = user else {
        state.hasher.verify_dummy(&body.password).await?;
        return Err(Problem::unauthorized(BAD_CREDENTIALS));
    };
    match state.hasher.verify(&body.password, &user.password).await? {
        Verified::No => return Err(Problem::unauthorized(BAD_CREDENTIALS)),
        Verified::Yes => {}
        Verified::YesRehash => {
            // Seed bcrypt (or weaker argon2) hash: upgrade it now that we know the password.
            let new = state.hasher.hash(&body.password).await?;
            if let Err(e) = state
                .store
                .upgrade_hash(&user.id, &user.password, &new)
                .await
            {
                tracing::warn!(error = %e, "password hash upgrade failed; will retry at next login");
            } else {
                tracing::info!(user = %user.id_str(), "password hash upgraded to argon2id");
            }
        }
    }
    let started = start_session(&state, &user, ip, &headers).await?;
    state.limiter.clear("login:fail:email-ip", &pair).await;
    state
        .limiter
        .clear("login:fail:email", email.as_str())
        .await;
    let body = LoginResponse {
        message: "Login successful".into(),
        user_data: UserData {
            sub: user.id_str(),
            is_verified: user.verified,
            email: user.email.clone(),
            role: user.role().as_str().to_owned(),
        },
        access_token: started.access_token,
    };
    Ok((
        [(
            header::SET_COOKIE,
            set_refresh_cookie(
                &started.refresh_token,
                started.max_age_secs,
                state.cookie_secure,
            ),
        )],
        axum::Json(body),
    )
        .into_response())
}

fn check_token_shape(token: &str) -> Result<(), Problem> {
    if token.is_empty() || token.len() > 128 {
        return Err(bad_token());
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/user/verify-email", tag = "account", request_body = TokenBody,
    responses((status = 200, body = UserResponse), (status = 400, description = "invalid or expired token")))]
pub async fn verify_email(
    State(state): State<AppState>,
    Json(body): Json<TokenBody>,
) -> ApiResult<Response> {
    check_token_shape(&body.token)?;
    let user = state
        .store
        .verify_email(&token_hash(&body.token))
        .await?
        .ok_or_else(bad_token)?;
    Ok(axum::Json(UserResponse {
        message: "Email verified".into(),
        user: PublicUser::from(&user),
    })
    .into_response())
}

/// Issues a token of `purpose` and mails it, if `pick` accepts the user.
async fn mail_token_if(
    state: &AppState,
    ip: std::net::IpAddr,
    raw_email: &str,
    purpose: Purpose,
    pick: impl Fn(&UserDoc) -> bool,
) -> ApiResult<()> {
    let email = Email::from_field("email", raw_email)?;
    let scope = purpose.as_str();
    state
        .limiter
        .hit_ip(&format!("{scope}:ip"), ip, state.limits.email_action_per_ip)
        .await?;
    state
        .limiter
        .hit(
            &format!("{scope}:email"),
            email.as_str(),
            state.limits.email_action_per_email,
        )
        .await?;
    // One find, whatever the outcome: a MongoDB outage is still a 503.
    let user = state.store.user_by_email(email.as_str()).await?;
    // What happens only for an account (the daily cap, the token and its
    // outbox entry: several writes) runs after the reply, so that the
    // answer takes the same time either way and does not tell which
    // addresses have accounts (issue 14 item 5).
    if let Some(user) = user.filter(|u| pick(u)) {
        let state = state.clone();
        state.after_reply.clone().spawn(async move {
            let cap = state.limits.mail_per_address_per_day;
            if !allow_mail(&state.limiter, &user.email, cap).await {
                return;
            }
            let (token, job) = email_token(&state, &user, purpose);
            let job = job.into_outbox();
            match state.store.issue_email_token(&token, &job).await {
                // Sent within this tracked task: shutdown (and a test's
                // `settled`) waits for the mail to reach the queue.
                Ok(()) => state.relay.send_now(&job.id).await,
                // The listener saw "on its way"; asking again sends one.
                Err(e) => tracing::error!(purpose = purpose.as_str(), error = %e,
                    "could not issue an email token after replying"),
            }
        });
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/user/resend-verification", tag = "account", request_body = EmailOnly,
    responses((status = 200, body = Message, description = "Always 200: says nothing about the account"), (status = 422), (status = 429)))]
pub async fn resend_verification(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<EmailOnly>,
) -> ApiResult<Response> {
    mail_token_if(&state, ip, &body.email, Purpose::VerifyEmail, |u| {
        !u.verified
    })
    .await?;
    Ok(
        Message::new("If that account still needs verification, a new link is on its way.")
            .into_response(),
    )
}

#[utoipa::path(post, path = "/api/user/forgot-password", tag = "account", request_body = EmailOnly,
    responses((status = 200, body = Message, description = "Always 200: says nothing about the account"), (status = 422), (status = 429)))]
pub async fn forgot_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<EmailOnly>,
) -> ApiResult<Response> {
    mail_token_if(&state, ip, &body.email, Purpose::PasswordReset, |_| true).await?;
    Ok(
        Message::new("If an account exists for that address, a reset link is on its way.")
            .into_response(),
    )
}

#[utoipa::path(get, path = "/api/user/validate-token", tag = "account", params(TokenQuery),
    responses((status = 200, body = Message), (status = 400, description = "invalid or expired reset token")))]
pub async fn validate_token(
    State(state): State<AppState>,
    Query(q): Query<TokenQuery>,
) -> ApiResult<Response> {
    check_token_shape(&q.token)?;
    state
        .store
        .peek_email_token(&token_hash(&q.token), Purpose::PasswordReset)
        .await?
        .ok_or_else(bad_token)?;
    Ok(Message::new("Token is valid").into_response())
}

#[utoipa::path(post, path = "/api/user/set-password", tag = "account", request_body = SetPassword,
    responses((status = 200, body = Message, description = "Every session of the account is revoked"),
              (status = 400, description = "passwords differ, or invalid token"), (status = 422, description = "weak password")))]
pub async fn set_password(
    State(state): State<AppState>,
    Json(body): Json<SetPassword>,
) -> ApiResult<Response> {
    if body.password != body.password_again {
        return Err(
            Problem::bad_request("passwordAgain: the passwords do not match").with_errors(vec![
                FieldError::new("passwordAgain", "does not match password"),
            ]),
        );
    }
    check_token_shape(&body.token)?;
    let hash = token_hash(&body.token);
    let token = state
        .store
        .peek_email_token(&hash, Purpose::PasswordReset)
        .await?
        .ok_or_else(bad_token)?;
    let owner = state
        .store
        .user_by_id(&token.user_id)
        .await?
        .ok_or_else(bad_token)?;
    PasswordPolicy::check_field("password", &body.password, &[owner.email.as_str()])?;
    let new_hash = state.hasher.hash(&body.password).await?;
    let (user, revoked) = state
        .store
        .reset_password(&hash, &new_hash, |u| {
            notice(&state, JobKind::PasswordChanged, &u.email).into_outbox()
        })
        .await?
        .ok_or_else(bad_token)?;
    state.revocations.sessions(&revoked).await;
    state.revocations.user(&user.id_str()).await;
    state.relay.kick_pending();
    Ok(Message::new("Password updated. Sign in with your new password.").into_response())
}

#[utoipa::path(post, path = "/api/user/change-password", tag = "account", request_body = ChangePassword,
    security(("bearer" = [])),
    responses((status = 200, body = Message, description = "Every other session is revoked"),
              (status = 401), (status = 409, description = "the password was changed concurrently; try again"),
              (status = 422, description = "wrong current password or weak new one"), (status = 429)))]
pub async fn change_password(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Json(body): Json<ChangePassword>,
) -> ApiResult<Response> {
    crate::routes::require_live_session(&state, &claims).await?;
    // Failures of this account's own sessions (an attacker needs a token of
    // the account to add to them); a success clears them.
    state
        .limiter
        .hit(
            "change-password:user",
            &claims.sub,
            state.limits.login_per_email,
        )
        .await?;
    let user = state
        .store
        .user_by_id(&claims.sub)
        .await?
        .ok_or_else(|| Problem::unauthorized("account no longer exists"))?;
    if body.current_password.chars().count() > MAX_LEN * 8
        || state
            .hasher
            .verify(&body.current_password, &user.password)
            .await?
            == Verified::No
    {
        return Err(Problem::invalid_field("currentPassword", "is incorrect"));
    }
    PasswordPolicy::check_field("newPassword", &body.new_password, &[user.email.as_str()])?;
    let new_hash = state.hasher.hash(&body.new_password).await?;
    let job = notice(&state, JobKind::PasswordChanged, &user.email).into_outbox();
    let revoked = state
        .store
        .change_password(&user, &new_hash, &claims.sid, &job)
        .await?
        .ok_or_else(|| Problem::conflict("the password was changed concurrently; try again"))?;
    state.revocations.sessions(&revoked).await;
    state.send_after_reply(job.id);
    state
        .limiter
        .clear("change-password:user", &claims.sub)
        .await;
    Ok(Message::new("Password changed. Your other sessions were signed out.").into_response())
}

#[utoipa::path(get, path = "/api/user/check-auth", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = UserResponse), (status = 401)))]
pub async fn check_auth(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
) -> ApiResult<Response> {
    let user = state
        .store
        .user_by_id(&claims.sub)
        .await?
        .ok_or_else(|| Problem::unauthorized("account no longer exists"))?;
    Ok(axum::Json(UserResponse {
        message: "success".into(),
        user: PublicUser::from(&user),
    })
    .into_response())
}
