//! The sent ledger: at most one email per job id, across SQS's at-least-once
//! redeliveries, Lambda retries and concurrent invocations.
//!
//! Key `mailer:sent:<job id>` (inside `REDIS_NAMESPACE`) moves through two
//! states:
//!
//! 1. `SET key sending:<token> NX EX <claim ttl>` before sending. Only one
//!    worker wins; the short TTL means a worker that dies mid-send (a Lambda
//!    timeout) does not block the job forever: once the claim expires, the
//!    redelivered message can send.
//! 2. After SES accepted the email: `SET key sent EX <4 days>` (longer than
//!    the queue's retention, so no redelivery can outlive the marker).
//!
//! A failed send releases the claim (deletes it, only if it is still ours)
//! so the retry can send at once.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::AsyncCommands;

use cadenza_platform::redis::Namespace;

/// How long a `sent` marker lives: SQS's maximum retention is 14 days, the
/// Cadenza queue keeps messages 4 days (see the README).
pub const SENT_TTL: Duration = Duration::from_secs(4 * 24 * 3600);

/// How long an in-flight claim lives: longer than one send, shorter than the
/// queue's visibility timeout, so a redelivery never finds a stale claim.
pub const DEFAULT_CLAIM_TTL: Duration = Duration::from_secs(120);

const SENT: &str = "sent";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Ours: send, then [`SentLedger::mark_sent`] or [`SentLedger::release`].
    Acquired(ClaimToken),
    /// Already sent: nothing to do.
    AlreadySent,
    /// Another worker is sending it right now (or died doing so and its
    /// claim has not expired yet): try again later.
    InFlight,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimToken {
    key: String,
    value: String,
}

#[derive(Clone)]
pub struct SentLedger {
    conn: ConnectionManager,
    ns: Namespace,
    claim_ttl: Duration,
}

/// Deletes the key only while it still holds our claim: after our claim
/// expired someone else may own it.
const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

impl SentLedger {
    pub fn new(conn: ConnectionManager, ns: Namespace, claim_ttl: Duration) -> Self {
        Self {
            conn,
            ns,
            claim_ttl,
        }
    }

    pub fn key(&self, job_id: &str) -> String {
        self.ns.key(&format!("mailer:sent:{job_id}"))
    }

    pub async fn claim(&self, job_id: &str, token: &str) -> redis::RedisResult<Claim> {
        let key = self.key(job_id);
        let value = format!("sending:{token}");
        let mut conn = self.conn.clone();
        let opts = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::EX(self.claim_ttl.as_secs().max(1)));
        let won: Option<String> = conn.set_options(&key, &value, opts).await?;
        if won.is_some() {
            return Ok(Claim::Acquired(ClaimToken { key, value }));
        }
        let current: Option<String> = conn.get(&key).await?;
        Ok(match current.as_deref() {
            Some(SENT) => Claim::AlreadySent,
            Some(_) => Claim::InFlight,
            // The holder released or its claim expired between our two
            // commands: let the redelivery sort it out.
            None => Claim::InFlight,
        })
    }

    pub async fn mark_sent(&self, claim: &ClaimToken) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        conn.set_ex::<_, _, ()>(&claim.key, SENT, SENT_TTL.as_secs())
            .await
    }

    pub async fn release(&self, claim: &ClaimToken) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        redis::Script::new(RELEASE_SCRIPT)
            .key(&claim.key)
            .arg(&claim.value)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(|_| ())
    }
}
