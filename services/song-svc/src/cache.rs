//! `CatalogCache`: serialized JSON responses, cached in process and in Redis,
//! kept coherent with the catalogue by its version.
//!
//! **Invariant: no replica serves an entry older than the newest catalogue
//! change it has applied.**
//!
//! Why it holds:
//! - Every committed catalogue change has a version, handed out in commit
//!   order by one row in PostgreSQL (`cadenza_catalog::version`).
//! - Every entry, in process and in Redis, carries the version of the
//!   snapshot it was read from (`Snapshot`: the version is read in the same
//!   repeatable-read transaction as the data), so an entry is exactly the
//!   catalogue as of its version.
//! - A replica *applies* a change by raising a floor: per key for the keys
//!   an event names, or for every key (album updates and deletes, song
//!   updates, a gap in the versions it has heard, a resync). Entries below
//!   the floor of their key are refused **when read**, at every layer and on
//!   every hit, under the same lock that raises floors. So a fill that raced
//!   an event (it read old data, then stored it after the event landed)
//!   stores an entry that is never served; the race the old epoch scheme lost
//!   (an old Redis value copied into the local map after a flush) cannot
//!   serve either, because nothing is trusted for having been stored.
//! - Replicas share Redis entries freely: an entry another replica filled is
//!   accepted only if it is at least as new as this replica's floor. A
//!   replica that has not heard of a change yet may serve the entry before
//!   it, which is the event delay the contract allows, never longer.
//!
//! What can still be stale, and for how long:
//! - Between a commit and the moment a replica applies its event (the Pub/Sub
//!   delivery, milliseconds).
//! - An event that never arrives while the subscription stays up (a publish
//!   that failed after the commit): the next event that arrives shows a gap
//!   in the versions and raises every floor; without any later event, the
//!   TTL backstop (`CATALOG_CACHE_TTL_SECS`, default 600 s) bounds it.
//! - While the subscription is down the cache is bypassed (reads go to
//!   PostgreSQL), from the moment the subscriber sees the connection die
//!   until the resync after it reconnects has read the current version and
//!   raised every floor to it.
//!
//! Events without a `version` (an older publisher, a hand-made event) are
//! treated as "something changed": the replica reads the current version
//! from PostgreSQL and raises every floor to it.
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

use crate::encoding::{Body, Compressed};
use cadenza_events::{channel, EventSink};
use cadenza_platform::redis::Namespace;
use cadenza_platform::ApiResult;
use futures::future::{BoxFuture, FutureExt, Shared};
use redis::aio::ConnectionManager;
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

/// The default TTL backstop for every entry (CONTRACTS §5).
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
const BREAKER: Duration = Duration::from_secs(2);
const LOCAL_MAX_ENTRIES: usize = 8192;
const RESYNC_RETRY: Duration = Duration::from_millis(250);
/// Search results kept in process (never in Redis: user input must not fill
/// a shared store), and for how long at most.
const SEARCH_MAX_ENTRIES: usize = 1024;
const SEARCH_MAX_BYTES: usize = 32 << 20;
const SEARCH_TTL: Duration = Duration::from_secs(60);
/// Song views for batch lookups, one per song (~300 bytes each): enough
/// for a 100 000-song catalogue.
const SONGS_MAX_ENTRIES: usize = 100_000;
const SONGS_MAX_BYTES: usize = 32 << 20;
/// Ids known not to exist (a deleted song still in someone's list), kept
/// apart so that a flood of made-up ids churns only this memo.
const ABSENT_MAX_ENTRIES: usize = 20_000;

/// A memo key and what it weighs (its share of the memo's byte bound).
trait MemoKey: std::hash::Hash + Eq {
    fn weight(&self) -> usize;
}

impl MemoKey for String {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl MemoKey for Uuid {
    fn weight(&self) -> usize {
        16
    }
}

/// Bodies kept while no newer catalogue change has been heard of: search
/// results (any change may change any result) and the song views of batch
/// lookups (cheaper to refuse all than to track which songs a change
/// touched; changes are rare admin actions). Each entry carries the
/// version it was read at. Bounded by count and bytes; when full, it is
/// emptied (cheaper than tracking use, and refilled by the next reads).
struct Memo<K = String> {
    map: HashMap<K, Entry>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

impl<K: MemoKey> Memo<K> {
    fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            map: HashMap::new(),
            bytes: 0,
            max_entries,
            max_bytes,
        }
    }

    /// The entry for `key` if it was read at `newest` or later and is
    /// younger than `ttl`.
    fn current<Q>(&self, key: &Q, newest: i64, ttl: Duration) -> Option<&Bytes>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.map
            .get(key)
            .filter(|e| e.version >= newest && e.stored.elapsed() < ttl)
            .map(|e| &e.bytes)
    }

    fn insert(&mut self, key: K, entry: Entry) {
        let size = entry.bytes.len() + key.weight();
        if size > self.max_bytes {
            return;
        }
        if let Some(old) = self.map.remove(&key) {
            self.bytes -= old.bytes.len() + key.weight();
        }
        if self.map.len() >= self.max_entries || self.bytes + size > self.max_bytes {
            self.map.clear();
            self.bytes = 0;
        }
        self.bytes += size;
        self.map.insert(key, entry);
    }
}

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
    /// `/{id}/waveform`: its ETag and body.
    pub fn waveform(id: Uuid) -> String {
        format!("song:{id}:waveform")
    }
}

