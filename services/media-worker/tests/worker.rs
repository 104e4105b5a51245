//! The worker on the real servers: PostgreSQL (a fresh catalogue), S3
//! (SeaweedFS, a bucket of its own), SQS (moto, a queue and dead-letter
//! queue of its own), with audio made by ffmpeg.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use cadenza_events::{channel, Publisher};
use cadenza_media::Limits;
use cadenza_platform::redis::Namespace;
use cadenza_testkit::aws::{create_bucket, remove_bucket_blocking, s3_client, sqs_client};
use cadenza_testkit::events::EventLog;
use cadenza_testkit::{fresh_database, fresh_namespace, infra, unique_name, TestDatabase};
use media_worker::{Job, Outcome, QueueConfig, Worker};
use uuid::Uuid;

struct World {
    db: TestDatabase,
    worker: Arc<Worker>,
    bucket: String,
    ns: Namespace,
}

async fn world() -> World {
    let db = fresh_database().await;
    cadenza_catalog::migrate(&db.pool).await.unwrap();
    let s3 = s3_client().await;
    // The bucket goes with the world (Drop).
    let bucket = create_bucket(&s3).await;
    let ns = fresh_namespace();
    let redis = redis::Client::open(infra().redis_url.as_str()).unwrap();
    let redis = cadenza_platform::redis::manager(&redis).await.unwrap();
    let worker = Arc::new(Worker {
        db: db.pool.clone(),
        s3,
        bucket: bucket.clone(),
        limits: Limits::default(),
        events: Some(Publisher::new(redis, ns.clone())),
    });
    World {
        db,
        worker,
        bucket,
        ns,
    }
}

impl Drop for World {
    fn drop(&mut self) {
        remove_bucket_blocking(self.bucket.clone());
    }
}

impl World {
    async fn put(&self, key: &str, bytes: Vec<u8>) {
        self.worker
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(bytes.into())
            .send()
            .await
            .unwrap();
    }

    async fn exists(&self, key: &str) -> bool {
        self.worker
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .is_ok()
    }

    /// A song whose audio is `key`, in an album of its own (as admin-svc
    /// creates it when a media worker runs: processing).
    async fn song(&self, key: &str) -> Uuid {
        let album = self.album().await;
        self.song_in(album, key).await
    }

    async fn album(&self) -> Uuid {
        sqlx::query_scalar(
            "INSERT INTO albums (name, artist, thumbnail_key) VALUES ('A', 'B', 'covers/a.png') RETURNING id",
        )
        .fetch_one(&self.db.pool)
        .await
        .unwrap()
    }

    async fn song_in(&self, album: Uuid, key: &str) -> Uuid {
        sqlx::query_scalar(
            "INSERT INTO songs (album_id, title, artist, audio_key, content_type, size_bytes, \
             duration_seconds, track_number, status) \
             VALUES ($1, 'typed by hand', 'B', $2, 'audio/mpeg', 1, 999, 1, 'processing') \
             RETURNING id",
        )
        .bind(album)
        .bind(key)
        .fetch_one(&self.db.pool)
        .await
        .unwrap()
    }

