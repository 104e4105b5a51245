//! Playlists: `playlists` (one document per list, with a `revision` that
//! every change bumps) and `playlist_entries` (one document per entry, with
//! a sparse integer position).
//!
//! - **Order without rewrites.** Entries sort by `(pos, _id)`. An append
//!   takes the last position plus [`GAP`]; an insert or a move takes a
//!   position between its neighbours, and only when two neighbours have no
//!   integer left between them is the whole list renumbered (`GAP` apart).
//!   Moving one song writes one entry.
//! - **No lost updates.** Every change runs in one transaction that first
//!   bumps the playlist's `revision` (optionally only if it still is the
//!   revision the client read: `If-Match`). Two changes to one playlist
//!   therefore conflict on that document and run one after the other; the
//!   second sees the first's entries. A client that sends `If-Match` with
//!   an older revision gets [`PlaylistError::Stale`].
//! - **The caps.** [`MAX_ENTRIES`] is checked on the bumped count inside
//!   the transaction, so concurrent adds cannot overshoot it; likewise
//!   [`MAX_PLAYLISTS`], counted after a write to the owner's
//!   `playlist_owners` document that serialises one listener's creates.

use mongodb::bson::{doc, DateTime, Document};
use mongodb::options::ReturnDocument;
use mongodb::{ClientSession, Collection};
use serde::{Deserialize, Serialize};

use futures::future::BoxFuture;
use futures::TryStreamExt;

use super::{now, DbResult, Store, Tx};
use mongodb::error::Error as MongoError;

