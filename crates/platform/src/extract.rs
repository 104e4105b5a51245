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
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
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
                // Parameter names, to name the field when serde could not.
                let params: Vec<(String, String)> =
                    axum::extract::RawPathParams::from_request_parts(parts, state)
                        .await
                        .map(|raw| {
                            raw.iter()
                                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                                .collect()
                        })
                        .unwrap_or_default();
                let names: Vec<String> = params.iter().map(|(k, _)| k.clone()).collect();
                let only = || names.first().filter(|_| names.len() == 1).cloned();
                let kind = e.into_kind();
                let (field, reason) = match &kind {
                    ErrorKind::ParseErrorAtKey {
                        key, expected_type, ..
                    } => (
                        Some(key.clone()),
                        format!("must be a valid {}", friendly(expected_type)),
                    ),
                    ErrorKind::ParseErrorAtIndex {
                        index,
                        expected_type,
                        ..
                    } => (
                        names.get(*index).cloned(),
                        format!("must be a valid {}", friendly(expected_type)),
                    ),
                    ErrorKind::ParseError { expected_type, .. } => (
                        only(),
                        format!("must be a valid {}", friendly(expected_type)),
                    ),
                    ErrorKind::DeserializeError { key, message, .. } => {
                        (Some(key.clone()), message_for_path(message))
                    }
                    ErrorKind::Message(m) => {
                        // Several parameters and no key: when the complaint is
                        // about a UUID, name the first one that is not a UUID.
                        let guess = only().or_else(|| {
                            m.to_ascii_lowercase().contains("uuid").then(|| {
                                params
                                    .iter()
                                    .find(|(_, v)| uuid::Uuid::parse_str(v).is_err())
                                    .map(|(k, _)| k.clone())
                            })?
                        });
                        (guess, message_for_path(m))
                    }
                    other => (only(), other.to_string()),
                };
                Err(Problem::malformed(
                    field.unwrap_or_else(|| "path".to_owned()),
                    reason,
                ))
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
    } else if expected_type.contains("i64")
        || expected_type.contains("u32")
        || expected_type.contains("u64")
    {
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
                let (field, reason) = query_field(&reason);
                Err(Problem::malformed(field, reason))
            }
            Err(other) => Err(Problem::bad_request(other.body_text())),
        }
    }
}

/// Splits serde's `field: reason` (or `missing field `x``) into its parts.
fn query_field(reason: &str) -> (String, String) {
    if let Some(name) = reason
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        return (name.to_owned(), "is required".to_owned());
    }
    if let Some((field, rest)) = reason.split_once(": ") {
        let plausible = !field.is_empty()
            && field
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'));
        if plausible {
            return (field.to_owned(), rest.to_owned());
        }
    }
    ("query".to_owned(), reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use serde::Deserialize;
    use tower::ServiceExt;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct ById {
        id: uuid::Uuid,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Page {
        limit: Option<u32>,
        q: String,
    }

    async fn problem_of(app: axum::Router, uri: &str) -> serde_json::Value {
        let resp = app
            .oneshot(axum::http::Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{uri}");
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn path_errors_name_the_parameter() {
        let single = axum::Router::new().route(
            "/album/{id}",
            get(|Path(_): Path<uuid::Uuid>| async { "ok" }),
        );
        let p = problem_of(single, "/album/not-a-uuid").await;
        assert_eq!(p["errors"][0]["field"], "id");
        let structured =
            axum::Router::new().route("/album/{id}", get(|Path(_): Path<ById>| async { "ok" }));
        let p = problem_of(structured, "/album/xyz").await;
        assert_eq!(p["errors"][0]["field"], "id");
        let pair = axum::Router::new().route(
            "/album/{album}/song/{song}",
            get(|Path(_): Path<(uuid::Uuid, uuid::Uuid)>| async { "ok" }),
        );
        let p = problem_of(pair, &format!("/album/{}/song/bad", uuid::Uuid::nil())).await;
        assert_eq!(p["errors"][0]["field"], "song");
    }

    #[tokio::test]
    async fn query_errors_name_the_parameter() {
        let app = axum::Router::new().route("/s", get(|Query(_): Query<Page>| async { "ok" }));
        let p = problem_of(app.clone(), "/s?q=a&limit=ten").await;
        assert_eq!(p["errors"][0]["field"], "limit");
        let p = problem_of(app, "/s?limit=5").await;
        assert_eq!(p["errors"][0]["field"], "q");
    }

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
        let p = parse_json::<Login>(br#"{"email":"a@b.c","password":"x","nested":{"size":"big"}}"#)
            .unwrap_err();
        assert_eq!(p.errors[0].field, "nested.size");
        let p = parse_json::<Login>(br#"{"email":5,"password":"x"}"#).unwrap_err();
        assert_eq!(p.errors[0].field, "email");
    }

    #[test]
    fn unknown_fields_are_rejected_when_the_type_denies_them() {
        let p = parse_json::<Login>(br#"{"email":"a","password":"b","role":"admin"}"#).unwrap_err();
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(p.detail.contains("role"), "{}", p.detail);
    }

    #[test]
    fn json_content_types() {
        let mut h = axum::http::HeaderMap::new();
        assert!(!is_json(&h));
        h.insert(
            header::CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert!(is_json(&h));
        h.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!is_json(&h));
    }
}
