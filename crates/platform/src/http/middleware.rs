//! The standard stack's own layers, as plain tower services.
//!
//! axum's `middleware::from_fn` boxes the inner service and the future of
//! every request, and each `Router::layer` call clones and boxes its whole
//! wrapped service per request (issue 16: 13 such wrappers cost about as
//! much as hyper itself). These services do the same work with named future
//! types, and the stack is applied to the router in one `layer` call.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::panic::AssertUnwindSafe;

use futures::future::{CatchUnwind, Either, Map, MapOk, Ready};
use futures::{FutureExt, TryFutureExt};
use tower::{Layer, Service};
use tower_http::request_id::{MakeRequestId, RequestId};

use crate::problem::Problem;

type Answer = Result<Response, Infallible>;

/// A panicking handler is answered 500 (problem+json) and logged with its
/// message, instead of dropping the connection; it sits next to the handler
/// so the answer still passes through the rest of the stack.
#[derive(Clone, Copy)]
pub struct CatchPanicLayer;

impl<S> Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;
    fn layer(&self, inner: S) -> Self::Service {
        CatchPanic { inner }
    }
}

#[derive(Clone)]
pub struct CatchPanic<S> {
    inner: S,
}

type Unwound = std::thread::Result<Answer>;

fn panicked(payload: Box<dyn std::any::Any + Send>) -> Response {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "handler panicked");
    Problem::internal("handler panicked").into_response()
}

fn recovered(outcome: Unwound) -> Answer {
    outcome.unwrap_or_else(|payload| Ok(panicked(payload)))
}

impl<S> Service<Request> for CatchPanic<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future =
        Either<Ready<Answer>, Map<CatchUnwind<AssertUnwindSafe<S::Future>>, fn(Unwound) -> Answer>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(req))) {
            Ok(future) => Either::Right(
                AssertUnwindSafe(future)
                    .catch_unwind()
                    .map(recovered as fn(_) -> _),
            ),
            Err(payload) => Either::Left(futures::future::ready(Ok(panicked(payload)))),
        }
    }
}

/// 413 for a declared `Content-Length` over the limit, before any handler
/// reads the body (a body that lies is cut at the limit by `DefaultBodyLimit`).
#[derive(Clone, Copy)]
pub struct RejectOversizedLayer(pub usize);

impl<S> Layer<S> for RejectOversizedLayer {
    type Service = RejectOversized<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RejectOversized {
            inner,
            limit: self.0,
        }
    }
}

#[derive(Clone)]
pub struct RejectOversized<S> {
    inner: S,
    limit: usize,
}

impl<S> Service<Request> for RejectOversized<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Answer>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match declared {
            Some(len) if len > self.limit as u64 => Either::Left(futures::future::ready(Ok(
                Problem::payload_too_large(self.limit).into_response(),
            ))),
            _ => Either::Right(self.inner.call(req)),
        }
    }
}

/// A request that takes longer than the limit is answered 503 with
/// `Retry-After` (problem+json), and its handler is dropped.
#[derive(Clone, Copy)]
pub struct TimeoutLayer(pub Duration);

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Timeout {
            inner,
            after: self.0,
        }
    }
}

#[derive(Clone)]
pub struct Timeout<S> {
    inner: S,
    after: Duration,
}

type Elapsed = Result<Answer, tokio::time::error::Elapsed>;

fn timed_out(outcome: Elapsed) -> Answer {
    outcome.unwrap_or_else(|_| {
        Ok(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "Service Unavailable",
            "the request took too long; retry shortly",
        )
        .with_retry_after(1)
        .into_response())
    })
}

impl<S> Service<Request> for Timeout<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Map<tokio::time::Timeout<S::Future>, fn(Elapsed) -> Answer>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        tokio::time::timeout(self.after, self.inner.call(req)).map(timed_out as fn(_) -> _)
    }
}

const SECURITY_HEADERS: [(HeaderName, HeaderValue); 5] = [
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    ),
    (
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=63072000; includeSubDomains"),
    ),
];

/// The security headers on every response, unless the handler set its own
/// (the API reference page sets a wider CSP).
#[derive(Clone, Copy)]
pub struct SecurityHeadersLayer;

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;
    fn layer(&self, inner: S) -> Self::Service {
        SecurityHeaders { inner }
    }
}

#[derive(Clone)]
pub struct SecurityHeaders<S> {
    inner: S,
}

fn add_security_headers(mut resp: Response) -> Response {
    let headers = resp.headers_mut();
    headers.reserve(SECURITY_HEADERS.len());
    for (name, value) in SECURITY_HEADERS {
        if let header::Entry::Vacant(slot) = headers.entry(name) {
            slot.insert(value);
        }
    }
    resp
}

