//! The sent ledger: at most one email per job id, across SQS's at-least-once
//! redeliveries, Lambda retries and concurrent invocations.
//!
//! Two stores, the same states: DynamoDB (`IDEMPOTENCY_TABLE`, the Lambda's
//! choice: nothing to reach inside a cluster, see [`DynamoLedger`]) or Redis
//! (`REDIS_URL`, for a poller next to the services). In Redis the key
//! `mailer:sent:<job id>` (inside `REDIS_NAMESPACE`) moves through two
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

/// A ledger store's failure, as text (the handler only logs it).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LedgerError(String);

impl From<redis::RedisError> for LedgerError {
    fn from(e: redis::RedisError) -> Self {
        Self(e.to_string())
    }
}

/// The ledger the handler uses: one of the two stores.
#[derive(Clone)]
pub enum Ledger {
    Redis(SentLedger),
    Dynamo(DynamoLedger),
}

impl From<SentLedger> for Ledger {
    fn from(l: SentLedger) -> Self {
        Ledger::Redis(l)
    }
}

impl From<DynamoLedger> for Ledger {
    fn from(l: DynamoLedger) -> Self {
        Ledger::Dynamo(l)
    }
}

impl Ledger {
    pub async fn claim(&self, job_id: &str, token: &str) -> Result<Claim, LedgerError> {
        match self {
            Ledger::Redis(l) => Ok(l.claim(job_id, token).await?),
            Ledger::Dynamo(l) => l.claim(job_id, token).await,
        }
    }

    pub async fn mark_sent(&self, claim: &ClaimToken) -> Result<(), LedgerError> {
        match self {
            Ledger::Redis(l) => Ok(l.mark_sent(claim).await?),
            Ledger::Dynamo(l) => l.mark_sent(claim).await,
        }
    }

    pub async fn release(&self, claim: &ClaimToken) -> Result<(), LedgerError> {
        match self {
            Ledger::Redis(l) => Ok(l.release(claim).await?),
            Ledger::Dynamo(l) => l.release(claim).await,
        }
    }
}

/// The Redis store.
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

/// The DynamoDB store: one item per job, `{pk: "job#<id>", state:
/// "sending:<token>" | "sent", expires_at: <unix seconds>}`; `expires_at` is
/// also the table's TTL attribute. DynamoDB deletes expired items only
/// eventually, so every condition checks `expires_at` itself:
///
/// - claim: put the `sending` item if there is none or it has expired
///   (`attribute_not_exists(pk) OR expires_at < :now`), one conditional
///   write, so exactly one of many concurrent workers wins; a loser reads the
///   item (strongly consistent) to tell `sent` from in flight;
/// - mark sent: put `sent` for [`SENT_TTL`];
/// - release: delete only while the item still holds our claim.
#[derive(Clone)]
pub struct DynamoLedger {
    client: aws_sdk_dynamodb::Client,
    table: String,
    claim_ttl: Duration,
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn dynamo_error<E: std::error::Error + 'static>(
    e: aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> LedgerError {
    LedgerError(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string())
}

impl DynamoLedger {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String, claim_ttl: Duration) -> Self {
        Self {
            client,
            table,
            claim_ttl,
        }
    }

    fn pk(job_id: &str) -> String {
        format!("job#{job_id}")
    }

    pub async fn claim(&self, job_id: &str, token: &str) -> Result<Claim, LedgerError> {
        use aws_sdk_dynamodb::types::AttributeValue::{N, S};
        let pk = Self::pk(job_id);
        let value = format!("sending:{token}");
        let now = unix_now();
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", S(pk.clone()))
            .item("state", S(value.clone()))
            .item(
                "expires_at",
                N((now + self.claim_ttl.as_secs().max(1) as i64).to_string()),
            )
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", N(now.to_string()))
            .send()
            .await;
        match put {
            Ok(_) => return Ok(Claim::Acquired(ClaimToken { key: pk, value })),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(dynamo_error(e)),
        }
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", S(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo_error)?;
        let state = item
            .item()
            .and_then(|i| i.get("state"))
            .and_then(|v| v.as_s().ok());
        Ok(match state.map(String::as_str) {
            Some(SENT) => Claim::AlreadySent,
            // Someone else's claim, or it vanished between our two calls:
            // let the redelivery sort it out.
            _ => Claim::InFlight,
        })
    }

    pub async fn mark_sent(&self, claim: &ClaimToken) -> Result<(), LedgerError> {
        use aws_sdk_dynamodb::types::AttributeValue::{N, S};
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", S(claim.key.clone()))
            .item("state", S(SENT.into()))
            .item(
                "expires_at",
                N((unix_now() + SENT_TTL.as_secs() as i64).to_string()),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(dynamo_error)
    }

    pub async fn release(&self, claim: &ClaimToken) -> Result<(), LedgerError> {
        use aws_sdk_dynamodb::types::AttributeValue::S;
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", S(claim.key.clone()))
            .condition_expression("#s = :mine")
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":mine", S(claim.value.clone()))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            // No longer ours (expired and taken over): nothing to release.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(dynamo_error(e)),
        }
    }
}
