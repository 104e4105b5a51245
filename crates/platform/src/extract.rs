//! Extractors that turn every kind of unreadable input into a problem+json
//! answer naming the field, instead of axum's plain-text rejections.

use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::problem::{FieldError, Problem};

/// A JSON body. Syntax errors answer 400; a value of the wrong type, a
/// missing or an unknown field answer 422 naming the field's path.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported Media Type",
                "expected a JSON body with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(Json)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn body_rejection(rejection: BytesRejection) -> Problem {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload Too Large",
            "request body is too large",
        )
    } else {
        Problem::bad_request(format!("could not read the request body: {rejection}"))
    }
}

/// Parses JSON, naming the offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => Ok(v),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            use serde_json::error::Category;
            match inner.classify() {
                Category::Syntax | Category::Eof | Category::Io => Err(Problem::malformed(
                    "body",
                    format!("malformed JSON: {inner}"),
                )),
                Category::Data => {
                    let message = strip_position(&inner.to_string());
                    let field = field_name(&path, &message);
                    Err(Problem::invalid(vec![FieldError::new(field, message)]))
                }
            }
        }
    }
}

/// serde_json appends " at line X column Y", which means nothing to an API user.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// For a missing field the path points at the parent; the name is in the message.
fn field_name(path: &str, message: &str) -> String {
    let from_message = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (path, from_message) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "body".to_owned(),
        (p, Some(name)) => format!("{p}.{name}"),
        (p, None) => p.to_owned(),
    }
}

/// Path parameters; a segment of the wrong type (say, not a UUID) is a 400
/// naming the parameter.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                use axum::extract::path::ErrorKind;
                let kind = e.into_kind();
                let (field, reason) = match &kind {
                    ErrorKind::ParseErrorAtKey {
                        key, expected_type, ..
                    } => (key.clone(), format!("must be a valid {}", friendly(expected_type))),
                    ErrorKind::ParseErrorAtIndex { expected_type, .. }
                    | ErrorKind::ParseError { expected_type, .. } => {
                        ("path".to_owned(), format!("must be a valid {}", friendly(expected_type)))
                    }
                    ErrorKind::Message(m) => ("path".to_owned(), message_for_path(m)),
                    other => ("path".to_owned(), other.to_string()),
                };
                Err(Problem::malformed(field, reason))
            }
            Err(other) => Err(Problem::bad_request(other.body_text())),
        }
    }
}

fn message_for_path(m: &str) -> String {
    if m.contains("UUID") || m.contains("uuid") {
        "must be a valid UUID".to_owned()
    } else {
        m.to_owned()
    }
}

fn friendly(expected_type: &str) -> &str {
    if expected_type.contains("Uuid") {
        "UUID"
    } else if expected_type.contains("i64") || expected_type.contains("u32") || expected_type.contains("u64") {
        "integer"
    } else {
        expected_type.rsplit("::").next().unwrap_or(expected_type)
    }
}

/// Query parameters, rejected as 400 problem+json.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let text = e.body_text();
                let reason = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_owned();
                let field = reason
                    .strip_prefix("missing field `")
                    .and_then(|r| r.split('`').next())
                    .unwrap_or("query")
                    .to_owned();
                Err(Problem::malformed(field, reason))
            }
            Err(other) => Err(Problem::bad_request(other.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        password: String,
        nested: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        size: u32,
    }

    #[test]
    fn syntax_errors_are_400() {
        let p = parse_json::<Login>(b"{\"email\": ").unwrap_err();
        assert_eq!(p.status, StatusCode::BAD_REQUEST);
        assert_eq!(p.errors[0].field, "body");
    }

    #[test]
    fn missing_fields_name_the_field() {
        let p = parse_json::<Login>(br#"{"email":"a@b.c"}"#).unwrap_err();
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p.errors[0].field, "password");
        assert!(!p.detail.contains("line"), "{}", p.detail);
    }

    #[test]
    fn wrong_types_name_the_nested_path() {
        let p = parse_json::<Login>(
            br#"{"email":"a@b.c","password":"x","nested":{"size":"big"}}"#,
        )
        .unwrap_err();
        assert_eq!(p.errors[0].field, "nested.size");
        let p = parse_json::<Login>(br#"{"email":5,"password":"x"}"#).unwrap_err();
        assert_eq!(p.errors[0].field, "email");
    }

    #[test]
    fn unknown_fields_are_rejected_when_the_type_denies_them() {
        let p = parse_json::<Login>(br#"{"email":"a","password":"b","role":"admin"}"#)
            .unwrap_err();
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(p.detail.contains("role"), "{}", p.detail);
    }

    #[test]
    fn json_content_types() {
        let mut h = axum::http::HeaderMap::new();
        assert!(!is_json(&h));
        h.insert(header::CONTENT_TYPE, "application/json; charset=utf-8".parse().unwrap());
        assert!(is_json(&h));
        h.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!is_json(&h));
    }
}
