use std::sync::Arc;

use axum::extract::FromRef;
use bytes::Bytes;
use cadenza_auth::TokenVerifier;
use cadenza_platform::client_ip::ProxyPolicy;
use cadenza_platform::ratelimit::{RateLimiter, Rule};

use crate::cache::CatalogCache;
use crate::store::Store;
use crate::stream::StreamSigner;

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
