//! Publishing revocations to the other services (CONTRACTS §3).
//!
//! MongoDB is the source of truth and is written first (by the store); then
//! this replica's own denylist, so that it refuses the token at once even if
//! Redis is down; then Redis, through `cadenza_auth`'s `RevocationPublisher`.
//! If Redis is down, publishing is retried in the background for a while:
//! each failed revocation starts its own retry task ([`RETRY_DELAYS`]), so
//! retries can land out of order, after a newer revocation of the same user
//! or session. That is harmless: `RevocationPublisher` writes the Redis keys
//! monotonically (the higher value and the longer TTL win), and receivers
//! take the maximum of what they hear. In the worst case (every retry fails)
//! other services accept a revoked access token until it expires (15 min).

use std::time::Duration;

use cadenza_auth::{Denylist, RevocationPublisher, ACCESS_TOKEN_TTL_SECS};

use crate::store::SessionDoc;

/// Background attempts after a failed publish: 3 s, 6 s, … 30 s apart (ten).
const RETRY_DELAYS: std::ops::RangeInclusive<u64> = 1..=10;
const RETRY_STEP: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct Revocations {
    publisher: RevocationPublisher,
    local: Denylist,
}

/// One revocation, as published.
enum Revocation {
    /// A session, until its newest access token expires.
    Session {
        sid: String,
        user_id: String,
        exp: i64,
    },
    /// Every access token of the user issued before `not_before`.
    User { user_id: String, not_before: i64 },
}

impl Revocation {
    async fn send(&self, p: &RevocationPublisher) -> redis::RedisResult<()> {
        match self {
            Self::Session { sid, user_id, exp } => p.revoke_session(sid, user_id, *exp).await,
            Self::User {
                user_id,
                not_before,
            } => p.revoke_user(user_id, *not_before).await,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Session { .. } => "session",
            Self::User { .. } => "user",
        }
    }

    fn gave_up(&self) {
        match self {
            Self::Session { sid, .. } => {
                tracing::error!(sid, "session revocation could not be published")
            }
            Self::User { user_id, .. } => {
                tracing::error!(user_id, "user revocation could not be published")
            }
        }
    }
}

impl Revocations {
    pub fn new(publisher: RevocationPublisher, local: Denylist) -> Self {
        Self { publisher, local }
    }

    fn token_exp() -> i64 {
        chrono::Utc::now().timestamp() + ACCESS_TOKEN_TTL_SECS
    }

    pub async fn sessions(&self, sessions: &[SessionDoc]) {
        for s in sessions {
            self.session(&s.id, &s.user_id).await;
        }
    }

    pub async fn session(&self, sid: &str, user_id: &str) {
        let exp = Self::token_exp();
        self.local.revoke_sid(sid, exp);
        self.publish(Revocation::Session {
            sid: sid.to_owned(),
            user_id: user_id.to_owned(),
            exp,
        })
        .await;
    }

    /// Every token of the user issued before now is refused.
    pub async fn user(&self, user_id: &str) {
        let not_before = chrono::Utc::now().timestamp();
        self.local.revoke_user_before(user_id, not_before);
        self.publish(Revocation::User {
            user_id: user_id.to_owned(),
            not_before,
        })
        .await;
    }

    /// Publishes now; if that fails, keeps trying in the background.
    async fn publish(&self, r: Revocation) {
        let Err(e) = r.send(&self.publisher).await else {
            return;
        };
        tracing::warn!(error = %e, "{} revocation not published; retrying in background", r.kind());
        let p = self.publisher.clone();
        tokio::spawn(async move {
            for i in RETRY_DELAYS {
                tokio::time::sleep(RETRY_STEP * i as u32).await;
                if r.send(&p).await.is_ok() {
                    return;
                }
            }
            r.gave_up();
        });
    }
}
