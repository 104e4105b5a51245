//! Playlists (issue 19) on the real MongoDB-wire server: order kept with one
//! write per move, `If-Match` conflicts, the cap under concurrent adds,
//! sharing, write limits, and a deleted song leaving every list.

mod common;

use cadenza_events::{channel, Envelope, Publisher, SongEvent};
use common::*;
use mongodb::bson::{doc, Document};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

fn song() -> String {
    Uuid::new_v4().to_string()
}

struct Lists<'w> {
    w: &'w World,
    token: String,
}

impl Lists<'_> {
    async fn create(&self, name: &str) -> (String, String) {
        let r = self
            .w
            .call(
                Req::post("/api/user/playlists")
                    .bearer(&self.token)
                    .json(json!({"name": name})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (
            r.json["playlist"]["id"].as_str().unwrap().to_owned(),
            etag(&r),
        )
    }

    async fn get(&self, id: &str) -> Resp {
        self.w
            .call(Req::get(&format!("/api/user/playlists/{id}")).bearer(&self.token))
            .await
    }

    /// Song ids in play order, and the ETag.
    async fn order(&self, id: &str) -> (Vec<String>, Vec<String>, String) {
        let r = self.get(id).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let entries = r.json["entries"].as_array().unwrap();
        let songs = entries
            .iter()
            .map(|e| e["songId"].as_str().unwrap().to_owned())
            .collect();
        let ids = entries
            .iter()
            .map(|e| e["entryId"].as_str().unwrap().to_owned())
            .collect();
        (songs, ids, etag(&r))
    }

    async fn add(&self, id: &str, songs: Vec<String>, if_match: Option<&str>) -> Resp {
        let path = format!("/api/user/playlists/{id}/entries");
        let mut req = Req::post(&path)
            .bearer(&self.token)
            .json(json!({"songIds": songs}));
        if let Some(t) = if_match {
            req = req.header("if-match", t);
        }
        self.w.call(req).await
    }

    async fn change(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Resp {
        let mut req = Req::new(method, path).bearer(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(t) = if_match {
            req = req.header("if-match", t);
        }
        self.w.call(req).await
    }
}

fn etag(r: &Resp) -> String {
    r.headers
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_owned()
}

async fn lists<'w>(w: &'w World, email: &str) -> Lists<'w> {
    let s = w.user(email).await;
    Lists { w, token: s.access }
}

async fn positions(w: &World, playlist: &str) -> Vec<(String, i64)> {
    let coll = w.mongo().await.collection::<Document>("playlist_entries");
    let mut out = Vec::new();
    let mut c = coll
        .find(doc! {"playlistId": playlist})
        .sort(doc! {"_id": 1})
        .await
        .unwrap();
    while c.advance().await.unwrap() {
        let d = c.deserialize_current().unwrap();
        out.push((
            d.get_str("_id").unwrap().to_owned(),
            d.get_i64("pos").unwrap(),
        ));
    }
    out
}

#[tokio::test]
async fn songs_keep_their_order_and_a_move_writes_one_entry() {
    let w = World::new().await;
    let me = lists(&w, "order@example.com").await;
    let (id, tag) = me.create("Road trip").await;
    let (a, b, c) = (song(), song(), song());
    let r = me
        .add(&id, vec![a.clone(), b.clone(), c.clone(), a.clone()], None)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_ne!(etag(&r), tag, "the revision moved on");
    assert_eq!(r.json["playlist"]["entryCount"], 4);
    let (songs, entries, tag) = me.order(&id).await;
    assert_eq!(
        songs,
        vec![a.clone(), b.clone(), c.clone(), a.clone()],
        "the same song may be there twice"
    );

    // Move c before the first a: only c's position changes.
    let before = positions(&w, &id).await;
    let r = me
        .change(
            Method::PUT,
            &format!("/api/user/playlists/{id}/entries/{}/position", entries[2]),
            Some(json!({"before": entries[0]})),
            Some(&tag),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let after = positions(&w, &id).await;
    let changed: Vec<_> = before.iter().zip(&after).filter(|(x, y)| x != y).collect();
    assert_eq!(changed.len(), 1, "one entry written: {changed:?}");
    let (songs, entries, tag) = me.order(&id).await;
    assert_eq!(songs, vec![c.clone(), a.clone(), b.clone(), a.clone()]);

    // Insert between neighbours until they have no room left: the list is
    // renumbered and the order stays right.
    let mut expected = songs.clone();
    let mut tag = tag;
    // The last entry is never a neighbour of these inserts: only a
    // renumbering moves its position.
    let pos_of = |all: &[(String, i64)], e: &str| all.iter().find(|(id, _)| id == e).unwrap().1;
    let last_id = entries[3].clone();
    let last_before = pos_of(&positions(&w, &id).await, &last_id);
    for i in 0..20 {
        let s = song();
        let r = w
            .call(
                Req::post(&format!("/api/user/playlists/{id}/entries"))
                    .bearer(&me.token)
                    .json(json!({"songIds": [s], "before": entries[1]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "insert {i}: {}", r.text);
        let at = expected.len() - 3;
        expected.insert(at, s);
        tag = etag(&r);
    }
    let (songs, entries, _) = me.order(&id).await;
    assert_eq!(
        songs, expected,
        "17 halvings exhaust a gap of 2^16: renumbered on the way"
    );
    assert_ne!(
        pos_of(&positions(&w, &id).await, &last_id),
        last_before,
        "the playlist was renumbered"
    );

    // To the end, then remove one entry.
    let r = me
        .change(
            Method::PUT,
            &format!("/api/user/playlists/{id}/entries/{}/position", entries[0]),
            Some(json!({"before": null})),
            Some(&tag),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let tag = etag(&r);
    let r = me
        .change(
            Method::DELETE,
            &format!("/api/user/playlists/{id}/entries/{}", entries[1]),
            None,
            Some(&tag),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (songs, _, _) = me.order(&id).await;
    let mut want = expected.clone();
    let first = want.remove(0);
    want.remove(0);
    want.push(first);
    assert_eq!(songs, want);
    assert_eq!(r.json["playlist"]["entryCount"], want.len());
}

#[tokio::test]
async fn a_stale_if_match_is_refused_with_412_and_a_missing_one_with_428() {
    let w = World::new().await;
    let me = lists(&w, "tabs@example.com").await;
    let (id, tag) = me.create("Two tabs").await;
    let path = format!("/api/user/playlists/{id}");
    // Tab one renames; tab two, holding the same ETag, is refused.
    let one = me
        .change(
            Method::PATCH,
            &path,
            Some(json!({"name": "One"})),
            Some(&tag),
        )
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    let two = me
        .change(
            Method::PATCH,
            &path,
            Some(json!({"name": "Two"})),
            Some(&tag),
        )
        .await;
    assert_eq!(two.status, StatusCode::PRECONDITION_FAILED, "{}", two.text);
    assert_eq!(etag(&two), etag(&one), "the 412 names the current ETag");
    assert_eq!(me.get(&id).await.json["playlist"]["name"], "One");
    // No If-Match on a change that could overwrite: 428.
    let none = me
        .change(Method::PATCH, &path, Some(json!({"name": "Three"})), None)
        .await;
    assert_eq!(
        none.status,
        StatusCode::PRECONDITION_REQUIRED,
        "{}",
        none.text
    );
    let del = me.change(Method::DELETE, &path, None, None).await;
    assert_eq!(del.status, StatusCode::PRECONDITION_REQUIRED);
    // An add needs none, but honours a stale one.
    assert_eq!(
        me.add(&id, vec![song()], None).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        me.add(&id, vec![song()], Some(&tag)).await.status,
        StatusCode::PRECONDITION_FAILED
    );
    // Unchanged since read: 304 for a GET that names the ETag.
    let current = etag(&me.get(&id).await);
    let r = w
        .call(
            Req::get(&path)
                .bearer(&me.token)
                .header("if-none-match", current.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    // Bad input names its field.
    let r = me
        .change(
            Method::PATCH,
            &path,
            Some(json!({"name": "  "})),
            Some(&current),
        )
        .await;
    assert_eq!(
        (r.status, r.problem_field().as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("name"))
    );
    // Id-like but not a catalogue id (a UUID): refused, so that no list
    // holds an id song-svc's lookup would refuse.
    let r = me.add(&id, vec!["aaaa".to_owned()], None).await;
    assert_eq!(
        (r.status, r.problem_field().as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("songIds"))
    );
    let r = w
        .call(
            Req::post(&format!("/api/user/playlists/{id}/entries"))
                .bearer(&me.token)
                .json(json!({"songIds": [song()], "before": "x"})),
        )
        .await;
    assert_eq!(
        (r.status, r.problem_field().as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("before"))
    );
    let r = me.add(&id, vec!["not a song".to_owned()], None).await;
    assert_eq!(
        (r.status, r.problem_field().as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("songIds"))
    );
    // Deleted with the current tag; gone.
    let r = me.change(Method::DELETE, &path, None, Some(&current)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(me.get(&id).await.status, StatusCode::NOT_FOUND);
    let left = w
        .mongo()
        .await
        .collection::<Document>("playlist_entries")
        .count_documents(doc! {"playlistId": &id})
        .await
        .unwrap();
    assert_eq!(left, 0, "its entries went with it");
}

/// The check-then-act of the cap, raced: the playlist holds 9 990 entries
/// and eight adds of five songs arrive at once. Exactly two fit; the others
/// are 422s; the count and the entries agree at 10 000. Concurrent adds
/// under the cap all land, each entry once.
#[tokio::test]
async fn concurrent_adds_all_land_and_never_pass_the_cap() {
    let w = World::new().await;
    let me = lists(&w, "cap@example.com").await;
    let (id, _) = me.create("Racing").await;
    let adds =
        futures::future::join_all((0..8).map(|_| me.add(&id, vec![song(), song()], None))).await;
    for r in &adds {
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let (songs, _, _) = me.order(&id).await;
    assert_eq!(songs.len(), 16);
    let mut p: Vec<i64> = positions(&w, &id)
        .await
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    p.sort();
    p.dedup();
    assert_eq!(p.len(), 16, "no two entries share a position");

    // Fill to 9 990 behind the API's back, as if added over months.
    let db = w.mongo().await;
    let filler: Vec<Document> = (0..9_974)
        .map(|i| {
            doc! {"_id": Uuid::new_v4().to_string(), "playlistId": &id, "songId": Uuid::new_v4().to_string(),
            "pos": 1_000_000_000_i64 + i, "addedAt": mongodb::bson::DateTime::now()}
        })
        .collect();
    db.collection::<Document>("playlist_entries")
        .insert_many(filler)
        .await
        .unwrap();
    db.collection::<Document>("playlists")
        .update_one(doc! {"_id": &id}, doc! {"$set": {"entries": 9_990_i64}})
        .await
        .unwrap();
    let adds = futures::future::join_all(
        (0..8).map(|_| me.add(&id, vec![song(), song(), song(), song(), song()], None)),
    )
    .await;
    let ok = adds
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let full = adds
        .iter()
        .filter(|r| {
            r.status == StatusCode::UNPROCESSABLE_ENTITY
                && r.problem_field().as_deref() == Some("songIds")
        })
        .count();
    assert_eq!(
        (ok, full),
        (2, 6),
        "{:?}",
        adds.iter().map(|r| (r.status, &r.text)).collect::<Vec<_>>()
    );
    let doc = db
        .collection::<Document>("playlists")
        .find_one(doc! {"_id": &id})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(doc.get_i64("entries").unwrap(), 10_000);
    let stored = db
        .collection::<Document>("playlist_entries")
        .count_documents(doc! {"playlistId": &id})
        .await
        .unwrap();
    assert_eq!(stored, 10_000);
}

/// The check-then-act of the 1 000-playlist cap, raced: a listener with
/// 997 playlists sends twelve creates at once. Exactly three land, the
/// others are 422s naming `name`, and the listener owns 1 000.
#[tokio::test]
async fn concurrent_creates_never_pass_the_playlist_cap() {
    let w = World::new().await;
    let s = w.user("many@example.com").await;
    let me = Lists {
        w: &w,
        token: s.access.clone(),
    };
    let db = w.mongo().await;
    let now = mongodb::bson::DateTime::now();
    let filler: Vec<Document> = (0..997)
        .map(|i| {
            doc! {"_id": Uuid::new_v4().to_string(), "ownerId": &s.user_id, "name": format!("Old {i}"),
            "description": "", "shared": false, "revision": 1_i64, "entries": 0_i64,
            "createdAt": now, "updatedAt": now}
        })
        .collect();
    db.collection::<Document>("playlists")
        .insert_many(filler)
        .await
        .unwrap();
    let create = |i: usize| {
        me.w.call(
            Req::post("/api/user/playlists")
                .bearer(&me.token)
                .json(json!({"name": format!("New {i}")})),
        )
    };
    let mut creates = futures::future::join_all((0..12).map(create)).await;
    // Colliding creates run one after the other, within a time budget; on a
    // loaded machine the last ones may run out of it and answer 503 with
    // Retry-After, which a client retries. Retried like that, each create
    // ends as a 201 or as the cap's 422.
    for (i, r) in creates.iter_mut().enumerate() {
        for _ in 0..10 {
            if r.status != StatusCode::SERVICE_UNAVAILABLE {
                break;
            }
            r.assert_unavailable("a create past its time budget");
            *r = create(i).await;
        }
    }
    let ok = creates
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let full = creates
        .iter()
        .filter(|r| {
            r.status == StatusCode::UNPROCESSABLE_ENTITY
                && r.problem_field().as_deref() == Some("name")
        })
        .count();
    assert_eq!(
        (ok, full),
        (3, 9),
        "{:?}",
        creates
            .iter()
            .map(|r| (r.status, &r.text))
            .collect::<Vec<_>>()
    );
    let owned = db
        .collection::<Document>("playlists")
        .count_documents(doc! {"ownerId": &s.user_id})
        .await
        .unwrap();
    assert_eq!(owned, 1_000);
}

#[tokio::test]
async fn a_shared_playlist_is_read_only_to_others_and_a_private_one_invisible() {
    let w = World::new().await;
    let owner = lists(&w, "owner@example.com").await;
    let other = lists(&w, "other@example.com").await;
    let (id, _) = owner.create("Mine").await;
    assert_eq!(
        owner.add(&id, vec![song()], None).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        other.get(&id).await.status,
        StatusCode::NOT_FOUND,
        "private"
    );
    let path = format!("/api/user/playlists/{id}");
    let tag = etag(&owner.get(&id).await);
    let r = owner
        .change(
            Method::PATCH,
            &path,
            Some(json!({"shared": true})),
            Some(&tag),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let seen = other.get(&id).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text);
    assert_eq!(seen.json["playlist"]["owned"], false);
    assert_eq!(seen.json["entries"].as_array().unwrap().len(), 1);
    // Others cannot change it, with or without its ETag.
    let tag = etag(&seen);
    let r = other
        .change(
            Method::PATCH,
            &path,
            Some(json!({"name": "Theirs"})),
            Some(&tag),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(
        other.add(&id, vec![song()], None).await.status,
        StatusCode::FORBIDDEN
    );
    let r = other.change(Method::DELETE, &path, None, Some(&tag)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Without a tag too: "send If-Match" (428) would not help them.
    let r = other
        .change(Method::PATCH, &path, Some(json!({"name": "Theirs"})), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = other.change(Method::DELETE, &path, None, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // Their own list does not show it.
    let r = w
        .call(Req::get("/api/user/playlists").bearer(&other.token))
        .await;
    assert_eq!(r.json["playlists"].as_array().unwrap().len(), 0);
    let r = w
        .call(Req::get("/api/user/playlists").bearer(&owner.token))
        .await;
    assert_eq!(r.json["playlists"][0]["name"], "Mine");
    // Back to private: hidden again; and no token at all is a 401.
    let r = owner
        .change(
            Method::PATCH,
            &path,
            Some(json!({"shared": false})),
            Some(&tag),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(other.get(&id).await.status, StatusCode::NOT_FOUND);
    let r = other.change(Method::DELETE, &path, None, None).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "private, with or without a tag"
    );
    assert_eq!(
        w.call(Req::get(&path)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn playlist_writes_are_limited_per_listener() {
    let w = World::with(|c| {
        c.limits.playlist_writes_per_user = cadenza_platform::ratelimit::Rule::per_minute(3);
    })
    .await;
    let me = lists(&w, "busy@example.com").await;
    let (id, _) = me.create("Busy").await;
    assert_eq!(
        me.add(&id, vec![song()], None).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        me.add(&id, vec![song()], None).await.status,
        StatusCode::CREATED
    );
    let r = me.add(&id, vec![song()], None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert!(r.headers.get("retry-after").is_some());
    // Reading is not limited.
    assert_eq!(me.get(&id).await.status, StatusCode::OK);
}

/// Two listeners' playlists holding a song about to leave the catalogue:
/// `one`'s as `gone, kept, gone`, `two`'s as `gone`.
struct Holding {
    gone: String,
    kept: String,
    p1: String,
    p2: String,
}

async fn holding(one: &Lists<'_>, two: &Lists<'_>) -> Holding {
    let (gone, kept) = (song(), song());
    let (p1, _) = one.create("One").await;
    let (p2, _) = two.create("Two").await;
    assert_eq!(
        one.add(&p1, vec![gone.clone(), kept.clone(), gone.clone()], None)
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        two.add(&p2, vec![gone.clone()], None).await.status,
        StatusCode::CREATED
    );
    Holding { gone, kept, p1, p2 }
}

#[tokio::test]
async fn a_deleted_song_leaves_every_playlist_and_favourite_list() {
    let w = World::new().await;
    let one = lists(&w, "one@example.com").await;
    let two = lists(&w, "two@example.com").await;
    let Holding { gone, kept, p1, p2 } = holding(&one, &two).await;
    for who in [&one, &two] {
        let r = w
            .call(
                Req::post("/api/user/favorites")
                    .bearer(&who.token)
                    .json(json!({"songId": gone})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let rev1 = one.get(&p1).await.json["playlist"]["revision"]
        .as_i64()
        .unwrap();

    // admin-svc's event for the deletion.
    let client = redis::Client::open(cadenza_testkit::infra().redis_url.as_str()).unwrap();
    let conn = cadenza_platform::redis::manager(&client).await.unwrap();
    let album = Uuid::new_v4();
    let event = SongEvent {
        song_id: gone.parse().unwrap(),
        album_id: album,
        same_album: false,
    };
    cadenza_testkit::eventually(
        std::time::Duration::from_secs(10),
        "the song to leave",
        || async {
            // Published until heard: the subscription may still be starting.
            Publisher::new(conn.clone(), w.ns.clone())
                .publish_envelope(channel::SONG_DELETED, Envelope::new(event.clone()))
                .await
                .unwrap();
            let (s1, _, _) = one.order(&p1).await;
            let (s2, _, _) = two.order(&p2).await;
            (s1 == vec![kept.clone()] && s2.is_empty()).then_some(())
        },
    )
    .await;
    let after = one.get(&p1).await.json;
    assert_eq!(after["playlist"]["entryCount"], 1);
    assert!(
        after["playlist"]["revision"].as_i64().unwrap() > rev1,
        "open tabs see the change"
    );
    assert_eq!(two.get(&p2).await.json["playlist"]["entryCount"], 0);
    for who in [&one, &two] {
        let r = w
            .call(Req::get("/api/user/favorites").bearer(&who.token))
            .await;
        assert_eq!(
            r.json["favorites"].as_array().unwrap().len(),
            0,
            "{}",
            r.text
        );
    }
}

/// A deletion whose event was missed: the listener's client, told by the
/// song lookup that the song is missing, asks for it to be dropped. It
/// leaves that listener's playlists and favourites (revision moved on),
/// never another listener's; bad lists are 422s naming `songIds`.
#[tokio::test]
async fn a_missed_deletion_is_repaired_for_the_listener_who_reads_it() {
    let w = World::new().await;
    let one = lists(&w, "prune1@example.com").await;
    let two = lists(&w, "prune2@example.com").await;
    let Holding { gone, kept, p1, p2 } = holding(&one, &two).await;
    // Both favour it and have played it; `one`'s favourite was given as a
    // UUID without hyphens (favourites keep ids as given, lower-cased),
    // which the repair must still match.
    for (who, id) in [(&one, gone.replace('-', "")), (&two, gone.clone())] {
        let r = w
            .call(
                Req::post("/api/user/favorites")
                    .bearer(&who.token)
                    .json(json!({ "songId": id })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let r = w
            .call(Req::post("/api/user/plays").bearer(&who.token).json(json!({
                "songId": gone, "playbackId": Uuid::new_v4(),
                "playedSeconds": 60, "durationSeconds": 200,
            })))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let (_, _, tag) = one.order(&p1).await;
    async fn favourites(w: &World, who: &Lists<'_>) -> Vec<String> {
        let r = w
            .call(Req::get("/api/user/favorites").bearer(&who.token))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json["favorites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["songId"].as_str().unwrap().to_owned())
            .collect()
    }
    async fn history(w: &World, who: &Lists<'_>) -> usize {
        let r = w
            .call(Req::get("/api/user/history").bearer(&who.token))
            .await;
        r.json["plays"].as_array().map_or(0, Vec::len)
    }

    async fn prune(w: &World, token: &str, ids: Value) -> Resp {
        w.call(
            Req::post("/api/user/library/prune")
                .bearer(token)
                .json(json!({ "songIds": ids })),
        )
        .await
    }
    let r = prune(&w, &one.token, json!([gone, "an-old-import-id"])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.json["entries"].as_u64(), r.json["favorites"].as_u64()),
        (Some(2), Some(1))
    );
    let (songs, _, after) = one.order(&p1).await;
    assert_eq!(songs, vec![kept.clone()]);
    assert_ne!(after, tag, "open tabs see the change");
    assert_eq!(
        one.get(&p1).await.json["playlist"]["entryCount"].as_u64(),
        Some(1)
    );
    assert!(favourites(&w, &one).await.is_empty());
    assert_eq!(history(&w, &one).await, 1, "the listener's history stays");
    let (theirs, _, _) = two.order(&p2).await;
    assert_eq!(
        theirs,
        vec![gone.clone()],
        "another listener's list is theirs"
    );
    assert_eq!(favourites(&w, &two).await, vec![gone.clone()]);
    assert_eq!(history(&w, &two).await, 1);
    let r = prune(&w, &one.token, json!([gone])).await;
    assert_eq!(
        (r.json["entries"].as_u64(), r.json["favorites"].as_u64()),
        (Some(0), Some(0)),
        "again: nothing"
    );

    for bad in [
        json!([]),
        json!(vec![song(); 501]),
        json!([""]),
        json!(["x\u{7}"]),
    ] {
        let r = prune(&w, &one.token, bad.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(r.problem_field().as_deref(), Some("songIds"), "{}", r.text);
    }
    assert_eq!(
        w.call(Req::post("/api/user/library/prune").json(json!({"songIds": [gone]})))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
