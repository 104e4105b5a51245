//! The media worker (issue 20): for each job `{songId, audioKey}` it reads
//! the song's audio object from S3, analyses it with `cadenza_media`, and
//! records what it found in `song_media`. A file that is not audio is
//! recorded as rejected, with the reason, and its object is deleted.
//!
//! Jobs come from SQS. A job is deleted once handled; a failure (S3 or
//! PostgreSQL unreachable, an analysis over its time limit) leaves it to
//! come back after a growing pause, and the queue's redrive policy moves it
//! to the dead-letter queue after 5 receives (infra/). Handling is
//! idempotent: a job for audio already analysed, for a song whose audio
//! was replaced since (stale), or for a deleted song changes nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::error::ProvideErrorMetadata;
use cadenza_catalog::SongStatus;
use cadenza_media::{Analysis, Limits};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

/// A job, as admin-svc sends it (CONTRACTS-style: `docs/media.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub song_id: Uuid,
    pub audio_key: String,
}

/// What handling a job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ready,
    Rejected(String),
    /// The song's audio is another object now: its own job handles it.
    Stale,
    /// This audio was analysed already.
    Unchanged,
    /// The song was deleted.
    Gone,
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Ready => "ready",
            Outcome::Rejected(_) => "rejected",
            Outcome::Stale => "stale",
            Outcome::Unchanged => "unchanged",
            Outcome::Gone => "gone",
        }
    }
}

/// A failure worth another try.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("storage: {0}")]
    Storage(String),
    #[error("the analysis took longer than {0:?}")]
    TimedOut(Duration),
    #[error("the analysis failed: {0}")]
    Crashed(#[from] tokio::task::JoinError),
}

impl WorkError {
    /// An S3 failure (a call or the body it streams), with the whole
    /// cause chain.
    fn storage(e: impl std::error::Error) -> Self {
        WorkError::Storage(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
    }
}

pub struct Worker {
    pub db: PgPool,
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub limits: Limits,
    /// Tells song-svc what changed; None only in tests that do not listen.
    pub events: Option<cadenza_events::Publisher>,
}

/// A verdict being recorded: its transaction (holding the catalogue
/// version and the song's row lock) and what its events name.
struct Verdict {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    version: i64,
    song_id: Uuid,
    album_id: Uuid,
}

impl Worker {
    pub async fn process(&self, job: &Job) -> Result<Outcome, WorkError> {
        let current: Option<(String, Option<String>, Option<bool>)> = sqlx::query_as(
            "SELECT s.audio_key, m.audio_key, m.delete_object FROM songs s \
             LEFT JOIN song_media m ON m.song_id = s.id WHERE s.id = $1",
        )
        .bind(job.song_id)
        .fetch_optional(&self.db)
        .await?;
        let Some((key, analysed, delete_object)) = current else {
            return Ok(Outcome::Gone);
        };
        if key != job.audio_key {
            return Ok(Outcome::Stale);
        }
        if analysed.as_deref() == Some(key.as_str()) {
            if delete_object == Some(true) {
                // Recorded, but the delete may have failed: finish it.
                self.delete(&key).await?;
            }
            return Ok(Outcome::Unchanged);
        }
        let bytes = match self.fetch(&key).await? {
            Ok(bytes) => bytes,
            Err(rejected) => return self.reject(job, &rejected).await,
        };
        let extension = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        let limits = self.limits;
        // The analysis stops itself at `limits.max_wall`; this is only a
        // backstop for a decoder stuck inside one packet.
        let backstop = limits.max_wall + Duration::from_secs(30);
        let analysis = tokio::time::timeout(
            backstop,
            tokio::task::spawn_blocking(move || {
                cadenza_media::analyse(&bytes, extension.as_deref(), limits)
            }),
        )
        .await
        .map_err(|_| WorkError::TimedOut(backstop))??;
        match analysis {
            Ok(a) => self.ready(job, &a).await,
            Err(rejected) => self.reject(job, &rejected).await,
        }
    }

