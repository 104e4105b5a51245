//! RFC 9457 problem details, the one error shape every Cadenza endpoint
//! returns. `message` and `error` repeat `detail` because the seed's web
//! client reads `message` in its music store and `error` on its auth pages.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

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
        }
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

    /// 503 for a dependency that is down. The cause is logged, not returned.
    pub fn unavailable(dependency: &str, cause: impl std::fmt::Display) -> Self {
        tracing::warn!(dependency, error = %cause, "dependency unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "dependency-unavailable",
            "Service Unavailable",
            format!("{dependency} is temporarily unavailable; retry shortly"),
        )
        .with_retry_after(2)
    }

    /// 500. The cause is logged; the body says nothing about internals.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal Server Error",
            "an unexpected error occurred",
        )
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
}
