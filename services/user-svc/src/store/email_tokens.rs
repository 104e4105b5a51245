//! `email_tokens`: one-time tokens mailed as links (email verification,
//! password reset), stored only as hashes; consuming one is a transaction
//! with the change it authorises.

use mongodb::bson::{doc, DateTime};
use mongodb::options::ReturnDocument;
use mongodb::Collection;
use serde::{Deserialize, Serialize};

use super::outbox::OutboxDoc;
use super::sessions::SessionDoc;
use super::users::UserDoc;
use super::{now, DbResult, Store, Tx, UserId};

/// What a one-time token is for (`purpose`, stored as `verify_email` or
/// `password_reset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    VerifyEmail,
    PasswordReset,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::PasswordReset => "password_reset",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmailTokenDoc {
    #[serde(rename = "userId")]
    pub user_id: String,
    pub purpose: Purpose,
    #[serde(rename = "tokenHash")]
    pub token_hash: String,
    #[serde(rename = "expiresAt")]
    pub expires_at: DateTime,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime,
}

impl Store {
    pub fn email_tokens(&self) -> Collection<EmailTokenDoc> {
        self.db.collection("email_tokens")
    }

    /// Replaces the user's token of this purpose and queues its job, atomically.
    #[tracing::instrument(name = "mongodb.issue_email_token", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn issue_email_token(&self, token: &EmailTokenDoc, job: &OutboxDoc) -> DbResult<()> {
        self.transaction(tx!(|s| {
            self.email_tokens()
                .delete_many(doc! {"userId": &token.user_id, "purpose": token.purpose.as_str()})
                .session(&mut *s)
                .await?;
            self.email_tokens()
                .insert_one(token)
                .session(&mut *s)
                .await?;
            self.outbox().insert_one(job).session(&mut *s).await?;
            Ok(Tx::Commit(()))
        }))
        .await
    }

    /// A live token of this purpose, without consuming it.
    #[tracing::instrument(name = "mongodb.peek_email_token", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn peek_email_token(
        &self,
        hash: &str,
        purpose: Purpose,
    ) -> DbResult<Option<EmailTokenDoc>> {
        self.email_tokens()
            .find_one(
                doc! {"tokenHash": hash, "purpose": purpose.as_str(), "expiresAt": {"$gt": now()}},
            )
            .await
    }

    /// Consumes a verify token and marks its user verified, atomically.
    #[tracing::instrument(name = "mongodb.verify_email", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn verify_email(&self, hash: &str) -> DbResult<Option<UserDoc>> {
        self.transaction(tx!(|s| {
            let token = self
                .email_tokens()
                .find_one_and_delete(doc! {
                    "tokenHash": hash,
                    "purpose": Purpose::VerifyEmail.as_str(),
                    "expiresAt": {"$gt": now()},
                })
                .session(&mut *s)
                .await?;
            let Some(token) = token else {
                return Ok(Tx::Abort(None));
            };
            let Some(oid) = UserId::parse(&token.user_id) else {
                return Ok(Tx::Abort(None));
            };
            let user = self
                .users()
                .find_one_and_update(
                    doc! {"_id": oid},
                    doc! {"$set": {"verified": true, "updatedAt": now()}},
                )
                .return_document(ReturnDocument::After)
                .session(&mut *s)
                .await?;
            Ok(Tx::Commit(user))
        }))
        .await
    }

    /// Consumes a reset token, sets the new hash, revokes every session and
    /// queues the notice, atomically. Returns the user and the revoked sessions.
    #[tracing::instrument(name = "mongodb.reset_password", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn reset_password(
        &self,
        hash: &str,
        new_hash: &str,
        job_for: impl Fn(&UserDoc) -> OutboxDoc + Sync,
    ) -> DbResult<Option<(UserDoc, Vec<SessionDoc>)>> {
        let job_for = &job_for;
        self.transaction(tx!(|s| {
            let token = self
                .email_tokens()
                .find_one_and_delete(doc! {
                    "tokenHash": hash,
                    "purpose": Purpose::PasswordReset.as_str(),
                    "expiresAt": {"$gt": now()},
                })
                .session(&mut *s)
                .await?;
            let Some(oid) = token.and_then(|t| UserId::parse(&t.user_id)) else {
                return Ok(Tx::Abort(None));
            };
            // The link proves the mailbox, so the account counts as verified.
            let user = self
                .users()
                .find_one_and_update(
                    doc! {"_id": oid},
                    doc! {"$set": {"password": new_hash, "verified": true, "updatedAt": now()},
                    "$inc": {"tokenVersion": 1}},
                )
                .return_document(ReturnDocument::After)
                .session(&mut *s)
                .await?;
            let Some(user) = user else {
                return Ok(Tx::Abort(None));
            };
            let revoked = self
                .revoke_user_sessions_in(&mut *s, &user.id_str(), None)
                .await?;
            self.outbox()
                .insert_one(job_for(&user))
                .session(&mut *s)
                .await?;
            Ok(Tx::Commit(Some((user, revoked))))
        }))
        .await
    }
}
