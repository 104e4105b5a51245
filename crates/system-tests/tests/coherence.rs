//! Catalogue cache coherence under concurrent load, checked from outside.
//!
//! Three song-svc replicas share one Redis and one catalogue database with
//! one admin-svc. One writer creates, renames and deletes albums and songs
//! through admin-svc; 32 readers read album detail, the album list, all
//! songs, song detail, batch lookups of songs and search from random
//! replicas. Every name carries a
//! sequence number that only grows, so the checker can tell old data from
//! new: for each read it takes the newest write acknowledged before the read
//! started, minus the event bound (`COHERENCE_BOUND_MS`, default 250 ms),
//! and fails on any read that shows older data (an old name, a deleted item,
//! or a missing created one). The same load runs quiet, while the
//! subscribers' Pub/Sub connections are killed again and again, and while
//! Redis itself is restarted again and again.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cadenza_testkit::keys::{mint, TokenSpec};
use cadenza_testkit::process::RedisProcess;
use cadenza_testkit::TestServer;
use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const REPLICAS: usize = 3;
const READERS: usize = 32;
const MIN_WRITES: u64 = 200;
const MIN_READS: u64 = 10_000;
const DEADLINE: Duration = Duration::from_secs(280);

fn bound() -> Duration {
    let ms = std::env::var("COHERENCE_BOUND_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(250);
    Duration::from_millis(ms)
}

/// An item as of one acknowledged write: gone, or present under the name
/// (or title) with this sequence number.
#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Absent,
    Present(u64),
}

/// Acknowledged writes of one album or song, in order.
#[derive(Default)]
struct History(Vec<(Instant, State)>);

impl History {
    /// What a read that started at `t0` must show at least (None: no
    /// acknowledged write yet, anything goes).
    fn required(&self, cutoff: Instant) -> Option<State> {
        self.0
            .iter()
            .rev()
            .find(|(at, _)| *at <= cutoff)
            .map(|(_, s)| *s)
    }

    /// The first write acknowledged before `t0` that is newer than what the
    /// read showed: how long before the read it was acknowledged (the lag
    /// figures). Names only grow, and a deletion is final.
    fn missed(&self, got: Option<u64>, t0: Instant, deleting: bool) -> Option<Duration> {
        let acked = || self.0.iter().filter(|(at, _)| *at <= t0);
        if got.is_none() && deleting {
            return None;
        }
        acked()
            .find(|(_, s)| match (s, got) {
                (State::Absent, Some(_)) => true,
                (State::Present(n), Some(m)) => *n > m,
                (State::Present(_), None) => true,
                (State::Absent, None) => false,
            })
            .map(|(at, _)| t0 - *at)
    }

    fn deleted(&self) -> bool {
        self.0.iter().any(|(_, s)| *s == State::Absent)
    }
}

#[derive(Default)]
struct Model {
    /// Items whose deletion has been sent (acknowledged or not): a read may
    /// already show it gone.
    deleting: std::collections::HashSet<String>,
    albums: HashMap<String, History>,
    /// Song id → (album id, history). Songs never move between albums here.
    songs: HashMap<String, (String, History)>,
}

/// Whether `got` (the sequence number shown, None if absent) is as new as
/// `required`. Absence is also new enough once the item's deletion has been
/// sent: the read may have seen it commit before its acknowledgement.
fn fresh(required: Option<State>, got: Option<u64>, deleting: bool) -> bool {
    match (required, got) {
        (None, _) => true,
        (Some(State::Absent), got) => got.is_none(),
        (Some(State::Present(n)), Some(m)) => m >= n,
        (Some(State::Present(_)), None) => deleting,
    }
}

fn seq_of(text: &str) -> u64 {
    text.rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no sequence number in {text:?}"))
}

#[derive(Default)]
struct Tally {
    reads: AtomicU64,
    writes: AtomicU64,
    stale: AtomicU64,
    /// Reads that did not show a write acknowledged before they started
    /// (allowed within the bound), and the longest such delay.
    behind: AtomicU64,
    max_behind_us: AtomicU64,
    violations: Mutex<Vec<String>>,
}

struct Check<'a> {
    model: &'a Model,
    t0: Instant,
    cutoff: Instant,
    what: String,
    problems: Vec<String>,
    behind: Option<Duration>,
}