/// A value and the catalogue version it was read at.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub version: i64,
    pub value: T,
}

impl<T> Versioned<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Versioned<U> {
        Versioned {
            version: self.version,
            value: f(self.value),
        }
    }
}

/// How entries are stored in Redis: `cz1:` + the version as 20 decimal
/// digits + `:` + the JSON. Fixed-width digits compare as numbers in Lua.
mod wire {
    pub const PREFIX: &[u8] = b"cz1:";
    const DIGITS: usize = 20;
    pub const HEADER: usize = PREFIX.len() + DIGITS + 1;

    pub fn version_text(version: i64) -> String {
        format!("{:020}", version.max(0))
    }

    pub fn encode(version: i64, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + body.len());
        out.extend_from_slice(PREFIX);
        out.extend_from_slice(version_text(version).as_bytes());
        out.push(b':');
        out.extend_from_slice(body);
        out
    }

    /// `None` for anything not in this format (an entry of an older
    /// release, or garbage): treated as a miss.
    pub fn decode(raw: &[u8]) -> Option<(i64, &[u8])> {
        if raw.len() < HEADER || !raw.starts_with(PREFIX) || raw[HEADER - 1] != b':' {
            return None;
        }
        let digits = std::str::from_utf8(&raw[PREFIX.len()..HEADER - 1]).ok()?;
        Some((digits.parse().ok()?, &raw[HEADER..]))
    }
}

/// Stores the entry unless Redis already holds one at least as new (so a
/// slow fill never replaces a newer one another replica stored).
const SET_IF_NEWER: &str = r"
local cur = redis.call('GETRANGE', KEYS[1], 0, 23)
if string.sub(cur, 1, 4) == 'cz1:' and string.sub(cur, 5, 24) >= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
";

struct Entry {
    version: i64,
    bytes: Bytes,
    stored: Instant,
    /// Its gzip and brotli forms, made on first demand (`encoding`).
    compressed: Arc<Compressed>,
}

#[derive(Default)]
struct Slot {
    entry: Option<Entry>,
    /// Entries of this key older than this are refused.
    floor: i64,
}

/// Everything the floors guard, under one lock.
#[derive(Default)]
struct Local {
    slots: HashMap<String, Slot>,
    /// Entries of every key older than this are refused.
    global: i64,
    /// The newest version this replica has heard of.
    newest: i64,
}

impl Local {
    fn floor(&self, key: &str) -> i64 {
        self.slots
            .get(key)
            .map_or(self.global, |s| s.floor.max(self.global))
    }

    fn raise_global(&mut self, version: i64) {
        if version <= self.global {
            return;
        }
        self.global = version;
        let global = self.global;
        self.slots.retain(|_, slot| {
            if slot.entry.as_ref().is_some_and(|e| e.version < global) {
                slot.entry = None;
            }
            slot.entry.is_some() || slot.floor > global
        });
    }

    fn raise_key(&mut self, key: &str, version: i64) {
        if version <= self.global {
            return;
        }
        if !self.slots.contains_key(key) && self.slots.len() >= LOCAL_MAX_ENTRIES {
            self.raise_global(self.newest);
            self.slots.clear();
        }
        let slot = self.slots.entry(key.to_owned()).or_default();
        slot.floor = slot.floor.max(version);
        if slot.entry.as_ref().is_some_and(|e| e.version < version) {
            slot.entry = None;
        }
    }

    /// Applies one change: `keys` raised to `version`, or all of them.
    fn apply(&mut self, version: i64, keys: Option<&[String]>) {
        // Versions are dense: one we skipped over is a change whose event
        // never came, and nobody knows which keys it touched.
        let gap = version > self.newest + 1;
        self.newest = self.newest.max(version);
        match keys {
            Some(keys) if !gap => keys.iter().for_each(|k| self.raise_key(k, version)),
            _ => self.raise_global(version),
        }
    }
}

struct Inner {
    ns: Namespace,
    pool: PgPool,
    ttl: Duration,
    redis: RwLock<Option<ConnectionManager>>,
    local: Mutex<Local>,
    /// The subscriber's connection flag (set once the subscriber exists).
    connected: RwLock<Option<Arc<AtomicBool>>>,
    /// True from a completed resync until the subscription is seen dead.
    synced: AtomicBool,
    started: Instant,
    breaker_until_ms: AtomicU64,
    /// Misses being loaded, by key: concurrent misses for one key share one
    /// PostgreSQL read, if it began at a floor at least as high as theirs.
    inflight: Mutex<HashMap<String, Inflight>>,
    /// Search results by normalised query; valid only at the newest version
    /// heard of (any change may change any result).
    search: Mutex<Memo>,
    /// One song's view (the JSON of one item of a batch lookup) by its id,
    /// kept the same way.
    songs: Mutex<Memo<Uuid>>,
    /// Ids a load found no song for, kept the same way (an empty value).
    absent: Mutex<Memo<Uuid>>,
    next_load: AtomicU64,
    set_if_newer: redis::Script,
}

