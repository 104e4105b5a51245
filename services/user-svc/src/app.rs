//! Application state and the router.

use std::sync::Arc;
use std::time::Duration;
use tokio_util::task::TaskTracker;

use axum::extract::FromRef;
use axum::routing::{delete, get, post, put};
use axum::Router;
use cadenza_auth::{PublicJwk, PublicKeySet, RevocationPublisher, TokenVerifier};
use cadenza_platform::health::{self, Readiness};
use cadenza_platform::http::{standard_layers, HttpSettings};
use redis::aio::ConnectionManager;
use secrecy::ExposeSecret;
use tokio::task::JoinHandle;

use crate::client_ip::ProxyPolicy;
use crate::config::Config;
use crate::domain::PasswordHasher;
use crate::outbox::Relay;
use crate::ratelimit::{Limits, RateLimiter};
use crate::revocations::Revocations;
use crate::routes;
use crate::store::Store;
use crate::tokens::{self, AccessTokenIssuer};

/// Refresh sessions end 30 days after login, or after 7 idle days.
pub const SESSION_ABSOLUTE: Duration = Duration::from_secs(30 * 86_400);
pub const SESSION_IDLE: Duration = Duration::from_secs(7 * 86_400);
pub const VERIFY_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
pub const RESET_TOKEN_TTL: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub hasher: PasswordHasher,
    pub issuer: AccessTokenIssuer,
    pub verifier: TokenVerifier,
    pub revocations: Revocations,
    pub limiter: RateLimiter,
    pub limits: Arc<Limits>,
    pub relay: Relay,
    pub proxy: ProxyPolicy,
    pub jwks: Arc<serde_json::Value>,
    pub public_base_url: Arc<str>,
    pub cookie_secure: bool,
    pub refresh_grace: Duration,
    /// Work a handler started after replying (the outbox sends of every
    /// mail, and the account work of forgot-password and
    /// resend-verification); shutdown waits for it.
    pub after_reply: TaskTracker,
    _denylist_sync: Arc<cadenza_events::Subscriber>,
    _catalogue_sync: Arc<cadenza_events::Subscriber>,
    /// Now, for plays and the trending window (tests move it).
    pub clock: Arc<crate::clock::Clock>,
    pub trending: Arc<crate::routes::history::TrendingCache>,
}

impl AppState {
    /// Sends a freshly written outbox job now, after the reply, as tracked
    /// work (shutdown waits for it); a failure leaves it to the relay loop.
    pub fn send_after_reply(&self, job_id: String) {
        let relay = self.relay.clone();
        self.after_reply
            .spawn(async move { relay.send_now(&job_id).await });
    }
}

impl FromRef<AppState> for TokenVerifier {
    fn from_ref(s: &AppState) -> Self {
        s.verifier.clone()
    }
}

impl FromRef<AppState> for ProxyPolicy {
    fn from_ref(s: &AppState) -> Self {
        s.proxy.clone()
    }
}

/// The served application and its background work.
pub struct App {
    pub router: Router,
    pub state: AppState,
    relay: JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.relay.abort();
    }
}

pub async fn sqs_client(endpoint: Option<&str>) -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::retry::RetryConfig;
    use aws_sdk_sqs::config::timeout::TimeoutConfig;
    let sdk = cadenza_aws::sdk_config().await;
    let mut b = aws_sdk_sqs::config::Builder::from(&sdk)
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(6))
                .build(),
        );
    if let Some(ep) = endpoint {
        b = b.endpoint_url(ep);
    }
    aws_sdk_sqs::Client::from_conf(b.build())
}

pub async fn redis_conn(config: &Config) -> anyhow::Result<(redis::Client, ConnectionManager)> {
    let client = cadenza_platform::redis::client(config.redis_url.expose_secret())?;
    let conn = cadenza_platform::redis::manager(&client).await?;
    Ok((client, conn))
}

/// Connects to the stores, creates indexes, starts the outbox relay and the
/// revocation sync, and builds the router.
/// Every metric user-svc exports, at zero until it happens.
fn register_metrics() {
    use cadenza_platform::metrics::{counter, init};
    init("user-svc", env!("CARGO_PKG_VERSION"));
    for scope in [
        "register:ip",
        "register:email",
        "login:ip",
        "login:fail:email-ip",
        "login:fail:email",
        "verify_email:ip",
        "verify_email:email",
        "password_reset:ip",
        "password_reset:email",
        "change-password:user",
        "refresh:ip",
        "mail:to",
    ] {
        counter(
            crate::ratelimit::REJECTED_METRIC,
            "Requests refused by a rate limit.",
            &[("scope", scope)],
        );
    }
    counter(
        "user_mail_capped_total",
        "Mails dropped by the daily per-address cap.",
        &[],
    );
    for kind in crate::outbox::JobKind::ALL {
        counter(
            "user_email_jobs_sent_total",
            "Email jobs handed to SQS.",
            &[("kind", kind.as_str())],
        );
    }
    counter(
        "user_email_job_failures_total",
        "Failed SQS sends (retried).",
        &[],
    );
    counter(
        "user_deleted_song_entries_total",
        "Playlist entries and favourites removed because their song left the catalogue.",
        &[],
    );
    counter(
        "user_trending_computations_total",
        "Trending aggregations run (at most one a minute per replica).",
        &[],
    );
    counter(
        "user_refresh_reuse_total",
        "Rotated refresh tokens presented again (family revoked).",
        &[],
    );
    metrics::describe_gauge!(
        "user_email_outbox_pending",
        "Email jobs not yet handed to SQS."
    );
    metrics::describe_gauge!(
        "user_email_outbox_oldest_pending_age_seconds",
        "Age of the oldest email job not yet handed to SQS (0 when none)."
    );
    metrics::describe_gauge!(
        "user_argon2_queue_depth",
        "Password hashes waiting for a hashing slot."
    );
    metrics::describe_histogram!(
        "user_argon2_wait_seconds",
        "Time a password hash waited for a slot."
    );
    metrics::gauge!("user_argon2_queue_depth").set(0.0);
}

