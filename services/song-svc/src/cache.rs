//! `CatalogCache`: serialized JSON responses, cached in process and in Redis,
//! invalidated by the catalogue events admin-svc publishes.
//!
//! Freshness rules:
//! - Every entry has a 600 s TTL backstop (Pub/Sub is at-most-once).
//! - The cache is used only while the event subscription is live *and* has
//!   been resynced since it (re)connected: the resync hook flushes every key
//!   this service guards (SCAN + UNLINK under the namespace), so an event
//!   missed while disconnected cannot leave a stale entry behind. While
//!   disconnected, reads go to PostgreSQL.
//! - A fill that raced with an invalidation is not stored (or is deleted
//!   again): every invalidation bumps a local epoch, and a fill whose read
//!   began in an older epoch is discarded.
//!
//! Why SCAN + UNLINK and not a generation counter in the key names: keys stay
//! exactly the seed's (`albums:all`, `album:<id>`, `songs:all`), replicas keep
//! sharing one set of entries, and the key space is small (one entry per
//! album and song). A generation bump would orphan every replica's entries on
//! any one replica's reconnect and need one more round trip per read.
//!
//! Redis is optional: any cache error is logged and skipped, and trips a
//! 2 s circuit breaker so that requests stop paying the 500 ms connection
//! timeout while Redis is down.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cadenza_events::{channel, AlbumEvent, Envelope, EventSink, SongEvent};
use cadenza_platform::redis::Namespace;
use cadenza_platform::ApiResult;
use futures::future::{BoxFuture, FutureExt, Shared};
use futures::StreamExt;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use uuid::Uuid;

/// TTL backstop for every entry (CONTRACTS §5).
pub const TTL: Duration = Duration::from_secs(600);
const BREAKER: Duration = Duration::from_secs(2);
const LOCAL_MAX_ENTRIES: usize = 8192;

/// Key names (before namespacing).
pub mod keys {
    use uuid::Uuid;

    pub const ALBUMS_ALL: &str = "albums:all";
    pub const SONGS_ALL: &str = "songs:all";
    pub fn album(id: Uuid) -> String {
        format!("album:{id}")
    }
    pub fn song(id: Uuid) -> String {
        format!("song:{id}")
    }
    /// The audio key and duration behind `/stream/{id}`.
    pub fn stream_meta(id: Uuid) -> String {
        format!("song:{id}:stream")
    }
    /// SCAN patterns covering every per-id key above.
    pub const PATTERNS: [&str; 2] = ["album:*", "song:*"];
}

struct LocalEntry {
    bytes: Bytes,
    stored: Instant,
}

struct Inner {
    ns: Namespace,
    redis: RwLock<Option<ConnectionManager>>,
    local: Mutex<HashMap<String, LocalEntry>>,
    /// The subscriber's connection flag (set once the subscriber exists).
    connected: RwLock<Option<Arc<AtomicBool>>>,
    /// True once a resync flush completed since the last (re)connect.
    synced: AtomicBool,
    epoch: AtomicU64,
    started: Instant,
    breaker_until_ms: AtomicU64,
    /// Misses being loaded, by key, with the epoch their read began in:
    /// concurrent misses for one key share one PostgreSQL read.
    inflight: Mutex<HashMap<String, (u64, Loading)>>,
}

type Loading = Shared<BoxFuture<'static, ApiResult<Option<Bytes>>>>;

#[derive(Clone)]
pub struct CatalogCache {
    inner: Arc<Inner>,
}

