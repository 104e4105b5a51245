//! The layer stack every service wraps its router in, outermost first:
//! request id, tracing, metrics, security headers, CORS, body limit,
//! timeout, panic catcher; plus problem+json fallbacks for 404 and 405.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};

use axum::Router;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::problem::Problem;

mod middleware;

pub use middleware::next_request_id;
use middleware::{
    CatchPanicLayer, FastRequestId, MetricsLayer, RejectOversizedLayer, SecurityHeadersLayer,
    TimeoutLayer,
};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// W3C trace context, from the gateway (see `telemetry::propagation`).
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The browser origin allowed by CORS (`PUBLIC_BASE_URL`).
    pub public_base_url: String,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
}

impl HttpSettings {
    pub fn new(public_base_url: impl Into<String>) -> Self {
        Self {
            public_base_url: public_base_url.into(),
            body_limit_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// The layers of [`standard_layers`], innermost first. `bench/http-floor.sh`
/// serves a constant body under the first 0, 1, … of them to price each.
/// The panic catcher and the timeout sit next to the handler, so their
/// answers carry every header of the stack and are counted and logged.
pub const LAYERS: [&str; 8] = [
    "catch-panic",
    "timeout",
    "body-limit",
    "cors",
    "security-headers",
    "metrics",
    "trace",
    "request-id",
];

/// Wraps a service's routes (API and probes) in the standard stack.
pub fn standard_layers(router: Router, settings: &HttpSettings) -> Router {
    layers_up_to(router, settings, LAYERS.len())
}

type SpanFn = fn(&Request) -> tracing::Span;
type StatusFn = fn(&axum::response::Response, Duration, &tracing::Span);

/// The problem+json fallbacks and the first `n` of [`LAYERS`]; only the
/// floor benchmark asks for fewer than all. The layers are one tower stack
/// applied in one `Router::layer` call: axum clones and boxes what each
/// call wraps, per request.
#[doc(hidden)]
pub fn layers_up_to(router: Router, settings: &HttpSettings, n: usize) -> Router {
    let router = router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    let catch_panic = CatchPanicLayer;
    let timeout = TimeoutLayer(settings.request_timeout);
    let limit = settings.body_limit_bytes;
    let body_limit = ServiceBuilder::new()
        .layer(RejectOversizedLayer(limit))
        .layer(DefaultBodyLimit::max(limit));
    let cors = cors(&settings.public_base_url);
    // Inside the request id's setter, so the span and the response carry
    // the id it made.
    let trace = ServiceBuilder::new()
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span as SpanFn)
                .on_response(record_status as StatusFn),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID));
    let request_id = SetRequestIdLayer::new(REQUEST_ID, FastRequestId);
    let base = ServiceBuilder::new();
    match n {
        0 => router,
        1 => router.layer(base.layer(catch_panic)),
        2 => router.layer(base.layer(timeout).layer(catch_panic)),
        3 => router.layer(base.layer(body_limit).layer(timeout).layer(catch_panic)),
        4 => router.layer(
            base.layer(cors)
                .layer(body_limit)
                .layer(timeout)
                .layer(catch_panic),
        ),
        5 => router.layer(
            base.layer(SecurityHeadersLayer)
                .layer(cors)
                .layer(body_limit)
                .layer(timeout)
                .layer(catch_panic),
        ),
        6 => router.layer(
            base.layer(MetricsLayer)
                .layer(SecurityHeadersLayer)
                .layer(cors)
                .layer(body_limit)
                .layer(timeout)
                .layer(catch_panic),
        ),
        7 => router.layer(
            base.layer(trace)
                .layer(MetricsLayer)
                .layer(SecurityHeadersLayer)
                .layer(cors)
                .layer(body_limit)
                .layer(timeout)
                .layer(catch_panic),
        ),
        _ => router.layer(
            base.layer(request_id)
                .layer(trace)
                .layer(MetricsLayer)
                .layer(SecurityHeadersLayer)
                .layer(cors)
                .layer(body_limit)
                .layer(timeout)
                .layer(catch_panic),
        ),
    }
}

fn request_span(req: &Request) -> tracing::Span {
    // Path only: query strings may carry one-time tokens.
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    // Exported spans get the OpenTelemetry fields; without export the span
    // costs what it did before tracing existed (Empty fields are free until
    // recorded).
    let span = if crate::telemetry::tracing_enabled() {
        tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            request_id = %id,
            status = tracing::field::Empty,
            trace_id = tracing::field::Empty,
            remote_traceparent = tracing::field::Empty,
            otel.name = %req.method(),
            otel.kind = "server",
        )
    } else {
        tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            request_id = %id,
            trace_id = tracing::field::Empty,
            remote_traceparent = tracing::field::Empty,
        )
    };
    // The caller's (the gateway's) trace context, if any: joined only when
    // the gateway is trusted to set it (`TRUST_TRACEPARENT`).
    let traceparent = req.headers().get(TRACEPARENT).and_then(|v| v.to_str().ok());
    if crate::telemetry::trust_traceparent() {
        crate::telemetry::propagation::join(&span, traceparent);
    } else {
        crate::telemetry::propagation::join_as_link(&span, traceparent);
    }
    span
}

fn record_status(res: &axum::response::Response, _: Duration, span: &tracing::Span) {
    if crate::telemetry::tracing_enabled() {
        span.record("status", i64::from(res.status().as_u16()));
    }
}