    /// The object's bytes, or why it cannot be a song (too large: told by
    /// its size before it is downloaded). A missing object is a failure to
    /// retry, not a verdict: it may be being copied in (a seed import).
    async fn fetch(
        &self,
        key: &str,
    ) -> Result<Result<Vec<u8>, cadenza_media::Rejected>, WorkError> {
        let head = self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let size = match head {
            Ok(h) => h.content_length().unwrap_or(0).max(0) as usize,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                return Err(WorkError::Storage("the audio object is missing".into()));
            }
            Err(e) => return Err(WorkError::storage(e)),
        };
        if size > self.limits.max_bytes {
            return Ok(Err(cadenza_media::Rejected::TooLarge {
                bytes: size,
                limit: self.limits.max_bytes,
            }));
        }
        let object = match self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(o) => o,
            // Gone since the HEAD: another worker rejected it (the retry
            // finds its record and changes nothing), or it really went.
            Err(e) if e.code() == Some("NoSuchKey") => {
                return Err(WorkError::Storage(
                    "the audio object went while being read".into(),
                ));
            }
            Err(e) => return Err(WorkError::storage(e)),
        };
        // Checked again: the object may have been replaced since the HEAD.
        if object.content_length().unwrap_or(0).max(0) as usize > self.limits.max_bytes {
            return Ok(Err(cadenza_media::Rejected::TooLarge {
                bytes: object.content_length().unwrap_or(0) as usize,
                limit: self.limits.max_bytes,
            }));
        }
        let bytes = object.body.collect().await.map_err(WorkError::storage)?;
        Ok(Ok(bytes.to_vec()))
    }

    async fn ready(&self, job: &Job, a: &Analysis) -> Result<Outcome, WorkError> {
        let tags = serde_json::to_value(&a.tags).unwrap_or_default();
        let l = a.loudness;
        let Some(mut w) = self.begin_verdict(job).await? else {
            return self.not_written(job).await;
        };
        sqlx::query(
            "INSERT INTO song_media (song_id, audio_key, status, codec, container, sample_rate, \
               channels, duration_seconds, bitrate, integrated_lufs, true_peak_dbtp, track_gain_db, \
               peaks, tags, cover_type) \
             VALUES ($1, $2, $15, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (song_id) DO UPDATE SET audio_key = EXCLUDED.audio_key, status = EXCLUDED.status, \
               reason = NULL, delete_object = false, codec = EXCLUDED.codec, \
               container = EXCLUDED.container, sample_rate = EXCLUDED.sample_rate, \
               channels = EXCLUDED.channels, duration_seconds = EXCLUDED.duration_seconds, \
               bitrate = EXCLUDED.bitrate, integrated_lufs = EXCLUDED.integrated_lufs, \
               true_peak_dbtp = EXCLUDED.true_peak_dbtp, track_gain_db = EXCLUDED.track_gain_db, \
               peaks = EXCLUDED.peaks, tags = EXCLUDED.tags, cover_type = EXCLUDED.cover_type, \
               analysed_at = now()",
        )
        .bind(job.song_id)
        .bind(&job.audio_key)
        .bind(&a.stream.codec)
        .bind(&a.stream.container)
        .bind(a.stream.sample_rate as i32)
        .bind(i16::try_from(a.stream.channels).unwrap_or(i16::MAX))
        .bind(a.stream.duration_seconds)
        .bind(i32::try_from(a.stream.bitrate).unwrap_or(i32::MAX))
        .bind(l.map(|l| l.integrated_lufs))
        .bind(l.map(|l| l.true_peak_dbtp))
        .bind(l.map(|l| l.track_gain_db))
        .bind(&a.peaks)
        .bind(tags)
        .bind(a.tags.cover.as_ref().map(|c| c.mime.clone()))
        .bind(SongStatus::Ready)
        .execute(&mut *w.tx)
        .await?;
        // The server's duration replaces the client's (the stream URL's
        // lifetime follows it), and listeners see the song from now on.
        sqlx::query(
            "UPDATE songs SET status = $3, status_reason = NULL, duration_seconds = $2, \
             updated_at = now() WHERE id = $1",
        )
        .bind(job.song_id)
        .bind(a.stream.duration_seconds)
        .bind(SongStatus::Ready)
        .execute(&mut *w.tx)
        .await?;
        self.finish_verdict(w).await?;
        Ok(Outcome::Ready)
    }

    /// Opens the transaction that records a verdict on `job`: it takes a
    /// catalogue version first (which serialises it with every other
    /// catalogue writer, so of two workers finishing an album's last two
    /// songs the second sees the first's), then locks the song. None, with
    /// nothing written, when the verdict is not this job's to give: the
    /// song is gone, its audio changed, or this audio was read already.
    async fn begin_verdict(&self, job: &Job) -> Result<Option<Verdict>, WorkError> {
        let mut tx = self.db.begin().await?;
        let version = cadenza_catalog::version::bump(&mut tx).await?;
        let current: Option<(Uuid, String, Option<String>)> = sqlx::query_as(
            "SELECT s.album_id, s.audio_key, m.audio_key FROM songs s \
             LEFT JOIN song_media m ON m.song_id = s.id WHERE s.id = $1 FOR UPDATE OF s",
        )
        .bind(job.song_id)
        .fetch_optional(&mut *tx)
        .await?;
        match current {
            Some((album_id, key, analysed))
                if key == job.audio_key && analysed.as_deref() != Some(key.as_str()) =>
            {
                Ok(Some(Verdict {
                    tx,
                    version,
                    song_id: job.song_id,
                    album_id,
                }))
            }
            // Rolled back: the version is not used.
            _ => Ok(None),
        }
    }

    /// Sets the album's gain if the verdict settled its last song, commits,
    /// and tells song-svc (`song:updated`, and `album:updated` when the
    /// album's gain changed) at the version the change committed as.
    async fn finish_verdict(&self, mut w: Verdict) -> Result<(), WorkError> {
        let album_changed = cadenza_catalog::media::refresh_album_gain(
            &mut w.tx,
            w.album_id,
            cadenza_media::album_gain,
        )
        .await?;
        w.tx.commit().await?;
        if let Some(events) = &self.events {
            events
                .publish_change(
                    cadenza_events::channel::SONG_UPDATED,
                    cadenza_events::SongEvent {
                        song_id: w.song_id,
                        album_id: w.album_id,
                        // A verdict never moves a song.
                        same_album: true,
                    },
                    w.version,
                )
                .await;
            if album_changed {
                events
                    .publish_change(
                        cadenza_events::channel::ALBUM_UPDATED,
                        cadenza_events::AlbumEvent {
                            album_id: w.album_id,
                        },
                        w.version,
                    )
                    .await;
            }
        }
        Ok(())
    }

    /// Why a verdict was not written: another worker recorded this audio
    /// first (the same job twice at once), or the song moved on.
    async fn not_written(&self, job: &Job) -> Result<Outcome, WorkError> {
        let current: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT s.audio_key, m.audio_key FROM songs s \
             LEFT JOIN song_media m ON m.song_id = s.id WHERE s.id = $1",
        )
        .bind(job.song_id)
        .fetch_optional(&self.db)
        .await?;
        Ok(match current {
            None => Outcome::Gone,
            Some((_, analysed)) if analysed.as_deref() == Some(job.audio_key.as_str()) => {
                Outcome::Unchanged
            }
            Some(_) => Outcome::Stale,
        })
    }

    async fn reject(
        &self,
        job: &Job,
        rejected: &cadenza_media::Rejected,
    ) -> Result<Outcome, WorkError> {
        let reason = rejected.to_string();
        let delete = rejected.is_not_audio();
        let Some(mut w) = self.begin_verdict(job).await? else {
            return self.not_written(job).await;
        };
        sqlx::query(
            "INSERT INTO song_media (song_id, audio_key, status, reason, delete_object) \
             VALUES ($1, $2, $5, $3, $4) \
             ON CONFLICT (song_id) DO UPDATE SET audio_key = EXCLUDED.audio_key, \
               status = EXCLUDED.status, reason = EXCLUDED.reason, \
               delete_object = EXCLUDED.delete_object, codec = NULL, container = NULL, \
               sample_rate = NULL, channels = NULL, duration_seconds = NULL, bitrate = NULL, \
               integrated_lufs = NULL, true_peak_dbtp = NULL, track_gain_db = NULL, peaks = NULL, \
               tags = '{}', cover_type = NULL, analysed_at = now()",
        )
        .bind(job.song_id)
        .bind(&job.audio_key)
        .bind(&reason)
        .bind(delete)
        .bind(SongStatus::Rejected)
        .execute(&mut *w.tx)
        .await?;
        sqlx::query(
            "UPDATE songs SET status = $3, status_reason = $2, updated_at = now() \
             WHERE id = $1",
        )
        .bind(job.song_id)
        .bind(&reason)
        .bind(SongStatus::Rejected)
        .execute(&mut *w.tx)
        .await?;
        self.finish_verdict(w).await?;
        if delete {
            // Recorded first, so a failure here leaves a reading that says
            // the object is to go, and the job's retry deletes it; never an
            // object deleted with nothing saying why.
            self.delete(&job.audio_key).await?;
        }
        tracing::info!(song = %job.song_id, key = %job.audio_key, reason, deleted = delete, "audio rejected");
        Ok(Outcome::Rejected(reason))
    }

    /// Deletes a rejected object (deleting one already gone succeeds).
    async fn delete(&self, key: &str) -> Result<(), WorkError> {
        self.s3
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(WorkError::storage)
    }
}