pub async fn build(config: Config) -> anyhow::Result<App> {
    register_metrics();
    let store = Store::connect(config.mongodb_uri.expose_secret(), &config.mongodb_db).await?;
    store.ensure_indexes().await?;
    let (redis_client, redis) = redis_conn(&config).await?;
    let ns = config.redis_namespace.clone();

    let private_pem = config.jwt_private_key.expose_secret();
    let issuer = AccessTokenIssuer::new(private_pem, &config.jwt_issuer, &config.jwt_audience)
        .map_err(|e| anyhow::anyhow!("JWT_PRIVATE_KEY: {e}"))?;
    let mut jwks = vec![PublicJwk::from_private_pem(private_pem).map_err(anyhow::Error::msg)?];
    if let Some(pems) = &config.jwt_public_keys {
        for jwk in tokens::public_jwks(pems).map_err(anyhow::Error::msg)? {
            if !jwks.iter().any(|k| k.kid() == jwk.kid()) {
                jwks.push(jwk);
            }
        }
    }
    let keyset = PublicKeySet::from_jwks(&jwks).map_err(anyhow::Error::msg)?;
    let verifier = TokenVerifier::with_keys(&config.jwt_issuer, &config.jwt_audience, keyset);
    let denylist_sync = verifier
        .denylist()
        .start_sync(redis_client.clone(), ns.clone())
        .await;

    let sqs = sqs_client(config.sqs_endpoint.as_deref()).await;
    let relay = Relay::new(
        store.clone(),
        sqs,
        config.sqs_email_queue_url.clone(),
        config.outbox_base_backoff,
        config.outbox_poll_interval,
    );
    let relay_task = tokio::spawn(relay.clone().run());

    let catalogue_sync = crate::catalogue::spawn(redis_client.clone(), ns.clone(), store.clone());
    let local_denylist = verifier.denylist().clone();
    let state = AppState {
        store: store.clone(),
        hasher: PasswordHasher::new().await?,
        issuer,
        verifier,
        revocations: Revocations::new(
            RevocationPublisher::new(redis.clone(), ns.clone()),
            local_denylist,
        ),
        limiter: RateLimiter::new(redis.clone(), ns, crate::ratelimit::REJECTED_METRIC),
        limits: Arc::new(config.limits.clone()),
        relay,
        proxy: config.proxy.clone(),
        jwks: Arc::new(serde_json::json!({ "keys": jwks })),
        public_base_url: config.public_base_url.clone().into(),
        cookie_secure: config.cookie_secure,
        refresh_grace: config.refresh_grace,
        after_reply: TaskTracker::new(),
        _denylist_sync: Arc::new(denylist_sync),
        _catalogue_sync: Arc::new(catalogue_sync),
        clock: Arc::default(),
        trending: crate::routes::history::TrendingCache::new(),
    };

    let readiness = Readiness::new()
        .check("revocations", state.verifier.denylist().readiness())
        .check("mongodb", {
            let store = store.clone();
            move || {
                let store = store.clone();
                async move { store.ping().await }
            }
        })
        .check("redis", {
            let redis = redis.clone();
            move || {
                let mut redis = redis.clone();
                async move { cadenza_platform::redis::ping(&mut redis).await }
            }
        });

    let router = Router::new()
        .nest("/api/user", api_routes(state.clone(), config.api_docs))
        .merge(health::routes(readiness));
    let router = standard_layers(router, &HttpSettings::new(config.public_base_url.clone()));
    Ok(App {
        router,
        state,
        relay: relay_task,
    })
}

fn api_routes(state: AppState, api_docs: bool) -> Router {
    use routes::{account, favorites, history, library, meta, playlists, sessions};
    let api = Router::new()
        .route("/register", post(account::register))
        .route("/login", post(account::login))
        .route("/verify-email", post(account::verify_email))
        .route("/resend-verification", post(account::resend_verification))
        .route("/forgot-password", post(account::forgot_password))
        .route("/validate-token", get(account::validate_token))
        .route("/set-password", post(account::set_password))
        .route("/change-password", post(account::change_password))
        .route("/check-auth", get(account::check_auth))
        .route("/refresh-token", post(sessions::refresh))
        .route("/logout", post(sessions::logout))
        .route("/logout-all", post(sessions::logout_all))
        .route("/sessions", get(sessions::list))
        .route("/sessions/{id}", delete(sessions::revoke))
        .route(
            "/favorites",
            get(favorites::list)
                .post(favorites::add)
                .delete(favorites::remove_seed),
        )
        .route("/favorites/{song_id}", delete(favorites::remove))
        .route("/plays", post(history::report))
        .route("/history", get(history::recent))
        .route("/history/top", get(history::top))
        .route("/trending", get(history::trending))
        .route("/playlists", get(playlists::list).post(playlists::create))
        .route(
            "/playlists/{id}",
            get(playlists::get)
                .patch(playlists::update)
                .delete(playlists::delete),
        )
        .route("/playlists/{id}/entries", post(playlists::add))
        .route("/playlists/{id}/entries/{entry}", delete(playlists::remove))
        .route(
            "/playlists/{id}/entries/{entry}/position",
            put(playlists::move_entry),
        )
        .route("/library/prune", post(library::prune))
        .route("/.well-known/jwks.json", get(meta::jwks))
        .route("/openapi.json", get(meta::openapi))
        .with_state(state);
    api.merge(cadenza_platform::docs::routes("/docs", api_docs))
}
