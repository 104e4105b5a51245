//! MongoDB persistence: users, sessions (refresh-token families), one-time
//! email tokens, favourites and the email outbox.
//!
//! Every change that must send an email writes its outbox entry in the same
//! transaction, so a job can be late but never lost.

use std::future::Future;
use std::time::Duration;

use cadenza_auth::Role;
use cadenza_platform::Problem;
use futures::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use mongodb::error::{Error as MongoError, ErrorKind, WriteFailure, TRANSIENT_TRANSACTION_ERROR};
use mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use mongodb::{Client, ClientSession, Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};

pub mod playlists;
pub mod plays;

pub type DbResult<T> = Result<T, MongoError>;

/// Maps a MongoDB failure to problem+json: an unreachable database is a 503
/// with Retry-After; anything else is a 500 whose cause is only logged.
pub fn db_problem(e: MongoError) -> Problem {
    match *e.kind {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Shutdown => Problem::unavailable("mongodb", e),
        _ if e.contains_label(TRANSIENT_TRANSACTION_ERROR) => Problem::unavailable("mongodb", e),
        _ => Problem::internal(e),
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Db(e) => db_problem(e),
            StoreError::Duplicate => Problem::conflict("already exists"),
            StoreError::NeedsPassword => Problem::invalid_field("password", "is required"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("duplicate key")]
    Duplicate,
    #[error("a password is needed to create a user")]
    NeedsPassword,
    #[error(transparent)]
    Db(#[from] MongoError),
}

pub fn is_duplicate(e: &MongoError) -> bool {
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == 11000,
        ErrorKind::Command(c) => c.code == 11000,
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .is_some_and(|errs| errs.iter().any(|w| w.code == 11000)),
        _ => e.to_string().contains("E11000"),
    }
}

fn classify(e: MongoError) -> StoreError {
    if is_duplicate(&e) {
        StoreError::Duplicate
    } else {
        StoreError::Db(e)
    }
}

pub fn now() -> DateTime {
    DateTime::now()
}

pub fn after(d: Duration) -> DateTime {
    DateTime::from_millis(DateTime::now().timestamp_millis() + d.as_millis() as i64)
}

pub fn rfc3339(t: DateTime) -> String {
    chrono::DateTime::from_timestamp_millis(t.timestamp_millis())
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A user's `_id`: an ObjectId for accounts created here, or the cuid
/// string of an account imported from the seed (`user-svc import-seed`).
/// Both appear as `sub` in access tokens and as `userId` elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserId {
    Oid(ObjectId),
    Seed(String),
}

impl UserId {
    /// The id as `sub` carries it: 24 hex digits are an ObjectId; a seed id
    /// is 1 to 64 ASCII letters, digits, `-` or `_` (cuids are 25 of them).
    pub fn parse(raw: &str) -> Option<Self> {
        if let Ok(oid) = ObjectId::parse_str(raw) {
            return Some(Self::Oid(oid));
        }
        let seed_like = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        seed_like.then(|| Self::Seed(raw.to_owned()))
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Oid(oid) => f.write_str(&oid.to_hex()),
            Self::Seed(id) => f.write_str(id),
        }
    }
}

/// (`&UserId` converts through bson's blanket `From<&T>`.)
impl From<UserId> for Bson {
    fn from(id: UserId) -> Bson {
        match id {
            UserId::Oid(oid) => Bson::ObjectId(oid),
            UserId::Seed(id) => Bson::String(id),
        }
    }
}

