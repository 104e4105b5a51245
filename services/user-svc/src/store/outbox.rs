//! `email_outbox`: email jobs written in the transaction of the change
//! that causes them, and sent to SQS by [`crate::outbox::Relay`].

use std::time::Duration;

use mongodb::bson::{doc, DateTime};
use mongodb::options::ReturnDocument;
use mongodb::Collection;
use serde::{Deserialize, Serialize};

use super::{after, now, DbResult, Store};

/// What an email job mails (`kind` in the SQS body and the outbox entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    VerifyEmail,
    PasswordReset,
    PasswordChanged,
    AccountExists,
}

impl JobKind {
    pub const ALL: [JobKind; 4] = [
        JobKind::VerifyEmail,
        JobKind::PasswordReset,
        JobKind::PasswordChanged,
        JobKind::AccountExists,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::VerifyEmail => "verify_email",
            JobKind::PasswordReset => "password_reset",
            JobKind::PasswordChanged => "password_changed",
            JobKind::AccountExists => "account_exists",
        }
    }
}

/// Where an outbox entry is: waiting (or being retried), or handed to SQS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    Pending,
    Sent,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxDoc {
    /// The job id.
    #[serde(rename = "_id")]
    pub id: String,
    pub kind: JobKind,
    /// The exact SQS message body (CONTRACTS §6). Removed once sent: it
    /// holds the link with its one-time token.
    #[serde(default)]
    pub body: String,
    pub status: OutboxStatus,
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
        let mut filter =
            doc! {"status": OutboxStatus::Pending.as_str(), "nextAttemptAt": {"$lte": now()}};
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
                doc! {"$set": {"status": OutboxStatus::Sent.as_str(), "sentAt": now(), "lastError": null},
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
            .find_one(doc! {"status": OutboxStatus::Pending.as_str()})
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
            .count_documents(doc! {"status": OutboxStatus::Pending.as_str()})
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{EmailTokenDoc, Purpose, UserDoc};
    use cadenza_auth::Role;
    use mongodb::bson::{from_document, Document};

    fn job(kind: &str, status: &str) -> Document {
        doc! {"_id": "j", "kind": kind, "body": "{}", "status": status, "attempts": 0,
        "nextAttemptAt": now(), "createdAt": now(), "sentAt": null, "lastError": null}
    }

    #[test]
    fn stored_states_decode_as_written_and_unknown_ones_fail() {
        let j: OutboxDoc = from_document(job("password_changed", "sent")).unwrap();
        assert_eq!(
            (j.kind, j.status),
            (JobKind::PasswordChanged, OutboxStatus::Sent)
        );
        assert!(from_document::<OutboxDoc>(job("verify_email", "queued")).is_err());
        assert!(from_document::<OutboxDoc>(job("newsletter", "pending")).is_err());

        let token = |purpose: &str| {
            doc! {"userId": "u", "purpose": purpose, "tokenHash": "h",
            "expiresAt": now(), "createdAt": now()}
        };
        let t: EmailTokenDoc = from_document(token("password_reset")).unwrap();
        assert_eq!(t.purpose, Purpose::PasswordReset);
        assert!(from_document::<EmailTokenDoc>(token("login")).is_err());

        let user = |role: Option<&str>| {
            let mut d = doc! {"_id": "seed-1", "email": "a@b.co", "password": "x",
            "createdAt": now(), "updatedAt": now()};
            if let Some(r) = role {
                d.insert("role", r);
            }
            d
        };
        let admin: UserDoc = from_document(user(Some("admin"))).unwrap();
        assert_eq!(admin.role, Role::Admin);
        let old: UserDoc = from_document(user(None)).unwrap();
        assert_eq!(
            old.role,
            Role::User,
            "a document without a role is a listener"
        );
        assert!(from_document::<UserDoc>(user(Some("root"))).is_err());
    }
}
