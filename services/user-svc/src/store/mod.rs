//! MongoDB persistence, one module per collection: [`users`], [`sessions`]
//! (refresh-token families and retired tokens), [`email_tokens`] (one-time
//! links), [`favorites`], [`outbox`] (email jobs), [`playlists`] and
//! [`plays`]. This module holds what they share: the [`Store`] handle, the
//! indexes, [`StoreError`], the user id and [`Store::transaction`], the one
//! "transaction, retried while transient" helper.
//!
//! Every change that must send an email writes its outbox entry in the same
//! transaction, so a job can be late but never lost.

use std::time::Duration;

use futures::future::BoxFuture;
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use mongodb::error::{Error as MongoError, TRANSIENT_TRANSACTION_ERROR};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, ClientSession, Database, IndexModel};
use serde::{Deserialize, Serialize};

/// The body of a [`Store::transaction`]: `tx!(|s| { ... })`, where `s` is
/// the `&mut ClientSession` and the block returns `DbResult<Tx<T>>` (`?`
/// inside it fails the attempt).
macro_rules! tx {
    (|$s:ident| $body:block) => {
        |mut session: mongodb::ClientSession| -> futures::future::BoxFuture<'_, _> {
            Box::pin(async move {
                let result = async {
                    let $s = &mut session;
                    $body
                }
                .await;
                (session, result)
            })
        }
    };
}

pub mod email_tokens;
pub mod favorites;
pub mod outbox;
pub mod playlists;
pub mod plays;
pub mod sessions;
pub mod users;

pub use email_tokens::{EmailTokenDoc, Purpose};
pub use favorites::FavoriteDoc;
pub use outbox::{JobKind, OutboxDoc, OutboxStatus};
pub use sessions::SessionDoc;
pub use users::UserDoc;

pub type DbResult<T> = Result<T, MongoError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("duplicate key")]
    Duplicate,
    #[error("a password is needed to create a user")]
    NeedsPassword,
    #[error(transparent)]
    Db(#[from] MongoError),
}

pub use cadenza_platform::problem::is_duplicate_key as is_duplicate;

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

#[derive(Clone)]
pub struct Store {
    client: Client,
    db: Database,
}

/// What the body of a [`Store::transaction`] decided: keep its writes, or
/// roll them back (and still answer `T`, typically "not found").
pub enum Tx<T> {
    Commit(T),
    Abort(T),
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

    /// Runs `body` in one transaction and commits or aborts it as `body`
    /// says; the whole transaction is run again (up to 3 more times, 20, 40,
    /// 60 ms apart) while the server labels the failure transient. A body
    /// that fails leaves the transaction to be aborted when its session
    /// drops. `body` gets the session and hands it back with its result
    /// (a future that borrowed it could not be named `Send`).
    pub(crate) async fn transaction<'a, T, F>(&'a self, mut body: F) -> DbResult<T>
    where
        F: FnMut(ClientSession) -> BoxFuture<'a, (ClientSession, DbResult<Tx<T>>)>,
    {
        let mut attempt = 0;
        loop {
            let result = match body(self.begin().await?).await {
                (_, Err(e)) => Err(e),
                (mut s, Ok(Tx::Commit(v))) => s.commit_transaction().await.map(|()| v),
                (mut s, Ok(Tx::Abort(v))) => s.abort_transaction().await.map(|()| v),
            };
            match result {
                Err(e) if attempt < 3 && e.contains_label(TRANSIENT_TRANSACTION_ERROR) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
                }
                other => return other,
            }
        }
    }

    async fn begin(&self) -> DbResult<ClientSession> {
        let mut s = self.client.start_session().await?;
        s.start_transaction().await?;
        Ok(s)
    }
}