/// The most entries one playlist holds.
pub const MAX_ENTRIES: i64 = 10_000;
/// The most playlists one listener owns.
pub const MAX_PLAYLISTS: u64 = 1_000;
/// Distance between positions written by appends and renumbering.
pub const GAP: i64 = 1 << 16;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlaylistDoc {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "ownerId")]
    pub owner_id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Any signed-in listener with the link may view and play it.
    #[serde(default)]
    pub shared: bool,
    pub revision: i64,
    /// How many entries it has.
    pub entries: i64,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime,
    #[serde(rename = "updatedAt")]
    pub updated_at: DateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntryDoc {
    /// The entry id (a song may be in a playlist more than once).
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "playlistId")]
    pub playlist_id: String,
    #[serde(rename = "songId")]
    pub song_id: String,
    pub pos: i64,
    #[serde(rename = "addedAt")]
    pub added_at: DateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum PlaylistError {
    #[error("no such playlist")]
    NotFound,
    #[error("the playlist changed (revision {current})")]
    Stale { current: i64 },
    #[error("the playlist would have {would_have} entries")]
    Full { would_have: i64 },
    #[error("no such entry")]
    NoSuchEntry,
    #[error("only its owner changes a playlist")]
    NotOwner,
    #[error("too many playlists")]
    TooMany,
    #[error(transparent)]
    Db(#[from] MongoError),
}

/// Where new or moved entries go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place<'a> {
    End,
    Before(&'a str),
}

/// `n` positions strictly between `lo` and `hi`, evenly spread; `None` when
/// there are fewer than `n` integers between them.
pub fn between(lo: i64, hi: i64, n: usize) -> Option<Vec<i64>> {
    let n = n as i128;
    let (lo, hi) = (lo as i128, hi as i128);
    if hi - lo - 1 < n {
        return None;
    }
    let step = (hi - lo) / (n + 1);
    Some((1..=n).map(|k| (lo + step * k) as i64).collect())
}

/// The result of a change: the playlist after it, and what it wrote.
type Changed<T> = Result<(PlaylistDoc, T), PlaylistError>;

impl Store {
    pub fn playlists(&self) -> Collection<PlaylistDoc> {
        self.db.collection("playlists")
    }
    pub fn playlist_entries(&self) -> Collection<EntryDoc> {
        self.db.collection("playlist_entries")
    }

    /// Creates `p` unless its owner already has [`MAX_PLAYLISTS`]. The count
    /// and the insert run in one transaction that first writes the owner's
    /// `playlist_owners` document, so concurrent creates by one listener
    /// conflict there and run one after the other: the cap cannot be
    /// overshot by a burst.
    #[tracing::instrument(name = "mongodb.create_playlist", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn create_playlist(&self, p: &PlaylistDoc) -> Result<(), PlaylistError> {
        let owners = self.db.collection::<Document>("playlist_owners");
        // Made outside the transaction: two transactions that both insert it
        // fail with a duplicate key, which is not a retryable conflict.
        match owners
            .insert_one(doc! {"_id": &p.owner_id, "creates": 0_i64})
            .await
        {
            Err(e) if !super::is_duplicate(&e) => return Err(e.into()),
            _ => {}
        }
        self.change(|mut s| {
            let owners = owners.clone();
            Box::pin(async move {
                let r: Changed<_> = async {
                    let s = &mut s;
                    owners
                        .update_one(doc! {"_id": &p.owner_id}, doc! {"$inc": {"creates": 1_i64}})
                        .session(&mut *s)
                        .await?;
                    let owned = self
                        .playlists()
                        .count_documents(doc! {"ownerId": &p.owner_id})
                        .session(&mut *s)
                        .await?;
                    if owned >= MAX_PLAYLISTS {
                        return Err(PlaylistError::TooMany);
                    }
                    self.playlists().insert_one(p).session(&mut *s).await?;
                    Ok((p.clone(), ()))
                }
                .await;
                (s, r)
            })
        })
        .await
        .map(|_| ())
    }

    #[tracing::instrument(name = "mongodb.playlists_of", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn playlists_of(&self, owner: &str) -> DbResult<Vec<PlaylistDoc>> {
        self.playlists()
            .find(doc! {"ownerId": owner})
            .sort(doc! {"updatedAt": -1, "_id": 1})
            .limit(MAX_PLAYLISTS as i64)
            .await?
            .try_collect()
            .await
    }

    #[tracing::instrument(name = "mongodb.playlist", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn playlist(&self, id: &str) -> DbResult<Option<PlaylistDoc>> {
        self.playlists().find_one(doc! {"_id": id}).await
    }

    /// A playlist and its entries in order, read in one snapshot (a
    /// transaction), so the entries are those of the revision returned.
    #[tracing::instrument(name = "mongodb.playlist_with_entries", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn playlist_with_entries(
        &self,
        id: &str,
    ) -> DbResult<Option<(PlaylistDoc, Vec<EntryDoc>)>> {
        self.transaction(tx!(|s| {
            let Some(p) = self
                .playlists()
                .find_one(doc! {"_id": id})
                .session(&mut *s)
                .await?
            else {
                return Ok(Tx::Abort(None));
            };
            let entries = self.entries_in(s, id).await?;
            Ok(Tx::Commit(Some((p, entries))))
        }))
        .await
    }

    async fn entries_in(&self, s: &mut ClientSession, id: &str) -> DbResult<Vec<EntryDoc>> {
        let mut cursor = self
            .playlist_entries()
            .find(doc! {"playlistId": id})
            .sort(doc! {"pos": 1, "_id": 1})
            .session(&mut *s)
            .await?;
        let mut out = Vec::new();
        while let Some(e) = cursor.next(&mut *s).await {
            out.push(e?);
        }
        Ok(out)
    }

    /// Bumps the revision (if it still is `expect`) and the entry count by
    /// `delta`, in `s`: the first write of every change.
    async fn bump(
        &self,
        s: &mut ClientSession,
        id: &str,
        owner: &str,
        expect: Option<i64>,
        delta: i64,
        set: Document,
    ) -> Result<PlaylistDoc, PlaylistError> {
        let mut filter = doc! {"_id": id, "ownerId": owner};
        if let Some(r) = expect {
            filter.insert("revision", r);
        }
        let mut set = set;
        set.insert("updatedAt", now());
        let updated = self
            .playlists()
            .find_one_and_update(
                filter,
                doc! {"$inc": {"revision": 1_i64, "entries": delta}, "$set": set},
            )
            .return_document(ReturnDocument::After)
            .session(&mut *s)
            .await?;
        match updated {
            Some(p) => Ok(p),
            None => {
                let current = self
                    .playlists()
                    .find_one(doc! {"_id": id, "ownerId": owner})
                    .session(&mut *s)
                    .await?;
                if let Some(p) = current {
                    return Err(PlaylistError::Stale {
                        current: p.revision,
                    });
                }
                // Another listener's: shared ones are theirs to see, not change.
                let shared = self
                    .playlists()
                    .find_one(doc! {"_id": id, "shared": true})
                    .session(&mut *s)
                    .await?
                    .is_some();
                Err(if shared {
                    PlaylistError::NotOwner
                } else {
                    PlaylistError::NotFound
                })
            }
        }
    }

    /// Runs `change` in a transaction, retried while the server calls the
    /// failure transient (two changes to one playlist, or two creates by one
    /// owner, at once); a domain error aborts it. Only one of the writers
    /// that collide on a document commits per round, so the retries are
    /// bounded by time, not by count: with a fixed count, the twelfth of
    /// twelve simultaneous writers ran out. `change` gets the session and
    /// hands it back.
    async fn change<'a, T, F>(&'a self, mut change: F) -> Changed<T>
    where
        F: FnMut(ClientSession) -> BoxFuture<'a, (ClientSession, Changed<T>)>,
    {
        const GIVE_UP_AFTER: std::time::Duration = std::time::Duration::from_secs(5);
        let started = tokio::time::Instant::now();
        let mut attempt: u32 = 0;
        loop {
            let s = self.begin().await?;
            let (mut s, result) = change(s).await;
            let result = match result {
                Ok(v) => commit(&mut s, started + GIVE_UP_AFTER).await.map(|_| v),
                Err(e) => {
                    let _ = s.abort_transaction().await;
                    Err(e)
                }
            };
            match result {
                Err(PlaylistError::Db(e))
                    if started.elapsed() < GIVE_UP_AFTER
                        && e.contains_label(mongodb::error::TRANSIENT_TRANSACTION_ERROR) =>
                {
                    // Growing and jittered, so that writers which collided
                    // do not collide again in lockstep.
                    attempt = attempt.saturating_add(1);
                    let base = (5_u64 << attempt.min(5)).min(100);
                    let jitter = (uuid::Uuid::new_v4().as_u128() % u128::from(base)) as u64;
                    tokio::time::sleep(std::time::Duration::from_millis(base / 2 + jitter)).await;
                }
                other => return other,
            }
        }
    }

    #[tracing::instrument(name = "mongodb.update_playlist", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn update_playlist(
        &self,
        id: &str,
        owner: &str,
        expect: Option<i64>,
        set: Document,
    ) -> Result<PlaylistDoc, PlaylistError> {
        self.change(|mut s| {
            let set = set.clone();
            Box::pin(async move {
                let r = self.bump(&mut s, id, owner, expect, 0, set).await;
                (s, r.map(|p| (p, ())))
            })
        })
        .await
        .map(|(p, ())| p)
    }

    #[tracing::instrument(name = "mongodb.delete_playlist", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn delete_playlist(
        &self,
        id: &str,
        owner: &str,
        expect: Option<i64>,
    ) -> Result<(), PlaylistError> {
        self.change(|mut s| {
            Box::pin(async move {
                let r: Changed<_> = async {
                    let s = &mut s;
                    let p = self.bump(s, id, owner, expect, 0, doc! {}).await?;
                    self.playlist_entries()
                        .delete_many(doc! {"playlistId": id})
                        .session(&mut *s)
                        .await?;
                    self.playlists()
                        .delete_one(doc! {"_id": id})
                        .session(&mut *s)
                        .await?;
                    Ok((p, ()))
                }
                .await;
                (s, r)
            })
        })
        .await
        .map(|_| ())
    }

    /// The positions new entries at `place` go strictly between: the
    /// entry before the spot (none at the start) and the one after it (none
    /// at the end), leaving out the entry being moved.
    async fn bounds(
        &self,
        s: &mut ClientSession,
        id: &str,
        place: Place<'_>,
        moving: Option<&str>,
    ) -> Result<(Option<i64>, Option<i64>), PlaylistError> {
        let mut filter = doc! {"playlistId": id};
        if let Some(m) = moving {
            filter.insert("_id", doc! {"$ne": m});
        }
        let hi = match place {
            Place::End => None,
            Place::Before(entry) => {
                let target = self
                    .playlist_entries()
                    .find_one(doc! {"_id": entry, "playlistId": id})
                    .session(&mut *s)
                    .await?
                    .ok_or(PlaylistError::NoSuchEntry)?;
                filter.insert("pos", doc! {"$lt": target.pos});
                Some(target.pos)
            }
        };
        let lo = self
            .playlist_entries()
            .find_one(filter)
            .sort(doc! {"pos": -1, "_id": -1})
            .session(&mut *s)
            .await?
            .map(|e| e.pos);
        Ok((lo, hi))
    }

    /// `n` positions at `place`, renumbering the playlist first if its
    /// neighbours there leave no room.
    async fn place(
        &self,
        s: &mut ClientSession,
        id: &str,
        place: Place<'_>,
        moving: Option<&str>,
        n: usize,
    ) -> Result<Vec<i64>, PlaylistError> {
        for renumbered in [false, true] {
            if renumbered {
                let mut all = self.entries_in(s, id).await?;
                self.renumber(s, &mut all).await?;
            }
            let spread = match self.bounds(s, id, place, moving).await? {
                (lo, None) => {
                    let lo = lo.unwrap_or(0);
                    lo.checked_add(GAP * n as i64)
                        .map(|_| (1..=n as i64).map(|k| lo + GAP * k).collect())
                }
                (lo, Some(hi)) => {
                    between(lo.unwrap_or(hi.saturating_sub(GAP * (n as i64 + 1))), hi, n)
                }
            };
            if let Some(pos) = spread {
                return Ok(pos);
            }
        }
        unreachable!("a renumbered playlist has room at every place")
    }

    /// Renumbers every entry of a playlist `GAP` apart, in order.
    async fn renumber(&self, s: &mut ClientSession, entries: &mut [EntryDoc]) -> DbResult<()> {
        for (i, e) in entries.iter_mut().enumerate() {
            e.pos = GAP * (i as i64 + 1);
            self.playlist_entries()
                .update_one(doc! {"_id": &e.id}, doc! {"$set": {"pos": e.pos}})
                .session(&mut *s)
                .await?;
        }
        Ok(())
    }

    /// Adds `songs` (in that order) at `place`.
    #[tracing::instrument(name = "mongodb.add_entries", skip_all, fields(otel.kind = "client", db.system = "mongodb", count = songs.len()))]
    pub async fn add_entries(
        &self,
        id: &str,
        owner: &str,
        expect: Option<i64>,
        songs: &[String],
        place: Place<'_>,
    ) -> Changed<Vec<EntryDoc>> {
        self.change(|mut s| {
            Box::pin(async move {
                let r: Changed<_> = async {
                    let s = &mut s;
                    let n = songs.len() as i64;
                    let p = self.bump(s, id, owner, expect, n, doc! {}).await?;
                    if p.entries > MAX_ENTRIES {
                        return Err(PlaylistError::Full {
                            would_have: p.entries,
                        });
                    }
                    let pos = self.place(s, id, place, None, songs.len()).await?;
                    let at = now();
                    let new: Vec<EntryDoc> = songs
                        .iter()
                        .zip(pos)
                        .map(|(song, pos)| EntryDoc {
                            id: uuid::Uuid::new_v4().to_string(),
                            playlist_id: id.to_owned(),
                            song_id: song.clone(),
                            pos,
                            added_at: at,
                        })
                        .collect();
                    if !new.is_empty() {
                        self.playlist_entries()
                            .insert_many(&new)
                            .session(&mut *s)
                            .await?;
                    }
                    Ok((p, new))
                }
                .await;
                (s, r)
            })
        })
        .await
    }

    #[tracing::instrument(name = "mongodb.remove_entry", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn remove_entry(
        &self,
        id: &str,
        owner: &str,
        expect: Option<i64>,
        entry: &str,
    ) -> Result<PlaylistDoc, PlaylistError> {
        self.change(|mut s| {
            Box::pin(async move {
                let r: Changed<_> = async {
                    let s = &mut s;
                    let p = self.bump(s, id, owner, expect, -1, doc! {}).await?;
                    let gone = self
                        .playlist_entries()
                        .delete_one(doc! {"_id": entry, "playlistId": id})
                        .session(&mut *s)
                        .await?;
                    if gone.deleted_count == 0 {
                        return Err(PlaylistError::NoSuchEntry);
                    }
                    Ok((p, ()))
                }
                .await;
                (s, r)
            })
        })
        .await
        .map(|(p, ())| p)
    }

    /// Moves one entry to `place`: one entry written (all of them only when
    /// its new neighbours leave no room).
    #[tracing::instrument(name = "mongodb.move_entry", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn move_entry(
        &self,
        id: &str,
        owner: &str,
        expect: Option<i64>,
        entry: &str,
        place: Place<'_>,
    ) -> Result<(PlaylistDoc, i64), PlaylistError> {
        if place == Place::Before(entry) {
            return Err(PlaylistError::NoSuchEntry);
        }
        self.change(|mut s| {
            Box::pin(async move {
                let r: Changed<_> = async {
                    let s = &mut s;
                    let p = self.bump(s, id, owner, expect, 0, doc! {}).await?;
                    let exists = self
                        .playlist_entries()
                        .find_one(doc! {"_id": entry, "playlistId": id})
                        .session(&mut *s)
                        .await?
                        .is_some();
                    if !exists {
                        return Err(PlaylistError::NoSuchEntry);
                    }
                    let pos = self.place(s, id, place, Some(entry), 1).await?[0];
                    self.playlist_entries()
                        .update_one(doc! {"_id": entry}, doc! {"$set": {"pos": pos}})
                        .session(&mut *s)
                        .await?;
                    Ok((p, pos))
                }
                .await;
                (s, r)
            })
        })
        .await
    }

    /// A song left the catalogue: its entries leave every playlist (each
    /// playlist's count and revision follow, in one transaction per
    /// playlist) and it leaves every favourite list and listening history.
    /// Returns how many entries and favourites went.
    #[tracing::instrument(name = "mongodb.forget_song", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn forget_song(&self, song: &str) -> DbResult<(u64, u64)> {
        self.forget_songs(None, &[song.to_owned()]).await
    }

    /// [`Self::forget_song`] for several songs, in every listener's data
    /// (`owner` None: the catalogue deleted them; history goes too) or only
    /// in one listener's playlists and favourites (the repair of a deletion
    /// whose event was missed, asked for by that listener's client: what
    /// their remove buttons could do, so their history stays). A listener's
    /// repair looks only at their own playlists (indexed on `ownerId`, at
    /// most 1000), never at everyone's entries.
    #[tracing::instrument(name = "mongodb.forget_songs", skip_all, fields(otel.kind = "client", db.system = "mongodb", count = songs.len()))]
    pub async fn forget_songs(
        &self,
        owner: Option<&str>,
        songs: &[String],
    ) -> DbResult<(u64, u64)> {
        let scope = match owner {
            None => doc! {"songId": {"$in": songs}},
            Some(owner) => {
                let owned: Vec<String> = self
                    .db
                    .collection::<Document>("playlists")
                    .find(doc! {"ownerId": owner})
                    .projection(doc! {"_id": 1})
                    .await?
                    .try_collect::<Vec<_>>()
                    .await?
                    .into_iter()
                    .filter_map(|d| d.get_str("_id").ok().map(str::to_owned))
                    .collect();
                doc! {"playlistId": {"$in": owned}, "songId": {"$in": songs}}
            }
        };
        let mut lists: Vec<String> = self
            .playlist_entries()
            .distinct("playlistId", scope)
            .await?
            .into_iter()
            .filter_map(|b| b.as_str().map(str::to_owned))
            .collect();
        lists.sort();
        let mut entries = 0;
        let mut first_error = None;
        for list in &lists {
            let removed = self
                .change(|mut s| {
                    Box::pin(async move {
                        let r: Changed<_> = async {
                            let s = &mut s;
                            let gone = self
                                .playlist_entries()
                                .delete_many(doc! {"playlistId": list, "songId": {"$in": songs}})
                                .session(&mut *s)
                                .await?
                                .deleted_count;
                            if gone == 0 {
                                // Removed meanwhile: no change, no new revision.
                                return Err(PlaylistError::NoSuchEntry);
                            }
                            let p = self
                                .playlists()
                                .find_one_and_update(
                                    doc! {"_id": list},
                                    doc! {"$inc": {"revision": 1_i64, "entries": -(gone as i64)},
                                    "$set": {"updatedAt": now()}},
                                )
                                .return_document(ReturnDocument::After)
                                .session(&mut *s)
                                .await?
                                .ok_or(PlaylistError::NotFound)?;
                            Ok((p, gone))
                        }
                        .await;
                        (s, r)
                    })
                })
                .await;
            match removed {
                Ok((_, gone)) => entries += gone,
                // Deleted meanwhile (its entries went with it), or nothing left to remove.
                Err(PlaylistError::NotFound | PlaylistError::NoSuchEntry) => {}
                // One busy playlist must not keep the song in every other
                // list: go on, and report the first failure at the end.
                Err(PlaylistError::Db(e)) => {
                    tracing::warn!(playlist = %list, error = %e, "could not remove a deleted song from a playlist");
                    first_error.get_or_insert(e);
                }
                Err(other) => {
                    tracing::warn!(playlist = %list, error = %other, "forgetting a song in a playlist");
                }
            }
        }
        let mut filter = doc! {"songId": {"$in": songs}};
        if let Some(owner) = owner {
            filter.insert("userId", owner);
        }
        let favorites = self
            .favorites()
            .delete_many(filter.clone())
            .await?
            .deleted_count;
        if owner.is_none() {
            self.forget_plays(filter).await?;
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok((entries, favorites)),
        }
    }
}

/// Commits, and commits again while the server cannot say whether the
/// commit took (a lost connection, a primary stepping down): committing a
/// committed transaction again succeeds, so a change whose commit took is
/// not answered with an error (and then repeated by its client).
async fn commit(s: &mut ClientSession, until: tokio::time::Instant) -> Result<(), PlaylistError> {
    loop {
        match s.commit_transaction().await {
            Err(e)
                if tokio::time::Instant::now() < until
                    && e.contains_label(mongodb::error::UNKNOWN_TRANSACTION_COMMIT_RESULT) =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            other => return other.map_err(Into::into),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_between_neighbours_are_spread_or_refused() {
        assert_eq!(between(0, 10, 1), Some(vec![5]));
        assert_eq!(between(0, 4, 3), Some(vec![1, 2, 3]));
        assert_eq!(between(0, 4, 4), None);
        assert_eq!(between(5, 6, 1), None, "adjacent: renumber");
        assert_eq!(between(i64::MIN, i64::MAX, 1), Some(vec![-1]));
    }
}
