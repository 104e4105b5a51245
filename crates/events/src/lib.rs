//! Redis Pub/Sub events (CONTRACTS §5).
//!
//! Pub/Sub is at-most-once: a subscriber that is disconnected misses what was
//! published meanwhile. So the [`Subscriber`] calls its sink's `resync` every
//! time it (re)subscribes, *after* the subscription is live, and consumers
//! flush or reload whatever the events guard. Caches keep a TTL backstop too.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cadenza_platform::redis::Namespace;
use cadenza_platform::telemetry::propagation;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::BoxFuture;
use futures::StreamExt;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tracing::Instrument;
use uuid::Uuid;

/// Channel names, kept from the seed.
pub mod channel {
    pub const ALBUM_CREATED: &str = "album:created";
    pub const ALBUM_UPDATED: &str = "album:updated";
    pub const ALBUM_DELETED: &str = "album:deleted";
    pub const SONG_CREATED: &str = "song:created";
    pub const SONG_UPDATED: &str = "song:updated";
    pub const SONG_DELETED: &str = "song:deleted";
    pub const SESSION_REVOKED: &str = "auth:session-revoked";
    pub const USER_REVOKED: &str = "auth:user-revoked";

    pub const CATALOGUE: [&str; 6] = [
        ALBUM_CREATED,
        ALBUM_UPDATED,
        ALBUM_DELETED,
        SONG_CREATED,
        SONG_UPDATED,
        SONG_DELETED,
    ];
    pub const AUTH: [&str; 2] = [SESSION_REVOKED, USER_REVOKED];
}

/// Every payload carries an id and a timestamp beside its own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    #[serde(rename = "eventId")]
    pub event_id: Uuid,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// The catalogue version the change committed as (catalogue events from
    /// admin-svc; `cadenza_catalog::version`). Absent on other events, and
    /// on catalogue events from a publisher that does not know it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// W3C trace context of the publish, so the consumer's span joins the
    /// trace of the change (set by [`Publisher`]; absent when there is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    #[serde(flatten)]
    pub payload: T,
}

impl<T> Envelope<T> {
    pub fn new(payload: T) -> Self {
        Self {
            event_id: Uuid::new_v4(),
            at: Utc::now(),
            version: None,
            traceparent: None,
            payload,
        }
    }

    pub fn with_version(mut self, version: i64) -> Self {
        self.version = Some(version);
        self
    }
}

