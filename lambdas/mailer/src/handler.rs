//! The SQS batch handler, shared by the Lambda and the local poller.
//!
//! Per record the outcome is one of:
//! - **sent** (or **duplicate**: the ledger says it was sent already): the
//!   message is done and gets deleted;
//! - **dropped**: the job can never be sent (not JSON, unknown version or
//!   kind, missing or invalid address or link). It is logged at WARN and
//!   *not* reported, so SQS deletes it instead of redelivering it in vain;
//! - **retry**: rendering or SES failed, or another worker holds the job's
//!   claim. Its messageId goes into `batchItemFailures`; SQS redelivers it
//!   after the visibility timeout and, after 5 receives, moves it to the DLQ.
//!
//! One record's failure never fails the rest of the batch.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt;
use tracing::{error, info, warn, Instrument};

use crate::job::{EmailJob, MalformedJob};
use crate::ledger::{Claim, Ledger};
use crate::render::EmailRenderer;
use crate::ses::SesSender;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent { ses_message_id: String },
    Duplicate,
    Dropped(MalformedJob),
    Retry(String),
}

/// Records in flight at once. A mapping with a batching window can deliver
/// far more than 10 records; SES throttles bursts.
const MAX_CONCURRENT_SENDS: usize = 8;

pub struct Mailer {
    renderer: EmailRenderer,
    ses: SesSender,
    ledger: Option<Ledger>,
    public_base_url: Option<String>,
    /// Write one CloudWatch EMF line per batch (on Lambda).
    emf: bool,
}

impl Mailer {
    pub fn new<L: Into<Ledger>>(
        ses: SesSender,
        ledger: Option<L>,
        public_base_url: Option<String>,
    ) -> Self {
        Self {
            renderer: EmailRenderer::new(),
            ses,
            ledger: ledger.map(Into::into),
            public_base_url,
            emf: false,
        }
    }

    /// Also write each batch's counts as a CloudWatch EMF line to stdout.
    pub fn with_emf(mut self) -> Self {
        self.emf = true;
        self
    }

    /// The Lambda contract: the messageIds to redeliver, nothing else.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let started = std::time::Instant::now();
        let outcomes: Vec<Outcome> = futures::stream::iter(&event.records)
            .map(|r| self.process(r))
            .buffered(MAX_CONCURRENT_SENDS)
            .collect()
            .await;
        let took = started.elapsed();
        crate::telemetry::record(&outcomes, took);
        // Lambda freezes the process after the reply: export the batch's spans now.
        cadenza_platform::telemetry::flush().await;
        if self.emf {
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            println!(
                "{}",
                crate::telemetry::emf_line(crate::telemetry::Tally::of(&outcomes), took, now_ms)
            );
        }
        let mut response = SqsBatchResponse::default();
        for (record, outcome) in event.records.iter().zip(outcomes) {
            if let Outcome::Retry(_) = outcome {
                match &record.message_id {
                    Some(id) => response.add_failure(id.clone()),
                    // Cannot happen with SQS; without an id nothing can be
                    // reported, and SQS will delete the record.
                    None => error!("a record to retry has no messageId; it will be lost"),
                }
            }
        }
        response
    }

    /// One record, start to finish.
    pub async fn process(&self, record: &SqsMessage) -> Outcome {
        let message_id = record.message_id.as_deref().unwrap_or("-");
        let span = tracing::info_span!(
            "email_job",
            message_id,
            job_id = tracing::field::Empty,
            kind = tracing::field::Empty,
            trace_id = tracing::field::Empty,
            remote_traceparent = tracing::field::Empty,
            otel.kind = "consumer",
            otel.status_code = tracing::field::Empty,
            otel.status_description = tracing::field::Empty,
            messaging.system = "aws_sqs",
            messaging.operation.type = "process",
        );
        // The registration (or reset) that queued the job, via its SQS
        // message attribute (CONTRACTS §6).
        cadenza_platform::telemetry::propagation::join(&span, traceparent_of(record));
        async {
            let job = match EmailJob::parse(record.body.as_deref().unwrap_or(""), self.public_base_url.as_deref()) {
                Ok(job) => job,
                Err(reason) => {
                    warn!(reason = %reason, "dropping malformed email job (retrying cannot fix it)");
                    return Outcome::Dropped(reason);
                }
            };
            let span = tracing::Span::current();
            span.record("job_id", job.id.as_str());
            span.record("kind", job.kind.as_str());
            self.deliver(&job, message_id).await
        }
        .instrument(span)
        .await
    }

    async fn deliver(&self, job: &EmailJob, message_id: &str) -> Outcome {
        let outcome = self.deliver_untraced(job, message_id).await;
        if let Outcome::Retry(reason) = &outcome {
            tracing::Span::current().record("otel.status_code", "ERROR");
            tracing::Span::current().record("otel.status_description", reason.as_str());
        }
        outcome
    }

    async fn deliver_untraced(&self, job: &EmailJob, message_id: &str) -> Outcome {
        let email = match self.renderer.render(job) {
            Ok(email) => email,
            Err(e) => {
                error!(error = %e, "render failed");
                return Outcome::Retry(e.to_string());
            }
        };
        let claim = match &self.ledger {
            None => None,
            Some(ledger) => {
                let token = format!("{message_id}:{}", uuid::Uuid::new_v4().simple());
                match ledger.claim(&job.id, &token).await {
                    Ok(Claim::Acquired(token)) => Some((ledger, token)),
                    Ok(Claim::AlreadySent) => {
                        info!("already sent; skipping the duplicate delivery");
                        return Outcome::Duplicate;
                    }
                    Ok(Claim::InFlight) => {
                        warn!("another worker is sending this job; retrying later");
                        return Outcome::Retry("job claimed by another worker".into());
                    }
                    Err(e) => {
                        // Better a rare duplicate than no email while the ledger is down.
                        warn!(error = %e, "sent ledger unavailable; sending without deduplication");
                        None
                    }
                }
            }
        };
        let send = tracing::info_span!(
            "ses.SendEmail",
            otel.kind = "client",
            rpc.system = "aws-api",
            rpc.service = "SESv2",
            rpc.method = "SendEmail",
        );
        match self.ses.send(&job.to, &email).instrument(send).await {
            Ok(ses_message_id) => {
                if let Some((ledger, token)) = &claim {
                    if let Err(e) = ledger.mark_sent(token).await {
                        warn!(error = %e, "sent, but the sent marker was not stored");
                    }
                }
                info!(ses_message_id, "email sent");
                Outcome::Sent { ses_message_id }
            }
            Err(e) => {
                if let Some((ledger, token)) = &claim {
                    if let Err(re) = ledger.release(token).await {
                        warn!(error = %re, "could not release the claim; a retry waits for it to expire");
                    }
                }
                error!(error = %e, "send failed; the message will be redelivered");
                Outcome::Retry(e.to_string())
            }
        }
    }
}

/// The `traceparent` message attribute of a record, if it has one.
pub fn traceparent_of(record: &SqsMessage) -> Option<&str> {
    record
        .message_attributes
        .get(cadenza_platform::telemetry::propagation::TRACEPARENT)
        .and_then(|a| a.string_value.as_deref())
}