impl<S> Service<Request> for SecurityHeaders<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = MapOk<S::Future, fn(Response) -> Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        self.inner
            .call(req)
            .map_ok(add_security_headers as fn(Response) -> Response)
    }
}

/// `http_requests_total` and `http_request_duration_seconds` by method,
/// matched route and status. The metric handles of each label set are
/// resolved once and kept, so a request costs two atomic updates.
#[derive(Clone, Copy)]
pub struct MetricsLayer;

impl<S> Layer<S> for MetricsLayer {
    type Service = RecordMetrics<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RecordMetrics { inner }
    }
}

#[derive(Clone)]
pub struct RecordMetrics<S> {
    inner: S,
}

impl<S> Service<Request> for RecordMetrics<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Recorded<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let route = req.extensions().get::<MatchedPath>().cloned();
        let method = method_label(req.method());
        Recorded {
            inner: self.inner.call(req),
            start: Instant::now(),
            route,
            method,
        }
    }
}

pin_project_lite::pin_project! {
    pub struct Recorded<F> {
        #[pin]
        inner: F,
        start: Instant,
        route: Option<MatchedPath>,
        method: &'static str,
    }
}

impl<F: Future<Output = Answer>> Future for Recorded<F> {
    type Output = Answer;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Answer> {
        let this = self.project();
        let resp = match this.inner.poll(cx) {
            Poll::Ready(Ok(resp)) => resp,
            Poll::Ready(Err(never)) => match never {},
            Poll::Pending => return Poll::Pending,
        };
        let route = this.route.as_ref().map_or("unmatched", MatchedPath::as_str);
        let series = series(route, this.method, resp.status());
        series.requests.increment(1);
        series.duration.record(this.start.elapsed().as_secs_f64());
        Poll::Ready(Ok(resp))
    }
}

/// Methods outside the standard set share one label, so a client cannot
/// mint new series by inventing methods.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

struct Series {
    method: &'static str,
    status: StatusCode,
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

/// Route → the label sets seen on it. Routes are the router's own patterns
/// (or "unmatched"), methods a fixed set and statuses few, so the map is
/// bounded by the service's shape, not by its traffic.
type SeriesMap = RwLock<std::collections::HashMap<Box<str>, Vec<Arc<Series>>>>;

fn series(route: &str, method: &'static str, status: StatusCode) -> Arc<Series> {
    static SERIES: OnceLock<SeriesMap> = OnceLock::new();
    let map = SERIES.get_or_init(Default::default);
    let find = |list: &Vec<Arc<Series>>| {
        list.iter()
            .find(|s| s.method == method && s.status == status)
            .cloned()
    };
    if let Some(found) = map
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(route)
        .and_then(find)
    {
        return found;
    }
    let mut map = map.write().unwrap_or_else(|p| p.into_inner());
    let list = map.entry(route.into()).or_default();
    if let Some(found) = find(list) {
        return found;
    }
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.as_u16().to_string()),
    ];
    let made = Arc::new(Series {
        method,
        status,
        requests: metrics::counter!("http_requests_total", &labels),
        duration: metrics::histogram!("http_request_duration_seconds", &labels),
    });
    list.push(made.clone());
    made
}

/// Request ids shaped as random UUIDs (version 4), made from a per-process
/// random seed and a counter: unique within the process, unpredictable
/// enough across processes, and without a system call per request.
#[derive(Clone, Copy, Default)]
pub struct FastRequestId;

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub fn next_request_id() -> uuid::Uuid {
    static SEED: OnceLock<(u64, u64)> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let (a, b) = *SEED.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // splitmix64 is a bijection, so distinct counters give distinct high halves.
    let hi = splitmix64(a ^ n);
    let lo = splitmix64(b.wrapping_add(n));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

impl MakeRequestId for FastRequestId {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<RequestId> {
        let mut buf = uuid::Uuid::encode_buffer();
        let text = next_request_id().hyphenated().encode_lower(&mut buf);
        HeaderValue::from_str(text).ok().map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_version_4_uuids_and_do_not_repeat() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100_000 {
            let id = next_request_id();
            assert_eq!(id.get_version_num(), 4);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
            assert!(seen.insert(id), "{id} repeated");
        }
    }

    #[test]
    fn invented_methods_share_one_label() {
        let odd = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&odd), "OTHER");
        assert_eq!(method_label(&Method::GET), "GET");
    }
}