/// Queues a job (in admin-svc's `media_jobs` outbox, which its relay
/// sends) for every song whose current audio has no reading and no job
/// yet: the catalogue that existed before the worker, or a reading lost.
/// Idempotent; returns how many jobs it added.
pub async fn backfill(db: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO media_jobs (song_id, audio_key) \
         SELECT s.id, s.audio_key FROM songs s \
         WHERE NOT EXISTS (SELECT 1 FROM song_media m WHERE m.song_id = s.id AND m.audio_key = s.audio_key) \
           AND NOT EXISTS (SELECT 1 FROM media_jobs j WHERE j.song_id = s.id AND j.audio_key = s.audio_key)",
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// How the queue is read.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    pub url: String,
    /// Long-poll wait per receive.
    pub wait: Duration,
    /// How long a received job stays hidden from other workers.
    pub visibility: Duration,
    /// The first pause before a failed job comes back; doubled per receive.
    pub retry_base: Duration,
}

/// Reads jobs until `stop` resolves. A job that cannot be decoded is left
/// for the dead-letter queue (it will never succeed; the redrive policy
/// moves it after 5 receives).
pub async fn run(
    worker: Arc<Worker>,
    sqs: aws_sdk_sqs::Client,
    queue: QueueConfig,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        let receive = sqs
            .receive_message()
            .queue_url(&queue.url)
            // One at a time: a batch's later messages would wait out their
            // visibility behind a long analysis and be read twice.
            .max_number_of_messages(1)
            .wait_time_seconds(queue.wait.as_secs() as i32)
            .visibility_timeout(queue.visibility.as_secs() as i32)
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
            )
            .send();
        let received = tokio::select! {
            () = &mut stop => return,
            r = receive => r,
        };
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "cannot read the media queue");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        for m in messages {
            handle(&worker, &sqs, &queue, m).await;
        }
    }
}

