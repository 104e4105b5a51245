//! `sessions` (refresh-token families, CONTRACTS §3) and
//! `retired_refresh_tokens` (tokens two or more rotations old, kept so that
//! their reuse is recognised as theft).

use std::time::Duration;

use futures::TryStreamExt;
use mongodb::bson::{doc, DateTime, Document};
use mongodb::options::ReturnDocument;
use mongodb::{ClientSession, Collection};
use serde::{Deserialize, Serialize};

use super::users::UserDoc;
use super::{after, now, DbResult, Store, Tx};

/// One refresh-token family (CONTRACTS §3): rotated in place on every refresh.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionDoc {
    /// The session id (`sid` in access tokens).
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(rename = "familyId")]
    pub family_id: String,
    #[serde(rename = "tokenHash")]
    pub token_hash: String,
    #[serde(rename = "previousTokenHash")]
    pub previous_token_hash: Option<String>,
    #[serde(rename = "rotatedAt")]
    pub rotated_at: Option<DateTime>,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime,
    #[serde(rename = "lastUsedAt")]
    pub last_used_at: DateTime,
    #[serde(rename = "expiresAt")]
    pub expires_at: DateTime,
    #[serde(rename = "idleExpiresAt")]
    pub idle_expires_at: DateTime,
    #[serde(rename = "userAgent")]
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    #[serde(rename = "revokedAt")]
    pub revoked_at: Option<DateTime>,
    /// The user's `tokenVersion` when the session began: a password reset
    /// or change bumps it, and a session of an older version is dead even
    /// if it was inserted after the reset committed (a login racing it).
    /// `None` on sessions created before this field existed.
    #[serde(rename = "tokenVersion", default)]
    pub token_version: Option<i64>,
}

impl SessionDoc {
    pub fn is_live(&self) -> bool {
        let t = now();
        self.revoked_at.is_none() && self.expires_at > t && self.idle_expires_at > t
    }

    /// Whether the session was started under the user's current credentials.
    pub fn matches_credentials(&self, user: &UserDoc) -> bool {
        self.token_version.is_none_or(|v| v == user.token_version)
    }
}

impl Store {
    pub fn sessions(&self) -> Collection<SessionDoc> {
        self.db.collection("sessions")
    }
    pub(super) fn retired(&self) -> Collection<Document> {
        self.db.collection("retired_refresh_tokens")
    }

