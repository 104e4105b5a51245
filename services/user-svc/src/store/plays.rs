//! Listening history: `plays` (one document per counted playback) and
//! `play_counts` (per listener and song). A playback is counted once: its
//! `_id` is the listener's id and the player's playback id, so a report
//! sent twice (a retry, two tabs replaying a queue) finds the first and
//! changes nothing. The count is bumped in the same transaction as the
//! insert, so counts and plays always agree.

use std::time::Duration;

use futures::TryStreamExt;
use mongodb::bson::{doc, DateTime, Document};
use serde::{Deserialize, Serialize};

use super::{is_duplicate, DbResult, Store, Tx};

/// The most plays of one song one listener adds to trending in a window.
pub const TREND_PLAYS_PER_LISTENER: i64 = 5;

/// Plays older than this are forgotten (the TTL index on `at`).
pub const KEEP_PLAYS: Duration = Duration::from_secs(365 * 86_400);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlayDoc {
    /// `<userId>:<playbackId>`.
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(rename = "songId")]
    pub song_id: String,
    pub at: DateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlayCountDoc {
    /// `<userId>:<songId>`.
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(rename = "songId")]
    pub song_id: String,
    pub count: i64,
    #[serde(rename = "lastAt")]
    pub last_at: DateTime,
}

/// One song's plays in the trending window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Trend {
    #[serde(rename = "_id")]
    pub song_id: String,
    pub plays: i64,
}

impl Store {
    pub fn plays(&self) -> mongodb::Collection<PlayDoc> {
        self.db.collection("plays")
    }
    pub fn play_counts(&self) -> mongodb::Collection<PlayCountDoc> {
        self.db.collection("play_counts")
    }

    /// Counts one playback; `false` when it was counted already.
    #[tracing::instrument(name = "mongodb.record_play", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn record_play(
        &self,
        user: &str,
        playback: &str,
        song: &str,
        at: DateTime,
    ) -> DbResult<bool> {
        let play = PlayDoc {
            id: format!("{user}:{playback}"),
            user_id: user.to_owned(),
            song_id: song.to_owned(),
            at,
        };
        let play = &play;
        let result = self
            .transaction(tx!(|s| {
                self.plays().insert_one(play).session(&mut *s).await?;
                self.play_counts()
                    .update_one(
                        doc! {"_id": format!("{user}:{song}")},
                        doc! {"$inc": {"count": 1_i64},
                        "$max": {"lastAt": at},
                        "$setOnInsert": {"userId": user, "songId": song}},
                    )
                    .upsert(true)
                    .session(&mut *s)
                    .await?;
                Ok(Tx::Commit(()))
            }))
            .await;
        match result {
            Ok(()) => Ok(true),
            // The playback's key: counted already. A duplicate from the
            // count's upsert (a concurrent first play of the song) is not
            // that: the transaction was rolled back, so count it again.
            Err(e) if is_duplicate(&e) => {
                if self
                    .plays()
                    .find_one(doc! {"_id": &play.id})
                    .await?
                    .is_some()
                {
                    Ok(false)
                } else {
                    Box::pin(self.record_play(user, playback, song, at)).await
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The newest `limit` plays of a listener, newest first.
    #[tracing::instrument(name = "mongodb.recent_plays", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn recent_plays(&self, user: &str, limit: i64) -> DbResult<Vec<PlayDoc>> {
        self.plays()
            .find(doc! {"userId": user})
            .sort(doc! {"at": -1, "_id": -1})
            .limit(limit)
            .await?
            .try_collect()
            .await
    }

    /// A listener's most played songs, most first.
    #[tracing::instrument(name = "mongodb.play_counts_of", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn play_counts_of(&self, user: &str, limit: i64) -> DbResult<Vec<PlayCountDoc>> {
        self.play_counts()
            .find(doc! {"userId": user})
            .sort(doc! {"count": -1, "lastAt": -1})
            .limit(limit)
            .await?
            .try_collect()
            .await
    }

    /// The songs played most by everyone since `since`, most first. One
    /// listener adds at most [`TREND_PLAYS_PER_LISTENER`] plays of a song,
    /// so no single account (or script) can push a song up the list.
    #[tracing::instrument(name = "mongodb.trending", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn trending(&self, since: DateTime, limit: i64) -> DbResult<Vec<Trend>> {
        let pipeline: Vec<Document> = vec![
            doc! {"$match": {"at": {"$gte": since}}},
            doc! {"$group": {"_id": {"s": "$songId", "u": "$userId"}, "n": {"$sum": 1_i64}}},
            doc! {"$group": {"_id": "$_id.s", "plays": {"$sum": {"$min": ["$n", TREND_PLAYS_PER_LISTENER]}}}},
            doc! {"$sort": {"plays": -1, "_id": 1}},
            doc! {"$limit": limit},
        ];
        let docs: Vec<Document> = self
            .plays()
            .aggregate(pipeline)
            .await?
            .try_collect()
            .await?;
        Ok(docs
            .into_iter()
            .filter_map(|d| {
                Some(Trend {
                    song_id: d.get_str("_id").ok()?.to_owned(),
                    plays: d
                        .get_i64("plays")
                        .or_else(|_| d.get_i32("plays").map(i64::from))
                        .ok()?,
                })
            })
            .collect())
    }

    /// Songs left the catalogue: the plays and counts `filter` names
    /// (by `songId`, and `userId` for one listener's) leave the history.
    pub(super) async fn forget_plays(&self, filter: Document) -> DbResult<()> {
        self.plays().delete_many(filter.clone()).await?;
        self.play_counts().delete_many(filter).await?;
        Ok(())
    }
}