struct Inflight {
    id: u64,
    floor: i64,
    loading: Loading,
}

type Loading = Shared<BoxFuture<'static, ApiResult<Versioned<Option<Bytes>>>>>;

#[derive(Clone)]
pub struct CatalogCache {
    inner: Arc<Inner>,
}

impl CatalogCache {
    /// `pool` is where a resync reads the current catalogue version.
    pub fn new(ns: Namespace, pool: PgPool, ttl: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                ns,
                pool,
                ttl,
                redis: RwLock::new(None),
                local: Mutex::new(Local::default()),
                connected: RwLock::new(None),
                synced: AtomicBool::new(false),
                started: Instant::now(),
                breaker_until_ms: AtomicU64::new(0),
                inflight: Mutex::new(HashMap::new()),
                search: Mutex::new(Memo::new(SEARCH_MAX_ENTRIES, SEARCH_MAX_BYTES)),
                songs: Mutex::new(Memo::new(SONGS_MAX_ENTRIES, SONGS_MAX_BYTES)),
                absent: Mutex::new(Memo::new(ABSENT_MAX_ENTRIES, usize::MAX)),
                next_load: AtomicU64::new(0),
                set_if_newer: redis::Script::new(SET_IF_NEWER),
            }),
        }
    }

    /// Connects to Redis in the background, retrying until it answers, so the
    /// service starts (and serves from PostgreSQL) with Redis down.
    pub fn connect(&self, client: redis::Client) {
        cadenza_platform::redis::connect_in_background(
            client,
            Arc::downgrade(&self.inner),
            "catalogue cache (serving from PostgreSQL)",
            |inner, conn| *inner.redis.write().unwrap() = Some(conn),
        );
    }

    /// Ties the cache to the event subscription's connection flag: the cache
    /// is bypassed whenever it is down, and until the next resync after it
    /// comes back (the sink's `disconnected` hook forgets the last resync).
    pub fn watch_subscription(&self, connected: Arc<AtomicBool>) {
        *self.inner.connected.write().unwrap() = Some(connected);
    }

    fn connected(&self) -> bool {
        self.inner
            .connected
            .read()
            .unwrap()
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
    }

    /// Whether reads may use the cache now.
    pub fn usable(&self) -> bool {
        self.connected() && self.inner.synced.load(Ordering::SeqCst)
    }

    /// The newest catalogue version this replica has applied.
    pub fn applied_version(&self) -> i64 {
        self.inner.local.lock().unwrap().newest
    }

    /// The cached bytes for `key` if they are at least as new as every change
    /// this replica has applied to it, else `load()`'s, stored on the way out.
    /// `load` must read in one snapshot and say its version (`Snapshot`).
    /// `Ok(None)` (not found) is not cached.
    pub async fn get_or_load<F, Fut>(&self, key: &str, load: F) -> ApiResult<Option<Bytes>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ApiResult<Versioned<Option<Bytes>>>> + Send + 'static,
    {
        Ok(self.body_or_load(key, load).await?.map(|b| b.bytes))
    }

    /// [`Self::get_or_load`], with the entry's compressed forms when the
    /// answer came from this replica's memory.
    pub async fn body_or_load<F, Fut>(&self, key: &str, load: F) -> ApiResult<Option<Body>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ApiResult<Versioned<Option<Bytes>>>> + Send + 'static,
    {
        if !self.usable() {
            metrics::counter!("songsvc_cache_total", "result" => "bypass").increment(1);
            return Ok(load().await?.value.map(Body::plain));
        }
        let floor = match self.local_entry(key) {
            Ok((bytes, compressed)) => {
                metrics::counter!("songsvc_cache_total", "result" => "local").increment(1);
                return Ok(Some(Body {
                    bytes,
                    compressed: Some(compressed),
                }));
            }
            Err(floor) => floor,
        };
        let full = self.inner.ns.key(key);
        match self.redis_get(&full).await {
            Some((version, bytes)) if version >= floor => {
                metrics::counter!("songsvc_cache_total", "result" => "redis").increment(1);
                self.local_put(key, version, &bytes);
                return Ok(Some(Body::plain(bytes)));
            }
            Some(_) => {
                metrics::counter!("songsvc_cache_total", "result" => "stale").increment(1);
            }
            None => {}
        }
        metrics::counter!("songsvc_cache_total", "result" => "miss").increment(1);
        let loaded = self.shared_load(key, full, floor, load).await?;
        if loaded.version >= floor {
            return Ok(loaded.value.map(Body::plain));
        }
        // Cannot happen with one PostgreSQL (a snapshot taken after a floor
        // was raised sees that change); read again rather than serve it.
        tracing::warn!(
            key,
            version = loaded.version,
            floor,
            "a load read older data than an applied change"
        );
        Err(cadenza_platform::Problem::unavailable(
            "postgres",
            "catalogue snapshot older than an applied change",
        ))
    }

    /// A search result for `key` (the normalised query and limit) if one
    /// read at the newest version this replica has heard of is kept, else
    /// `load()`'s, kept if it still is the newest. Popular queries are
    /// answered from memory; any catalogue change refuses every kept result.
    pub async fn search_or_load<F, Fut>(&self, key: &str, load: F) -> ApiResult<Bytes>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<Versioned<Bytes>>>,
    {
        self.memo_or_load(&self.inner.search, "songsvc_search_cache_total", key, load)
            .await
    }

    /// The newest catalogue version this replica has heard of.
    fn newest_heard(&self) -> i64 {
        let local = self.inner.local.lock().unwrap();
        local.newest.max(local.global)
    }

    /// The views of `ids` (each the JSON of one song) in the order asked,
    /// `None` for songs that do not exist: the kept views (and absences)
    /// that were read at the newest version heard of, and `load(the
    /// rest)`'s, kept if they still are. So a playlist of songs anybody
    /// looked up since the last catalogue change costs no PostgreSQL read,
    /// whatever its order or mix. Each id is answered as of the newest
    /// change heard when it was read: one answer may join views kept
    /// before a change with views loaded after it, within the event bound.
    ///
    /// The lock that applies events is held only to read the newest
    /// version; a view stored just as a change is heard is refused when
    /// read, by its version.
    pub async fn songs_or_load<F, Fut>(
        &self,
        ids: &[Uuid],
        load: F,
    ) -> ApiResult<Vec<Option<Bytes>>>
    where
        F: FnOnce(Vec<Uuid>) -> Fut,
        Fut: Future<Output = ApiResult<Versioned<HashMap<Uuid, Bytes>>>>,
    {
        const METRIC: &str = "songsvc_batch_cache_total";
        if !self.usable() {
            metrics::counter!(METRIC, "result" => "bypass").increment(ids.len() as u64);
            let mut found = load(ids.to_vec()).await?.value;
            return Ok(ids.iter().map(|id| found.remove(id)).collect());
        }
        let ttl = self.inner.ttl;
        let newest = self.newest_heard();
        // Outer None: not known here; Some(None): known not to exist.
        let mut known: Vec<Option<Option<Bytes>>> = {
            let memo = self.inner.songs.lock().unwrap();
            ids.iter()
                .map(|id| memo.current(id, newest, ttl).cloned().map(Some))
                .collect()
        };
        if known.iter().any(Option::is_none) {
            let absent = self.inner.absent.lock().unwrap();
            for (id, k) in ids.iter().zip(known.iter_mut()) {
                if k.is_none() && absent.current(id, newest, ttl).is_some() {
                    *k = Some(None);
                }
            }
        }
        let wanted: Vec<Uuid> = ids
            .iter()
            .zip(&known)
            .filter(|(_, k)| k.is_none())
            .map(|(id, _)| *id)
            .collect();
        metrics::counter!(METRIC, "result" => "hit").increment((ids.len() - wanted.len()) as u64);
        if wanted.is_empty() {
            return Ok(known.into_iter().map(Option::flatten).collect());
        }
        metrics::counter!(METRIC, "result" => "miss").increment(wanted.len() as u64);
        let loaded = load(wanted.clone()).await?;
        if loaded.version >= self.newest_heard() {
            let entry = |bytes: Bytes| Entry {
                version: loaded.version,
                bytes,
                stored: Instant::now(),
                compressed: Arc::default(),
            };
            let mut memo = self.inner.songs.lock().unwrap();
            for (id, bytes) in &loaded.value {
                memo.insert(*id, entry(bytes.clone()));
            }
            drop(memo);
            let mut absent = self.inner.absent.lock().unwrap();
            for id in wanted.iter().filter(|id| !loaded.value.contains_key(id)) {
                absent.insert(*id, entry(Bytes::new()));
            }
        }
        let found = loaded.value;
        Ok(ids
            .iter()
            .zip(known)
            .map(|(id, k)| match k {
                Some(kept) => kept,
                None => found.get(id).cloned(),
            })
            .collect())
    }

    async fn memo_or_load<F, Fut>(
        &self,
        memo: &Mutex<Memo>,
        metric: &'static str,
        key: &str,
        load: F,
    ) -> ApiResult<Bytes>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<Versioned<Bytes>>>,
    {
        if !self.usable() {
            metrics::counter!(metric, "result" => "bypass").increment(1);
            return Ok(load().await?.value);
        }
        {
            let local = self.inner.local.lock().unwrap();
            let newest = local.newest.max(local.global);
            let memo = memo.lock().unwrap();
            if let Some(bytes) = memo.current(key, newest, SEARCH_TTL.min(self.inner.ttl)) {
                metrics::counter!(metric, "result" => "hit").increment(1);
                return Ok(bytes.clone());
            }
        }
        metrics::counter!(metric, "result" => "miss").increment(1);
        let loaded = load().await?;
        // Under the lock that applies events: a result older than a change
        // heard of meanwhile is not kept.
        let local = self.inner.local.lock().unwrap();
        if loaded.version >= local.newest.max(local.global) {
            memo.lock().unwrap().insert(
                key.to_owned(),
                Entry {
                    version: loaded.version,
                    bytes: loaded.value.clone(),
                    stored: Instant::now(),
                    compressed: Arc::default(),
                },
            );
        }
        Ok(loaded.value)
    }

    /// Joins a load of `key` that began at a floor at least `floor`, or
    /// starts one; the load stores what it read if it is still current.
    async fn shared_load<F, Fut>(
        &self,
        key: &str,
        full: String,
        floor: i64,
        load: F,
    ) -> ApiResult<Versioned<Option<Bytes>>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ApiResult<Versioned<Option<Bytes>>>> + Send + 'static,
    {
        let loading = {
            let mut inflight = self.inner.inflight.lock().unwrap();
            match inflight.get(key) {
                Some(running) if running.floor >= floor => running.loading.clone(),
                _ => {
                    let id = self.inner.next_load.fetch_add(1, Ordering::Relaxed);
                    let this = self.clone();
                    let owned = key.to_owned();
                    let loading = async move {
                        let result = load().await;
                        if let Ok(Versioned {
                            version,
                            value: Some(bytes),
                        }) = &result
                        {
                            if this.local_put(&owned, *version, bytes) {
                                this.redis_set(&full, *version, bytes).await;
                            }
                        }
                        let mut inflight = this.inner.inflight.lock().unwrap();
                        if inflight.get(&owned).is_some_and(|r| r.id == id) {
                            inflight.remove(&owned);
                        }
                        result
                    }
                    .boxed()
                    .shared();
                    inflight.insert(
                        key.to_owned(),
                        Inflight {
                            id,
                            floor,
                            loading: loading.clone(),
                        },
                    );
                    loading
                }
            }
        };
        loading.await
    }

    /// The entry if it is current, else the floor a new one must reach.
    #[cfg(test)]
    fn local_get(&self, key: &str) -> Result<Bytes, i64> {
        self.local_entry(key).map(|(bytes, _)| bytes)
    }

    /// The entry if it is current, with its compressed forms.
    fn local_entry(&self, key: &str) -> Result<(Bytes, Arc<Compressed>), i64> {
        let local = self.inner.local.lock().unwrap();
        let floor = local.floor(key);
        match local.slots.get(key).and_then(|s| s.entry.as_ref()) {
            Some(e) if e.version >= floor && e.stored.elapsed() < self.inner.ttl => {
                Ok((e.bytes.clone(), e.compressed.clone()))
            }
            _ => Err(floor),
        }
    }

    /// Keeps `bytes` if they are at least as new as the key's floor and as
    /// the entry already there; says whether they are current.
    fn local_put(&self, key: &str, version: i64, bytes: &Bytes) -> bool {
        let mut local = self.inner.local.lock().unwrap();
        if version < local.floor(key) {
            return false;
        }
        if !local.slots.contains_key(key) && local.slots.len() >= LOCAL_MAX_ENTRIES {
            // Full: start over, keeping every floor by raising the global one
            // past all of them.
            let newest = local.newest;
            local.raise_global(newest);
            local.slots.clear();
            if version < local.global {
                return false;
            }
        }
        let slot = local.slots.entry(key.to_owned()).or_default();
        if slot.entry.as_ref().is_some_and(|e| e.version > version) {
            return true;
        }
        slot.entry = Some(Entry {
            version,
            bytes: bytes.clone(),
            stored: Instant::now(),
            compressed: Arc::default(),
        });
        true
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

    #[tracing::instrument(name = "redis.GET", skip_all, fields(otel.kind = "client", db.system = "redis"))]
    async fn redis_get(&self, full: &str) -> Option<(i64, Bytes)> {
        let mut conn = self.conn()?;
        let raw = match redis::cmd("GET")
            .arg(full)
            .query_async::<Option<Vec<u8>>>(&mut conn)
            .await
        {
            Ok(v) => v?,
            Err(e) => {
                self.trip("GET", &e);
                return None;
            }
        };
        let (version, _) = wire::decode(&raw)?;
        let raw = Bytes::from(raw);
        Some((version, raw.slice(wire::HEADER..)))
    }

    #[tracing::instrument(name = "redis.SET", skip_all, fields(otel.kind = "client", db.system = "redis"))]
    async fn redis_set(&self, full: &str, version: i64, bytes: &Bytes) {
        let Some(mut conn) = self.conn() else { return };
        let stored: redis::RedisResult<i64> = self
            .inner
            .set_if_newer
            .key(full)
            .arg(wire::encode(version, bytes))
            .arg(wire::version_text(version))
            .arg(self.inner.ttl.as_secs().max(1))
            .invoke_async(&mut conn)
            .await;
        if let Err(e) = stored {
            self.trip("SET", &e);
        }
    }

    /// Reads the current catalogue version and refuses everything older.
    async fn catch_up(&self) -> sqlx::Result<i64> {
        let version = cadenza_catalog::version::current(&self.inner.pool).await?;
        let mut local = self.inner.local.lock().unwrap();
        local.newest = local.newest.max(version);
        local.raise_global(version);
        Ok(version)
    }

    /// After a (re)subscribe: catches up with PostgreSQL, retrying until it
    /// answers, then marks the cache usable. Gives up (cache stays bypassed)
    /// if the subscription drops meanwhile: its next resync tries again.
    async fn resync(&self) {
        self.inner.synced.store(false, Ordering::SeqCst);
        loop {
            match self.catch_up().await {
                Ok(version) => {
                    tracing::info!(version, "catalogue cache resynced");
                    self.inner.synced.store(true, Ordering::SeqCst);
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "catalogue cache resync failed; retrying");
                    if !self.connected() {
                        return;
                    }
                    tokio::time::sleep(RESYNC_RETRY).await;
                }
            }
        }
    }

    /// Applies one catalogue event.
    pub async fn apply_event(&self, channel_name: &str, payload: &str) {
        tracing::debug!(channel = channel_name, "catalogue event");
        let Ok(event) = serde_json::from_str::<CatalogueEvent>(payload) else {
            tracing::warn!(
                channel = channel_name,
                "undecodable catalogue event; catching up"
            );
            return self.catch_up_or_resync().await;
        };
        let keys: Option<Vec<String>> = match (channel_name, event.album_id, event.song_id) {
            (channel::ALBUM_CREATED, Some(album), _) => {
                Some(vec![keys::ALBUMS_ALL.into(), keys::album(album)])
            }
            (channel::SONG_CREATED | channel::SONG_DELETED, Some(album), Some(song)) => {
                Some(song_keys(song, album))
            }
            // A song that stayed in its album (every media-worker verdict,
            // an admin's edit): that song and that album.
            (channel::SONG_UPDATED, Some(album), Some(song)) if event.same_album => {
                Some(song_keys(song, album))
            }
            // An album's name or cover shows in every song of it, a deleted
            // album takes its songs with it, and an updated song may have
            // moved album (the event names only the new one): everything.
            // These are rare admin actions.
            _ if channel::CATALOGUE.contains(&channel_name) => None,
            _ => return,
        };
        match event.version {
            Some(version) => self
                .inner
                .local
                .lock()
                .unwrap()
                .apply(version, keys.as_deref()),
            None => self.catch_up_or_resync().await,
        }
    }

    async fn catch_up_or_resync(&self) {
        if let Err(e) = self.catch_up().await {
            // Something changed and we cannot tell what: stop trusting the
            // cache until a resync goes through.
            tracing::warn!(error = %e, "catalogue version unreadable; bypassing the cache");
            self.inner.synced.store(false, Ordering::SeqCst);
            let this = self.clone();
            tokio::spawn(async move { this.resync().await });
        }
    }

    /// The event sink to hand to `cadenza_events::Subscriber::spawn`.
    pub fn sink(&self) -> Arc<dyn EventSink> {
        Arc::new(CacheSink(self.clone()))
    }
}

