//! Media jobs (issue 20): written with the song, sent once by the relay,
//! kept when the queue cannot be reached. Real PostgreSQL, SeaweedFS and
//! moto SQS.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use admin_svc::media_jobs::Relay;
use cadenza_testkit::{infra, unique_name};
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

async fn jobs(w: &World) -> Vec<(Uuid, String, i32)> {
    sqlx::query_as("SELECT song_id, audio_key, attempts FROM media_jobs ORDER BY id")
        .fetch_all(&w.db.pool)
        .await
        .unwrap()
}

async fn sqs() -> aws_sdk_sqs::Client {
    cadenza_testkit::aws::sqs_client(&infra().aws_endpoint).await
}

async fn queue(sqs: &aws_sdk_sqs::Client) -> String {
    sqs.create_queue()
        .queue_name(unique_name("media-jobs-"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap()
}

/// Everything on the queue, by body (with how often each came).
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        if got.is_empty() {
            return seen;
        }
        for m in got {
            *seen.entry(m.body().unwrap().to_owned()).or_default() += 1;
        }
    }
}

#[tokio::test]
async fn a_song_s_audio_is_a_job_written_with_it_and_a_new_audio_another() {
    let w = World::new().await;
    let album = w.create_album("Kind of Blue").await;
    let song = w
        .create_song(album["id"].as_str().unwrap(), "So What", json!({}))
        .await;
    let id: Uuid = song["id"].as_str().unwrap().parse().unwrap();
    let first = song["audioKey"].as_str().unwrap().to_owned();
    assert_eq!(jobs(&w).await, vec![(id, first.clone(), 0)]);
    assert_eq!(
        song["status"], "ready",
        "no media worker (MEDIA_QUEUE_URL unset): ready at once"
    );

    // A title change is no job; a new audio object is.
    let r = w
        .patch(&format!("/song/{id}"), json!({"title": "So What (take 2)"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(jobs(&w).await.len(), 1);
    let second = w.audio().await;
    let r = w
        .patch(&format!("/song/{id}"), json!({"audioKey": second}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(jobs(&w).await, vec![(id, first, 0), (id, second, 0)]);

    // A song refused (no such album) leaves no job behind.
    let audio = w.audio().await;
    let r = w
        .post(
            "/song",
            json!({"title": "t", "artist": "a", "audioKey": audio, "duration": 1.0, "albumId": Uuid::new_v4()}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(jobs(&w).await.len(), 2);
}

/// Four replicas' relays at once over 40 jobs: every job reaches the queue
/// exactly once, and the outbox ends empty.
#[tokio::test]
async fn concurrent_relays_send_every_job_once() {
    let w = World::new().await;
    let sqs = sqs().await;
    let url = queue(&sqs).await;
    let mut want = vec![];
    for i in 0..40 {
        let song = Uuid::new_v4();
        let key = format!("songs/{i}.mp3");
        sqlx::query("INSERT INTO media_jobs (song_id, audio_key) VALUES ($1, $2)")
            .bind(song)
            .bind(&key)
            .execute(&w.db.pool)
            .await
            .unwrap();
        want.push(json!({"songId": song, "audioKey": key}).to_string());
    }
    let relays = (0..4).map(|_| {
        let relay = Relay {
            db: w.db.pool.clone(),
            sqs: sqs.clone(),
            queue_url: url.clone(),
            idle: Duration::from_millis(50),
        };
        tokio::spawn(async move {
            let mut sent = 0;
            loop {
                let n = relay.send_due().await.unwrap();
                if n == 0 {
                    return sent;
                }
                sent += n;
            }
        })
    });
    let mut total = 0;
    for r in relays.collect::<Vec<_>>() {
        total += r.await.unwrap();
    }
    assert_eq!(total, 40, "sent counts");
    assert!(jobs(&w).await.is_empty());
    let seen = drain(&sqs, &url).await;
    assert_eq!(seen.len(), 40, "{seen:?}");
    assert!(seen.values().all(|n| *n == 1), "a job sent twice: {seen:?}");
    for body in want {
        let v: Value = serde_json::from_str(&body).unwrap();
        let found = seen
            .keys()
            .any(|k| serde_json::from_str::<Value>(k).unwrap() == v);
        assert!(found, "{body} never sent");
    }
}

#[tokio::test]
async fn a_job_the_queue_cannot_take_is_kept_and_put_off() {
    let w = World::new().await;
    let song = Uuid::new_v4();
    sqlx::query("INSERT INTO media_jobs (song_id, audio_key) VALUES ($1, 'songs/x.mp3')")
        .bind(song)
        .execute(&w.db.pool)
        .await
        .unwrap();
    // SQS down: nothing listens on port 1.
    let sdk = cadenza_aws::sdk_config().await;
    let down = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&sdk)
            .endpoint_url("http://127.0.0.1:1")
            .build(),
    );
    let relay = Relay {
        db: w.db.pool.clone(),
        sqs: down,
        queue_url: "http://127.0.0.1:1/000000000000/cadenza-media".into(),
        idle: Duration::from_millis(50),
    };
    /// One failing send_due: how long after it began the job is put off.
    async fn put_off_by(w: &World, relay: &Relay) -> chrono::Duration {
        let (before,): (chrono::DateTime<chrono::Utc>,) =
            sqlx::query_as("SELECT clock_timestamp()")
                .fetch_one(&w.db.pool)
                .await
                .unwrap();
        assert_eq!(relay.send_due().await.unwrap(), 0);
        let (next,): (chrono::DateTime<chrono::Utc>,) =
            sqlx::query_as("SELECT next_attempt_at FROM media_jobs")
                .fetch_one(&w.db.pool)
                .await
                .unwrap();
        next - before
    }
    let first = put_off_by(&w, &relay).await;
    assert_eq!(jobs(&w).await, vec![(song, "songs/x.mp3".into(), 1)]);
    assert!(
        first >= chrono::Duration::seconds(1),
        "put off by at least the first pause: {first}"
    );
    // The pause doubles per attempt: the 9th failure waits 256 s.
    sqlx::query("UPDATE media_jobs SET attempts = 8, next_attempt_at = now()")
        .execute(&w.db.pool)
        .await
        .unwrap();
    let ninth = put_off_by(&w, &relay).await;
    assert!(ninth >= chrono::Duration::seconds(256), "{ninth}");
    assert_eq!(relay.send_due().await.unwrap(), 0, "not due yet");
    assert_eq!(jobs(&w).await[0].2, 9);
}

/// With a media worker, a song waits for it: created `processing`, and
/// `processing` again when its audio is replaced (not when its title is).
#[tokio::test]
async fn with_a_media_worker_new_audio_waits_for_it() {
    let queue_url = queue(&sqs().await).await;
    let w = World::with_config(|c| c.media_queue_url = Some(queue_url)).await;
    let album = w.create_album("Blue Train").await;
    let song = w
        .create_song(album["id"].as_str().unwrap(), "Moment's Notice", json!({}))
        .await;
    assert_eq!(song["status"], "processing");
    assert!(song["statusReason"].is_null());
    let id = song["id"].as_str().unwrap().to_owned();
    // The worker's verdict (media-worker's own tests write it for real).
    sqlx::query(
        "UPDATE songs SET status = 'rejected', status_reason = 'not audio' WHERE id = $1::uuid",
    )
    .bind(&id)
    .execute(&w.db.pool)
    .await
    .unwrap();
    let status = |body: serde_json::Value| {
        (
            body["song"]["status"].as_str().unwrap().to_owned(),
            body["song"]["statusReason"].as_str().map(str::to_owned),
        )
    };
    let r = w
        .patch(
            &format!("/song/{id}"),
            json!({"title": "Moment's Notice (alt)"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        status(r.json().await.unwrap()),
        ("rejected".to_owned(), Some("not audio".to_owned())),
        "a title change is no new audio"
    );
    let audio = w.audio().await;
    let r = w
        .patch(&format!("/song/{id}"), json!({"audioKey": audio}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status(r.json().await.unwrap()),
        ("processing".to_owned(), None)
    );
}

/// The album's gain follows the songs it holds: deleting the last song
/// still processing settles the album (the worker will never be asked
/// again), and a typed duration cannot undo a measured one.
#[tokio::test]
async fn deleting_an_album_s_last_processing_song_sets_its_gain() {
    let queue_url = queue(&sqs().await).await;
    let w = World::with_config(|c| c.media_queue_url = Some(queue_url)).await;
    let album = w.create_album("Giant Steps").await;
    let album_id = album["id"].as_str().unwrap().to_owned();
    let read = w.create_song(&album_id, "Naima", json!({})).await;
    let waiting = w.create_song(&album_id, "Mr. P.C.", json!({})).await;
    let read_id = read["id"].as_str().unwrap().to_owned();
    // The worker's verdict on the first song (media-worker's tests write it
    // for real): -20 LUFS, peak -10 dBTP, 100 s.
    sqlx::query(
        "INSERT INTO song_media (song_id, audio_key, status, duration_seconds, peaks, \
         integrated_lufs, true_peak_dbtp, track_gain_db) \
         SELECT id, audio_key, 'ready', 100, '\\x00', -20, -10, 6 FROM songs WHERE id = $1::uuid",
    )
    .bind(&read_id)
    .execute(&w.db.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE songs SET status = 'ready', duration_seconds = 100 WHERE id = $1::uuid")
        .bind(&read_id)
        .execute(&w.db.pool)
        .await
        .unwrap();
    let gain = || async {
        sqlx::query_scalar::<_, Option<f64>>("SELECT gain_db FROM albums WHERE id = $1::uuid")
            .bind(&album_id)
            .fetch_one(&w.db.pool)
            .await
            .unwrap()
    };
    assert_eq!(gain().await, None, "a song is still processing");

    let r = w
        .patch(&format!("/song/{read_id}"), json!({"duration": 5.0}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 422, "duration").await;

    let r = w
        .delete(&format!("/song/{}", waiting["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let got = gain().await.expect("settled by the delete");
    assert!((got - 6.0).abs() < 1e-9, "-14 - (-20) = 6 dB: {got}");
    let duration: f64 =
        sqlx::query_scalar("SELECT duration_seconds FROM songs WHERE id = $1::uuid")
            .bind(&read_id)
            .fetch_one(&w.db.pool)
            .await
            .unwrap();
    assert_eq!(duration, 100.0, "the measured duration stands");
}