mod rfc3339 {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlbumEvent {
    #[serde(rename = "albumId")]
    pub album_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SongEvent {
    #[serde(rename = "songId")]
    pub song_id: Uuid,
    #[serde(rename = "albumId")]
    pub album_id: Uuid,
    /// `song:updated` only: true when the song stayed in its album, so a
    /// reader may drop just that song's and that album's entries. Absent
    /// (false) means "may have moved" (and from older publishers): a
    /// reader refreshes everything.
    #[serde(rename = "sameAlbum", default, skip_serializing_if = "is_false")]
    pub same_album: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRevoked {
    pub sid: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    /// Unix seconds after which the session's access tokens are dead anyway.
    pub exp: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRevoked {
    #[serde(rename = "userId")]
    pub user_id: String,
    /// Unix seconds; access tokens issued before it are refused.
    #[serde(rename = "notBefore")]
    pub not_before: i64,
}

/// Publishes envelopes on namespaced channels.
#[derive(Clone)]
pub struct Publisher {
    conn: ConnectionManager,
    ns: Namespace,
}

impl Publisher {
    pub fn new(conn: ConnectionManager, ns: Namespace) -> Self {
        Self { conn, ns }
    }

    /// Publishes `payload` wrapped in an envelope; returns the event id.
    pub async fn publish<T: Serialize>(
        &self,
        channel: &str,
        payload: T,
    ) -> redis::RedisResult<Uuid> {
        self.publish_envelope(channel, Envelope::new(payload)).await
    }

    /// Publishes a ready-made envelope (e.g. one carrying a `version`).
    pub async fn publish_envelope<T: Serialize>(
        &self,
        channel: &str,
        mut envelope: Envelope<T>,
    ) -> redis::RedisResult<Uuid> {
        let span = tracing::info_span!(
            "redis.PUBLISH",
            channel,
            otel.kind = "producer",
            messaging.system = "redis",
            messaging.destination.name = channel,
        );
        if envelope.traceparent.is_none() {
            envelope.traceparent = propagation::traceparent(&span);
        }
        self.publish_body(channel, &envelope)
            .instrument(span)
            .await?;
        Ok(envelope.event_id)
    }

    /// Publishes the event of a catalogue change that committed as
    /// `version`, retrying once after a transient failure. A lost event is
    /// logged, not returned: the change is committed, and subscribers fall
    /// back to their version checks and cache TTLs.
    pub async fn publish_change<T: Serialize + Clone>(
        &self,
        channel: &'static str,
        payload: T,
        version: i64,
    ) {
        for attempt in 1..=2 {
            let envelope = Envelope::new(payload.clone()).with_version(version);
            match self.publish_envelope(channel, envelope).await {
                Ok(event_id) => {
                    tracing::debug!(channel, %event_id, version, "event published");
                    return;
                }
                Err(e) if attempt == 1 => {
                    tracing::warn!(channel, error = %e, "publish failed; retrying once");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => {
                    tracing::error!(channel, error = %e, "event lost (consumers fall back to cache TTLs)");
                }
            }
        }
    }

    async fn publish_body<T: Serialize>(
        &self,
        channel: &str,
        envelope: &Envelope<T>,
    ) -> redis::RedisResult<()> {
        let body = serde_json::to_string(&envelope).map_err(|e| {
            redis::RedisError::from((
                redis::ErrorKind::TypeError,
                "serialize event",
                e.to_string(),
            ))
        })?;
        let mut conn = self.conn.clone();
        redis::cmd("PUBLISH")
            .arg(self.ns.key(channel))
            .arg(body)
            .query_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }
}

/// What a subscriber does with what it hears.
pub trait EventSink: Send + Sync + 'static {
    /// Called after every successful (re)subscribe, before messages flow.
    /// Events may have been missed: reload or flush what they guard.
    fn resync(&self) -> BoxFuture<'_, ()>;
    /// Called as soon as a subscription is found dead, before the connected
    /// flag drops and before any reconnect: from here until the next
    /// `resync` returns, events may be missed.
    fn disconnected(&self) {}
    /// One message, on its contract channel name (namespace stripped).
    fn deliver<'a>(&'a self, channel: &'a str, payload: &'a str) -> BoxFuture<'a, ()>;
}

/// A background task that keeps a subscription alive forever.
pub struct Subscriber {
    connected: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    /// Subscribes to `channels` and feeds `sink`, reconnecting with capped
    /// exponential backoff (100 ms … 5 s) whenever the connection drops.
    pub fn spawn(
        client: redis::Client,
        ns: Namespace,
        channels: &[&'static str],
        sink: Arc<dyn EventSink>,
    ) -> Self {
        let connected = Arc::new(AtomicBool::new(false));
        let flag = connected.clone();
        let channels: Vec<&'static str> = channels.to_vec();
        let task = tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                match run_once(&client, &ns, &channels, sink.as_ref(), &flag).await {
                    Ok(()) => {
                        tracing::warn!("event subscription closed; reconnecting");
                        backoff = Duration::from_millis(100);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, ?backoff, "event subscription failed; retrying")
                    }
                }
                sink.disconnected();
                flag.store(false, Ordering::SeqCst);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
        Self { connected, task }
    }

    /// True while the subscription is live (events are flowing).
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    /// A shared view of the connection flag.
    pub fn connected_flag(&self) -> Arc<AtomicBool> {
        self.connected.clone()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What every envelope carries, read before the sink parses the payload.
#[derive(Deserialize)]
struct Head {
    at: Option<DateTime<Utc>>,
    traceparent: Option<String>,
}

/// `cadenza_event_lag_seconds{channel}`: from the envelope's `at` (the
/// publisher's clock) to its arrival here.
fn record_lag(channel: &str, at: DateTime<Utc>) {
    let lag = (Utc::now() - at).num_microseconds().unwrap_or(0).max(0) as f64 / 1e6;
    metrics::histogram!("cadenza_event_lag_seconds", "channel" => channel.to_owned()).record(lag);
}

/// The consumer span of one event, in the trace of its publish.
fn event_span(channel: &str, traceparent: Option<&str>) -> tracing::Span {
    let span = tracing::info_span!(
        "event",
        channel,
        trace_id = tracing::field::Empty,
        remote_traceparent = tracing::field::Empty,
        otel.name = %format_args!("{channel} process"),
        otel.kind = "consumer",
        messaging.system = "redis",
        messaging.operation.type = "process",
    );
    propagation::join(&span, traceparent);
    span
}

async fn run_once(
    client: &redis::Client,
    ns: &Namespace,
    channels: &[&'static str],
    sink: &dyn EventSink,
    connected: &AtomicBool,
) -> redis::RedisResult<()> {
    let mut pubsub = tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub())
        .await
        .map_err(|_| redis::RedisError::from((redis::ErrorKind::IoError, "connect timed out")))??;
    for ch in channels {
        pubsub.subscribe(ns.key(ch)).await?;
    }
    connected.store(true, Ordering::SeqCst);
    tracing::info!(?channels, "event subscription live; resyncing");
    sink.resync().await;
    let mut stream = pubsub.on_message();
    while let Some(msg) = stream.next().await {
        let full = msg.get_channel_name().to_owned();
        let Some(channel) = ns.strip(&full) else {
            continue;
        };
        match msg.get_payload::<String>() {
            Ok(payload) => {
                let head = serde_json::from_str::<Head>(&payload).ok();
                let (at, traceparent) = head.map_or((None, None), |h| (h.at, h.traceparent));
                if let Some(at) = at {
                    record_lag(channel, at);
                }
                sink.deliver(channel, &payload)
                    .instrument(event_span(channel, traceparent.as_deref()))
                    .await
            }
            Err(e) => tracing::warn!(channel, error = %e, "undecodable event payload dropped"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_flattens_payload_in_camel_case() {
        let e = Envelope::new(SongEvent {
            song_id: Uuid::nil(),
            album_id: Uuid::nil(),
            same_album: false,
        });
        let v = serde_json::to_value(&e).unwrap();
        assert!(v["eventId"].is_string());
        assert!(v["at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(v["songId"], Uuid::nil().to_string());
        assert_eq!(v["albumId"], Uuid::nil().to_string());
        assert!(v.get("version").is_none(), "absent unless set");
        assert!(v.get("traceparent").is_none(), "absent unless set");
        let back: Envelope<SongEvent> = serde_json::from_value(v).unwrap();
        assert_eq!(back.event_id, e.event_id);
        assert_eq!(back.version, None);
        let v = serde_json::to_value(e.clone().with_version(42)).unwrap();
        assert_eq!(v["version"], 42);
        let back: Envelope<SongEvent> = serde_json::from_value(v).unwrap();
        assert_eq!(back.version, Some(42));
        assert_eq!(back.payload, e.payload);
        // `at` is rendered to the millisecond.
        assert!((back.at - e.at).num_milliseconds().abs() <= 1);
    }
}
