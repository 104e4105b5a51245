//! Media jobs (issue 20) through a PostgreSQL outbox to SQS.
//!
//! A job `{songId, audioKey}` is written to `media_jobs` in the transaction
//! that gives a song its audio ([`enqueue`]), so a committed song always has
//! its job and a rolled-back one never does. The [`Relay`] sends due jobs to
//! the media queue and deletes each once SQS has it. Replicas share the
//! table: each claims a batch in one statement (`FOR UPDATE SKIP LOCKED`,
//! leased for 2 minutes), so no job is sent by two at once and nothing is
//! held open while SQS answers. If SQS is down the job stays, and comes due again
//! after a doubling pause (1 s up to 5 min). A send whose delete was lost is
//! repeated: delivery is at-least-once, and the worker treats audio it has
//! analysed as done.

use std::time::Duration;

use serde::Serialize;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// What goes on the queue (the worker's `Job`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Message<'a> {
    song_id: Uuid,
    audio_key: &'a str,
}

/// Records a job in the caller's transaction.
pub async fn enqueue(
    tx: &mut Transaction<'static, Postgres>,
    song: Uuid,
    audio_key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO media_jobs (song_id, audio_key) VALUES ($1, $2)")
        .bind(song)
        .bind(audio_key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub fn describe_metrics() {
    for result in ["sent", "failed"] {
        cadenza_platform::metrics::counter(
            "admin_media_jobs_total",
            "Media jobs handed to the media queue (sent) or kept for a retry (failed).",
            &[("result", result)],
        );
    }
}

#[derive(Clone)]
pub struct Relay {
    pub db: PgPool,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    /// Between looks at the table when nothing was due.
    pub idle: Duration,
}

const BATCH: i64 = 10;
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed batch is kept from other relays: past a whole batch
/// of timed-out sends.
const LEASE: Duration = Duration::from_secs(BATCH as u64 * 10 + 20);
const MAX_PAUSE_SECS: i64 = 300;

impl Relay {
    /// Sends what is due until `stop` resolves.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let busy = match self.send_due().await {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::warn!(error = %e, "media job relay cannot read its outbox");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(self.idle) => {}
            }
        }
    }

    /// One batch of due jobs: each sent and deleted, or put off. Returns how
    /// many were sent.
    pub async fn send_due(&self) -> Result<usize, sqlx::Error> {
        // Claimed in one short statement: the batch is leased (put off by
        // LEASE) and no lock or transaction is held while SQS answers. A
        // replica that dies mid-batch leaves the rest due again after the
        // lease; other replicas skip what is claimed.
        let due: Vec<(i64, Uuid, String, i32)> = sqlx::query_as(
            "UPDATE media_jobs SET next_attempt_at = clock_timestamp() + make_interval(secs => $2) \
             WHERE id IN (SELECT id FROM media_jobs WHERE next_attempt_at <= now() \
                          ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, song_id, audio_key, attempts",
        )
        .bind(BATCH)
        .bind(LEASE.as_secs_f64())
        .fetch_all(&self.db)
        .await?;
        let mut sent = 0;
        for (id, song_id, audio_key, attempts) in due {
            let body = serde_json::to_string(&Message {
                song_id,
                audio_key: &audio_key,
            })
            .expect("a job serialises");
            // Bounded, so the batch ends well within its lease.
            let result = tokio::time::timeout(
                SEND_TIMEOUT,
                self.sqs
                    .send_message()
                    .queue_url(&self.queue_url)
                    .message_body(body)
                    .send(),
            )
            .await;
            match result {
                Ok(Ok(_)) => {
                    sqlx::query("DELETE FROM media_jobs WHERE id = $1")
                        .bind(id)
                        .execute(&self.db)
                        .await?;
                    metrics::counter!("admin_media_jobs_total", "result" => "sent").increment(1);
                    sent += 1;
                }
                failed => {
                    let e = match failed {
                        Ok(Err(e)) => aws_sdk_sqs::error::DisplayErrorContext(&e).to_string(),
                        _ => format!("no answer within {SEND_TIMEOUT:?}"),
                    };
                    // From the failure (`clock_timestamp()`), not from the
                    // statement's start: the SDK's own retries take seconds.
                    let pause = (1_i64 << attempts.clamp(0, 16)).min(MAX_PAUSE_SECS);
                    tracing::warn!(
                        song = %song_id,
                        attempts = attempts + 1,
                        retry_in_secs = pause,
                        error = %e,
                        "cannot send a media job"
                    );
                    sqlx::query(
                        "UPDATE media_jobs SET attempts = attempts + 1, \
                         next_attempt_at = clock_timestamp() + make_interval(secs => $2) WHERE id = $1",
                    )
                    .bind(id)
                    .bind(pause as f64)
                    .execute(&self.db)
                    .await?;
                    metrics::counter!("admin_media_jobs_total", "result" => "failed").increment(1);
                }
            }
        }
        Ok(sent)
    }
}