    #[tracing::instrument(name = "mongodb.insert_session", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn insert_session(&self, session: &SessionDoc) -> DbResult<()> {
        self.sessions().insert_one(session).await.map(|_| ())
    }

    #[tracing::instrument(name = "mongodb.session_by_token", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn session_by_token(&self, hash: &str) -> DbResult<Option<SessionDoc>> {
        self.sessions().find_one(doc! {"tokenHash": hash}).await
    }

    #[tracing::instrument(name = "mongodb.session_by_previous_token", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn session_by_previous_token(&self, hash: &str) -> DbResult<Option<SessionDoc>> {
        self.sessions()
            .find_one(doc! {"previousTokenHash": hash})
            .await
    }

    /// The session an earlier (retired) token of which is `hash`.
    #[tracing::instrument(name = "mongodb.session_by_retired_token", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn session_by_retired_token(&self, hash: &str) -> DbResult<Option<String>> {
        Ok(self
            .retired()
            .find_one(doc! {"tokenHash": hash})
            .await?
            .and_then(|d| d.get_str("sessionId").ok().map(str::to_owned)))
    }

    /// Rotates `old` to `new` if `old` is still current; `None` when another
    /// request won the race. The rotation and the record of the retired
    /// token are one transaction: if either write fails, neither happens,
    /// so the client's retry with `old` is a normal refresh, not "reuse".
    #[tracing::instrument(name = "mongodb.rotate", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn rotate(
        &self,
        session: &SessionDoc,
        old: &str,
        new: &str,
        idle: Duration,
    ) -> DbResult<Option<SessionDoc>> {
        self.transaction(tx!(|s| {
            let t = now();
            let rotated = self
                .sessions()
                .find_one_and_update(
                    doc! {"_id": &session.id, "tokenHash": old, "revokedAt": null},
                    doc! {"$set": {
                        "tokenHash": new,
                        "previousTokenHash": old,
                        "rotatedAt": t,
                        "lastUsedAt": t,
                        "idleExpiresAt": after(idle),
                    }},
                )
                .return_document(ReturnDocument::After)
                .session(&mut *s)
                .await?;
            if rotated.is_none() {
                return Ok(Tx::Abort(None));
            }
            // The token before `old` is now two generations back: remember it
            // so that its reuse is still recognised as theft. An upsert, so a
            // record that already exists is not an error.
            if let Some(older) = &session.previous_token_hash {
                self.retired()
                    .update_one(
                        doc! {"tokenHash": older},
                        doc! {"$setOnInsert": {
                            "tokenHash": older,
                            "sessionId": &session.id,
                            "userId": &session.user_id,
                            "expiresAt": session.expires_at,
                        }},
                    )
                    .upsert(true)
                    .session(&mut *s)
                    .await?;
            }
            Ok(Tx::Commit(rotated))
        }))
        .await
    }

    #[tracing::instrument(name = "mongodb.touch_session", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn touch_session(&self, id: &str, idle: Duration) -> DbResult<()> {
        self.sessions()
            .update_one(
                doc! {"_id": id},
                doc! {"$set": {"lastUsedAt": now(), "idleExpiresAt": after(idle)}},
            )
            .await
            .map(|_| ())
    }

    /// Revokes one session; returns it if it was live until now.
    #[tracing::instrument(name = "mongodb.revoke_session", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn revoke_session(
        &self,
        id: &str,
        user_id: Option<&str>,
    ) -> DbResult<Option<SessionDoc>> {
        let mut filter = doc! {"_id": id, "revokedAt": null};
        if let Some(u) = user_id {
            filter.insert("userId", u);
        }
        self.sessions()
            .find_one_and_update(filter, doc! {"$set": {"revokedAt": now()}})
            .await
    }

    #[tracing::instrument(name = "mongodb.session_by_id", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn session_by_id(&self, id: &str) -> DbResult<Option<SessionDoc>> {
        self.sessions().find_one(doc! {"_id": id}).await
    }

    pub(super) async fn revoke_user_sessions_in(
        &self,
        s: &mut ClientSession,
        user_id: &str,
        keep: Option<&str>,
    ) -> DbResult<Vec<SessionDoc>> {
        let mut filter = doc! {"userId": user_id, "revokedAt": null};
        if let Some(keep) = keep {
            filter.insert("_id", doc! {"$ne": keep});
        }
        let live: Vec<SessionDoc> = self
            .sessions()
            .find(filter.clone())
            .session(&mut *s)
            .await?
            .stream(&mut *s)
            .try_collect()
            .await?;
        self.sessions()
            .update_many(filter, doc! {"$set": {"revokedAt": now()}})
            .session(&mut *s)
            .await?;
        Ok(live)
    }

    /// Revokes every live session of the user; returns them.
    #[tracing::instrument(name = "mongodb.revoke_user_sessions", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn revoke_user_sessions(&self, user_id: &str) -> DbResult<Vec<SessionDoc>> {
        self.transaction(tx!(|s| {
            let revoked = self.revoke_user_sessions_in(&mut *s, user_id, None).await?;
            Ok(Tx::Commit(revoked))
        }))
        .await
    }

    #[tracing::instrument(name = "mongodb.live_sessions", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn live_sessions(&self, user_id: &str) -> DbResult<Vec<SessionDoc>> {
        let t = now();
        self.sessions()
            .find(doc! {
                "userId": user_id,
                "revokedAt": null,
                "expiresAt": {"$gt": t},
                "idleExpiresAt": {"$gt": t},
            })
            .sort(doc! {"lastUsedAt": -1})
            .limit(100)
            .await?
            .try_collect()
            .await
    }
}