/// The fields of any catalogue event this cache uses.
#[derive(Deserialize)]
struct CatalogueEvent {
    #[serde(rename = "albumId")]
    album_id: Option<Uuid>,
    #[serde(rename = "songId")]
    song_id: Option<Uuid>,
    #[serde(rename = "sameAlbum", default)]
    same_album: bool,
    version: Option<i64>,
}

fn song_keys(song_id: Uuid, album_id: Uuid) -> Vec<String> {
    vec![
        keys::SONGS_ALL.into(),
        keys::album(album_id),
        keys::song(song_id),
        keys::stream_meta(song_id),
        keys::waveform(song_id),
    ]
}

struct CacheSink(CatalogCache);

impl EventSink for CacheSink {
    fn resync(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.0.resync())
    }

    fn disconnected(&self) {
        if self.0.inner.synced.swap(false, Ordering::SeqCst) {
            tracing::warn!("event subscription lost; bypassing the cache until resynced");
        }
    }

    fn deliver<'a>(&'a self, channel_name: &'a str, payload: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(self.0.apply_event(channel_name, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> CatalogCache {
        let pool = PgPool::connect_lazy("postgres://x@127.0.0.1:1/x").unwrap();
        let cache = CatalogCache::new(Namespace::new("unit"), pool, DEFAULT_TTL);
        cache.watch_subscription(Arc::new(AtomicBool::new(true)));
        cache.inner.synced.store(true, Ordering::SeqCst);
        cache
    }

    fn apply(cache: &CatalogCache, version: i64, keys: Option<&[&str]>) {
        let keys: Option<Vec<String>> = keys.map(|k| k.iter().map(|s| s.to_string()).collect());
        cache
            .inner
            .local
            .lock()
            .unwrap()
            .apply(version, keys.as_deref());
    }

    fn bytes(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

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

    #[test]
    fn redis_entries_carry_their_version() {
        let raw = wire::encode(42, b"{\"a\":1}");
        assert_eq!(&raw[..wire::HEADER], b"cz1:00000000000000000042:");
        assert_eq!(wire::decode(&raw), Some((42, &b"{\"a\":1}"[..])));
        // An entry written by an older release (bare JSON) is a miss.
        assert_eq!(wire::decode(b"{\"albums\":[]}"), None);
        assert_eq!(wire::decode(b"cz1:0000000000000000004x:{}"), None);
        // The Lua script compares the digits as text: widths must match.
        assert!(wire::version_text(9) < wire::version_text(10));
    }

    #[tokio::test]
    async fn cache_is_bypassed_until_subscribed_and_resynced() {
        let pool = PgPool::connect_lazy("postgres://x@127.0.0.1:1/x").unwrap();
        let cache = CatalogCache::new(Namespace::new("unit"), pool, DEFAULT_TTL);
        assert!(!cache.usable());
        let flag = Arc::new(AtomicBool::new(true));
        cache.watch_subscription(flag.clone());
        assert!(!cache.usable(), "connected but not resynced");
        cache.inner.synced.store(true, Ordering::SeqCst);
        assert!(cache.usable());
        flag.store(false, Ordering::SeqCst);
        assert!(!cache.usable());
        // The subscriber reports the loss before it reconnects, so a
        // reconnect alone is not enough.
        CacheSink(cache.clone()).disconnected();
        flag.store(true, Ordering::SeqCst);
        assert!(!cache.usable());
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_load() {
        let cache = cache();
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
                            Ok(Versioned {
                                version: 0,
                                value: Some(bytes("[]")),
                            })
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
    async fn a_fill_that_raced_an_event_is_not_kept() {
        let cache = cache();
        let c2 = cache.clone();
        let got = cache
            .get_or_load("albums:all", || async move {
                // Read at version 3; the event of version 4 lands meanwhile.
                apply(&c2, 4, Some(&["albums:all"]));
                Ok(Versioned {
                    version: 3,
                    value: Some(bytes("old")),
                })
            })
            .await
            .unwrap();
        assert_eq!(
            got,
            Some(bytes("old")),
            "the caller, who asked first, gets its read"
        );
        assert_eq!(cache.local_get("albums:all"), Err(4), "but it is not kept");
        // A clean fill is cached and served.
        cache
            .get_or_load("albums:all", || async {
                Ok(Versioned {
                    version: 4,
                    value: Some(bytes("new")),
                })
            })
            .await
            .unwrap();
        assert_eq!(cache.local_get("albums:all").unwrap(), bytes("new"));
    }

    #[tokio::test]
    async fn a_load_older_than_an_applied_change_is_not_served() {
        let cache = cache();
        apply(&cache, 1, None);
        let got = cache
            .get_or_load("albums:all", || async {
                Ok(Versioned {
                    version: 0,
                    value: Some(bytes("older than what was applied")),
                })
            })
            .await;
        assert_eq!(
            got.unwrap_err().status,
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[tokio::test]
    async fn an_entry_stored_after_its_event_is_refused_when_read() {
        // The seen race: the event lands, then an old value is stored.
        let cache = cache();
        apply(&cache, 1, None);
        assert!(cache.local_put("album:a", 1, &bytes("v1")));
        apply(&cache, 2, Some(&["album:a"]));
        assert!(
            !cache.local_put("album:a", 1, &bytes("v1 again")),
            "refused"
        );
        assert_eq!(cache.local_get("album:a"), Err(2));
        // Other keys are untouched by a per-key event.
        assert!(cache.local_put("album:b", 1, &bytes("b1")));
        apply(&cache, 3, Some(&["album:a"]));
        assert_eq!(cache.local_get("album:b").unwrap(), bytes("b1"));
        // A global change refuses everything older, whenever it was stored.
        apply(&cache, 4, None);
        assert_eq!(cache.local_get("album:b"), Err(4));
        assert!(!cache.local_put("album:b", 3, &bytes("b3")));
        assert!(cache.local_put("album:b", 4, &bytes("b4")));
        assert_eq!(cache.local_get("album:b").unwrap(), bytes("b4"));
    }

    #[tokio::test]
    async fn a_gap_in_versions_refuses_everything_older() {
        // Version 6 never arrived (its publish failed): 7 names one key, but
        // whatever 6 changed must not be served either.
        let cache = cache();
        apply(&cache, 5, None);
        assert!(cache.local_put("song:x", 5, &bytes("x5")));
        apply(&cache, 7, Some(&["album:a"]));
        assert_eq!(cache.local_get("song:x"), Err(7));
        // A late event older than what was seen only raises its keys.
        assert!(cache.local_put("song:x", 7, &bytes("x7")));
        apply(&cache, 6, Some(&["album:a"]));
        assert_eq!(cache.local_get("song:x").unwrap(), bytes("x7"));
    }

    #[tokio::test]
    async fn an_older_fill_does_not_replace_a_newer_entry() {
        let cache = cache();
        assert!(cache.local_put("k", 5, &bytes("five")));
        assert!(cache.local_put("k", 4, &bytes("four")), "still current");
        assert_eq!(cache.local_get("k").unwrap(), bytes("five"));
    }

    #[tokio::test]
    async fn kept_search_results_are_refused_after_any_change() {
        let cache = cache();
        let loads = AtomicU64::new(0);
        let search = |version: i64| {
            let loads = &loads;
            let cache = cache.clone();
            async move {
                cache
                    .search_or_load("20:queen", || async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        Ok(Versioned {
                            version,
                            value: bytes("result"),
                        })
                    })
                    .await
                    .unwrap()
            }
        };
        search(0).await;
        search(0).await;
        assert_eq!(loads.load(Ordering::SeqCst), 1, "the second is kept");
        // A change to one unrelated key still refuses it.
        apply(&cache, 1, Some(&["album:x"]));
        search(1).await;
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        search(1).await;
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    /// Views kept per song: a second list of other order and mix reads
    /// only the songs not seen yet; any change refuses every kept view; a
    /// load that raced a change answers its caller but is not kept.
    #[tokio::test]
    async fn kept_song_views_serve_any_list_until_a_change() {
        let cache = cache();
        let (a, b, c, ghost) = (
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        );
        let asked = Mutex::new(Vec::<Vec<Uuid>>::new());
        let lookup = |ids: Vec<Uuid>, version: i64, race: Option<i64>| {
            let cache = cache.clone();
            let asked = &asked;
            async move {
                let c2 = cache.clone();
                cache
                    .songs_or_load(&ids, |wanted| async move {
                        asked.lock().unwrap().push(wanted.clone());
                        if let Some(v) = race {
                            apply(&c2, v, Some(&["album:x"]));
                        }
                        let found = wanted
                            .into_iter()
                            .filter(|id| *id != ghost)
                            .map(|id| (id, Bytes::from(format!("{id}@{version}"))))
                            .collect();
                        Ok(Versioned {
                            version,
                            value: found,
                        })
                    })
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|v| v.map(|b| String::from_utf8(b.to_vec()).unwrap()))
                    .collect::<Vec<_>>()
            }
        };
        let got = lookup(vec![b, ghost, a], 0, None).await;
        assert_eq!(
            got,
            vec![Some(format!("{b}@0")), None, Some(format!("{a}@0"))]
        );
        let got = lookup(vec![c, a, b, ghost], 0, None).await;
        assert_eq!(got[1..3], [Some(format!("{a}@0")), Some(format!("{b}@0"))]);
        assert_eq!(
            asked.lock().unwrap().last().unwrap(),
            &vec![c],
            "only the songs not kept are read (a missing one is kept as missing)"
        );
        // A change to anything refuses every kept view and absence.
        apply(&cache, 1, Some(&["album:x"]));
        lookup(vec![a, ghost], 1, None).await;
        assert_eq!(asked.lock().unwrap().last().unwrap(), &vec![a, ghost]);
        // A load that raced a newer change answers but is not kept.
        let got = lookup(vec![b], 1, Some(2)).await;
        assert_eq!(got, vec![Some(format!("{b}@1"))]);
        let n = asked.lock().unwrap().len();
        lookup(vec![b], 2, None).await;
        assert_eq!(asked.lock().unwrap().len(), n + 1, "read again");
        lookup(vec![b], 2, None).await;
        assert_eq!(asked.lock().unwrap().len(), n + 1, "now kept");
        // Bypassed while the subscription is down: everything is read.
        cache.inner.synced.store(false, Ordering::SeqCst);
        lookup(vec![b], 2, None).await;
        assert_eq!(asked.lock().unwrap().len(), n + 2);
    }

    #[test]
    fn a_memo_stays_within_its_count_and_bytes() {
        let entry = |n: usize| Entry {
            version: 0,
            bytes: Bytes::from(vec![b'x'; n]),
            stored: Instant::now(),
            compressed: Arc::default(),
        };
        let mut m: Memo = Memo::new(3, 100);
        m.insert("a".to_string(), entry(10));
        m.insert("b".to_string(), entry(10));
        m.insert("a".to_string(), entry(20));
        assert_eq!(
            (m.map.len(), m.bytes),
            (2, 32),
            "a replaced entry is not counted twice"
        );
        m.insert("c".to_string(), entry(10));
        m.insert("d".to_string(), entry(10));
        assert_eq!(
            m.map.len(),
            1,
            "full by count: emptied, then the new one kept"
        );
        assert!(m.map.contains_key("d"));
        m.insert("e".to_string(), entry(80));
        assert_eq!(m.bytes, 11 + 81);
        m.insert("f".to_string(), entry(20));
        assert_eq!((m.map.len(), m.bytes), (1, 21), "full by bytes: emptied");
        m.insert("g".to_string(), entry(200));
        assert!(
            !m.map.contains_key("g"),
            "larger than the whole memo: not kept"
        );
    }

    #[tokio::test]
    async fn entries_expire_with_the_ttl() {
        let pool = PgPool::connect_lazy("postgres://x@127.0.0.1:1/x").unwrap();
        let cache = CatalogCache::new(Namespace::new("unit"), pool, Duration::from_millis(50));
        assert!(cache.local_put("k", 0, &bytes("v")));
        assert!(cache.local_get("k").is_ok());
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(cache.local_get("k").is_err());
    }
}
