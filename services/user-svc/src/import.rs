//! `user-svc import-seed`: copies the accounts and favourites of a running
//! spotify-microservices deployment (Prisma on MongoDB: `users`, `favorites`)
//! into Cadenza's database.
//!
//! - Ids are kept: a seed user keeps its cuid `_id`, which is then its `sub`
//!   ([`UserId::Seed`]); a favourite keeps its `_id` too.
//! - Passwords are the seed's bcrypt hashes, kept as they are: the first
//!   login verifies bcrypt and rehashes to argon2id.
//! - Not carried over: refresh tokens and sessions (everyone logs in once
//!   more), the seed's email-verification tokens, and `playlists` (unused).
//! - Idempotent: an id that already exists is left unchanged, so a second run
//!   changes nothing. A seed account whose email Cadenza already has under
//!   another id is reported and skipped (its favourites with it).

use cadenza_auth::Role;
use futures::TryStreamExt;
use mongodb::bson::{Bson, DateTime, Document};
use mongodb::{Client, Database};
use serde::Serialize;

use crate::domain::Email;
use crate::store::{is_duplicate, FavoriteDoc, Store, UserDoc, UserId};

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub seen: usize,
    /// Written (or, in a dry run, that would be).
    pub imported: usize,
    /// Already present (same id, or the same favourite): left unchanged.
    pub existing: usize,
    /// Not imported; see `problems`.
    pub skipped: usize,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub dry_run: bool,
    pub users: Counts,
    pub favorites: Counts,
    pub problems: Vec<String>,
}

fn id_of(doc: &Document) -> Option<UserId> {
    match doc.get("_id")? {
        Bson::String(s) => UserId::parse(s),
        Bson::ObjectId(oid) => Some(UserId::Oid(*oid)),
        _ => None,
    }
}

fn date(doc: &Document, key: &str) -> DateTime {
    doc.get_datetime(key)
        .copied()
        .unwrap_or_else(|_| DateTime::now())
}

fn int(doc: &Document, key: &str) -> i64 {
    match doc.get(key) {
        Some(Bson::Int32(n)) => *n as i64,
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Double(n)) => *n as i64,
        _ => 0,
    }
}

pub async fn seed_database(uri: &str, db: &str) -> anyhow::Result<Database> {
    Ok(Client::with_uri_str(uri).await?.database(db))
}

pub async fn import_seed(
    seed: &Database,
    target: &Store,
    dry_run: bool,
) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport {
        dry_run,
        ..Default::default()
    };
    target.ensure_indexes().await?;
    let users: Vec<Document> = seed
        .collection::<Document>("users")
        .find(Document::new())
        .await?
        .try_collect()
        .await?;
    // Seed user ids whose favourites may follow.
    let mut present: std::collections::HashSet<String> = Default::default();
    for u in &users {
        report.users.seen += 1;
        let Some(id) = id_of(u) else {
            report.users.skipped += 1;
            report
                .problems
                .push(format!("user {:?}: unusable _id", u.get("_id")));
            continue;
        };
        let key = id.to_string();
        if target.user_by_id(&key).await?.is_some() {
            report.users.existing += 1;
            present.insert(key);
            continue;
        }
        let Some(email) = u.get_str("email").ok().and_then(|e| Email::parse(e).ok()) else {
            report.users.skipped += 1;
            report.problems.push(format!("user {key}: no valid email"));
            continue;
        };
        let password = u.get_str("password").unwrap_or_default();
        if !password.starts_with("$2") {
            report.users.skipped += 1;
            report
                .problems
                .push(format!("user {key}: password is not a bcrypt hash"));
            continue;
        }
        if target.user_by_email(email.as_str()).await?.is_some() {
            report.users.skipped += 1;
            report.problems.push(format!(
                "user {key}: {email} already has another Cadenza account"
            ));
            continue;
        }
        // The seed's roles: `admin`, or anything else (or none) a listener.
        let role = match u.get_str("role") {
            Ok("admin") => Role::Admin,
            _ => Role::User,
        };
        let doc = UserDoc {
            id,
            email: email.as_str().to_owned(),
            password: password.to_owned(),
            role,
            verified: u.get_bool("verified").unwrap_or(false),
            token_version: int(u, "tokenVersion"),
            created_at: date(u, "createdAt"),
            updated_at: date(u, "updatedAt"),
        };
        if !dry_run {
            match target.users().insert_one(&doc).await {
                Ok(_) => {}
                Err(e) if is_duplicate(&e) => {
                    report.users.existing += 1;
                    present.insert(key);
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        report.users.imported += 1;
        present.insert(key);
    }

    let favorites: Vec<Document> = seed
        .collection::<Document>("favorites")
        .find(Document::new())
        .await?
        .try_collect()
        .await?;
    for f in &favorites {
        report.favorites.seen += 1;
        let (Some(id), Ok(user_id), Ok(song_id)) =
            (id_of(f), f.get_str("userId"), f.get_str("songId"))
        else {
            report.favorites.skipped += 1;
            report
                .problems
                .push(format!("favorite {:?}: missing fields", f.get("_id")));
            continue;
        };
        if !present.contains(user_id) {
            report.favorites.skipped += 1;
            report.problems.push(format!(
                "favorite {id}: its user {user_id} was not imported"
            ));
            continue;
        }
        let doc = FavoriteDoc {
            id: Some(id),
            user_id: user_id.to_owned(),
            song_id: song_id.trim().to_ascii_lowercase(),
            created_at: date(f, "addedAt"),
        };
        if dry_run {
            let exists = target
                .favorites()
                .count_documents(
                    mongodb::bson::doc! {"userId": &doc.user_id, "songId": &doc.song_id},
                )
                .await?
                > 0;
            if exists {
                report.favorites.existing += 1;
            } else {
                report.favorites.imported += 1;
            }
            continue;
        }
        match target.favorites().insert_one(&doc).await {
            Ok(_) => report.favorites.imported += 1,
            // The same `_id`, or the same (user, song) pair: already there.
            Err(e) if is_duplicate(&e) => report.favorites.existing += 1,
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(
        users = report.users.imported,
        favorites = report.favorites.imported,
        dry_run,
        "seed accounts import finished"
    );
    Ok(report)
}
