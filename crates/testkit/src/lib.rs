//! An isolated world per integration test, on the real local infrastructure
//! that `./dev infra up` starts: a fresh PostgreSQL database, a unique MongoDB
//! database name, a private Redis namespace, a unique bucket name, fixture
//! keys and tokens, and an app served on an ephemeral loopback port.
//!
//! Endpoints come from `CADENZA_*` variables, or from `.dev/env` when the
//! tests are run with plain `cargo test` after `./dev infra up`.

pub mod aws;
pub mod events;
pub mod http;
pub mod keys;
pub mod process;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use axum::Router;
use cadenza_platform::redis::Namespace;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use uuid::Uuid;

pub use keys::{mint, TokenSpec};

/// Where the local infrastructure listens.
#[derive(Debug, Clone)]
pub struct Infra {
    pub pg_admin_url: String,
    pub redis_url: String,
    pub mongodb_uri: String,
    pub s3_endpoint: String,
    pub s3_bucket: String,
    pub aws_endpoint: String,
    pub sqs_queue_url: String,
    pub ses_from: String,
    pub venv: Option<PathBuf>,
}

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn dev_env_file() -> HashMap<String, String> {
    let path = repo_root().join(".dev/env");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|line| {
            let line = line.trim().strip_prefix("export ").unwrap_or(line.trim());
            let (k, v) = line.split_once('=')?;
            Some((
                k.trim().to_owned(),
                v.trim().trim_matches('"').trim_matches('\'').to_owned(),
            ))
        })
        .collect()
}

pub fn infra() -> &'static Infra {
    static INFRA: OnceLock<Infra> = OnceLock::new();
    INFRA.get_or_init(|| {
        let file = dev_env_file();
        let get = |name: &str| -> String {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .or_else(|| file.get(name).cloned())
                .unwrap_or_else(|| {
                    panic!("{name} is not set and .dev/env lacks it: run `./dev infra up` first")
                })
        };
        // The AWS SDK reads credentials from the environment; make sure the
        // emulators' dev credentials are there even under plain `cargo test`.
        for k in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
            if std::env::var(k).is_err() {
                if let Some(v) = file.get(k) {
                    std::env::set_var(k, v);
                }
            }
        }
        Infra {
            pg_admin_url: get("CADENZA_PG_ADMIN_URL"),
            redis_url: get("CADENZA_REDIS_URL"),
            mongodb_uri: get("CADENZA_MONGODB_URI"),
            s3_endpoint: get("CADENZA_S3_ENDPOINT"),
            s3_bucket: get("CADENZA_S3_BUCKET"),
            aws_endpoint: get("CADENZA_AWS_ENDPOINT"),
            sqs_queue_url: get("CADENZA_SQS_QUEUE_URL"),
            ses_from: get("CADENZA_SES_FROM"),
            venv: std::env::var("CADENZA_VENV")
                .ok()
                .or_else(|| file.get("CADENZA_VENV").cloned())
                .map(PathBuf::from),
        }
    })
}

/// A short unique lowercase name with a prefix, safe as a database, bucket
/// or namespace name.
pub fn unique_name(prefix: &str) -> String {
    let id = Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &id[..16])
}

/// Databases made by [`fresh_database`] start with this; `./dev test` drops
/// leftovers before a run.
pub const TEST_DB_PREFIX: &str = "cadenza_t_";

/// A fresh, empty PostgreSQL database.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

pub async fn fresh_database() -> TestDatabase {
    let admin_url = &infra().pg_admin_url;
    let name = unique_name(TEST_DB_PREFIX);
    let admin: PgConnectOptions = admin_url.parse().expect("CADENZA_PG_ADMIN_URL");
    let mut conn = admin
        .clone()
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {admin_url}: {e}"));
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .expect("create test database");
    conn.close().await.ok();
    let options = admin.database(&name);
    let url = replace_db_in_url(admin_url, &name);
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .connect_with(options)
        .await
        .expect("connect to test database");
    TestDatabase { name, url, pool }
}

fn replace_db_in_url(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host_part = match path_start {
        Some(i) => &base[..i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}

/// A Redis namespace no other test shares.
pub fn fresh_namespace() -> Namespace {
    Namespace::new(unique_name("t"))
}

/// A MongoDB database name no other test shares.
pub fn fresh_mongo_db() -> String {
    unique_name("cadenza_t_")
}

/// An app served on 127.0.0.1 with an ephemeral port; stopped on drop.
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(router: Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .ok();
        });
        Self {
            addr,
            shutdown: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// An HTTP client with a cookie jar, as a browser would have.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// Polls `f` every 25 ms until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: std::time::Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// The other half of [`eventually`]: for all of `window`, checks `f` every
/// 25 ms and panics at the first `Some(what_arrived)`. For "nothing more
/// arrives" (a second email, a duplicate job): a failure shows as soon as
/// it happens, and a pass still waits the whole window.
pub async fn assert_quiet_for<F, Fut>(window: std::time::Duration, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<String>>,
{
    let deadline = tokio::time::Instant::now() + window;
    loop {
        if let Some(arrived) = f().await {
            panic!("expected no {what} for {window:?}, got {arrived}");
        }
        if tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn quiet_passes_after_the_window_and_fails_at_the_first_arrival() {
        let start = tokio::time::Instant::now();
        assert_quiet_for(std::time::Duration::from_millis(100), "noise", || async {
            None
        })
        .await;
        assert!(start.elapsed() >= std::time::Duration::from_millis(100));
        let calls = std::sync::atomic::AtomicU32::new(0);
        let loud = tokio::spawn(async move {
            assert_quiet_for(std::time::Duration::from_secs(60), "noise", || {
                let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async move { (n == 3).then(|| "a second email".to_owned()) }
            })
            .await
        });
        let err = tokio::time::timeout(std::time::Duration::from_secs(5), loud)
            .await
            .expect("fails at once, not after the window")
            .unwrap_err();
        assert!(err.is_panic());
    }

    #[test]
    fn database_name_is_swapped_in_urls() {
        assert_eq!(
            replace_db_in_url("postgres://postgres@127.0.0.1:55432/postgres", "x"),
            "postgres://postgres@127.0.0.1:55432/x"
        );
        assert_eq!(
            replace_db_in_url("postgres://u@h:1/postgres?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(
            replace_db_in_url("postgres://u@h:1", "x"),
            "postgres://u@h:1/x"
        );
    }

    #[test]
    fn unique_names_differ() {
        assert_ne!(unique_name("a"), unique_name("a"));
        assert!(unique_name("cadenza_t_").starts_with(TEST_DB_PREFIX));
    }
}
