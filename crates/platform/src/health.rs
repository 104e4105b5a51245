//! Probes and metrics, served outside the `/api` prefix so the ingress never
//! exposes them: `/healthz` (liveness, touches nothing), `/readyz` (every
//! store answers within 1 s) and `/metrics` (Prometheus text).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::future::{join_all, BoxFuture};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::problem::{FieldError, Problem};

type CheckFn = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// The named dependency checks behind `/readyz`.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(&'static str, CheckFn)>,
    timeout: Option<Duration>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn check<F, Fut, E>(mut self, name: &'static str, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display,
    {
        let f = Arc::new(f);
        self.checks.push((
            name,
            Arc::new(move || {
                let fut = f();
                Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
            }),
        ));
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Runs every check concurrently; returns the failing ones.
    pub async fn failures(&self) -> Vec<FieldError> {
        let timeout = self.timeout.unwrap_or(Duration::from_secs(1));
        let results = join_all(self.checks.iter().map(|(name, check)| {
            let fut = check();
            async move {
                match tokio::time::timeout(timeout, fut).await {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(FieldError::new(*name, e)),
                    Err(_) => Some(FieldError::new(
                        *name,
                        format!("no answer within {timeout:?}"),
                    )),
                }
            }
        }))
        .await;
        results.into_iter().flatten().collect()
    }
}

/// `/healthz`, `/readyz` and `/metrics`.
pub fn routes(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(Arc::new(readiness))
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

async fn readyz(State(readiness): State<Arc<Readiness>>) -> Response {
    let failures = readiness.failures().await;
    if failures.is_empty() {
        return Json(serde_json::json!({"status": "ready"})).into_response();
    }
    let names = failures
        .iter()
        .map(|f| f.field.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    for f in &failures {
        tracing::warn!(dependency = %f.field, reason = %f.message, "not ready");
    }
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not-ready",
        "Service Unavailable",
        format!("not ready: {names}"),
    )
    .with_errors(failures)
    .with_retry_after(5)
    .into_response()
}

/// The process-wide Prometheus recorder (see [`crate::metrics`]).
pub fn metrics_handle() -> &'static PrometheusHandle {
    crate::metrics::handle()
}

async fn metrics_text() -> Response {
    let body = crate::metrics::render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn readyz_names_the_failing_dependency() {
        let readiness = Readiness::new()
            .check("postgres", || async { Ok::<_, String>(()) })
            .check("redis", || async { Err::<(), _>("connection refused") })
            .check("slow", || async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok::<_, String>(())
            })
            .with_timeout(Duration::from_millis(100));
        let resp = routes(readiness)
            .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: serde_json::Value =
            serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(body["message"], "not ready: redis, slow");
        assert_eq!(body["errors"][0]["message"], "connection refused");
    }

    #[tokio::test]
    async fn readyz_and_healthz_answer_200_when_all_is_well() {
        let app = routes(Readiness::new().check("x", || async { Ok::<_, String>(()) }));
        for path in ["/healthz", "/readyz"] {
            let resp = app
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{path}");
        }
    }

    #[tokio::test]
    async fn metrics_render_recorded_requests() {
        metrics_handle();
        metrics::counter!("cadenza_test_counter").increment(3);
        let resp = routes(Readiness::new())
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let text = String::from_utf8(
            resp.into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap();
        assert!(text.contains("cadenza_test_counter 3"), "{text}");
    }
}
