//! Application state and the router: [`AppState`], [`build`] /
//! [`build_app`], [`register_metrics`] and [`api_routes`].

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use cadenza_auth::TokenVerifier;
use cadenza_platform::client_ip::ProxyPolicy;
use cadenza_platform::health::{self, Readiness};
use cadenza_platform::http::{standard_layers, HttpSettings};
use cadenza_platform::ratelimit::{RateLimiter, Rule};
use secrecy::ExposeSecret;
use sqlx::postgres::PgPoolOptions;
use utoipa::OpenApi;

use crate::cache::CatalogCache;
use crate::config::Config;
use crate::openapi;
use crate::routes::{self, albums, batch, search, songs, stream};
use crate::store::Store;
use crate::stream::StreamSigner;

pub const PREFIX: &str = "/api/song";

/// Counter of requests refused by a rate limit, labelled by scope.
pub const REJECTED_METRIC: &str = "songsvc_rate_limited_total";

/// The built service: its router, and a handle on its cache (tests watch it).
pub struct App {
    pub router: Router,
    pub cache: CatalogCache,
}

/// The whole service: API, docs and probes in the standard layers. Starts
/// the background tasks (Redis connection, catalogue and revocation
/// subscriptions); they live as long as the returned router.
pub async fn build(config: Config) -> anyhow::Result<Router> {
    Ok(build_app(config).await?.router)
}

/// Every metric song-svc exports, at zero until it happens.
fn register_metrics() {
    use cadenza_platform::metrics::{counter, init};
    init("song-svc", env!("CARGO_PKG_VERSION"));
    for result in ["bypass", "local", "redis", "stale", "miss"] {
        counter(
            "songsvc_cache_total",
            "Catalogue reads by where the answer came from.",
            &[("result", result)],
        );
    }
    for result in ["bypass", "hit", "miss"] {
        counter(
            "songsvc_search_cache_total",
            "Searches by cache outcome.",
            &[("result", result)],
        );
        counter(
            "songsvc_batch_cache_total",
            "Batch song lookups by cache outcome.",
            &[("result", result)],
        );
    }
    counter(
        "songsvc_cache_errors_total",
        "Redis errors of the catalogue cache.",
        &[],
    );
    for result in ["memo", "signed"] {
        counter(
            "songsvc_stream_sign_total",
            "Stream URLs by memo hit or fresh signature.",
            &[("result", result)],
        );
    }
    counter(
        REJECTED_METRIC,
        "Requests refused by a rate limit.",
        &[("scope", "search:ip")],
    );
    counter(
        "songsvc_body_compressions_total",
        "Cached catalogue bodies compressed (once per cache entry).",
        &[],
    );
    metrics::describe_gauge!(
        "songsvc_cache_subscriber_connected",
        "1 while the catalogue event subscription is live; reads bypass the cache otherwise."
    );
}

