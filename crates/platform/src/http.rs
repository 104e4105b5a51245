//! The layer stack every service wraps its router in, outermost first:
//! panic catcher, request id, tracing, metrics, timeout, security headers,
//! CORS, body limit; plus problem+json fallbacks for 404 and 405.

use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::problem::Problem;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

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
pub const LAYERS: [&str; 8] = [
    "body-limit",
    "cors",
    "security-headers",
    "timeout",
    "metrics",
    "trace",
    "request-id",
    "catch-panic",
];

/// Wraps a service's routes (API and probes) in the standard stack.
pub fn standard_layers(router: Router, settings: &HttpSettings) -> Router {
    layers_up_to(router, settings, LAYERS.len())
}

/// The problem+json fallbacks and the first `n` of [`LAYERS`]; only the
/// floor benchmark asks for fewer than all.
#[doc(hidden)]
pub fn layers_up_to(router: Router, settings: &HttpSettings, n: usize) -> Router {
    let mut router = router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    for layer in LAYERS.iter().take(n) {
        router = match *layer {
            "body-limit" => {
                let limit = settings.body_limit_bytes;
                router
                    .layer(DefaultBodyLimit::max(limit))
                    .layer(middleware::from_fn(move |req: Request, next: Next| {
                        reject_oversized(req, next, limit)
                    }))
            }
            "cors" => router.layer(cors(&settings.public_base_url)),
            "security-headers" => with_security_headers(router),
            "timeout" => {
                let timeout = settings.request_timeout;
                router.layer(middleware::from_fn(move |req: Request, next: Next| {
                    with_timeout(req, next, timeout)
                }))
            }
            "metrics" => router.layer(middleware::from_fn(record_metrics)),
            // Inside the request id's setter, so the span and the response
            // carry the id it made.
            "trace" => router
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                    // Path only: query strings may carry one-time tokens.
                    let id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %req.uri().path(),
                        request_id = %id,
                    )
                })),
            "request-id" => router.layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid)),
            "catch-panic" => router.layer(CatchPanicLayer::custom(|_| {
                Problem::internal("handler panicked").into_response()
            })),
            other => unreachable!("unknown layer {other}"),
        };
    }
    router
}

fn cors(origin: &str) -> CorsLayer {
    // `list` echoes the origin only when it matches; `exact` would send it to everyone.
    let allow = AllowOrigin::list(HeaderValue::from_str(origin).ok());
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

fn with_security_headers(router: Router) -> Router {
    const HEADERS: [(HeaderName, &str); 5] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
        (
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        ),
    ];
    HEADERS.into_iter().fold(router, |r, (name, value)| {
        r.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    })
}

async fn reject_oversized(req: Request, next: Next, limit: usize) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > limit as u64 => Problem::payload_too_large(limit).into_response(),
        _ => next.run(req).await,
    }
}

async fn with_timeout(req: Request, next: Next, timeout: Duration) -> Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "Service Unavailable",
            "the request took too long; retry shortly",
        )
        .with_retry_after(1)
        .into_response(),
    }
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    resp
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
        standard_layers(router, &s)
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
    }
}