impl Serialize for UserId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Oid(oid) => oid.serialize(s),
            Self::Seed(id) => s.serialize_str(id),
        }
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Bson::deserialize(d)? {
            Bson::ObjectId(oid) => Ok(Self::Oid(oid)),
            Bson::String(id) => Ok(Self::Seed(id)),
            other => Err(serde::de::Error::custom(format!(
                "a user _id is an ObjectId or a string, not {other}"
            ))),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserDoc {
    #[serde(rename = "_id")]
    pub id: UserId,
    pub email: String,
    /// PHC argon2id string, or a bcrypt hash imported from the seed.
    pub password: String,
    #[serde(default = "default_role")]
    pub role: String,
    #[serde(default)]
    pub verified: bool,
    #[serde(rename = "tokenVersion", default)]
    pub token_version: i64,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime,
    #[serde(rename = "updatedAt")]
    pub updated_at: DateTime,
}

fn default_role() -> String {
    "user".into()
}

impl UserDoc {
    pub fn new(email: &str, password_hash: String, role: Role, verified: bool) -> Self {
        let t = now();
        Self {
            id: UserId::Oid(ObjectId::new()),
            email: email.to_owned(),
            password: password_hash,
            role: role.as_str().to_owned(),
            verified,
            token_version: 0,
            created_at: t,
            updated_at: t,
        }
    }

    pub fn role(&self) -> Role {
        if self.role == "admin" {
            Role::Admin
        } else {
            Role::User
        }
    }

    pub fn id_str(&self) -> String {
        self.id.to_string()
    }
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    pub purpose: String,
    #[serde(rename = "tokenHash")]
    pub token_hash: String,
    #[serde(rename = "expiresAt")]
    pub expires_at: DateTime,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FavoriteDoc {
    /// An ObjectId here, or the seed's cuid string for an imported favourite.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<UserId>,
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(rename = "songId")]
    pub song_id: String,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime,
}

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

#[derive(Clone)]
pub struct Store {
    client: Client,
    db: Database,
}

/// Retries a whole transaction while the server labels the failure transient.
async fn with_retry<T, F, Fut>(mut f: F) -> DbResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = DbResult<T>>,
{
    let mut attempt = 0;
    loop {
        match f().await {
            Err(e) if attempt < 3 && e.contains_label(TRANSIENT_TRANSACTION_ERROR) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
            }
            other => return other,
        }
    }
}