/// [`build`], also handing back the cache.
pub async fn build_app(config: Config) -> anyhow::Result<App> {
    register_metrics();
    let pool = PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_secs(2))
        // Lazy: the service starts (and /readyz says why not) while PostgreSQL is down.
        .connect_lazy(config.database_url.expose_secret())
        .context("DATABASE_URL")?;
    let redis =
        cadenza_platform::redis::client(config.redis_url.expose_secret()).context("REDIS_URL")?;

    let verifier = TokenVerifier::new(config.verifier.clone())
        .await
        .map_err(|e| anyhow::anyhow!("JWT verifier: {e}"))?;
    let revocations = verifier
        .denylist()
        .start_sync(redis.clone(), config.redis_namespace.clone())
        .await;

    let cache = CatalogCache::new(
        config.redis_namespace.clone(),
        pool.clone(),
        config.cache_ttl,
    );
    cache.connect(redis.clone());
    let limiter = RateLimiter::connecting(
        redis.clone(),
        config.redis_namespace.clone(),
        REJECTED_METRIC,
    );
    let catalogue = cadenza_events::Subscriber::spawn(
        redis,
        config.redis_namespace.clone(),
        &cadenza_events::channel::CATALOGUE,
        cache.sink(),
    );
    cache.watch_subscription(catalogue.connected_flag());
    let connected = Arc::downgrade(&catalogue.connected_flag());
    cadenza_platform::metrics::on_scrape(move || {
        let Some(flag) = connected.upgrade() else {
            return false;
        };
        let up = flag.load(std::sync::atomic::Ordering::SeqCst);
        metrics::gauge!("songsvc_cache_subscriber_connected").set(if up { 1.0 } else { 0.0 });
        true
    });
    let pool_metrics = Arc::new(pool.clone());
    cadenza_catalog::export_pool_metrics(&pool_metrics);

    let openapi = openapi::ApiDoc::openapi();
    let state = AppState::new(Parts {
        store: Store::new(pool.clone(), &config.cloudfront_domain),
        cache: cache.clone(),
        signer: Arc::new(StreamSigner::with_memo(
            config.signer.clone(),
            &config.cloudfront_domain,
            config.stream_url_memo_max,
        )),
        verifier,
        openapi: Bytes::from(openapi.to_json().context("rendering OpenAPI")?),
        proxy: config.proxy.clone(),
        limiter,
        search_per_ip: config.search_per_ip,
        _subscriptions: Arc::new(vec![revocations, catalogue]),
        _pool_metrics: pool_metrics,
    });

    // Redis is not a readiness dependency: every read works without it.
    let readiness = cadenza_catalog::ready_check(
        Readiness::new().check("revocations", state.verifier.denylist().readiness()),
        pool,
    );

    let api = api_routes().with_state(state);
    let docs = cadenza_platform::docs::routes(&format!("{PREFIX}/docs"), config.api_docs);

    let router = api.merge(docs).merge(health::routes(readiness));
    Ok(App {
        router: standard_layers(router, &HttpSettings::new(config.public_base_url.clone())),
        cache,
    })
}

/// Every `/api/song` route but the docs page (`GET /api/song` and
/// `GET /api/song/` both list the songs).
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{PREFIX}/album"), get(albums::albums))
        .route(&format!("{PREFIX}/album/{{id}}"), get(albums::album))
        .route(PREFIX, get(songs::songs))
        .route(&format!("{PREFIX}/"), get(songs::songs))
        .route(&format!("{PREFIX}/search"), get(search::search))
        .route(
            &format!("{PREFIX}/songs"),
            get(batch::batch).post(batch::batch_post),
        )
        .route(&format!("{PREFIX}/stream/{{id}}"), get(stream::stream))
        .route(&format!("{PREFIX}/openapi.json"), get(routes::openapi))
        .route(&format!("{PREFIX}/{{id}}"), get(songs::song))
        .route(&format!("{PREFIX}/{{id}}/waveform"), get(songs::waveform))
}

/// Everything a handler may need, behind one reference count: axum clones
/// the state for every request, and some parts own heap data (the CDN
/// domain, the trusted proxy list, the limiter's script).
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

impl AppState {
    pub fn new(parts: Parts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = Parts;
    fn deref(&self) -> &Parts {
        &self.0
    }
}

pub struct Parts {
    pub store: Store,
    pub cache: CatalogCache,
    pub signer: Arc<StreamSigner>,
    pub verifier: TokenVerifier,
    /// Rendered once at start.
    pub openapi: Bytes,
    pub proxy: ProxyPolicy,
    pub limiter: RateLimiter,
    pub search_per_ip: Rule,
    /// Background subscriptions; they stop when the last state clone goes.
    pub _subscriptions: Arc<Vec<cadenza_events::Subscriber>>,
    /// The pool as the metrics sampler sees it; sampling stops with the state.
    pub _pool_metrics: Arc<sqlx::PgPool>,
}

impl FromRef<AppState> for ProxyPolicy {
    fn from_ref(state: &AppState) -> Self {
        state.proxy.clone()
    }
}

impl FromRef<AppState> for TokenVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}
