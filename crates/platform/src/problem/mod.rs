//! RFC 9457 problem details, the one error shape every Cadenza endpoint
//! returns. `message` and `error` repeat `detail` because the seed's web
//! client reads `message` in its music store and `error` on its auth pages.

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[cfg(any(feature = "sqlx", feature = "mongodb"))]
mod db;
#[cfg(feature = "mongodb")]
pub use db::is_duplicate_key;

pub type ApiResult<T> = Result<T, Problem>;

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    /// Short slug, rendered as `type` under [`TYPE_BASE`].
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
    /// Why a 5xx happened: logged when the response is built, never sent.
    cause: Option<Arc<Cause>>,
}

#[derive(Debug)]
struct Cause {
    dependency: Option<String>,
    text: String,
}

/// An error and its sources, `outer: inner: innermost`, for a log line.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let next = inner.to_string();
        // Many errors repeat their source in their own message.
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = inner.source();
    }
    text
}

pub const TYPE_BASE: &str = "https://cadenza.dev/problems/";

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    message: &'a str,
    error: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl Problem {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            cause: None,
        }
    }

    /// What will be logged when this problem becomes a response (5xx only).
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref().map(|c| c.text.as_str())
    }

    fn with_cause(mut self, dependency: Option<&str>, text: String) -> Self {
        self.cause = Some(Arc::new(Cause {
            dependency: dependency.map(str::to_owned),
            text,
        }));
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad Request",
            detail,
        )
    }

    /// 400 for input that could not be read at all (malformed JSON, a path
    /// segment of the wrong type), naming the field when known.
    pub fn malformed(field: impl Into<String>, reason: impl Into<String>) -> Self {
        let field = field.into();
        let reason = reason.into();
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-request",
            "Malformed Request",
            format!("{field}: {reason}"),
        )
        .with_errors(vec![FieldError::new(field, reason)])
    }

    /// 422 for well-formed input that breaks a rule.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
            "Validation Failed",
            detail,
        )
        .with_errors(errors)
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, message)])
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            detail,
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not Found", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    pub fn payload_too_large(limit_bytes: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload Too Large",
            format!("request body exceeds {limit_bytes} bytes"),
        )
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too Many Requests",
            format!("too many requests; retry in {retry_after_secs} s"),
        )
        .with_retry_after(retry_after_secs)
    }

    /// 503 for a dependency that is down. The cause is logged when the
    /// response is built (once, in the request's span), never returned.
    pub fn unavailable(dependency: &str, cause: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "dependency-unavailable",
            "Service Unavailable",
            format!("{dependency} is temporarily unavailable; retry shortly"),
        )
        .with_retry_after(2)
        .with_cause(Some(dependency), cause.to_string())
    }

    /// An internal error (500): the cause is logged when the response is
    /// built; the body says nothing about internals.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal Server Error",
            "an unexpected error occurred",
        )
        .with_cause(None, cause.to_string())
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.title,
            self.detail
        )
    }
}

impl std::error::Error for Problem {}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            match &cause.dependency {
                Some(dependency) => {
                    tracing::warn!(dependency, error = %cause.text, "dependency unavailable")
                }
                None => tracing::error!(error = %cause.text, "internal error"),
            }
        }
        let body = Body {
            kind: format!("{TYPE_BASE}{}", self.kind),
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
            message: &self.detail,
            error: &self.detail,
            errors: &self.errors,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (self.status, bytes).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"cadenza\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn render(p: Problem) -> (Response, serde_json::Value) {
        let resp = p.into_response();
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap();
        (Response::from_parts(parts, axum::body::Body::empty()), json)
    }

    #[tokio::test]
    async fn problem_body_has_message_and_error_equal_to_detail_and_field_errors() {
        let (resp, json) = render(Problem::invalid_field(
            "email",
            "must be a valid email address",
        ))
        .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(json["status"], 422);
        assert_eq!(json["detail"], json["message"]);
        assert_eq!(json["detail"], json["error"]);
        assert_eq!(json["errors"][0]["field"], "email");
        assert!(json["type"]
            .as_str()
            .unwrap()
            .ends_with("validation-failed"));
    }

    #[tokio::test]
    async fn retry_after_and_www_authenticate_headers() {
        let (resp, json) = render(Problem::too_many_requests(7)).await;
        assert_eq!(resp.headers()[header::RETRY_AFTER], "7");
        assert!(json.get("errors").is_none());
        let (resp, _) = render(Problem::unauthorized("no token")).await;
        assert!(resp.headers().contains_key(header::WWW_AUTHENTICATE));
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let (_, json) = render(Problem::internal("password=hunter2 leaked")).await;
        assert!(!json.to_string().contains("hunter2"));
    }

    /// The cause is logged once, when the answer is built: a `Problem`
    /// made and then replaced (`or_else`, a fallback) logs nothing.
    #[test]
    fn the_cause_is_logged_when_the_response_is_built_not_before() {
        use std::sync::Mutex;
        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let text = || String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        tracing::subscriber::with_default(subscriber, || {
            let down = Problem::unavailable("postgres", "connection refused");
            let broken = Problem::internal("bad row");
            assert_eq!(text(), "", "nothing is logged when a problem is made");
            assert_eq!(down.cause(), Some("connection refused"));
            let _ = down.into_response();
            let _ = broken.into_response();
            let _ = Problem::not_found("no such album").into_response();
        });
        let logged = text();
        assert_eq!(logged.lines().count(), 2, "{logged}");
        assert!(logged.contains("WARN") && logged.contains("dependency=\"postgres\""));
        assert!(logged.contains("connection refused"));
        assert!(logged.contains("ERROR") && logged.contains("bad row"));
    }

    #[test]
    fn a_chain_names_every_source_once() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("reading the row")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::other("connection reset"));
        assert_eq!(chain(&e), "reading the row: connection reset");
    }
}