impl CatalogCache {
    pub fn new(ns: Namespace) -> Self {
        Self {
            inner: Arc::new(Inner {
                ns,
                redis: RwLock::new(None),
                local: Mutex::new(HashMap::new()),
                connected: RwLock::new(None),
                synced: AtomicBool::new(false),
                epoch: AtomicU64::new(0),
                started: Instant::now(),
                breaker_until_ms: AtomicU64::new(0),
                inflight: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Connects to Redis in the background, retrying until it answers, so the
    /// service starts (and serves from PostgreSQL) with Redis down.
    pub fn connect(&self, client: redis::Client) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(200);
            loop {
                match cadenza_platform::redis::manager(&client).await {
                    Ok(conn) => {
                        if let Some(inner) = weak.upgrade() {
                            *inner.redis.write().unwrap() = Some(conn);
                        }
                        return;
                    }
                    Err(e) => {
                        if weak.strong_count() == 0 {
                            return;
                        }
                        tracing::warn!(error = %e, "redis not reachable yet; serving from PostgreSQL");
                    }
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        });
    }

    /// Ties the cache to the event subscription's connection flag: the cache
    /// is bypassed whenever it is down, and until the next resync after it
    /// comes back.
    pub fn watch_subscription(&self, connected: Arc<AtomicBool>) {
        *self.inner.connected.write().unwrap() = Some(connected.clone());
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                if !connected.load(Ordering::SeqCst) && inner.synced.swap(false, Ordering::SeqCst) {
                    tracing::warn!("event subscription lost; bypassing the cache until resynced");
                    inner.epoch.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
    }

    /// Whether reads may use the cache now.
    pub fn usable(&self) -> bool {
        let connected = self
            .inner
            .connected
            .read()
            .unwrap()
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst));
        connected && self.inner.synced.load(Ordering::SeqCst)
    }

    /// The cached bytes for `key`, else `load()`'s, stored on the way out.
    /// `Ok(None)` (not found) is not cached. Concurrent misses for one key
    /// share one `load()` (after an invalidation, 64 clients asking for
    /// `songs:all` cost one query), unless an invalidation happened since
    /// that load began.
    pub async fn get_or_load<F, Fut>(&self, key: &str, load: F) -> ApiResult<Option<Bytes>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ApiResult<Option<Bytes>>> + Send + 'static,
    {
        if !self.usable() {
            metrics::counter!("songsvc_cache_total", "result" => "bypass").increment(1);
            return load().await;
        }
        if let Some(bytes) = self.local_get(key) {
            metrics::counter!("songsvc_cache_total", "result" => "local").increment(1);
            return Ok(Some(bytes));
        }
        let epoch = self.inner.epoch.load(Ordering::SeqCst);
        let full = self.inner.ns.key(key);
        if let Some(bytes) = self.redis_get(&full).await {
            metrics::counter!("songsvc_cache_total", "result" => "redis").increment(1);
            self.local_put(key, &bytes, epoch);
            return Ok(Some(bytes));
        }
        metrics::counter!("songsvc_cache_total", "result" => "miss").increment(1);
        let loading = {
            let mut inflight = self.inner.inflight.lock().unwrap();
            match inflight.get(key) {
                Some((started, shared)) if *started == epoch => shared.clone(),
                _ => {
                    let this = self.clone();
                    let owned = key.to_owned();
                    let shared = async move {
                        let result = load().await;
                        if let Ok(Some(bytes)) = &result {
                            if this.still_valid(epoch) {
                                this.local_put(&owned, bytes, epoch);
                                this.redis_set(&full, bytes.clone(), epoch).await;
                            }
                        }
                        let mut inflight = this.inner.inflight.lock().unwrap();
                        if inflight.get(&owned).is_some_and(|(e, _)| *e == epoch) {
                            inflight.remove(&owned);
                        }
                        result
                    }
                    .boxed()
                    .shared();
                    inflight.insert(key.to_owned(), (epoch, shared.clone()));
                    shared
                }
            }
        };
        loading.await
    }

    fn still_valid(&self, epoch: u64) -> bool {
        self.usable() && self.inner.epoch.load(Ordering::SeqCst) == epoch
    }

    fn local_get(&self, key: &str) -> Option<Bytes> {
        let local = self.inner.local.lock().unwrap();
        local
            .get(key)
            .filter(|e| e.stored.elapsed() < TTL)
            .map(|e| e.bytes.clone())
    }

    fn local_put(&self, key: &str, bytes: &Bytes, epoch: u64) {
        let mut local = self.inner.local.lock().unwrap();
        // Checked under the lock that invalidation also takes.
        if !self.still_valid(epoch) {
            return;
        }
        if local.len() >= LOCAL_MAX_ENTRIES {
            local.clear();
        }
        local.insert(
            key.to_owned(),
            LocalEntry {
                bytes: bytes.clone(),
                stored: Instant::now(),
            },
        );
    }

    fn now_ms(&self) -> u64 {
        self.inner.started.elapsed().as_millis() as u64
    }

    fn conn(&self) -> Option<ConnectionManager> {
        if self.now_ms() < self.inner.breaker_until_ms.load(Ordering::Relaxed) {
            return None;
        }
        self.inner.redis.read().unwrap().clone()
    }

    fn trip(&self, op: &str, e: &redis::RedisError) {
        tracing::warn!(op, error = %e, "redis cache error; skipping the cache for {BREAKER:?}");
        metrics::counter!("songsvc_cache_errors_total").increment(1);
        self.inner.breaker_until_ms.store(
            self.now_ms() + BREAKER.as_millis() as u64,
            Ordering::Relaxed,
        );
    }

    async fn redis_get(&self, full: &str) -> Option<Bytes> {
        let mut conn = self.conn()?;
        match conn.get::<_, Option<Vec<u8>>>(full).await {
            Ok(v) => v.map(Bytes::from),
            Err(e) => {
                self.trip("GET", &e);
                None
            }
        }
    }

    async fn redis_set(&self, full: &str, bytes: Bytes, epoch: u64) {
        let Some(mut conn) = self.conn() else { return };
        let set: redis::RedisResult<()> = conn.set_ex(full, bytes.as_ref(), TTL.as_secs()).await;
        if let Err(e) = set {
            self.trip("SET", &e);
            return;
        }
        // An invalidation may have landed between the epoch check and the
        // SET: undo the write rather than leave a stale entry for 600 s.
        if self.inner.epoch.load(Ordering::SeqCst) != epoch {
            let _: redis::RedisResult<()> = conn.del(full).await;
        }
    }

    /// Bumps the epoch and drops `names` locally; then from Redis.
    async fn invalidate(&self, names: &[String]) -> redis::RedisResult<()> {
        {
            let mut local = self.inner.local.lock().unwrap();
            self.inner.epoch.fetch_add(1, Ordering::SeqCst);
            for n in names {
                local.remove(n);
            }
        }
        let Some(mut conn) = self.inner.redis.read().unwrap().clone() else {
            return Ok(());
        };
        let full: Vec<String> = names.iter().map(|n| self.inner.ns.key(n)).collect();
        conn.unlink::<_, ()>(full).await
    }

    /// Drops everything this service guards, locally and in Redis.
    pub async fn flush_all(&self) -> redis::RedisResult<usize> {
        {
            let mut local = self.inner.local.lock().unwrap();
            self.inner.epoch.fetch_add(1, Ordering::SeqCst);
            local.clear();
        }
        let conn = self.inner.redis.read().unwrap().clone();
        let Some(mut conn) = conn else {
            // Not connected yet: nothing of ours can be read from Redis either
            // until it is, and then the TTL bounds what is there. Refuse so
            // the caller keeps the cache bypassed.
            return Err(redis::RedisError::from((
                redis::ErrorKind::IoError,
                "redis not connected yet",
            )));
        };
        let mut doomed: Vec<String> = vec![
            self.inner.ns.key(keys::ALBUMS_ALL),
            self.inner.ns.key(keys::SONGS_ALL),
        ];
        for pattern in keys::PATTERNS {
            let pattern = self.inner.ns.key(pattern);
            let mut scan_conn = conn.clone();
            let mut scan = scan_conn.scan_match::<_, String>(&pattern).await?;
            while let Some(key) = scan.next().await {
                doomed.push(key);
            }
        }
        let n = doomed.len();
        for chunk in doomed.chunks(500) {
            conn.unlink::<_, ()>(chunk).await?;
        }
        Ok(n)
    }

    /// Flushes until it succeeds, then marks the cache usable again. Gives up
    /// (cache stays bypassed) if the subscription drops meanwhile: its next
    /// resync will try again.
    async fn flush_and_mark_synced(&self) {
        self.inner.synced.store(false, Ordering::SeqCst);
        loop {
            match self.flush_all().await {
                Ok(n) => {
                    tracing::info!(keys = n, "catalogue cache flushed");
                    self.inner.synced.store(true, Ordering::SeqCst);
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "catalogue cache flush failed; retrying");
                    let connected = self
                        .inner
                        .connected
                        .read()
                        .unwrap()
                        .as_ref()
                        .is_some_and(|c| c.load(Ordering::SeqCst));
                    if !connected {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    }

    /// Applies one catalogue event.
    pub async fn apply_event(&self, channel_name: &str, payload: &str) {
        tracing::debug!(channel = channel_name, "catalogue event");
        let names: Option<Vec<String>> = match channel_name {
            channel::ALBUM_CREATED => serde_json::from_str::<Envelope<AlbumEvent>>(payload)
                .ok()
                .map(|e| vec![keys::ALBUMS_ALL.into(), keys::album(e.payload.album_id)]),
            channel::SONG_CREATED | channel::SONG_DELETED => {
                serde_json::from_str::<Envelope<SongEvent>>(payload)
                    .ok()
                    .map(|e| song_keys(e.payload.song_id, e.payload.album_id))
            }
            // An album's name or cover shows in every song of it, a deleted
            // album takes its songs with it, and an updated song may have
            // moved album (the event names only the new one): flush it all.
            // These are rare admin actions.
            channel::ALBUM_UPDATED | channel::ALBUM_DELETED | channel::SONG_UPDATED => None,
            _ => return,
        };
        let result = match names {
            Some(names) => self.invalidate(&names).await,
            None => self.flush_all().await.map(|_| ()),
        };
        if let Err(e) = result {
            // The entry may still be in Redis: stop trusting the cache until
            // a flush goes through.
            tracing::warn!(channel = channel_name, error = %e, "cache invalidation failed; flushing");
            let this = self.clone();
            tokio::spawn(async move { this.flush_and_mark_synced().await });
        }
    }

    /// The event sink to hand to `cadenza_events::Subscriber::spawn`.
    pub fn sink(&self) -> Arc<dyn EventSink> {
        Arc::new(CacheSink(self.clone()))
    }
}

fn song_keys(song_id: Uuid, album_id: Uuid) -> Vec<String> {
    vec![
        keys::SONGS_ALL.into(),
        keys::album(album_id),
        keys::song(song_id),
        keys::stream_meta(song_id),
    ]
}

struct CacheSink(CatalogCache);

impl EventSink for CacheSink {
    fn resync(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.0.flush_and_mark_synced())
    }

    fn deliver<'a>(&'a self, channel_name: &'a str, payload: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(self.0.apply_event(channel_name, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn song_events_drop_the_lists_the_album_and_the_song() {
        let s = Uuid::new_v4();
        let a = Uuid::new_v4();
        let keys = song_keys(s, a);
        assert!(keys.contains(&"songs:all".to_string()));
        assert!(keys.contains(&format!("album:{a}")));
        assert!(keys.contains(&format!("song:{s}")));
        assert!(keys.contains(&format!("song:{s}:stream")));
    }

    #[tokio::test]
    async fn cache_is_bypassed_until_subscribed_and_resynced() {
        let cache = CatalogCache::new(Namespace::new("unit"));
        assert!(!cache.usable());
        let flag = Arc::new(AtomicBool::new(true));
        cache.watch_subscription(flag.clone());
        assert!(!cache.usable(), "connected but not resynced");
        cache.inner.synced.store(true, Ordering::SeqCst);
        assert!(cache.usable());
        flag.store(false, Ordering::SeqCst);
        assert!(!cache.usable());
        // The watcher also forgets the resync, so a reconnect alone is not enough.
        tokio::time::sleep(Duration::from_millis(100)).await;
        flag.store(true, Ordering::SeqCst);
        assert!(!cache.usable());
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_load() {
        let cache = CatalogCache::new(Namespace::new("unit"));
        cache.watch_subscription(Arc::new(AtomicBool::new(true)));
        cache.inner.synced.store(true, Ordering::SeqCst);
        let loads = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let cache = cache.clone();
                let loads = loads.clone();
                tokio::spawn(async move {
                    cache
                        .get_or_load("songs:all", move || async move {
                            loads.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok(Some(Bytes::from_static(b"[]")))
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().as_deref(), Some(&b"[]"[..]));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert!(cache.inner.inflight.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_fill_that_raced_an_invalidation_is_not_kept() {
        let cache = CatalogCache::new(Namespace::new("unit"));
        cache.watch_subscription(Arc::new(AtomicBool::new(true)));
        cache.inner.synced.store(true, Ordering::SeqCst);
        let c2 = cache.clone();
        let got = cache
            .get_or_load("albums:all", || async move {
                // An event lands while PostgreSQL is being read.
                c2.invalidate(&["albums:all".into()]).await.unwrap();
                Ok(Some(Bytes::from_static(b"old")))
            })
            .await
            .unwrap();
        assert_eq!(
            got.as_deref(),
            Some(&b"old"[..]),
            "the caller still gets its read"
        );
        assert!(
            cache.local_get("albums:all").is_none(),
            "but it is not cached"
        );
        // A clean fill is cached.
        cache
            .get_or_load("albums:all", || async {
                Ok(Some(Bytes::from_static(b"new")))
            })
            .await
            .unwrap();
        assert_eq!(cache.local_get("albums:all").as_deref(), Some(&b"new"[..]));
    }
}
