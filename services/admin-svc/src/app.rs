//! Application state, start-up and the router.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::FromRef;
use axum::routing::{get, patch, post};
use axum::Router;
use cadenza_auth::TokenVerifier;
use cadenza_events::Publisher;
use cadenza_platform::health::{self, Readiness};
use cadenza_platform::http::{standard_layers, HttpSettings};
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::after_commit::Effects;
use crate::cdn::CdnInvalidator;
use crate::config::Config;
use crate::objects::MediaStore;
use crate::openapi;
use crate::orphans::KeyLocks;
use crate::routes::{albums, songs, upload};

/// JSON bodies here are a few hundred bytes; media goes straight to S3.
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub media: MediaStore,
    pub effects: Effects,
    /// Per-object-key locks between creators and purges (see `orphans`).
    pub key_locks: KeyLocks,
    pub verifier: TokenVerifier,
    /// CDN origin for cover URLs, if configured.
    pub cdn_base_url: Option<Arc<str>>,
    /// A media worker reads new audio (`MEDIA_QUEUE_URL` is set): new songs
    /// wait for it as `processing` (docs/media.md).
    pub media_worker: bool,
    /// Keeps the revocation denylist in step with Redis while the app lives.
    _denylist_sync: Arc<cadenza_events::Subscriber>,
    /// The pool as the metrics sampler sees it; sampling stops with the state.
    _pool_metrics: Arc<PgPool>,
}

impl AppState {
    /// An album as the admin API shows it.
    pub fn album_json(&self, row: cadenza_catalog::AlbumRow) -> cadenza_catalog::AlbumJson {
        cadenza_catalog::AlbumJson::from(row).with_cdn(self.cdn_base_url.as_deref())
    }
}

impl FromRef<AppState> for TokenVerifier {
    fn from_ref(s: &AppState) -> Self {
        s.verifier.clone()
    }
}

/// The served router and the state behind it.
pub struct App {
    pub router: Router,
    pub state: AppState,
}

pub async fn connect_db(url: &SecretString) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(3))
        .connect_lazy(url.expose_secret())
        .context("DATABASE_URL")
}

pub async fn build(config: Config) -> anyhow::Result<App> {
    cadenza_platform::metrics::init("admin-svc", env!("CARGO_PKG_VERSION"));
    cadenza_platform::metrics::counter(
        "admin_orphaned_objects_total",
        "Media objects left behind after every delete retry failed.",
        &[],
    );
    let db = connect_db(&config.database_url).await?;
    let pool_metrics = Arc::new(db.clone());
    cadenza_catalog::export_pool_metrics(&pool_metrics);
    crate::sweep::describe_metrics();
    crate::media_jobs::describe_metrics();
    if config.migrate_on_start {
        cadenza_catalog::migrate(&db)
            .await
            .context("applying migrations")?;
    }

    let redis =
        cadenza_platform::redis::client(config.redis_url.expose_secret()).context("REDIS_URL")?;
    let redis_conn = cadenza_platform::redis::manager(&redis)
        .await
        .context("connecting to Redis")?;

    let sdk = cadenza_aws::sdk_config().await;
    let media = MediaStore::from_config(&sdk, &config);
    let cdn = config
        .cloudfront_distribution_id
        .clone()
        .map(|id| CdnInvalidator::new(&sdk, id, config.cloudfront_endpoint.as_deref()));

    let verifier = TokenVerifier::new(config.verifier.clone())
        .await
        .map_err(|e| anyhow::anyhow!("JWT keys: {e}"))?;
    let denylist_sync = verifier
        .denylist()
        .start_sync(redis.clone(), config.redis_namespace.clone())
        .await;

    match &config.media_queue_url {
        Some(url) => {
            let relay = crate::media_jobs::Relay {
                db: db.clone(),
                sqs: aws_sdk_sqs::Client::new(&sdk),
                queue_url: url.clone(),
                idle: Duration::from_secs(1),
            };
            // Stops with the process: a batch cut short is sent again.
            tokio::spawn(relay.run(std::future::pending()));
        }
        None => tracing::warn!(
            "MEDIA_QUEUE_URL is not set: media jobs are recorded but not sent to the media worker"
        ),
    }

    let key_locks = KeyLocks::connect_lazy(&config.database_url).context("DATABASE_URL")?;
    let state = AppState {
        db: db.clone(),
        media: media.clone(),
        effects: Effects::new(
            Publisher::new(redis_conn.clone(), config.redis_namespace.clone()),
            media.clone(),
            cdn,
            key_locks.clone(),
        ),
        key_locks,
        verifier,
        cdn_base_url: config.cdn_base_url.as_deref().map(Arc::from),
        media_worker: config.media_queue_url.is_some(),
        _denylist_sync: Arc::new(denylist_sync),
        _pool_metrics: pool_metrics,
    };

    let readiness = cadenza_catalog::ready_check(
        Readiness::new().check("revocations", state.verifier.denylist().readiness()),
        db,
    )
    .check("redis", move || {
        let mut conn = redis_conn.clone();
        async move { cadenza_platform::redis::ping(&mut conn).await }
    })
    .check("s3", move || {
        let media = media.clone();
        async move { media.check_bucket().await }
    });

    let mut settings = HttpSettings::new(config.public_base_url.clone());
    settings.body_limit_bytes = BODY_LIMIT_BYTES;
    let router = standard_layers(
        Router::new()
            .nest("/api/admin", api(state.clone(), config.api_docs))
            .merge(health::routes(readiness)),
        &settings,
    );
    Ok(App { router, state })
}

fn api(state: AppState, api_docs: bool) -> Router {
    Router::new()
        .route("/upload-url", post(upload::create_upload_url))
        .route("/album", get(albums::list).post(albums::create))
        .route("/album/{id}", patch(albums::update).delete(albums::delete))
        .route("/album/{id}/song", get(albums::songs))
        .route("/song", get(songs::list).post(songs::create))
        .route("/song/{id}", patch(songs::update).delete(songs::delete))
        .route("/openapi.json", get(openapi::openapi_json))
        .with_state(state)
        .merge(cadenza_platform::docs::routes("/docs", api_docs))
}