impl Check<'_> {
    fn item(&mut self, kind: &str, id: &str, history: &History, got: Option<u64>) {
        let required = history.required(self.cutoff);
        let deleting = history.deleted() || self.model.deleting.contains(id);
        if !fresh(required, got, deleting) {
            self.problems.push(format!(
                "{}: {kind} {id} shows {got:?}, but {required:?} was acknowledged {:?} before the read began",
                self.what,
                history.missed(got, self.t0, false).unwrap_or_default()
            ));
        } else if let Some(lag) = history.missed(got, self.t0, deleting) {
            self.behind = Some(self.behind.map_or(lag, |b| b.max(lag)));
        }
    }

    fn album(&mut self, id: &str, got: Option<u64>) {
        if let Some(h) = self.model.albums.get(id) {
            self.item("album", id, h, got);
        }
    }

    fn song(&mut self, id: &str, got: Option<u64>) {
        if let Some((_, h)) = self.model.songs.get(id) {
            self.item("song", id, h, got);
        }
    }
}

fn listed(items: &Value, field: &str) -> HashMap<String, u64> {
    items
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    (
                        x["id"].as_str().unwrap().to_owned(),
                        seq_of(x[field].as_str().unwrap()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Clone, Copy, Debug)]
enum Read {
    AlbumDetail,
    AlbumList,
    AllSongs,
    SongDetail,
    Batch,
    Search,
}

async fn reader(
    seed: u64,
    http: reqwest::Client,
    replicas: Arc<Vec<String>>,
    model: Arc<Mutex<Model>>,
    tally: Arc<Tally>,
    done: Arc<AtomicBool>,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    let bound = bound();
    while !done.load(Ordering::SeqCst) {
        let kind = match rng.gen_range(0..100) {
            0..=29 => Read::AlbumDetail,
            30..=44 => Read::AlbumList,
            45..=59 => Read::AllSongs,
            60..=79 => Read::SongDetail,
            80..=89 => Read::Batch,
            _ => Read::Search,
        };
        let target = {
            let m = model.lock().unwrap();
            let pick = |ids: Vec<&String>, rng: &mut StdRng| {
                (!ids.is_empty()).then(|| ids[rng.gen_range(0..ids.len())].clone())
            };
            match kind {
                Read::AlbumDetail => pick(m.albums.keys().collect(), &mut rng),
                Read::SongDetail => pick(m.songs.keys().collect(), &mut rng),
                // Up to 20 songs, live and deleted, in random order.
                Read::Batch => {
                    let ids: Vec<&String> = m.songs.keys().collect();
                    (!ids.is_empty()).then(|| {
                        let n = rng.gen_range(1..=20.min(ids.len()));
                        (0..n)
                            .map(|_| ids[rng.gen_range(0..ids.len())].as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                }
                _ => Some(String::new()),
            }
        };
        let Some(target) = target else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let base = &replicas[rng.gen_range(0..replicas.len())];
        let path = match kind {
            Read::AlbumDetail => format!("/api/song/album/{target}"),
            Read::AlbumList => "/api/song/album".into(),
            Read::AllSongs => "/api/song/".into(),
            Read::SongDetail => format!("/api/song/{target}"),
            Read::Batch => format!("/api/song/songs?ids={target}"),
            Read::Search => "/api/song/search?q=coherence&limit=50".into(),
        };
        let t0 = Instant::now();
        let resp = http.get(format!("{base}{path}")).send().await.unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(
            status == StatusCode::OK || status == StatusCode::NOT_FOUND,
            "{path} on {base}: {status} {body}"
        );
        let m = model.lock().unwrap();
        let mut check = Check {
            model: &m,
            t0,
            cutoff: t0.checked_sub(bound).unwrap_or(t0),
            what: format!("{path} on {base}"),
            problems: vec![],
            behind: None,
        };
        let ok = status == StatusCode::OK;
        match kind {
            Read::AlbumDetail => {
                let got = ok.then(|| seq_of(body["album"]["name"].as_str().unwrap()));
                check.album(&target, got);
                if ok {
                    let shown = listed(&body["songs"], "title");
                    for (id, (album, _)) in &m.songs {
                        if *album == target {
                            check.song(id, shown.get(id).copied());
                        }
                    }
                }
            }
            Read::AlbumList => {
                let shown = listed(&body["albums"], "name");
                for id in m.albums.keys() {
                    check.album(id, shown.get(id).copied());
                }
            }
            Read::AllSongs => {
                let shown = listed(&body, "title");
                for id in m.songs.keys() {
                    check.song(id, shown.get(id).copied());
                }
            }
            Read::SongDetail => {
                let got = ok.then(|| seq_of(body["title"].as_str().unwrap()));
                check.song(&target, got);
            }
            Read::Batch => {
                let shown = listed(&body["songs"], "title");
                let missing: Vec<&str> = body["missing"]
                    .as_array()
                    .map(|m| m.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for id in target.split(',') {
                    // Every id asked is answered one way or the other, and
                    // `missing` (which clients prune) names only absent ones.
                    assert!(
                        shown.contains_key(id) != missing.contains(&id),
                        "{path} on {base}: {id} must be in exactly one of songs and missing: {body}"
                    );
                    check.song(id, shown.get(id).copied());
                }
            }
            Read::Search => {
                // Ranked and capped: check only what it shows.
                for (id, seq) in listed(&body["albums"], "name") {
                    check.album(&id, Some(seq));
                }
                for (id, seq) in listed(&body["songs"], "title") {
                    check.song(&id, Some(seq));
                }
            }
        }
        let Check {
            problems, behind, ..
        } = check;
        drop(m);
        tally.reads.fetch_add(1, Ordering::SeqCst);
        if let Some(lag) = behind {
            tally.behind.fetch_add(1, Ordering::Relaxed);
            tally
                .max_behind_us
                .fetch_max(lag.as_micros() as u64, Ordering::Relaxed);
        }
        if !problems.is_empty() {
            tally.stale.fetch_add(1, Ordering::SeqCst);
            let mut v = tally.violations.lock().unwrap();
            if v.len() < 20 {
                v.extend(problems);
            }
        }
    }
}

/// Admin writes through admin-svc, recorded in the model at the moment they
/// are acknowledged.
struct Writer {
    p: Arc<Platform>,
    token: String,
    model: Arc<Mutex<Model>>,
    seq: u64,
    live_albums: Vec<String>,
    live_songs: Vec<(String, String)>,
}

impl Writer {
    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = Req::new(method, path).bearer(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = self.p.call(&self.p.admin, req).await;
        assert!(r.status.is_success(), "{path}: {} {}", r.status, r.text);
        r
    }

    fn ack(&self, f: impl FnOnce(&mut Model, Instant)) {
        let mut m = self.model.lock().unwrap();
        let at = Instant::now();
        f(&mut m, at);
    }

    async fn create_album(&mut self) {
        let seq = self.next();
        let cover = format!("thumbnails/{}.png", uuid::Uuid::new_v4());
        self.p
            .put_object(&cover, "image/png", b"\x89PNG cover".to_vec())
            .await;
        let body =
            json!({"name": format!("Coherence {seq}"), "artist": "Checker", "thumbnailKey": cover});
        let r = self
            .admin(Method::POST, "/api/admin/album", Some(body))
            .await;
        let id = r.json["album"]["id"].as_str().unwrap().to_owned();
        self.ack(|m, at| {
            m.albums
                .entry(id.clone())
                .or_default()
                .0
                .push((at, State::Present(seq)))
        });
        self.live_albums.push(id);
    }

    async fn rename_album(&mut self, rng: &mut StdRng) {
        let id = self.live_albums[rng.gen_range(0..self.live_albums.len())].clone();
        let seq = self.next();
        self.admin(
            Method::PATCH,
            &format!("/api/admin/album/{id}"),
            Some(json!({"name": format!("Coherence {seq}")})),
        )
        .await;
        self.ack(|m, at| {
            m.albums
                .get_mut(&id)
                .unwrap()
                .0
                .push((at, State::Present(seq)))
        });
    }

    async fn delete_album(&mut self, rng: &mut StdRng) {
        let id = self
            .live_albums
            .swap_remove(rng.gen_range(0..self.live_albums.len()));
        {
            let mut m = self.model.lock().unwrap();
            m.deleting.insert(id.clone());
            for (song, album) in &self.live_songs {
                if *album == id {
                    m.deleting.insert(song.clone());
                }
            }
        }
        self.admin(Method::DELETE, &format!("/api/admin/album/{id}"), None)
            .await;
        self.live_songs.retain(|(_, a)| *a != id);
        self.ack(|m, at| {
            m.albums.get_mut(&id).unwrap().0.push((at, State::Absent));
            for (album, h) in m.songs.values_mut() {
                if *album == id {
                    h.0.push((at, State::Absent));
                }
            }
        });
    }

    async fn create_song(&mut self, rng: &mut StdRng) {
        let album = self.live_albums[rng.gen_range(0..self.live_albums.len())].clone();
        let seq = self.next();
        let audio = format!("songs/{}.mp3", uuid::Uuid::new_v4());
        self.p
            .put_object(&audio, "audio/mpeg", vec![0xFF; 2048])
            .await;
        let body = json!({"title": format!("Track {seq}"), "artist": "Checker",
            "audioKey": audio, "duration": 180.0, "albumId": album});
        let r = self
            .admin(Method::POST, "/api/admin/song", Some(body))
            .await;
        let id = r.json["song"]["id"].as_str().unwrap().to_owned();
        self.ack(|m, at| {
            let mut h = History::default();
            h.0.push((at, State::Present(seq)));
            m.songs.insert(id.clone(), (album.clone(), h));
        });
        self.live_songs.push((id, album));
    }

    async fn rename_song(&mut self, rng: &mut StdRng) {
        let (id, _) = self.live_songs[rng.gen_range(0..self.live_songs.len())].clone();
        let seq = self.next();
        self.admin(
            Method::PATCH,
            &format!("/api/admin/song/{id}"),
            Some(json!({"title": format!("Track {seq}")})),
        )
        .await;
        self.ack(|m, at| {
            m.songs
                .get_mut(&id)
                .unwrap()
                .1
                 .0
                .push((at, State::Present(seq)))
        });
    }

    async fn delete_song(&mut self, rng: &mut StdRng) {
        let (id, _) = self
            .live_songs
            .swap_remove(rng.gen_range(0..self.live_songs.len()));
        self.model.lock().unwrap().deleting.insert(id.clone());
        self.admin(Method::DELETE, &format!("/api/admin/song/{id}"), None)
            .await;
        self.ack(|m, at| m.songs.get_mut(&id).unwrap().1 .0.push((at, State::Absent)));
    }

    async fn step(&mut self, rng: &mut StdRng) {
        let albums = self.live_albums.len();
        let songs = self.live_songs.len();
        match rng.gen_range(0..100) {
            _ if albums < 4 => self.create_album().await,
            0..=11 if albums < 16 => self.create_album().await,
            0..=24 => self.rename_album(rng).await,
            25..=31 if albums > 4 => self.delete_album(rng).await,
            25..=54 if songs < 60 => self.create_song(rng).await,
            _ if songs == 0 => self.create_song(rng).await,
            25..=84 => self.rename_song(rng).await,
            _ => self.delete_song(rng).await,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Faults {
    None,
    /// `CLIENT KILL TYPE pubsub` every 300 ms: every replica's subscription
    /// dies and reconnects while writes go on.
    PubsubKills,
    /// Redis SIGKILLed and restarted (empty) every 2.5 s.
    RedisRestarts,
}

async fn run(faults: Faults) {
    let mut redis = (faults != Faults::None).then(RedisProcess::start);
    let stores = Stores {
        redis_url: redis
            .as_ref()
            .map_or_else(|| Stores::shared().redis_url, |r| r.url()),
        ..Stores::shared()
    };
    let p = Arc::new(Platform::with(stores.clone(), |_| {}).await);
    // Two more song-svc replicas on the same Redis namespace and database.
    let mut caches = vec![p.song_cache.clone()];
    let mut servers: Vec<TestServer> = vec![];
    for _ in 1..REPLICAS {
        let app = song_svc::build_app(song_config(&stores, &p.database_url, &p.ns))
            .await
            .expect("song-svc replica");
        caches.push(app.cache);
        servers.push(TestServer::start(app.router).await);
    }
    let mut replicas = vec![p.song.url("")];
    replicas.extend(servers.iter().map(|s| s.url("")));
    let replicas = Arc::new(replicas);
    cadenza_testkit::eventually(
        Duration::from_secs(15),
        "every replica's cache live",
        || {
            let live = caches.iter().all(|c| c.usable());
            async move { live.then_some(()) }
        },
    )
    .await;

    let model = Arc::new(Mutex::new(Model::default()));
    let tally = Arc::new(Tally::default());
    let done = Arc::new(AtomicBool::new(false));
    let mut writer = Writer {
        p: p.clone(),
        token: mint(&TokenSpec::admin()),
        model: model.clone(),
        seq: 0,
        live_albums: vec![],
        live_songs: vec![],
    };
    let mut rng = StdRng::seed_from_u64(12);
    for _ in 0..6 {
        writer.create_album().await;
    }
    let http = reqwest::Client::new();
    let readers: Vec<_> = (0..READERS)
        .map(|i| {
            tokio::spawn(reader(
                1000 + i as u64,
                http.clone(),
                replicas.clone(),
                model.clone(),
                tally.clone(),
                done.clone(),
            ))
        })
        .collect();

    let chaos_stop = Arc::new(AtomicBool::new(false));
    let chaos = {
        let stop = chaos_stop.clone();
        let url = stores.redis_url.clone();
        let mut redis = redis.take();
        tokio::spawn(async move {
            let mut rounds = 0u32;
            while !stop.load(Ordering::SeqCst) {
                match faults {
                    Faults::None => return (redis, rounds),
                    Faults::PubsubKills => {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        let killed = cadenza_testkit::events::kill_pubsub_clients(&url).await;
                        if killed.unwrap_or(0) > 0 {
                            rounds += 1;
                        }
                    }
                    Faults::RedisRestarts => {
                        tokio::time::sleep(Duration::from_millis(2500)).await;
                        let mut r = redis.take().unwrap();
                        r = tokio::task::spawn_blocking(move || {
                            r.stop();
                            std::thread::sleep(Duration::from_millis(300));
                            r.restart();
                            r
                        })
                        .await
                        .unwrap();
                        redis = Some(r);
                        rounds += 1;
                    }
                }
            }
            (redis, rounds)
        })
    };

    let started = Instant::now();
    let mut report = Instant::now();
    loop {
        let op = Instant::now();
        writer.step(&mut rng).await;
        tally.writes.fetch_add(1, Ordering::SeqCst);
        let reads = tally.reads.load(Ordering::SeqCst);
        let writes = tally.writes.load(Ordering::SeqCst);
        if report.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "{:?}: {reads} reads, {writes} writes after {:?} (last write took {:?})",
                faults,
                started.elapsed(),
                op.elapsed()
            );
            report = Instant::now();
        }
        if writes >= MIN_WRITES && reads >= MIN_READS {
            break;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "only {reads} reads and {writes} writes in {DEADLINE:?}"
        );
    }
    chaos_stop.store(true, Ordering::SeqCst);
    let (_redis, rounds) = chaos.await.unwrap();
    done.store(true, Ordering::SeqCst);
    for r in readers {
        r.await.unwrap();
    }

    let reads = tally.reads.load(Ordering::SeqCst);
    let stale = tally.stale.load(Ordering::SeqCst);
    println!(
        "coherence {faults:?}: {reads} reads, {} writes, {rounds} fault rounds, {} s; \
         {stale} stale; {} reads missed a write acknowledged before they began \
         (allowed within {:?}), the longest by {:.1} ms",
        tally.writes.load(Ordering::SeqCst),
        started.elapsed().as_secs(),
        tally.behind.load(Ordering::Relaxed),
        bound(),
        tally.max_behind_us.load(Ordering::Relaxed) as f64 / 1000.0,
    );
    let violations = tally.violations.lock().unwrap();
    assert_eq!(
        stale,
        0,
        "stale reads ({faults:?}):\n{}",
        violations.join("\n")
    );
    assert!(reads >= MIN_READS);
    if faults != Faults::None {
        assert!(rounds >= 2, "the faults happened ({rounds} rounds)");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_never_serve_older_data_than_an_acknowledged_write() {
    run(Faults::None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_stay_coherent_while_their_subscriptions_are_killed() {
    run(Faults::PubsubKills).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_stay_coherent_while_redis_restarts() {
    run(Faults::RedisRestarts).await;
}
