//! Email jobs (CONTRACTS §6) through a MongoDB outbox to SQS.
//!
//! A job is written to `email_outbox` in the same transaction as the change
//! that causes it, then sent right away. If SQS is down it stays `pending`
//! and the relay retries it with exponential backoff (also after a restart).
//! A send that succeeded but whose `sent` mark was lost may be repeated: the
//! delivery is at-least-once, and the job `id` lets the mailer deduplicate.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::MessageAttributeValue;
use aws_sdk_sqs::Client as SqsClient;
use cadenza_platform::telemetry::propagation;
use serde::Serialize;
use tokio::sync::Notify;
use tracing::Instrument;

pub use crate::store::outbox::JobKind;
use crate::store::outbox::OutboxStatus;
use crate::store::{self, OutboxDoc, Store};

#[derive(Debug, Clone, Serialize)]
pub struct JobData {
    pub link: String,
    #[serde(rename = "expiresAt", skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EmailJob {
    pub version: u32,
    pub id: String,
    pub kind: JobKind,
    pub to: String,
    pub data: JobData,
    #[serde(rename = "createdAt")]
    pub created_at: String,
}

impl EmailJob {
    pub fn new(kind: JobKind, to: &str, link: String, expires_at: Option<String>) -> Self {
        Self {
            version: 1,
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            to: to.to_owned(),
            data: JobData { link, expires_at },
            created_at: store::rfc3339(store::now()),
        }
    }

    pub fn into_outbox(self) -> OutboxDoc {
        let body = serde_json::to_string(&self).expect("email jobs serialise");
        let t = store::now();
        OutboxDoc {
            id: self.id,
            kind: self.kind,
            body,
            status: OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at: t,
            created_at: t,
            sent_at: None,
            last_error: None,
            traceparent: cadenza_platform::telemetry::propagation::current(),
        }
    }
}

/// Sends outbox jobs to SQS.
#[derive(Clone)]
pub struct Relay {
    store: Store,
    sqs: SqsClient,
    queue_url: String,
    base_backoff: Duration,
    poll: Duration,
    wake: Arc<Notify>,
}

const LEASE: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    base.saturating_mul(2u32.saturating_pow(exp))
        .min(MAX_BACKOFF)
}

impl Relay {
    pub fn new(
        store: Store,
        sqs: SqsClient,
        queue_url: String,
        base_backoff: Duration,
        poll: Duration,
    ) -> Self {
        Self {
            store,
            sqs,
            queue_url,
            base_backoff,
            poll,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Sends one freshly written job now, from work that already runs after
    /// the reply (so that whoever tracks that work sees the send finish);
    /// a failure leaves it to the relay loop.
    pub async fn send_now(&self, job_id: &str) {
        if let Err(e) = self.deliver(Some(job_id)).await {
            tracing::warn!(error = %e, "outbox: immediate send deferred to the relay");
        }
    }

    /// Wakes the relay loop to look for due jobs now.
    pub fn kick_pending(&self) {
        self.wake.notify_one();
    }

    /// Claims and sends one due job; `Ok(false)` when none was due.
    async fn deliver(&self, only: Option<&str>) -> Result<bool, String> {
        let Some(job) = self
            .store
            .claim_job(only, LEASE)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(false);
        };
        // A producer span in the trace of the request that queued the job
        // (also when the relay sends it later); the mailer's span joins it.
        let span = tracing::info_span!(
            "sqs.SendMessage",
            job = %job.id,
            kind = job.kind.as_str(),
            trace_id = tracing::field::Empty,
            remote_traceparent = tracing::field::Empty,
            otel.kind = "producer",
            messaging.system = "aws_sqs",
            messaging.operation.type = "send",
            otel.status_code = tracing::field::Empty,
        );
        propagation::join(&span, job.traceparent.as_deref());
        self.send_claimed(job, &span).instrument(span.clone()).await
    }

    /// Sends a claimed job from its producer `span` (its log lines carry the
    /// trace id; the outbox writes are its children).
    async fn send_claimed(&self, job: OutboxDoc, span: &tracing::Span) -> Result<bool, String> {
        let mut send = self
            .sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(&job.body);
        if let Some(tp) = propagation::traceparent(span) {
            send = send.message_attributes(
                propagation::TRACEPARENT,
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(tp)
                    .build()
                    .expect("data type and value are set"),
            );
        }
        let sent = send.send().await;
        match sent {
            Ok(_) => {
                metrics::counter!("user_email_jobs_sent_total", "kind" => job.kind.as_str())
                    .increment(1);
                self.store
                    .job_sent(&job.id)
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::info!(job = %job.id, kind = job.kind.as_str(), "email job sent");
                Ok(true)
            }
            Err(e) => {
                let err = aws_sdk_sqs::error::DisplayErrorContext(&e).to_string();
                span.record("otel.status_code", "ERROR");
                let delay = backoff(self.base_backoff, job.attempts);
                metrics::counter!("user_email_job_failures_total").increment(1);
                tracing::warn!(job = %job.id, attempts = job.attempts, retry_in = ?delay, error = %err, "email job not sent; will retry");
                self.store
                    .job_failed(&job.id, delay, &err)
                    .await
                    .map_err(|e| e.to_string())?;
                Err(err)
            }
        }
    }

    /// Runs forever: sends every due job, then sleeps for the poll interval.
    pub async fn run(self) {
        loop {
            loop {
                match self.deliver(None).await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(_) => break,
                }
            }
            // Every replica reports the same backlog; alerts take the max.
            match self.store.outbox_backlog().await {
                Ok((pending, oldest)) => {
                    metrics::gauge!("user_email_outbox_pending").set(pending as f64);
                    metrics::gauge!("user_email_outbox_oldest_pending_age_seconds")
                        .set(oldest.map_or(0.0, |d| d.as_secs_f64()));
                }
                Err(e) => tracing::warn!(error = %e, "outbox backlog not measured"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {},
                _ = self.wake.notified() => {},
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_json_matches_the_contract() {
        let job = EmailJob::new(
            JobKind::VerifyEmail,
            "a@b.co",
            "https://x/verify-email?token=t".into(),
            Some("2026-01-01T00:00:00.000Z".into()),
        );
        let v: serde_json::Value = serde_json::from_str(&job.clone().into_outbox().body).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["kind"], "verify_email");
        assert_eq!(v["to"], "a@b.co");
        assert_eq!(v["data"]["link"], "https://x/verify-email?token=t");
        assert_eq!(v["data"]["expiresAt"], "2026-01-01T00:00:00.000Z");
        assert_eq!(v["id"], job.id);
        assert!(v["createdAt"].as_str().unwrap().ends_with('Z'));
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 6, "{keys:?}");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Duration::from_secs(1);
        assert_eq!(backoff(b, 1), Duration::from_secs(1));
        assert_eq!(backoff(b, 2), Duration::from_secs(2));
        assert_eq!(backoff(b, 4), Duration::from_secs(8));
        assert_eq!(backoff(b, 40), MAX_BACKOFF);
    }
}
