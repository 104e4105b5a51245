//! `email_outbox`: email jobs written in the transaction of the change
//! that causes them, and sent to SQS by [`crate::outbox::Relay`].

use std::time::Duration;

use mongodb::bson::{doc, DateTime};
use mongodb::options::ReturnDocument;
use mongodb::Collection;
use serde::{Deserialize, Serialize};

use super::{after, now, DbResult, Store};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxDoc {
    /// The job id.
    #[serde(rename = "_id")]
    pub id: String,
    pub kind: String,
    /// The exact SQS message body (CONTRACTS §6). Removed once sent: it
    /// holds the link with its one-time token.
    #[serde(default)]
    pub body: String,
    pub status: String,
    pub attempts: i32,
    #[serde(rename = "nextAttemptAt")]
    pub next_attempt_at: DateTime,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime,
    #[serde(rename = "sentAt")]
    pub sent_at: Option<DateTime>,
    #[serde(rename = "lastError")]
    pub last_error: Option<String>,
    /// W3C trace context of the request that queued the job, sent on as the
    /// SQS message attribute `traceparent` (CONTRACTS §6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";

impl Store {
    pub fn outbox(&self) -> Collection<OutboxDoc> {
        self.db.collection("email_outbox")
    }

    #[tracing::instrument(name = "mongodb.insert_job", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn insert_job(&self, job: &OutboxDoc) -> DbResult<()> {
        self.outbox().insert_one(job).await.map(|_| ())
    }

    /// Leases one due job for `lease` (so another replica does not send it
    /// concurrently); `only` restricts to one job id.
    #[tracing::instrument(name = "mongodb.claim_job", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn claim_job(
        &self,
        only: Option<&str>,
        lease: Duration,
    ) -> DbResult<Option<OutboxDoc>> {
        let mut filter = doc! {"status": PENDING, "nextAttemptAt": {"$lte": now()}};
        if let Some(id) = only {
            filter.insert("_id", id);
        }
        self.outbox()
            .find_one_and_update(
                filter,
                doc! {"$set": {"nextAttemptAt": after(lease)}, "$inc": {"attempts": 1}},
            )
            .sort(doc! {"nextAttemptAt": 1})
            .return_document(ReturnDocument::After)
            .await
    }

    #[tracing::instrument(name = "mongodb.job_sent", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn job_sent(&self, id: &str) -> DbResult<()> {
        self.outbox()
            .update_one(
                doc! {"_id": id},
                doc! {"$set": {"status": SENT, "sentAt": now(), "lastError": null},
                "$unset": {"body": ""}},
            )
            .await
            .map(|_| ())
    }

    #[tracing::instrument(name = "mongodb.job_failed", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn job_failed(&self, id: &str, retry_in: Duration, error: &str) -> DbResult<()> {
        let error: String = error.chars().take(500).collect();
        self.outbox()
            .update_one(
                doc! {"_id": id},
                doc! {"$set": {"nextAttemptAt": after(retry_in), "lastError": error}},
            )
            .await
            .map(|_| ())
    }

    /// Jobs not yet sent, and how long the oldest of them has waited.
    #[tracing::instrument(name = "mongodb.outbox_backlog", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn outbox_backlog(&self) -> DbResult<(u64, Option<std::time::Duration>)> {
        let pending = self.pending_jobs().await?;
        if pending == 0 {
            return Ok((0, None));
        }
        let oldest = self
            .outbox()
            .find_one(doc! {"status": PENDING})
            .sort(doc! {"createdAt": 1})
            .await?;
        Ok((
            pending,
            oldest.map(|j| {
                let ms = (now().timestamp_millis() - j.created_at.timestamp_millis()).max(0);
                std::time::Duration::from_millis(ms as u64)
            }),
        ))
    }

    #[tracing::instrument(name = "mongodb.pending_jobs", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn pending_jobs(&self) -> DbResult<u64> {
        self.outbox()
            .count_documents(doc! {"status": PENDING})
            .await
    }
}
