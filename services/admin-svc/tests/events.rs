//! Change events on Redis: seed channel names, contract fields, exactly one
//! per change, published only after the commit.

mod common;

use cadenza_testkit::events::by_channel;
use common::{EventLog, World};
use serde_json::{json, Value};

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn assert_envelope(event: &Value) {
    uuid::Uuid::parse_str(s(&event["eventId"])).expect("eventId is a uuid");
    chrono::DateTime::parse_from_rfc3339(s(&event["at"])).expect("at is RFC 3339");
}

#[tokio::test]
async fn every_change_publishes_exactly_one_event_with_the_contract_fields() {
    let w = World::new().await;
    let log = EventLog::start(&w.ns).await;

    let album = w.create_album("Evented").await;
    let album_id = s(&album["id"]).to_owned();
    let events = log.exactly(1).await;
    assert_eq!(events[0].0, "album:created");
    assert_eq!(events[0].1["albumId"], album["id"]);
    assert_envelope(&events[0].1);

    let song = w.create_song(&album_id, "Ping", json!({})).await;
    let song_id = s(&song["id"]).to_owned();
    let events = log.exactly(2).await;
    assert_eq!(events[1].0, "song:created");
    assert_eq!(events[1].1["songId"], song["id"]);
    assert_eq!(events[1].1["albumId"], album["id"]);

    w.patch(&format!("/album/{album_id}"), json!({"artist": "Someone"}))
        .send()
        .await
        .unwrap();
    let events = log.exactly(3).await;
    assert_eq!(events[2].0, "album:updated");
    assert_eq!(events[2].1["albumId"], album["id"]);

    w.patch(&format!("/song/{song_id}"), json!({"title": "Pong"}))
        .send()
        .await
        .unwrap();
    let events = log.exactly(4).await;
    assert_eq!(events[3].0, "song:updated");
    assert_eq!(events[3].1["songId"], song["id"]);

    w.delete(&format!("/song/{song_id}")).send().await.unwrap();
    let events = log.exactly(5).await;
    assert_eq!(events[4].0, "song:deleted");
    assert_eq!(events[4].1["songId"], song["id"]);
    assert_eq!(events[4].1["albumId"], album["id"]);

    let ids: std::collections::HashSet<&str> =
        events.iter().map(|(_, e)| s(&e["eventId"])).collect();
    assert_eq!(ids.len(), 5, "event ids are unique");
}

#[tokio::test]
async fn album_delete_announces_each_song_then_the_album() {
    let w = World::new().await;
    let album = w.create_album("Gone").await;
    let id = s(&album["id"]).to_owned();
    let a = w.create_song(&id, "a", json!({})).await;
    let b = w.create_song(&id, "b", json!({})).await;
    let log = EventLog::start(&w.ns).await;

    w.delete(&format!("/album/{id}")).send().await.unwrap();
    let events = log.exactly(3).await;
    assert_eq!(by_channel(&events)["song:deleted"], 2);
    assert_eq!(events[2].0, "album:deleted", "the album comes last");
    assert_eq!(events[2].1["albumId"], album["id"]);
    let mut songs: Vec<&str> = events[..2].iter().map(|(_, e)| s(&e["songId"])).collect();
    songs.sort();
    let mut want = vec![s(&a["id"]), s(&b["id"])];
    want.sort();
    assert_eq!(songs, want);
}

#[tokio::test]
async fn moving_a_song_also_announces_the_album_it_left() {
    let w = World::new().await;
    let from = w.create_album("From").await;
    let to = w.create_album("To").await;
    let song = w.create_song(s(&from["id"]), "Nomad", json!({})).await;
    let log = EventLog::start(&w.ns).await;

    let resp = w
        .patch(
            &format!("/song/{}", s(&song["id"])),
            json!({"albumId": to["id"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let events = log.exactly(2).await;
    assert_eq!(events[0].0, "song:updated");
    assert_eq!(events[0].1["albumId"], to["id"]);
    assert_eq!(events[1].0, "album:updated");
    assert_eq!(events[1].1["albumId"], from["id"]);
}

#[tokio::test]
async fn refused_changes_publish_nothing() {
    let w = World::new().await;
    let album = w.create_album("Quiet").await;
    let log = EventLog::start(&w.ns).await;
    let id = s(&album["id"]);

    let bad = [
        w.post("/song", json!({"title": "", "artist": "a", "audioKey": "songs/x.mp3", "duration": 1, "albumId": id})),
        w.post("/album", json!({"name": "n", "artist": "a", "thumbnailKey": format!("thumbnails/{}.png", uuid::Uuid::new_v4())})),
        w.patch(&format!("/album/{}", uuid::Uuid::new_v4()), json!({"name": "x"})),
        w.delete(&format!("/song/{}", uuid::Uuid::new_v4())),
    ];
    for req in bad {
        assert!(req.send().await.unwrap().status().is_client_error());
    }
    log.exactly(0).await;
}