impl Store {
    #[tracing::instrument(name = "mongodb.connect", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn connect(uri: &str, db: &str) -> anyhow::Result<Self> {
        let mut options = ClientOptions::parse(uri).await?;
        // Fail fast while the database is down: the request answers 503
        // instead of hanging for the driver's default 30 s.
        options
            .server_selection_timeout
            .get_or_insert(Duration::from_secs(2));
        options
            .connect_timeout
            .get_or_insert(Duration::from_secs(2));
        options.app_name.get_or_insert_with(|| "user-svc".into());
        let client = Client::with_options(options)?;
        Ok(Self {
            db: client.database(db),
            client,
        })
    }

    pub fn users(&self) -> Collection<UserDoc> {
        self.db.collection("users")
    }
    pub fn sessions(&self) -> Collection<SessionDoc> {
        self.db.collection("sessions")
    }
    fn retired(&self) -> Collection<Document> {
        self.db.collection("retired_refresh_tokens")
    }
    pub fn email_tokens(&self) -> Collection<EmailTokenDoc> {
        self.db.collection("email_tokens")
    }
    pub fn favorites(&self) -> Collection<FavoriteDoc> {
        self.db.collection("favorites")
    }
    pub fn outbox(&self) -> Collection<OutboxDoc> {
        self.db.collection("email_outbox")
    }

    #[tracing::instrument(name = "mongodb.ping", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn ping(&self) -> DbResult<()> {
        self.db.run_command(doc! {"ping": 1}).await.map(|_| ())
    }

    /// Creates every index; safe to run on every start.
    #[tracing::instrument(name = "mongodb.ensure_indexes", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn ensure_indexes(&self) -> DbResult<()> {
        fn idx(keys: Document, unique: bool, ttl: Option<Duration>) -> IndexModel {
            let mut o = IndexOptions::builder().build();
            if unique {
                o.unique = Some(true);
            }
            o.expire_after = ttl;
            IndexModel::builder().keys(keys).options(o).build()
        }
        let zero = Some(Duration::ZERO);
        self.users()
            .create_index(idx(doc! {"email": 1}, true, None))
            .await?;
        let s = self.sessions();
        s.create_index(idx(doc! {"tokenHash": 1}, true, None))
            .await?;
        s.create_index(idx(doc! {"previousTokenHash": 1}, false, None))
            .await?;
        s.create_index(idx(doc! {"userId": 1, "createdAt": -1}, false, None))
            .await?;
        s.create_index(idx(doc! {"expiresAt": 1}, false, zero))
            .await?;
        let r = self.retired();
        r.create_index(idx(doc! {"tokenHash": 1}, true, None))
            .await?;
        r.create_index(idx(doc! {"expiresAt": 1}, false, zero))
            .await?;
        let t = self.email_tokens();
        t.create_index(idx(doc! {"userId": 1, "purpose": 1}, true, None))
            .await?;
        t.create_index(idx(doc! {"tokenHash": 1}, true, None))
            .await?;
        t.create_index(idx(doc! {"expiresAt": 1}, false, zero))
            .await?;
        self.favorites()
            .create_index(idx(doc! {"userId": 1, "songId": 1}, true, None))
            .await?;
        self.favorites()
            .create_index(idx(doc! {"songId": 1}, false, None))
            .await?;
        self.playlists()
            .create_index(idx(doc! {"ownerId": 1, "updatedAt": -1}, false, None))
            .await?;
        let p = self.plays();
        p.create_index(idx(doc! {"userId": 1, "at": -1}, false, None))
            .await?;
        p.create_index(idx(doc! {"at": 1}, false, Some(plays::KEEP_PLAYS)))
            .await?;
        p.create_index(idx(doc! {"songId": 1}, false, None)).await?;
        let c = self.play_counts();
        c.create_index(idx(doc! {"userId": 1, "count": -1}, false, None))
            .await?;
        c.create_index(idx(doc! {"songId": 1}, false, None)).await?;
        let e = self.playlist_entries();
        e.create_index(idx(doc! {"playlistId": 1, "pos": 1, "_id": 1}, false, None))
            .await?;
        e.create_index(idx(doc! {"songId": 1}, false, None)).await?;
        let o = self.outbox();
        o.create_index(idx(doc! {"status": 1, "nextAttemptAt": 1}, false, None))
            .await?;
        o.create_index(idx(
            doc! {"sentAt": 1},
            false,
            Some(Duration::from_secs(7 * 86_400)),
        ))
        .await?;
        Ok(())
    }

    async fn begin(&self) -> DbResult<ClientSession> {
        let mut s = self.client.start_session().await?;
        s.start_transaction().await?;
        Ok(s)
    }

    // ------------------------------------------------------------ users

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
        with_retry(|| async {
            let mut s = self.begin().await?;
            self.users().insert_one(user).session(&mut s).await?;
            self.email_tokens()
                .insert_one(token)
                .session(&mut s)
                .await?;
            self.outbox().insert_one(job).session(&mut s).await?;
            s.commit_transaction().await
        })
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
                        doc! {"$set": {"role": "admin", "verified": true, "updatedAt": now()}},
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

    // ------------------------------------------------------------ email tokens and jobs

    #[tracing::instrument(name = "mongodb.insert_job", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn insert_job(&self, job: &OutboxDoc) -> DbResult<()> {
        self.outbox().insert_one(job).await.map(|_| ())
    }

    /// Replaces the user's token of this purpose and queues its job, atomically.
    #[tracing::instrument(name = "mongodb.issue_email_token", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn issue_email_token(&self, token: &EmailTokenDoc, job: &OutboxDoc) -> DbResult<()> {
        with_retry(|| async {
            let mut s = self.begin().await?;
            self.email_tokens()
                .delete_many(doc! {"userId": &token.user_id, "purpose": &token.purpose})
                .session(&mut s)
                .await?;
            self.email_tokens()
                .insert_one(token)
                .session(&mut s)
                .await?;
            self.outbox().insert_one(job).session(&mut s).await?;
            s.commit_transaction().await
        })
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
        with_retry(|| async {
            let mut s = self.begin().await?;
            let token = self
                .email_tokens()
                .find_one_and_delete(doc! {
                    "tokenHash": hash,
                    "purpose": Purpose::VerifyEmail.as_str(),
                    "expiresAt": {"$gt": now()},
                })
                .session(&mut s)
                .await?;
            let Some(token) = token else {
                s.abort_transaction().await?;
                return Ok(None);
            };
            let Some(oid) = UserId::parse(&token.user_id) else {
                s.abort_transaction().await?;
                return Ok(None);
            };
            let user = self
                .users()
                .find_one_and_update(
                    doc! {"_id": oid},
                    doc! {"$set": {"verified": true, "updatedAt": now()}},
                )
                .return_document(ReturnDocument::After)
                .session(&mut s)
                .await?;
            s.commit_transaction().await?;
            Ok(user)
        })
        .await
    }

    /// Consumes a reset token, sets the new hash, revokes every session and
    /// queues the notice, atomically. Returns the user and the revoked sessions.
    #[tracing::instrument(name = "mongodb.reset_password", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn reset_password(
        &self,
        hash: &str,
        new_hash: &str,
        job_for: impl Fn(&UserDoc) -> OutboxDoc,
    ) -> DbResult<Option<(UserDoc, Vec<SessionDoc>)>> {
        with_retry(|| async {
            let mut s = self.begin().await?;
            let token = self
                .email_tokens()
                .find_one_and_delete(doc! {
                    "tokenHash": hash,
                    "purpose": Purpose::PasswordReset.as_str(),
                    "expiresAt": {"$gt": now()},
                })
                .session(&mut s)
                .await?;
            let Some(oid) = token.and_then(|t| UserId::parse(&t.user_id)) else {
                s.abort_transaction().await?;
                return Ok(None);
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
                .session(&mut s)
                .await?;
            let Some(user) = user else {
                s.abort_transaction().await?;
                return Ok(None);
            };
            let revoked = self
                .revoke_user_sessions_in(&mut s, &user.id_str(), None)
                .await?;
            self.outbox()
                .insert_one(job_for(&user))
                .session(&mut s)
                .await?;
            s.commit_transaction().await?;
            Ok(Some((user, revoked)))
        })
        .await
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
        with_retry(|| async {
            let mut s = self.begin().await?;
            let updated = self
                .users()
                .find_one_and_update(
                    doc! {"_id": &user.id, "password": &user.password},
                    doc! {"$set": {"password": new_hash, "updatedAt": now()}, "$inc": {"tokenVersion": 1}},
                )
                .return_document(ReturnDocument::After)
                .session(&mut s)
                .await?;
            let Some(updated) = updated else {
                s.abort_transaction().await?;
                return Ok(None);
            };
            let revoked = self
                .revoke_user_sessions_in(&mut s, &user.id_str(), Some(keep_sid))
                .await?;
            // The session that changed the password lives on under the new version.
            self.sessions()
                .update_one(
                    doc! {"_id": keep_sid, "userId": user.id_str()},
                    doc! {"$set": {"tokenVersion": updated.token_version}},
                )
                .session(&mut s)
                .await?;
            // A reset link mailed before the change must not undo it.
            self.email_tokens()
                .delete_many(doc! {"userId": user.id_str(), "purpose": Purpose::PasswordReset.as_str()})
                .session(&mut s)
                .await?;
            self.outbox().insert_one(job).session(&mut s).await?;
            s.commit_transaction().await?;
            Ok(Some(revoked))
        })
        .await
    }

    // ------------------------------------------------------------ sessions

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
        with_retry(|| async {
            let t = now();
            let mut s = self.begin().await?;
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
                .session(&mut s)
                .await?;
            if rotated.is_none() {
                s.abort_transaction().await?;
                return Ok(None);
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
                    .session(&mut s)
                    .await?;
            }
            s.commit_transaction().await?;
            Ok(rotated)
        })
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

    async fn revoke_user_sessions_in(
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
        with_retry(|| async {
            let mut s = self.begin().await?;
            let revoked = self.revoke_user_sessions_in(&mut s, user_id, None).await?;
            s.commit_transaction().await?;
            Ok(revoked)
        })
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

    // ------------------------------------------------------------ favourites

    /// Newest first; `offset`/`limit` page through them.
    #[tracing::instrument(name = "mongodb.favorites_of", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn favorites_of(
        &self,
        user_id: &str,
        offset: u64,
        limit: i64,
    ) -> DbResult<Vec<FavoriteDoc>> {
        self.favorites()
            .find(doc! {"userId": user_id})
            .sort(doc! {"createdAt": -1, "songId": 1})
            .skip(offset)
            .limit(limit)
            .await?
            .try_collect()
            .await
    }

    /// Adds a favourite; an existing one is returned unchanged.
    #[tracing::instrument(name = "mongodb.add_favorite", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn add_favorite(&self, user_id: &str, song_id: &str) -> DbResult<FavoriteDoc> {
        let fav = FavoriteDoc {
            id: Some(UserId::Oid(ObjectId::new())),
            user_id: user_id.to_owned(),
            song_id: song_id.to_owned(),
            created_at: now(),
        };
        match self.favorites().insert_one(&fav).await {
            Ok(_) => Ok(fav),
            Err(e) if is_duplicate(&e) => Ok(self
                .favorites()
                .find_one(doc! {"userId": user_id, "songId": song_id})
                .await?
                .unwrap_or(fav)),
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(name = "mongodb.remove_favorite", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn remove_favorite(&self, user_id: &str, song_id: &str) -> DbResult<bool> {
        self.favorites()
            .delete_one(doc! {"userId": user_id, "songId": song_id})
            .await
            .map(|r| r.deleted_count > 0)
    }

    // ------------------------------------------------------------ outbox

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