fn cors(origin: &str) -> CorsLayer {
    // Echo the origin only when it is ours (`exact` would send it to
    // everyone). A predicate, not `list`: the stack is cloned per request,
    // and the predicate clones as one reference count.
    let ours = HeaderValue::from_str(origin).ok();
    let allow = AllowOrigin::predicate(move |origin, _| ours.as_ref() == Some(origin));
    CorsLayer::new()
        .allow_origin(allow)
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, REQUEST_ID])
        .expose_headers([REQUEST_ID, header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

async fn not_found() -> Problem {
    Problem::not_found("no such route")
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method Not Allowed",
        "this route does not accept that method",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::{get, post};
    use tower::ServiceExt;

    fn app() -> Router {
        let router = Router::new()
            .route("/ok", get(|| async { "ok" }))
            .route("/echo", post(|body: String| async move { body }))
            .route(
                "/boom",
                get(|| async {
                    panic!("boom");
                    #[allow(unreachable_code)]
                    ""
                }),
            );
        let mut s = HttpSettings::new("https://app.cadenza.test");
        s.body_limit_bytes = 16;
        s.request_timeout = Duration::from_millis(200);
        standard_layers(router, &s)
    }

    #[tokio::test]
    async fn a_slow_handler_is_cut_off_with_a_503_to_retry() {
        let slow = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        );
        let mut s = HttpSettings::new("https://app.cadenza.test");
        s.request_timeout = Duration::from_millis(100);
        let resp = standard_layers(slow, &s)
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        // The stack's other headers are on the timeout's answer too.
        assert_eq!(resp.headers()[header::X_FRAME_OPTIONS], "DENY");
        assert!(resp.headers().contains_key(REQUEST_ID));
    }

    #[tokio::test]
    async fn a_handler_keeps_its_own_security_header() {
        let own = Router::new().route(
            "/page",
            get(|| async {
                (
                    [(header::CONTENT_SECURITY_POLICY, "default-src 'self'")],
                    "page",
                )
            }),
        );
        let resp = standard_layers(own, &HttpSettings::new("https://app.cadenza.test"))
            .oneshot(Request::get("/page").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let csp: Vec<_> = resp
            .headers()
            .get_all(header::CONTENT_SECURITY_POLICY)
            .iter()
            .collect();
        assert_eq!(csp, ["default-src 'self'"]);
        assert_eq!(resp.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }

    /// The per-route metric handles are a cache filled on first use: many
    /// clients at once on a new route and status must neither lose a count
    /// nor split it over two series.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_requests_are_all_counted_once() {
        crate::metrics::handle();
        const CLIENTS: usize = 64;
        const EACH: usize = 50;
        let router = standard_layers(
            Router::new()
                .route("/count-me/{n}", get(|| async { "ok" }))
                .route("/teapot", get(|| async { StatusCode::IM_A_TEAPOT })),
            &HttpSettings::new("https://app.cadenza.test"),
        );
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(CLIENTS));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let router = router.clone();
                let start = start.clone();
                tokio::spawn(async move {
                    start.wait().await;
                    for i in 0..EACH {
                        let path = if (c + i) % 5 == 0 {
                            "/teapot".to_owned()
                        } else {
                            format!("/count-me/{i}")
                        };
                        let resp = router
                            .clone()
                            .oneshot(Request::get(path).body(Body::empty()).unwrap())
                            .await
                            .unwrap();
                        assert!(resp.status() == 200 || resp.status() == 418);
                    }
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        let text = crate::metrics::render();
        let value = |needle: &str| -> Vec<String> {
            text.lines()
                .filter(|l| l.contains(needle))
                .map(|l| l.rsplit(' ').next().unwrap().to_owned())
                .collect()
        };
        let teapots = CLIENTS * EACH / 5;
        assert_eq!(
            value(r#"http_requests_total{method="GET",route="/count-me/{n}",status="200"}"#),
            [(CLIENTS * EACH - teapots).to_string()],
            "{text}"
        );
        assert_eq!(
            value(r#"http_requests_total{method="GET",route="/teapot",status="418"}"#),
            [teapots.to_string()]
        );
        assert_eq!(
            value(
                r#"http_request_duration_seconds_count{method="GET",route="/teapot",status="418"}"#
            ),
            [teapots.to_string()]
        );
    }

    #[tokio::test]
    async fn security_headers_and_request_id_are_set() {
        let resp = app()
            .oneshot(Request::get("/ok").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let h = resp.headers();
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert!(h.contains_key(header::CONTENT_SECURITY_POLICY));
        assert!(h.contains_key(REQUEST_ID));
    }

    #[tokio::test]
    async fn cors_allows_only_the_public_origin() {
        let preflight = |origin: &'static str| {
            Request::builder()
                .method(Method::OPTIONS)
                .uri("/ok")
                .header(header::ORIGIN, origin)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
                .body(Body::empty())
                .unwrap()
        };
        let ok = app()
            .oneshot(preflight("https://app.cadenza.test"))
            .await
            .unwrap();
        assert_eq!(
            ok.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.cadenza.test"
        );
        let foreign = app()
            .oneshot(preflight("https://evil.example"))
            .await
            .unwrap();
        assert!(!foreign
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    }

    #[tokio::test]
    async fn oversized_bodies_unknown_routes_and_panics_are_problems() {
        let big = app()
            .oneshot(
                Request::post("/echo")
                    .header(header::CONTENT_LENGTH, "100")
                    .body(Body::from(vec![b'a'; 100]))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            big.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );

        let missing = app()
            .oneshot(Request::get("/nope").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            missing.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );

        let wrong_method = app()
            .oneshot(Request::delete("/ok").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);

        let boom = app()
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(boom.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            boom.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        // Answered inside the stack: headers, request id, and counted.
        assert_eq!(boom.headers()[header::X_FRAME_OPTIONS], "DENY");
        assert!(boom.headers().contains_key(REQUEST_ID));
    }
}