async fn handle(
    worker: &Worker,
    sqs: &aws_sdk_sqs::Client,
    queue: &QueueConfig,
    m: aws_sdk_sqs::types::Message,
) {
    let Some(receipt) = m.receipt_handle() else {
        return;
    };
    let receives: u32 = m
        .attributes()
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let started = Instant::now();
    let result = match serde_json::from_str::<Job>(m.body().unwrap_or_default()) {
        Ok(job) => worker.process(&job).await.map_err(|e| e.to_string()),
        Err(e) => Err(format!("undecodable job: {e}")),
    };
    let outcome = match &result {
        Ok(o) => o.label(),
        Err(_) => "failed",
    };
    metrics::counter!("media_jobs_total", "outcome" => outcome).increment(1);
    metrics::histogram!("media_job_seconds").record(started.elapsed().as_secs_f64());
    match result {
        Ok(o) => {
            tracing::info!(
                outcome = o.label(),
                seconds = started.elapsed().as_secs_f64(),
                "media job handled"
            );
            if let Err(e) = sqs
                .delete_message()
                .queue_url(&queue.url)
                .receipt_handle(receipt)
                .send()
                .await
            {
                // It comes back, and changes nothing the second time.
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "cannot delete a handled job");
            }
        }
        Err(e) => {
            let pause = retry_pause(queue.retry_base, receives);
            tracing::warn!(error = e, receives, retry_in = ?pause, "media job failed");
            let _ = sqs
                .change_message_visibility()
                .queue_url(&queue.url)
                .receipt_handle(receipt)
                .visibility_timeout(pause.as_secs() as i32)
                .send()
                .await;
        }
    }
}

/// Samples the queue's depth every `every` into
/// `media_queue_messages{state=waiting|in_flight}` until `stop` resolves
/// (one replica's view; every replica reports the same queue).
pub async fn watch_depth(
    sqs: aws_sdk_sqs::Client,
    url: String,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    tokio::pin!(stop);
    loop {
        let got = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await;
        match got {
            Ok(out) => {
                let attrs = out.attributes.unwrap_or_default();
                for (attr, state) in [
                    (A::ApproximateNumberOfMessages, "waiting"),
                    (A::ApproximateNumberOfMessagesNotVisible, "in_flight"),
                ] {
                    if let Some(n) = attrs.get(&attr).and_then(|v| v.parse::<f64>().ok()) {
                        metrics::gauge!("media_queue_messages", "state" => state).set(n);
                    }
                }
            }
            Err(e) => {
                tracing::debug!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "cannot read the media queue's depth")
            }
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// `base` doubled per earlier receive, at most 15 minutes.
pub fn retry_pause(base: Duration, receives: u32) -> Duration {
    base.saturating_mul(1 << receives.saturating_sub(1).min(16))
        .min(Duration::from_secs(900))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_a_bound() {
        let b = Duration::from_secs(5);
        assert_eq!(retry_pause(b, 1), b);
        assert_eq!(retry_pause(b, 3), Duration::from_secs(20));
        assert_eq!(retry_pause(b, 40), Duration::from_secs(900));
        assert_eq!(retry_pause(Duration::ZERO, 4), Duration::ZERO);
    }
}
