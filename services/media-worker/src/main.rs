//! `media-worker`: reads the media queue until SIGTERM (README.md).
//! `media-worker backfill`: queues a job for every song not read yet, and
//! exits (needs only `DATABASE_URL`).
//!
//! Env: `DATABASE_URL` (or `_FILE`), `S3_BUCKET`, `S3_FORCE_PATH_STYLE`,
//! `MEDIA_QUEUE_URL`, `REDIS_URL` and `REDIS_NAMESPACE` (the catalogue
//! events it publishes), `MEDIA_MAX_BYTES` (default 200 MiB),
//! `MEDIA_MAX_SECONDS` (default 7200), `MEDIA_TIME_LIMIT_SECS` (default
//! 300), `PORT` (health and metrics, default 7100); AWS endpoints and
//! credentials as the SDK reads them.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::routing::get;
use cadenza_media::Limits;
use cadenza_platform::{config, metrics, shutdown, telemetry};
use media_worker::{QueueConfig, Worker};
use secrecy::{ExposeSecret, SecretString};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = telemetry::init("media-worker");
    metrics::init("media-worker", env!("CARGO_PKG_VERSION"));
    let name = "media-worker";
    // May carry a password: kept secret, shown only to the driver.
    let database_url: SecretString = config::or_exit(name, config::require("DATABASE_URL")).into();
    if std::env::args().nth(1).as_deref() == Some("backfill") {
        let db = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(database_url.expose_secret())
            .await
            .context("connecting to DATABASE_URL")?;
        let added = media_worker::backfill(&db).await.context("queueing jobs")?;
        tracing::info!(added, "media jobs queued for songs not read yet");
        println!("{added} media jobs queued");
        return Ok(());
    }
    let bucket = config::or_exit(name, config::require("S3_BUCKET"));
    let path_style = config::or_exit(name, config::flag("S3_FORCE_PATH_STYLE", false));
    let queue_url = config::or_exit(name, config::require("MEDIA_QUEUE_URL"));
    let time_limit = Duration::from_secs(config::or_exit(
        name,
        config::parse_or("MEDIA_TIME_LIMIT_SECS", 300u64),
    ));
    let limits = Limits {
        max_bytes: config::or_exit(name, config::parse_or("MEDIA_MAX_BYTES", 200usize << 20)),
        max_seconds: config::or_exit(name, config::parse_or("MEDIA_MAX_SECONDS", 7200.0)),
        max_wall: time_limit,
    };
    let port: u16 = config::or_exit(name, config::parse_or("PORT", 7100));
    let redis_url: SecretString = config::or_exit(name, config::require("REDIS_URL")).into();
    let namespace = config::or_exit(name, cadenza_platform::redis::Namespace::from_env());

    let db = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_lazy(database_url.expose_secret())
        .context("DATABASE_URL")?;
    let sdk = cadenza_aws::sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(path_style)
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let redis = cadenza_platform::redis::client(redis_url.expose_secret()).context("REDIS_URL")?;
    let redis = cadenza_platform::redis::manager(&redis)
        .await
        .context("connecting to Redis")?;
    let worker = Arc::new(Worker {
        db,
        s3,
        bucket,
        limits,
        events: Some(cadenza_events::Publisher::new(redis, namespace)),
    });

    let router = axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(|| async { metrics::render() }));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let queue = QueueConfig {
        url: queue_url,
        wait: Duration::from_secs(10),
        // Past the analysis' own limit and its backstop.
        visibility: time_limit + Duration::from_secs(90),
        retry_base: Duration::from_secs(10),
    };
    // Bound before any job is taken: a port that is taken stops the worker
    // before it holds a message.
    let listener = shutdown::bind(name, port).await?;
    let mut rx = stop_rx.clone();
    tokio::spawn(media_worker::watch_depth(
        sqs.clone(),
        queue.url.clone(),
        Duration::from_secs(15),
        async move {
            let _ = rx.wait_for(|s| *s).await;
        },
    ));
    let mut rx = stop_rx.clone();
    let jobs = tokio::spawn(media_worker::run(worker, sqs, queue, async move {
        let _ = rx.wait_for(|s| *s).await;
    }));
    tracing::info!(port, "media-worker reading its queue");
    shutdown::serve(
        listener,
        router,
        async move {
            shutdown::signal().await;
            let _ = stop_tx.send(true);
        },
        Duration::from_secs(5),
    )
    .await?;
    // The job in hand finishes (its message would come back otherwise).
    let _ = jobs.await;
    Ok(())
}