    /// What listeners are shown of a song: status, reason, duration.
    async fn listed(&self, song: Uuid) -> (String, Option<String>, f64) {
        sqlx::query_as("SELECT status, status_reason, duration_seconds FROM songs WHERE id = $1")
            .bind(song)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    async fn version(&self) -> i64 {
        cadenza_catalog::version::current(&self.db.pool)
            .await
            .unwrap()
    }

    async fn album_gain(&self, album: Uuid) -> Option<f64> {
        sqlx::query_scalar("SELECT gain_db FROM albums WHERE id = $1")
            .bind(album)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    async fn media(
        &self,
        song: Uuid,
    ) -> Option<(String, String, Option<String>, Option<f64>, Option<String>)> {
        sqlx::query_as(
            "SELECT audio_key, status, reason, duration_seconds, tags->>'title' FROM song_media WHERE song_id = $1",
        )
        .bind(song)
        .fetch_optional(&self.db.pool)
        .await
        .unwrap()
    }
}

/// A 3 s MP3 titled "Made Here", from ffmpeg.
fn mp3() -> Vec<u8> {
    tone(-6.0)
}

/// A 3 s MP3 titled "Made Here": ffmpeg's sine (18 dB below full scale,
/// about -22 LUFS) turned by `db` dB.
fn tone(db: f64) -> Vec<u8> {
    let path: PathBuf = std::env::temp_dir().join(format!("{}.mp3", unique_name("media-worker-")));
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("sine=frequency=330:sample_rate=44100:duration=3")
        .arg("-af")
        .arg(format!("volume={db}dB"))
        .args([
            "-ac",
            "2",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
            "-metadata",
            "title=Made Here",
        ])
        .arg(&path)
        .output()
        .expect("ffmpeg runs (./dev test installs Debian's ffmpeg)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    bytes
}

async fn sqs() -> aws_sdk_sqs::Client {
    sqs_client(&infra().aws_endpoint).await
}

fn job(song: Uuid, key: &str) -> Job {
    Job {
        song_id: song,
        audio_key: key.to_owned(),
    }
}

#[tokio::test]
async fn a_song_is_read_from_its_audio_and_a_repeated_or_stale_job_changes_nothing() {
    let w = world().await;
    w.put("songs/one.mp3", mp3()).await;
    let song = w.song("songs/one.mp3").await;
    assert_eq!(
        w.worker.process(&job(song, "songs/one.mp3")).await.unwrap(),
        Outcome::Ready
    );
    let (key, status, reason, duration, title) = w.media(song).await.unwrap();
    assert_eq!(
        (key.as_str(), status.as_str(), reason),
        ("songs/one.mp3", "ready", None)
    );
    assert!(
        (duration.unwrap() - 3.0).abs() <= 0.010,
        "{duration:?}: the file's, not the 999 typed"
    );
    assert_eq!(title.as_deref(), Some("Made Here"));
    let at = || async {
        sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>("SELECT analysed_at FROM song_media")
            .fetch_one(&w.db.pool)
            .await
            .unwrap()
    };
    let first = at().await;
    assert_eq!(
        w.worker.process(&job(song, "songs/one.mp3")).await.unwrap(),
        Outcome::Unchanged
    );
    assert_eq!(at().await, first, "run twice, changed nothing");
    assert_eq!(
        w.worker.process(&job(song, "songs/old.mp3")).await.unwrap(),
        Outcome::Stale
    );
    assert!(w.exists("songs/one.mp3").await);

    // The audio is replaced by a text file named .mp3: rejected, deleted.
    w.put("songs/two.mp3", b"just some text, not an mp3\n".repeat(20))
        .await;
    sqlx::query("UPDATE songs SET audio_key = 'songs/two.mp3' WHERE id = $1")
        .bind(song)
        .execute(&w.db.pool)
        .await
        .unwrap();
    let out = w.worker.process(&job(song, "songs/two.mp3")).await.unwrap();
    assert!(
        matches!(&out, Outcome::Rejected(r) if r.starts_with("not an audio file")),
        "{out:?}"
    );
    let (key, status, reason, duration, _) = w.media(song).await.unwrap();
    assert_eq!(
        (key.as_str(), status.as_str()),
        ("songs/two.mp3", "rejected")
    );
    assert!(reason.unwrap().starts_with("not an audio file"));
    assert_eq!(duration, None);
    assert!(
        !w.exists("songs/two.mp3").await,
        "the rejected object is deleted"
    );
    // The old audio's job, late: nothing.
    assert_eq!(
        w.worker.process(&job(song, "songs/one.mp3")).await.unwrap(),
        Outcome::Stale
    );
    // A deleted song.
    sqlx::query("DELETE FROM songs WHERE id = $1")
        .bind(song)
        .execute(&w.db.pool)
        .await
        .unwrap();
    assert_eq!(
        w.worker.process(&job(song, "songs/one.mp3")).await.unwrap(),
        Outcome::Gone
    );
}

#[tokio::test]
async fn concurrent_runs_of_one_job_record_it_once() {
    let w = world().await;
    w.put("songs/a.mp3", mp3()).await;
    w.put("songs/b.mp3", b"text".repeat(100)).await;
    let (a, b) = (w.song("songs/a.mp3").await, w.song("songs/b.mp3").await);
    for (song, key, done) in [(a, "songs/a.mp3", "ready"), (b, "songs/b.mp3", "rejected")] {
        let runs = futures_join((0..8).map(|_| {
            let worker = w.worker.clone();
            let j = job(song, key);
            tokio::spawn(async move { worker.process(&j).await.map_err(|e| e.to_string()) })
        }))
        .await;
        let recorded = runs
            .iter()
            .filter(|o| matches!(o, Ok(Outcome::Ready | Outcome::Rejected(_))))
            .count();
        assert_eq!(recorded, 1, "{key}: {runs:?}");
        // The others found it recorded, or (a rejected object deleted
        // under them) fail to be retried, and the retry changes nothing.
        for r in &runs {
            match r {
                Ok(Outcome::Ready | Outcome::Rejected(_) | Outcome::Unchanged) => {}
                Err(e) if done == "rejected" && e.contains("audio object") => {
                    assert_eq!(
                        w.worker.process(&job(song, key)).await.unwrap(),
                        Outcome::Unchanged
                    );
                }
                other => panic!("{key}: {other:?}"),
            }
        }
        assert_eq!(w.media(song).await.unwrap().1, done);
    }
}

async fn futures_join<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = vec![];
    for t in tasks.collect::<Vec<_>>() {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn handled_jobs_leave_the_queue_and_a_job_that_always_fails_reaches_the_dead_letter_queue() {
    let w = world().await;
    let sqs = sqs().await;
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let dlq = sqs
        .create_queue()
        .queue_name(unique_name("media-dlq-"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(A::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&A::QueueArn]
        .clone();
    let queue = sqs
        .create_queue()
        .queue_name(unique_name("media-q-"))
        .attributes(
            A::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}"#),
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    w.put("songs/q.mp3", mp3()).await;
    let song = w.song("songs/q.mp3").await;
    for body in [
        serde_json::to_string(&job(song, "songs/q.mp3")).unwrap(),
        "not a job".to_owned(),
    ] {
        sqs.send_message()
            .queue_url(&queue)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = tokio::spawn(media_worker::run(
        w.worker.clone(),
        sqs.clone(),
        QueueConfig {
            url: queue.clone(),
            wait: Duration::from_secs(1),
            visibility: Duration::from_secs(30),
            retry_base: Duration::ZERO,
        },
        async move {
            let _ = stopped.await;
        },
    ));
    let depth = |url: String| {
        let sqs = sqs.clone();
        async move {
            let a = sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(A::ApproximateNumberOfMessages)
                .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
                .send()
                .await
                .unwrap()
                .attributes
                .unwrap();
            a[&A::ApproximateNumberOfMessages].parse::<u32>().unwrap()
                + a[&A::ApproximateNumberOfMessagesNotVisible]
                    .parse::<u32>()
                    .unwrap()
        }
    };
    cadenza_testkit::eventually(
        Duration::from_secs(30),
        "the queue to empty into the DLQ",
        || {
            let (q, d) = (queue.clone(), dlq.clone());
            async move { (depth(q).await == 0 && depth(d).await == 1).then_some(()) }
        },
    )
    .await;
    let _ = stop.send(());
    runner.await.unwrap();
    assert_eq!(w.media(song).await.unwrap().1, "ready");
    let dead = sqs
        .receive_message()
        .queue_url(&dlq)
        .message_system_attribute_names(
            aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
        )
        .send()
        .await
        .unwrap()
        .messages
        .unwrap();
    assert_eq!(dead[0].body(), Some("not a job"));
}

#[tokio::test]
async fn a_backfill_queues_each_song_not_read_yet_once() {
    let w = world().await;
    w.put("songs/read.mp3", mp3()).await;
    let read = w.song("songs/read.mp3").await;
    w.worker
        .process(&job(read, "songs/read.mp3"))
        .await
        .unwrap();
    let (a, b) = (w.song("songs/a.mp3").await, w.song("songs/b.mp3").await);
    sqlx::query("DELETE FROM media_jobs")
        .execute(&w.db.pool)
        .await
        .unwrap();
    // b already has a job waiting.
    sqlx::query("INSERT INTO media_jobs (song_id, audio_key) VALUES ($1, 'songs/b.mp3')")
        .bind(b)
        .execute(&w.db.pool)
        .await
        .unwrap();
    assert_eq!(media_worker::backfill(&w.db.pool).await.unwrap(), 1);
    assert_eq!(
        media_worker::backfill(&w.db.pool).await.unwrap(),
        0,
        "idempotent"
    );
    let queued: Vec<Uuid> = sqlx::query_scalar("SELECT song_id FROM media_jobs ORDER BY id")
        .fetch_all(&w.db.pool)
        .await
        .unwrap();
    assert_eq!(queued, vec![b, a]);
}

#[tokio::test]
async fn the_queue_s_depth_is_a_metric() {
    cadenza_platform::metrics::init("media-worker", "test");
    let sqs = sqs().await;
    let url = sqs
        .create_queue()
        .queue_name(unique_name("media-depth-"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    for i in 0..3 {
        sqs.send_message()
            .queue_url(&url)
            .message_body(format!("{i}"))
            .send()
            .await
            .unwrap();
    }
    // One in flight.
    sqs.receive_message()
        .queue_url(&url)
        .visibility_timeout(60)
        .send()
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let watch = tokio::spawn(media_worker::watch_depth(
        sqs.clone(),
        url,
        Duration::from_millis(100),
        async move {
            let _ = stopped.await;
        },
    ));
    cadenza_testkit::eventually(Duration::from_secs(10), "the depth gauges", || async {
        let text = cadenza_platform::metrics::render();
        (text.contains("media_queue_messages{state=\"waiting\"} 2")
            && text.contains("media_queue_messages{state=\"in_flight\"} 1"))
        .then_some(())
    })
    .await;
    let _ = stop.send(());
    watch.await.unwrap();
}

#[tokio::test]
async fn audio_that_is_only_too_large_is_kept_and_a_missing_object_is_retried() {
    let w = world().await;
    let worker = Worker {
        db: w.db.pool.clone(),
        s3: w.worker.s3.clone(),
        bucket: w.bucket.clone(),
        limits: Limits {
            max_bytes: 1000,
            ..Limits::default()
        },
        events: None,
    };
    w.put("songs/big.mp3", mp3()).await;
    let big = w.song("songs/big.mp3").await;
    let out = worker.process(&job(big, "songs/big.mp3")).await.unwrap();
    assert!(
        matches!(&out, Outcome::Rejected(r) if r.contains("over the 1000-byte limit")),
        "{out:?}"
    );
    assert!(
        w.exists("songs/big.mp3").await,
        "real audio is kept, only refused"
    );
    // Not there (yet): a failure to retry, nothing recorded.
    let later = w.song("songs/later.mp3").await;
    let err = w
        .worker
        .process(&job(later, "songs/later.mp3"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    assert!(w.media(later).await.is_none());
    w.put("songs/later.mp3", mp3()).await;
    assert_eq!(
        w.worker
            .process(&job(later, "songs/later.mp3"))
            .await
            .unwrap(),
        Outcome::Ready
    );
}

#[tokio::test]
async fn a_delete_that_failed_after_the_rejection_was_recorded_is_finished_by_the_retry() {
    let w = world().await;
    w.put("songs/t.mp3", b"plain text, not audio\n".repeat(40))
        .await;
    let song = w.song("songs/t.mp3").await;
    // As if the worker recorded the rejection and then failed to delete.
    sqlx::query(
        "INSERT INTO song_media (song_id, audio_key, status, reason, delete_object) \
         VALUES ($1, 'songs/t.mp3', 'rejected', 'not an audio file', true)",
    )
    .bind(song)
    .execute(&w.db.pool)
    .await
    .unwrap();
    assert!(w.exists("songs/t.mp3").await);
    assert_eq!(
        w.worker.process(&job(song, "songs/t.mp3")).await.unwrap(),
        Outcome::Unchanged
    );
    assert!(!w.exists("songs/t.mp3").await, "the retry deleted it");
}

#[tokio::test]
async fn a_verdict_changes_what_listeners_see_and_tells_song_svc_at_its_version() {
    let w = world().await;
    let log = EventLog::start(&w.ns, &channel::CATALOGUE).await;
    w.put("songs/v.mp3", mp3()).await;
    w.put("songs/t.mp3", b"plain text, named .mp3\n".repeat(20))
        .await;
    let (good, text) = (w.song("songs/v.mp3").await, w.song("songs/t.mp3").await);
    assert_eq!(w.listed(good).await.0, "processing");

    let before = w.version().await;
    assert_eq!(
        w.worker.process(&job(good, "songs/v.mp3")).await.unwrap(),
        Outcome::Ready
    );
    let (status, reason, duration) = w.listed(good).await;
    assert_eq!((status.as_str(), reason), ("ready", None));
    assert!(
        (duration - 3.0).abs() <= 0.010,
        "{duration}: the server's duration replaces the 999 typed"
    );
    assert_eq!(w.version().await, before + 1, "one catalogue change");

    let out = w.worker.process(&job(text, "songs/t.mp3")).await.unwrap();
    assert!(matches!(out, Outcome::Rejected(_)), "{out:?}");
    let (status, reason, _) = w.listed(text).await;
    assert_eq!(status, "rejected");
    assert!(reason.unwrap().starts_with("not an audio file"));
    assert_eq!(w.version().await, before + 2);

    // Each verdict is one song:updated at the version it committed as (a
    // one-song album's gain changes too: album:updated at the same
    // version; a rejected one-song album has no gain to change).
    let events = log.exactly(3).await;
    let song_of = |(c, v): &(String, serde_json::Value)| {
        (
            c.clone(),
            v["songId"].as_str().map(str::to_owned),
            v["version"].as_i64(),
        )
    };
    assert_eq!(
        song_of(&events[0]),
        (
            channel::SONG_UPDATED.to_owned(),
            Some(good.to_string()),
            Some(before + 1)
        )
    );
    assert_eq!(events[1].0, channel::ALBUM_UPDATED);
    assert_eq!(events[1].1["version"].as_i64(), Some(before + 1));
    assert_eq!(
        song_of(&events[2]),
        (
            channel::SONG_UPDATED.to_owned(),
            Some(text.to_string()),
            Some(before + 2)
        )
    );

    // Jobs that change nothing take no version and tell nobody.
    for (song, key) in [
        (good, "songs/v.mp3"),
        (good, "songs/old.mp3"),
        (text, "songs/t.mp3"),
    ] {
        w.worker.process(&job(song, key)).await.unwrap();
    }
    assert_eq!(w.version().await, before + 2);
    log.exactly(3).await;
}

#[tokio::test]
async fn an_album_s_gain_is_set_once_its_last_song_is_read() {
    let w = world().await;
    let album = w.album().await;
    let mut songs = vec![];
    // ffmpeg's sine is 18 dB below full scale: about -8, -18 and -28 LUFS.
    for (i, db) in [14.0, 4.0, -6.0].into_iter().enumerate() {
        let key = format!("songs/g{i}.mp3");
        w.put(&key, tone(db)).await;
        songs.push((w.song_in(album, &key).await, key));
    }
    for (song, key) in &songs[..2] {
        w.worker.process(&job(*song, key)).await.unwrap();
        assert_eq!(
            w.album_gain(album).await,
            None,
            "a song is still processing"
        );
    }
    let log = EventLog::start(&w.ns, &channel::CATALOGUE).await;
    w.worker
        .process(&job(songs[2].0, &songs[2].1))
        .await
        .unwrap();
    let readings: Vec<(f64, f64, f64)> =
        sqlx::query_as("SELECT integrated_lufs, true_peak_dbtp, duration_seconds FROM song_media")
            .fetch_all(&w.db.pool)
            .await
            .unwrap();
    assert_eq!(readings.len(), 3);
    let expected = cadenza_media::album_gain(&readings).unwrap();
    let gain = w.album_gain(album).await.expect("set with the last song");
    assert!((gain - expected).abs() < 1e-9, "{gain} vs {expected}");
    // Of songs at -8, -18 and -28 LUFS the loudest dominates: the album is
    // turned down, unlike its quiet songs on their own.
    assert!(gain < 0.0, "{gain}");
    let track_gains: Vec<f64> =
        sqlx::query_scalar("SELECT track_gain_db FROM song_media ORDER BY track_gain_db")
            .fetch_all(&w.db.pool)
            .await
            .unwrap();
    assert!(
        track_gains[2] > 5.0,
        "the quietest alone is raised: {track_gains:?}"
    );
    let channels: Vec<String> = log.exactly(2).await.into_iter().map(|(c, _)| c).collect();
    assert_eq!(channels, [channel::SONG_UPDATED, channel::ALBUM_UPDATED]);
}

/// The check-then-act: "is every song of the album read?" Two workers
/// finishing an album's last songs at once must not each see the other's
/// song as still processing (then neither would set the gain).
#[tokio::test]
async fn workers_finishing_an_album_s_last_songs_at_once_always_set_its_gain() {
    let w = world().await;
    let audio = mp3();
    for round in 0..6 {
        let album = w.album().await;
        let mut jobs = vec![];
        for i in 0..4 {
            let key = format!("songs/r{round}-{i}.mp3");
            w.put(&key, audio.clone()).await;
            jobs.push(job(w.song_in(album, &key).await, &key));
        }
        let runs = futures_join(jobs.into_iter().map(|j| {
            let worker = w.worker.clone();
            tokio::spawn(async move { worker.process(&j).await.map_err(|e| e.to_string()) })
        }))
        .await;
        assert!(
            runs.iter().all(|r| matches!(r, Ok(Outcome::Ready))),
            "{runs:?}"
        );
        assert!(
            w.album_gain(album).await.is_some(),
            "round {round}: every song is read, but the album has no gain"
        );
    }
}
