//! A song-svc world per test: a fresh catalogue database, a private Redis
//! namespace (or a private Redis), the service on an ephemeral port.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use cadenza_cdn::StreamUrlSigner;
use cadenza_events::{channel, AlbumEvent, Envelope, Publisher, SongEvent};
use cadenza_platform::redis::Namespace;
use cadenza_testkit::keys::CLOUDFRONT_PRIVATE_PEM;
use cadenza_testkit::{fresh_database, fresh_namespace, infra, TestDatabase, TestServer};
use song_svc::{CatalogCache, Config};
use sqlx::PgPool;
use uuid::Uuid;

pub const KEY_PAIR_ID: &str = "K2JCJMDEHXQW5F";

pub struct World {
    pub db: TestDatabase,
    pub ns: Namespace,
    pub redis_url: String,
    pub server: TestServer,
    pub cache: CatalogCache,
    pub http: reqwest::Client,
}

pub fn config(db_url: &str, redis_url: &str, ns: &Namespace, cdn: &str) -> Config {
    Config {
        port: 0,
        public_base_url: "http://127.0.0.1:8080".into(),
        verifier: cadenza_testkit::keys::verifier_config(),
        database_url: db_url.into(),
        redis_url: redis_url.into(),
        redis_namespace: ns.clone(),
        cloudfront_domain: cdn.into(),
        signer: Arc::new(StreamUrlSigner::from_pem(KEY_PAIR_ID, CLOUDFRONT_PRIVATE_PEM).unwrap()),
        database_max_connections: 5,
        cache_ttl: song_svc::cache::DEFAULT_TTL,
        api_docs: true,
        proxy: cadenza_platform::client_ip::ProxyPolicy::none(),
        search_per_ip: cadenza_platform::ratelimit::Rule::per_minute(
            song_svc::config::DEFAULT_SEARCH_RATE_PER_MINUTE,
        ),
        stream_url_memo_max: song_svc::stream::MEMO_MAX,
    }
}

impl World {
    pub async fn new() -> Self {
        Self::with(&infra().redis_url.clone(), "https://cdn.cadenza.test").await
    }

    pub async fn with(redis_url: &str, cdn: &str) -> Self {
        Self::configured(redis_url, cdn, |_| {}).await
    }

    /// A world whose song-svc configuration `tweak` adjusts.
    pub async fn configured(redis_url: &str, cdn: &str, tweak: impl FnOnce(&mut Config)) -> Self {
        let db = fresh_database().await;
        cadenza_catalog::migrate(&db.pool).await.expect("migrate");
        let ns = fresh_namespace();
        let mut cfg = config(&db.url, redis_url, &ns, cdn);
        tweak(&mut cfg);
        let app = song_svc::build_app(cfg).await.expect("build song-svc");
        let server = TestServer::start(app.router).await;
        Self {
            db,
            ns,
            redis_url: redis_url.into(),
            server,
            cache: app.cache,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(&format!("/api/song{path}"))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    pub async fn json(&self, path: &str) -> serde_json::Value {
        let resp = self.get(path).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.unwrap()
    }

    /// Waits until the event subscription is live and resynced, so that
    /// reads go through the cache.
    pub async fn cache_live(&self) {
        let cache = self.cache.clone();
        cadenza_testkit::eventually(Duration::from_secs(15), "the cache to go live", || {
            let live = cache.usable();
            async move { live.then_some(()) }
        })
        .await;
    }

    pub async fn publisher(&self) -> Publisher {
        let client = redis::Client::open(self.redis_url.as_str()).unwrap();
        let conn = cadenza_platform::redis::manager(&client).await.unwrap();
        Publisher::new(conn, self.ns.clone())
    }

    /// Publishes like admin-svc: the envelope carries the catalogue version
    /// the change committed as (the tests write with plain SQL, one change
    /// per statement, so that is the current version).
    pub async fn song_event(&self, ch: &str, song: Uuid, album: Uuid) {
        let payload = SongEvent {
            song_id: song,
            album_id: album,
            same_album: false,
        };
        self.publish_versioned(ch, payload).await;
    }

    /// `song:updated` for a song that stayed in its album (a media-worker
    /// verdict, an admin's edit of its title).
    pub async fn song_updated_in_place(&self, song: Uuid, album: Uuid) {
        let payload = SongEvent {
            song_id: song,
            album_id: album,
            same_album: true,
        };
        self.publish_versioned(channel::SONG_UPDATED, payload).await;
    }

    pub async fn album_event(&self, ch: &str, album: Uuid) {
        self.publish_versioned(ch, AlbumEvent { album_id: album })
            .await;
    }

    async fn publish_versioned<T: serde::Serialize>(&self, ch: &str, payload: T) {
        let version = cadenza_catalog::version::current(&self.db.pool)
            .await
            .unwrap();
        self.publisher()
            .await
            .publish_envelope(ch, Envelope::new(payload).with_version(version))
            .await
            .unwrap();
    }

    /// An event as an older publisher sends it: no version.
    pub async fn unversioned_song_event(&self, ch: &str, song: Uuid, album: Uuid) {
        self.publisher()
            .await
            .publish(
                ch,
                SongEvent {
                    song_id: song,
                    album_id: album,
                    same_album: false,
                },
            )
            .await
            .unwrap();
    }
}

pub async fn insert_album(pool: &PgPool, name: &str, artist: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO albums (name, artist, thumbnail_key, created_at) \
         VALUES ($1, $2, $3, clock_timestamp()) RETURNING id",
    )
    .bind(name)
    .bind(artist)
    .bind(format!("thumbnails/{}.jpg", Uuid::new_v4()))
    .fetch_one(pool)
    .await
    .unwrap()
}

pub struct NewSong<'a> {
    pub album: Uuid,
    pub title: &'a str,
    pub artist: &'a str,
    pub track: i32,
    pub duration: f64,
    pub audio_key: Option<String>,
}

pub async fn insert_song(pool: &PgPool, s: NewSong<'_>) -> (Uuid, String) {
    let key = s
        .audio_key
        .unwrap_or_else(|| format!("songs/{}.mp3", Uuid::new_v4()));
    let id = sqlx::query_scalar(
        "INSERT INTO songs (album_id, title, artist, audio_key, content_type, size_bytes, \
                            duration_seconds, track_number, created_at) \
         VALUES ($1, $2, $3, $4, 'audio/mpeg', 4096, $5, $6, clock_timestamp()) RETURNING id",
    )
    .bind(s.album)
    .bind(s.title)
    .bind(s.artist)
    .bind(&key)
    .bind(s.duration)
    .bind(s.track)
    .fetch_one(pool)
    .await
    .unwrap();
    (id, key)
}

pub async fn song(pool: &PgPool, album: Uuid, title: &str, track: i32) -> (Uuid, String) {
    insert_song(
        pool,
        NewSong {
            album,
            title,
            artist: "Test Artist",
            track,
            duration: 200.0,
            audio_key: None,
        },
    )
    .await
}

#[allow(unused_imports)]
pub use channel::*;
