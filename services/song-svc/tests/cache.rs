//! Cache freshness: events invalidate, a lost event is healed by the
//! reconnect flush, and Redis going away never fails a read.

mod common;

use std::time::{Duration, Instant};

use cadenza_testkit::eventually;
use cadenza_testkit::process::RedisProcess;
use common::*;
use redis::AsyncCommands;

async fn song_count(w: &World, album: uuid::Uuid) -> usize {
    w.json(&format!("/album/{album}")).await["songs"]
        .as_array()
        .unwrap()
        .len()
}

async fn all_count(w: &World) -> usize {
    w.json("/").await.as_array().unwrap().len()
}

#[tokio::test]
async fn events_invalidate_cached_reads() {
    let w = World::new().await;
    w.cache_live().await;
    let album = insert_album(&w.db.pool, "Evented", "E").await;
    let (first, _) = song(&w.db.pool, album, "One", 1).await;
    assert_eq!(song_count(&w, album).await, 1);
    assert_eq!(all_count(&w).await, 1);
    assert_eq!(w.json(&format!("/{first}")).await["title"], "One");

    // Changed without an event: the cache keeps serving what it had, which
    // proves the reads above were cached (locally and in Redis).
    let (second, _) = song(&w.db.pool, album, "Two", 2).await;
    assert_eq!(song_count(&w, album).await, 1);
    assert_eq!(all_count(&w).await, 1);
    let mut redis = redis::Client::open(w.redis_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let cached: Option<String> = redis
        .get(w.ns.key(&format!("album:{album}")))
        .await
        .unwrap();
    assert!(cached.unwrap().contains("\"One\""));
    let ttl: i64 = redis.ttl(w.ns.key("songs:all")).await.unwrap();
    assert!((1..=600).contains(&ttl), "TTL backstop, got {ttl}");

    // The event makes the next read fresh.
    w.song_event(SONG_CREATED, second, album).await;
    eventually(
        Duration::from_secs(5),
        "song:created to invalidate",
        || async { (song_count(&w, album).await == 2 && all_count(&w).await == 2).then_some(()) },
    )
    .await;

    // Deletion, likewise. (The first two inserts had no events, so the
    // event above showed a gap and refreshed everything: cache the song
    // again first.)
    assert_eq!(w.json(&format!("/{first}")).await["title"], "One");
    sqlx::query("DELETE FROM songs WHERE id = $1")
        .bind(first)
        .execute(&w.db.pool)
        .await
        .unwrap();
    assert_eq!(
        w.get(&format!("/{first}")).await.status(),
        200,
        "still cached"
    );
    w.song_event(SONG_DELETED, first, album).await;
    eventually(
        Duration::from_secs(5),
        "song:deleted to invalidate",
        || async {
            let gone = w.get(&format!("/{first}")).await.status() == 404;
            (gone && song_count(&w, album).await == 1 && all_count(&w).await == 1).then_some(())
        },
    )
    .await;

    // Albums: created shows up in the list; updated changes every song's cover.
    assert_eq!(
        w.json("/album").await["albums"].as_array().unwrap().len(),
        1
    );
    let newer = insert_album(&w.db.pool, "Newer", "N").await;
    assert_eq!(
        w.json("/album").await["albums"].as_array().unwrap().len(),
        1
    );
    w.album_event(ALBUM_CREATED, newer).await;
    eventually(
        Duration::from_secs(5),
        "album:created to invalidate",
        || async {
            let list = w.json("/album").await;
            (list["albums"][0]["id"] == newer.to_string()).then_some(())
        },
    )
    .await;
    sqlx::query("UPDATE albums SET thumbnail_key = 'thumbnails/new-cover.jpg' WHERE id = $1")
        .bind(album)
        .execute(&w.db.pool)
        .await
        .unwrap();
    w.album_event(ALBUM_UPDATED, album).await;
    eventually(
        Duration::from_secs(5),
        "album:updated to reach song covers",
        || async {
            let s = w.json(&format!("/{second}")).await;
            (s["imageSrc"] == "https://cdn.cadenza.test/thumbnails/new-cover.jpg").then_some(())
        },
    )
    .await;
    // Album deletion cascades to its songs.
    sqlx::query("DELETE FROM albums WHERE id = $1")
        .bind(album)
        .execute(&w.db.pool)
        .await
        .unwrap();
    w.album_event(ALBUM_DELETED, album).await;
    eventually(
        Duration::from_secs(5),
        "album:deleted to invalidate",
        || async {
            let a = w.get(&format!("/album/{album}")).await.status();
            let s = w.get(&format!("/{second}")).await.status();
            (a == 404 && s == 404 && all_count(&w).await == 0).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_lost_event_is_healed_by_the_reconnect_flush() {
    let mut redis = RedisProcess::start();
    let w = World::with(&redis.url(), "https://cdn.cadenza.test").await;
    w.cache_live().await;
    let album = insert_album(&w.db.pool, "Lost", "L").await;
    song(&w.db.pool, album, "One", 1).await;
    assert_eq!(song_count(&w, album).await, 1);
    assert_eq!(all_count(&w).await, 1);

    // 1. The subscriber's connection drops while Redis (and the cached
    // entries in it) stay: the change below has no event at all.
    let (two, _) = song(&w.db.pool, album, "Two", 2).await;
    assert_eq!(song_count(&w, album).await, 1, "cached");
    let killed = cadenza_testkit::events::kill_pubsub_clients(&redis.url())
        .await
        .unwrap();
    assert!(killed >= 1, "the service's subscriptions");
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    eventually(
        Duration::from_secs(10),
        "resync after the reconnect",
        || async { (w.cache.usable() && song_count(&w, album).await == 2).then_some(()) },
    )
    .await;
    // Fresh in Redis too, not just locally.
    let cached: Option<String> = conn.get(w.ns.key(&format!("album:{album}"))).await.unwrap();
    assert!(cached.unwrap().contains(&two.to_string()));
    assert_eq!(all_count(&w).await, 2);

    // 2. Redis itself goes away; the change happens while it is down (its
    // event, if any, would be lost); Redis comes back.
    redis.stop();
    song(&w.db.pool, album, "Three", 3).await;
    eventually(
        Duration::from_secs(10),
        "reads to bypass the cache",
        || async { (song_count(&w, album).await == 3).then_some(()) },
    )
    .await;
    redis.restart();
    eventually(
        Duration::from_secs(15),
        "the cache to come back",
        || async { w.cache.usable().then_some(()) },
    )
    .await;
    assert_eq!(song_count(&w, album).await, 3);
    assert_eq!(all_count(&w).await, 3);
    // And it is caching again (an unannounced change stays invisible).
    song(&w.db.pool, album, "Four", 4).await;
    assert_eq!(song_count(&w, album).await, 3);
}

#[tokio::test]
async fn reads_are_served_from_postgres_while_redis_is_down() {
    let mut redis = RedisProcess::start();
    let w = World::with(&redis.url(), "https://cdn.cadenza.test").await;
    w.cache_live().await;
    let album = insert_album(&w.db.pool, "Outage", "O").await;
    let (s, _) = song(&w.db.pool, album, "Survivor", 1).await;
    assert_eq!(song_count(&w, album).await, 1);

    redis.stop();
    song(&w.db.pool, album, "Late", 2).await;
    // Every read answers 200, quickly, with what PostgreSQL says.
    let paths = [
        "/album".to_string(),
        format!("/album/{album}"),
        "/".to_string(),
        format!("/{s}"),
        "/search?q=survivor".to_string(),
    ];
    eventually(
        Duration::from_secs(10),
        "fresh reads without Redis",
        || async { (song_count(&w, album).await == 2).then_some(()) },
    )
    .await;
    for _ in 0..3 {
        for path in &paths {
            let start = Instant::now();
            let resp = w.get(path).await;
            assert_eq!(resp.status(), 200, "{path}");
            assert!(
                start.elapsed() < Duration::from_millis(1500),
                "{path} took {:?}",
                start.elapsed()
            );
        }
    }
    assert_eq!(all_count(&w).await, 2);
    let ready = w.http.get(w.server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "Redis is not a readiness dependency");
}

async fn album_name(w: &World, album: uuid::Uuid) -> String {
    w.json(&format!("/album/{album}")).await["album"]["name"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn rename_album(w: &World, album: uuid::Uuid, name: &str) {
    sqlx::query("UPDATE albums SET name = $2 WHERE id = $1")
        .bind(album)
        .bind(name)
        .execute(&w.db.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_lost_event_is_caught_by_the_gap_in_the_next_events_version() {
    let w = World::new().await;
    w.cache_live().await;
    let album = insert_album(&w.db.pool, "Before", "G").await;
    w.album_event(ALBUM_CREATED, album).await;
    eventually(Duration::from_secs(5), "the album", || async {
        (w.get(&format!("/album/{album}")).await.status() == 200).then_some(())
    })
    .await;
    assert_eq!(album_name(&w, album).await, "Before");

    // A change whose event is lost (its publish failed after the commit)...
    rename_album(&w, album, "After").await;
    assert_eq!(album_name(&w, album).await, "Before", "cached, no event");
    // ...is caught by the next event, about another album: its version
    // skips the lost one, so the replica cannot know what changed and
    // refuses everything older.
    let other = insert_album(&w.db.pool, "Other", "G").await;
    w.album_event(ALBUM_CREATED, other).await;
    eventually(Duration::from_secs(5), "the gap to be noticed", || async {
        (album_name(&w, album).await == "After").then_some(())
    })
    .await;
    assert!(w.cache.usable());
}

#[tokio::test]
async fn an_event_without_a_version_refreshes_everything() {
    let w = World::new().await;
    w.cache_live().await;
    let album = insert_album(&w.db.pool, "Old name", "U").await;
    let (s, _) = song(&w.db.pool, album, "Old title", 1).await;
    // Versioned events up to here, so the replica is current.
    w.song_event(SONG_CREATED, s, album).await;
    eventually(Duration::from_secs(5), "the song", || async {
        (w.get(&format!("/{s}")).await.status() == 200).then_some(())
    })
    .await;
    assert_eq!(album_name(&w, album).await, "Old name");

    rename_album(&w, album, "New name").await;
    sqlx::query("UPDATE songs SET title = 'New title' WHERE id = $1")
        .bind(s)
        .execute(&w.db.pool)
        .await
        .unwrap();
    assert_eq!(album_name(&w, album).await, "Old name", "cached");
    assert_eq!(w.json(&format!("/{s}")).await["title"], "Old title");
    // An older publisher's event names one song and no version: the
    // replica reads the current version and refuses everything older.
    w.unversioned_song_event(SONG_CREATED, s, album).await;
    eventually(Duration::from_secs(5), "everything fresh", || async {
        let title = w.json(&format!("/{s}")).await["title"].clone();
        (album_name(&w, album).await == "New name" && title == "New title").then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_change_no_event_ever_announces_shows_once_the_ttl_runs_out() {
    let w = World::configured(
        &cadenza_testkit::infra().redis_url,
        "https://cdn.cadenza.test",
        |c| c.cache_ttl = Duration::from_secs(2),
    )
    .await;
    w.cache_live().await;
    let album = insert_album(&w.db.pool, "Before", "T").await;
    assert_eq!(album_name(&w, album).await, "Before");
    let mut redis = redis::Client::open(w.redis_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let ttl: i64 = redis
        .ttl(w.ns.key(&format!("album:{album}")))
        .await
        .unwrap();
    assert!(
        (1..=2).contains(&ttl),
        "Redis TTL follows the setting: {ttl}"
    );

    // No event, ever (and nothing after it shows a gap): only the TTL heals.
    rename_album(&w, album, "After").await;
    assert_eq!(album_name(&w, album).await, "Before", "cached");
    // Within the TTL (local and Redis entries both expire).
    eventually(
        Duration::from_secs(4),
        "the TTL to expire the entry",
        || async { (album_name(&w, album).await == "After").then_some(()) },
    )
    .await;
}

async fn cache_misses(w: &World) -> f64 {
    let text = w
        .http
        .get(w.server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("songsvc_cache_total{result=\"miss\"} "))
        .map_or(0.0, |v| v.parse().unwrap())
}

async fn retitle(w: &World, song: uuid::Uuid, title: &str) {
    sqlx::query("UPDATE songs SET title = $2 WHERE id = $1")
        .bind(song)
        .bind(title)
        .execute(&w.db.pool)
        .await
        .unwrap();
}

/// A song that stayed in its album (every media-worker verdict) refreshes
/// that song and that album only: the rest of the catalogue stays cached.
/// An update that may have moved the song still refreshes everything.
#[tokio::test]
async fn an_update_in_place_refreshes_only_its_song_and_album() {
    let w = World::new().await;
    w.cache_live().await;
    let here = insert_album(&w.db.pool, "Here", "H").await;
    let elsewhere = insert_album(&w.db.pool, "Elsewhere", "E").await;
    let (one, _) = song(&w.db.pool, here, "One", 1).await;
    song(&w.db.pool, elsewhere, "Other", 1).await;
    w.album_event(ALBUM_CREATED, elsewhere).await;
    eventually(Duration::from_secs(5), "both albums", || async {
        (song_count(&w, here).await == 1 && song_count(&w, elsewhere).await == 1).then_some(())
    })
    .await;
    assert_eq!(w.json(&format!("/{one}")).await["title"], "One");

    retitle(&w, one, "Uno").await;
    w.song_updated_in_place(one, here).await;
    eventually(Duration::from_secs(5), "the song and its album", || async {
        let album = w.json(&format!("/album/{here}")).await;
        (album["songs"][0]["title"] == "Uno" && w.json(&format!("/{one}")).await["title"] == "Uno")
            .then_some(())
    })
    .await;
    let misses = cache_misses(&w).await;
    assert_eq!(song_count(&w, elsewhere).await, 1);
    assert_eq!(
        cache_misses(&w).await,
        misses,
        "the other album is still served from the cache"
    );

    // Without sameAlbum the song may have moved: everything is refreshed.
    retitle(&w, one, "Eins").await;
    w.song_event(SONG_UPDATED, one, here).await;
    eventually(Duration::from_secs(5), "the update", || async {
        (w.json(&format!("/{one}")).await["title"] == "Eins").then_some(())
    })
    .await;
    let misses = cache_misses(&w).await;
    assert_eq!(song_count(&w, elsewhere).await, 1);
    assert!(
        cache_misses(&w).await > misses,
        "a global refresh reads it again"
    );
}
