//! The whole platform in one test process: user-svc, admin-svc and song-svc
//! built with their own `build(config)` and served on loopback ports, sharing
//! one Redis namespace, one MongoDB database, one catalogue database, one
//! bucket and one SQS queue, exactly as they share them in production.
//! Every store can be swapped for a private server process (see
//! `cadenza_testkit::process`) so that a test may stop it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use cadenza_platform::redis::Namespace;
use cadenza_testkit::keys::{self, TokenSpec};
use cadenza_testkit::{infra, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const PUBLIC_BASE_URL: &str = "http://cadenza.test";
pub const PASSWORD: &str = "Quiet-Harbour-Lantern-42";
pub const CDN: &str = "https://cdn.cadenza.test";
pub const KEY_PAIR_ID: &str = "K2JCJMDEHXQW5F";

/// Where the platform's stores are; `Stores::shared()` is the `./dev infra`
/// servers, and each field may point at a private process instead.
#[derive(Clone, Debug)]
pub struct Stores {
    pub redis_url: String,
    pub mongodb_uri: String,
    /// `None`: a fresh database on the shared PostgreSQL.
    pub database_url: Option<String>,
    pub sqs_endpoint: String,
    /// `None`: a fresh queue on `sqs_endpoint`.
    pub queue_url: Option<String>,
    /// `None`: a fresh MongoDB database name.
    pub mongo_db: Option<String>,
    /// `None`: a fresh bucket on the shared S3; `Some`: one that exists.
    pub bucket: Option<String>,
}

impl Stores {
    pub fn shared() -> Self {
        let i = infra();
        Self {
            redis_url: i.redis_url.clone(),
            mongodb_uri: i.mongodb_uri.clone(),
            database_url: None,
            sqs_endpoint: i.aws_endpoint.clone(),
            queue_url: None,
            mongo_db: None,
            bucket: None,
        }
    }
}

pub struct Platform {
    pub user_app: user_svc::App,
    pub user: TestServer,
    pub admin: TestServer,
    pub song: TestServer,
    pub song_cache: song_svc::CatalogCache,
    pub ns: Namespace,
    pub mongo_db: String,
    pub mongodb_uri: String,
    pub database_url: String,
    _db: Option<cadenza_testkit::TestDatabase>,
    pub bucket: String,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub http: reqwest::Client,
    jobs: tokio::sync::Mutex<Vec<Value>>,
}

pub use cadenza_testkit::aws::{s3_client, sqs_client};

/// A new, empty bucket on the shared S3.
pub async fn create_bucket(s3: &aws_sdk_s3::Client) -> String {
    let bucket = cadenza_testkit::unique_name("cadenza-st-");
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create test bucket");
    bucket
}

pub async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> String {
    sqs.create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create SQS queue")
        .queue_url()
        .expect("queue url")
        .to_owned()
}

pub use cadenza_testkit::keys::verifier_config;

pub fn user_config(
    stores: &Stores,
    mongo_db: &str,
    ns: &Namespace,
    queue_url: &str,
) -> user_svc::Config {
    user_svc::Config {
        port: 0,
        public_base_url: PUBLIC_BASE_URL.into(),
        jwt_private_key: keys::JWT_PRIVATE_PEM.into(),
        jwt_public_keys: Some(keys::JWT_PUBLIC_PEM.into()),
        jwt_issuer: keys::ISSUER.into(),
        jwt_audience: keys::AUDIENCE.into(),
        mongodb_uri: stores.mongodb_uri.clone().into(),
        mongodb_db: mongo_db.into(),
        redis_url: stores.redis_url.clone().into(),
        redis_namespace: ns.clone(),
        sqs_email_queue_url: queue_url.into(),
        sqs_endpoint: Some(stores.sqs_endpoint.clone()),
        cookie_secure: false,
        proxy: user_svc::client_ip::ProxyPolicy::none(),
        limits: user_svc::ratelimit::Limits::default(),
        refresh_grace: Duration::from_secs(10),
        outbox_base_backoff: Duration::from_millis(200),
        outbox_poll_interval: Duration::from_millis(200),
        api_docs: true,
    }
}

pub fn admin_config(
    stores: &Stores,
    database_url: &str,
    ns: &Namespace,
    bucket: &str,
) -> admin_svc::Config {
    let i = infra();
    admin_svc::Config {
        port: 0,
        public_base_url: PUBLIC_BASE_URL.into(),
        verifier: verifier_config(),
        database_url: database_url.into(),
        redis_url: stores.redis_url.clone().into(),
        redis_namespace: ns.clone(),
        s3_bucket: bucket.into(),
        s3_force_path_style: true,
        s3_endpoint: Some(i.s3_endpoint.clone()),
        s3_public_endpoint: None,
        cloudfront_distribution_id: None,
        cdn_base_url: None,
        cloudfront_endpoint: None,
        migrate_on_start: true,
        media_queue_url: None,
        api_docs: true,
    }
}

pub fn song_config(stores: &Stores, database_url: &str, ns: &Namespace) -> song_svc::Config {
    song_svc::Config {
        port: 0,
        public_base_url: PUBLIC_BASE_URL.into(),
        verifier: verifier_config(),
        database_url: database_url.into(),
        redis_url: stores.redis_url.clone().into(),
        redis_namespace: ns.clone(),
        cloudfront_domain: CDN.into(),
        signer: Arc::new(cdn_signer()),
        database_max_connections: 5,
        cache_ttl: song_svc::cache::DEFAULT_TTL,
        api_docs: true,
        proxy: cadenza_platform::client_ip::ProxyPolicy::none(),
        // Every reader of these tests is one client on 127.0.0.1 searching
        // after every change; the limit itself is tested in song-svc's api.rs.
        search_per_ip: cadenza_platform::ratelimit::Rule::per_minute(100_000),
        stream_url_memo_max: song_svc::stream::MEMO_MAX,
    }
}

fn cdn_signer() -> cadenza_cdn::StreamUrlSigner {
    cadenza_cdn::StreamUrlSigner::from_pem(KEY_PAIR_ID, keys::CLOUDFRONT_PRIVATE_PEM)
        .expect("fixture CloudFront key")
}

/// With `SYSTEM_TESTS_LOG=<filter>` (say `warn`), the services' logs go to
/// the test output; handy when a fault test fails.
pub fn init_logs() {
    if let Ok(filter) = std::env::var("SYSTEM_TESTS_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
}

impl Platform {
    pub async fn start() -> Self {
        Self::with(Stores::shared(), |_| {}).await
    }

    /// Builds all three services on `stores`; `tweak` adjusts user-svc's
    /// configuration (grace window, limits).
    pub async fn with(stores: Stores, tweak: impl FnOnce(&mut user_svc::Config)) -> Self {
        init_logs();
        let ns = cadenza_testkit::fresh_namespace();
        let mongo_db = stores
            .mongo_db
            .clone()
            .unwrap_or_else(cadenza_testkit::fresh_mongo_db);
        let sqs = sqs_client(&stores.sqs_endpoint).await;
        let queue_url = match &stores.queue_url {
            Some(q) => q.clone(),
            None => create_queue(&sqs, &cadenza_testkit::unique_name("system-t-")).await,
        };
        let (db, database_url) = match &stores.database_url {
            Some(url) => (None, url.clone()),
            None => {
                let db = cadenza_testkit::fresh_database().await;
                let url = db.url.clone();
                (Some(db), url)
            }
        };
        let s3 = s3_client().await;
        let bucket = match &stores.bucket {
            Some(b) => b.clone(),
            None => create_bucket(&s3).await,
        };

        let mut ucfg = user_config(&stores, &mongo_db, &ns, &queue_url);
        tweak(&mut ucfg);
        let user_app = user_svc::build(ucfg).await.expect("build user-svc");
        let user = TestServer::start(user_app.router.clone()).await;
        // admin-svc migrates the catalogue (MIGRATE_ON_START), as in dev.
        let admin_app = admin_svc::build(admin_config(&stores, &database_url, &ns, &bucket))
            .await
            .expect("build admin-svc");
        let admin = TestServer::start(admin_app.router).await;
        let song_app = song_svc::build_app(song_config(&stores, &database_url, &ns))
            .await
            .expect("build song-svc");
        let song = TestServer::start(song_app.router).await;
        Self {
            user_app,
            user,
            admin,
            song,
            song_cache: song_app.cache,
            ns,
            mongo_db,
            mongodb_uri: stores.mongodb_uri.clone(),
            database_url,
            _db: db,
            bucket,
            s3,
            sqs,
            queue_url,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jobs: Default::default(),
        }
    }

    /// The three services, each with a route that needs only a valid token.
    pub fn services(&self) -> [(&'static str, &TestServer); 3] {
        [
            ("user-svc", &self.user),
            ("admin-svc", &self.admin),
            ("song-svc", &self.song),
        ]
    }

    pub async fn call(&self, server: &TestServer, req: Req<'_>) -> Resp {
        send(req.build(&self.http, &server.url(""))).await
    }

    pub async fn post_user(&self, path: &str, body: Value) -> Resp {
        self.call(&self.user, Req::post(path).json(body)).await
    }

    pub async fn register(&self, email: &str) -> Resp {
        self.post_user(
            "/api/user/register",
            json!({"email": email, "password": PASSWORD}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.post_user(
            "/api/user/login",
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Registers, verifies through the mailed link, logs in.
    pub async fn listener(&self, email: &str) -> Session {
        let r = self.register(email).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let job = self.job("verify_email", email).await;
        let token = link_token(&job, "/verify-email");
        let r = self
            .post_user("/api/user/verify-email", json!({"token": token}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        self.session(email, PASSWORD).await
    }

    pub async fn session(&self, email: &str, password: &str) -> Session {
        let r = self.login(email, password).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        Session {
            access: r.json["accessToken"].as_str().unwrap().to_owned(),
            refresh: r.refresh_cookie().expect("login sets the refresh cookie"),
            user_id: r.json["userData"]["sub"].as_str().unwrap().to_owned(),
        }
    }

    /// Drains the queue into the job list.
    pub async fn poll_queue(&self) -> Result<(), String> {
        let bodies = cadenza_testkit::aws::drain_queue(&self.sqs, &self.queue_url).await?;
        let mut jobs = self.jobs.lock().await;
        for body in bodies {
            jobs.push(serde_json::from_str(&body).expect("job is JSON"));
        }
        Ok(())
    }

    /// The first job of `kind` to `to`, waiting up to `timeout`.
    pub async fn job_within(&self, kind: &str, to: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let _ = self.poll_queue().await;
            {
                let mut jobs = self.jobs.lock().await;
                if let Some(i) = jobs.iter().position(|j| j["kind"] == kind && j["to"] == to) {
                    return jobs.remove(i);
                }
            }
            assert!(
                Instant::now() < deadline,
                "no {kind} job to {to} within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn job(&self, kind: &str, to: &str) -> Value {
        self.job_within(kind, to, Duration::from_secs(15)).await
    }

    /// Every job received and not yet taken.
    pub async fn pending_jobs(&self) -> Vec<Value> {
        let _ = self.poll_queue().await;
        self.jobs.lock().await.clone()
    }

    pub async fn mongo(&self) -> mongodb::Database {
        mongodb::Client::with_uri_str(&self.mongodb_uri)
            .await
            .unwrap()
            .database(&self.mongo_db)
    }

    /// Puts an object straight into the bucket, as a finished upload.
    pub async fn put_object(&self, key: &str, content_type: &str, bytes: Vec<u8>) {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(bytes.into())
            .send()
            .await
            .expect("put object");
    }

    /// Creates an album through admin-svc with `token` (an admin's).
    pub async fn create_album(&self, token: &str, name: &str) -> Resp {
        let cover = format!("thumbnails/{}.png", uuid::Uuid::new_v4());
        self.put_object(&cover, "image/png", b"\x89PNG cover".to_vec())
            .await;
        self.call(
            &self.admin,
            Req::post("/api/admin/album")
                .bearer(token)
                .json(json!({"name": name, "artist": "Nina Simone", "thumbnailKey": cover})),
        )
        .await
    }

    pub async fn remove_bucket(&self) {
        if let Ok(out) = self.s3.list_objects_v2().bucket(&self.bucket).send().await {
            for o in out.contents() {
                if let Some(k) = o.key() {
                    let _ = self
                        .s3
                        .delete_object()
                        .bucket(&self.bucket)
                        .key(k)
                        .send()
                        .await;
                }
            }
        }
        let _ = self.s3.delete_bucket().bucket(&self.bucket).send().await;
    }
}

pub use cadenza_testkit::http::{send, Req, Resp, Session};

/// The token in a job's link, which must point at `page` on the public origin.
pub fn link_token(job: &Value, page: &str) -> String {
    cadenza_testkit::http::link_token(job, PUBLIC_BASE_URL, page)
}

/// The claims `cadenza_testkit::mint` would sign for `spec`.
pub fn claims(spec: &TokenSpec) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": spec.iss, "aud": spec.aud, "sub": spec.sub, "email": spec.email,
        "role": spec.role, "isVerified": spec.is_verified, "sid": spec.sid,
        "iat": now + spec.iat_offset, "nbf": now + spec.nbf_offset,
        "exp": now + spec.exp_offset, "jti": uuid::Uuid::new_v4().to_string(),
    })
}

/// Every way an access token can be wrong, each otherwise perfect; `base`
/// names the subject (an admin, so only the token can be the reason for a
/// refusal).
pub fn bad_tokens(base: &TokenSpec) -> Vec<(&'static str, String)> {
    let mint = |f: &dyn Fn(&mut TokenSpec)| {
        let mut s = base.clone();
        f(&mut s);
        cadenza_testkit::mint(&s)
    };
    let good = cadenza_testkit::mint(base);
    let parts: Vec<&str> = good.split('.').collect();

    // alg "none": a valid header and payload with no signature.
    let none_header = json!({"alg": "none", "typ": "at+jwt", "kid": keys::JWT_KID});
    let payload = B64.encode(claims(base).to_string());
    let alg_none = format!("{}.{}.", B64.encode(none_header.to_string()), payload);

    // HS256 keyed with the public key's PEM: the classic algorithm confusion.
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.typ = Some("at+jwt".into());
    hs_header.kid = Some(keys::JWT_KID.into());
    let hs256 = jsonwebtoken::encode(
        &hs_header,
        &claims(base),
        &jsonwebtoken::EncodingKey::from_secret(keys::JWT_PUBLIC_PEM.as_bytes()),
    )
    .unwrap();

    // A payload edited after signing (another subject, promoted to admin).
    let mut edited = claims(base);
    edited["sub"] = json!("000000000000000000000000");
    edited["role"] = json!("admin");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(edited.to_string()),
        parts[2]
    );

    vec![
        (
            "expired",
            mint(&|s| {
                s.iat_offset = -1000;
                s.nbf_offset = -1000;
                s.exp_offset = -100;
            }),
        ),
        (
            "not yet valid",
            mint(&|s| {
                s.iat_offset = 0;
                s.nbf_offset = 120;
                s.exp_offset = 900;
            }),
        ),
        ("wrong issuer", mint(&|s| s.iss = "someone-else".into())),
        ("wrong audience", mint(&|s| s.aud = "other-api".into())),
        ("wrong typ", mint(&|s| s.typ = Some("JWT".into()))),
        ("no typ", mint(&|s| s.typ = None)),
        ("alg none", alg_none),
        ("HS256 keyed with the public key", hs256),
        ("unknown kid", mint(&|s| s.kid = Some("no-such-key".into()))),
        ("tampered payload", tampered),
        (
            "foreign key, its own kid",
            mint(&|s| {
                s.private_pem = keys::OTHER_PRIVATE_PEM;
                s.kid = Some(keys::OTHER_KID.into());
            }),
        ),
        (
            "foreign key, our kid",
            mint(&|s| s.private_pem = keys::OTHER_PRIVATE_PEM),
        ),
        ("garbage", "not.a.jwt".into()),
    ]
}

/// Polls `f` until it returns `Some`, returning the value and how long it took.
pub async fn timed<T, F, Fut>(timeout: Duration, what: &str, f: F) -> (T, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    let v = cadenza_testkit::eventually(timeout, what, f).await;
    (v, start.elapsed())
}
