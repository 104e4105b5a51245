//! `users`: accounts, their password hashes, roles and credential versions.

use cadenza_auth::Role;
use mongodb::bson::{doc, oid::ObjectId, DateTime};
use mongodb::options::ReturnDocument;
use mongodb::Collection;
use serde::{Deserialize, Serialize};

use super::email_tokens::{EmailTokenDoc, Purpose};
use super::outbox::OutboxDoc;
use super::sessions::SessionDoc;
use super::{classify, now, DbResult, Store, StoreError, Tx, UserId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserDoc {
    #[serde(rename = "_id")]
    pub id: UserId,
    pub email: String,
    /// PHC argon2id string, or a bcrypt hash imported from the seed.
    pub password: String,
    /// Absent on old documents: a listener. Any other value than `user` or
    /// `admin` fails to decode.
    #[serde(default = "default_role")]
    pub role: Role,
    #[serde(default)]
    pub verified: bool,
    #[serde(rename = "tokenVersion", default)]
    pub token_version: i64,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime,
    #[serde(rename = "updatedAt")]
    pub updated_at: DateTime,
}

fn default_role() -> Role {
    Role::User
}

impl UserDoc {
    pub fn new(email: &str, password_hash: String, role: Role, verified: bool) -> Self {
        let t = now();
        Self {
            id: UserId::Oid(ObjectId::new()),
            email: email.to_owned(),
            password: password_hash,
            role,
            verified,
            token_version: 0,
            created_at: t,
            updated_at: t,
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn id_str(&self) -> String {
        self.id.to_string()
    }
}

impl Store {
    pub fn users(&self) -> Collection<UserDoc> {
        self.db.collection("users")
    }

    #[tracing::instrument(name = "mongodb.user_by_email", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn user_by_email(&self, email: &str) -> DbResult<Option<UserDoc>> {
        self.users().find_one(doc! {"email": email}).await
    }

    #[tracing::instrument(name = "mongodb.user_by_id", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn user_by_id(&self, id: &str) -> DbResult<Option<UserDoc>> {
        let Some(id) = UserId::parse(id) else {
            return Ok(None);
        };
        self.users().find_one(doc! {"_id": id}).await
    }

    /// Inserts a new user, its verification token and the job mailing it, atomically.
    #[tracing::instrument(name = "mongodb.create_user", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn create_user(
        &self,
        user: &UserDoc,
        token: &EmailTokenDoc,
        job: &OutboxDoc,
    ) -> Result<(), StoreError> {
        self.transaction(tx!(|s| {
            self.users().insert_one(user).session(&mut *s).await?;
            self.email_tokens()
                .insert_one(token)
                .session(&mut *s)
                .await?;
            self.outbox().insert_one(job).session(&mut *s).await?;
            Ok(Tx::Commit(()))
        }))
        .await
        .map_err(classify)
    }

    /// Creates a verified admin, or promotes (and verifies) an existing user.
    /// Returns true when the user was created.
    #[tracing::instrument(name = "mongodb.upsert_admin", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn upsert_admin(
        &self,
        email: &str,
        password_hash: Option<String>,
    ) -> Result<bool, StoreError> {
        let existing = self.user_by_email(email).await?;
        match (existing, password_hash) {
            (Some(u), _) => {
                self.users()
                    .update_one(
                        doc! {"_id": &u.id},
                        doc! {"$set": {"role": Role::Admin.as_str(), "verified": true, "updatedAt": now()}},
                    )
                    .await?;
                Ok(false)
            }
            (None, Some(hash)) => {
                let user = UserDoc::new(email, hash, Role::Admin, true);
                self.users().insert_one(&user).await.map_err(classify)?;
                Ok(true)
            }
            (None, None) => Err(StoreError::NeedsPassword),
        }
    }

    /// Creates a verified user for the demo; false when it already exists.
    #[tracing::instrument(name = "mongodb.ensure_user", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn ensure_user(
        &self,
        email: &str,
        password_hash: String,
        role: Role,
    ) -> Result<bool, StoreError> {
        let user = UserDoc::new(email, password_hash, role, true);
        match self.users().insert_one(&user).await.map_err(classify) {
            Ok(_) => Ok(true),
            Err(StoreError::Duplicate) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Swaps a hash for a stronger one, unless the password changed meanwhile.
    #[tracing::instrument(name = "mongodb.upgrade_hash", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn upgrade_hash(&self, user_id: &UserId, old: &str, new: &str) -> DbResult<()> {
        self.users()
            .update_one(
                doc! {"_id": user_id, "password": old},
                doc! {"$set": {"password": new, "updatedAt": now()}},
            )
            .await
            .map(|_| ())
    }

    /// Sets a new hash (the caller checked the current password), revokes
    /// every session but `keep_sid` and queues the notice, atomically.
    #[tracing::instrument(name = "mongodb.change_password", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn change_password(
        &self,
        user: &UserDoc,
        new_hash: &str,
        keep_sid: &str,
        job: &OutboxDoc,
    ) -> DbResult<Option<Vec<SessionDoc>>> {
        self.transaction(tx!(|s| {
            let updated = self
                .users()
                .find_one_and_update(
                    doc! {"_id": &user.id, "password": &user.password},
                    doc! {"$set": {"password": new_hash, "updatedAt": now()}, "$inc": {"tokenVersion": 1}},
                )
                .return_document(ReturnDocument::After)
                .session(&mut *s)
                .await?;
            let Some(updated) = updated else {
                return Ok(Tx::Abort(None));
            };
            let revoked = self
                .revoke_user_sessions_in(&mut *s, &user.id_str(), Some(keep_sid))
                .await?;
            // The session that changed the password lives on under the new version.
            self.sessions()
                .update_one(
                    doc! {"_id": keep_sid, "userId": user.id_str()},
                    doc! {"$set": {"tokenVersion": updated.token_version}},
                )
                .session(&mut *s)
                .await?;
            // A reset link mailed before the change must not undo it.
            self.email_tokens()
                .delete_many(doc! {"userId": user.id_str(), "purpose": Purpose::PasswordReset.as_str()})
                .session(&mut *s)
                .await?;
            self.outbox().insert_one(job).session(&mut *s).await?;
            Ok(Tx::Commit(Some(revoked)))
        }))
        .await
    }
}
