//! The publisher and the self-healing subscriber against real Redis servers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cadenza_events::*;
use cadenza_platform::redis::{manager, Namespace};
use cadenza_testkit::process::RedisProcess;
use cadenza_testkit::{eventually, fresh_namespace, infra};
use futures::future::BoxFuture;
use uuid::Uuid;

#[derive(Default)]
struct Recorder {
    resyncs: Mutex<usize>,
    messages: Mutex<Vec<(String, String)>>,
}

impl EventSink for Recorder {
    fn resync(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move { *self.resyncs.lock().unwrap() += 1 })
    }
    fn deliver<'a>(&'a self, channel: &'a str, payload: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.messages
                .lock()
                .unwrap()
                .push((channel.to_owned(), payload.to_owned()))
        })
    }
}

async fn publisher(url: &str, ns: &Namespace) -> Publisher {
    let client = redis::Client::open(url).unwrap();
    Publisher::new(manager(&client).await.unwrap(), ns.clone())
}

#[tokio::test]
async fn subscribers_receive_enveloped_events_on_contract_channels_only_in_their_namespace() {
    let ns = fresh_namespace();
    let other_ns = fresh_namespace();
    let sink = Arc::new(Recorder::default());
    let client = redis::Client::open(infra().redis_url.as_str()).unwrap();
    let sub = Subscriber::spawn(client, ns.clone(), &channel::CATALOGUE, sink.clone());
    eventually(Duration::from_secs(5), "subscribed", || async {
        sub.is_connected().then_some(())
    })
    .await;
    assert_eq!(*sink.resyncs.lock().unwrap(), 1);

    let (song_id, album_id) = (Uuid::new_v4(), Uuid::new_v4());
    // Another namespace's event must not arrive.
    publisher(&infra().redis_url, &other_ns)
        .await
        .publish(channel::ALBUM_CREATED, AlbumEvent { album_id })
        .await
        .unwrap();
    let id = publisher(&infra().redis_url, &ns)
        .await
        .publish(
            channel::SONG_CREATED,
            SongEvent {
                song_id,
                album_id,
                same_album: false,
            },
        )
        .await
        .unwrap();

    let (ch, payload) = eventually(Duration::from_secs(2), "song:created", || async {
        sink.messages.lock().unwrap().first().cloned()
    })
    .await;
    assert_eq!(ch, "song:created");
    let env: Envelope<SongEvent> = serde_json::from_str(&payload).unwrap();
    assert_eq!(env.event_id, id);
    assert_eq!(
        env.payload,
        SongEvent {
            song_id,
            album_id,
            same_album: false
        }
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        sink.messages.lock().unwrap().len(),
        1,
        "foreign namespace leaked in"
    );
}

#[tokio::test]
async fn subscriber_reconnects_after_redis_restarts_and_resyncs_again() {
    let mut redis_server = RedisProcess::start();
    let ns = Namespace::default();
    let sink = Arc::new(Recorder::default());
    let client = redis::Client::open(redis_server.url().as_str()).unwrap();
    let sub = Subscriber::spawn(client, ns.clone(), &channel::CATALOGUE, sink.clone());
    eventually(Duration::from_secs(5), "first subscribe", || async {
        sub.is_connected().then_some(())
    })
    .await;

    redis_server.stop();
    eventually(Duration::from_secs(5), "disconnect noticed", || async {
        (!sub.is_connected()).then_some(())
    })
    .await;
    redis_server.restart();
    eventually(Duration::from_secs(10), "resubscribe", || async {
        (sub.is_connected() && *sink.resyncs.lock().unwrap() >= 2).then_some(())
    })
    .await;

    // Events flow again after the reconnect.
    let album_id = Uuid::new_v4();
    publisher(&redis_server.url(), &ns)
        .await
        .publish(channel::ALBUM_DELETED, AlbumEvent { album_id })
        .await
        .unwrap();
    eventually(Duration::from_secs(2), "event after reconnect", || async {
        sink.messages
            .lock()
            .unwrap()
            .iter()
            .any(|(c, p)| c == "album:deleted" && p.contains(&album_id.to_string()))
            .then_some(())
    })
    .await;
}
