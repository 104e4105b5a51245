//! The dev "CDN edge": plays CloudFront's part locally (CONTRACTS §1).
//!
//! - `songs/*` need a valid CloudFront signature (canned `Expires` or custom
//!   `Policy`, plus `Signature` and `Key-Pair-Id`), checked with the public
//!   key by `cadenza-cdn` exactly as CloudFront does; anything else → 403.
//! - `thumbnails/*` are served unsigned, like the public cover paths.
//! - Objects come from the S3 emulator (GetObject streamed, HeadObject for
//!   HEAD) with `Range` (206 + `Content-Range`, 416), `ETag` /
//!   `If-None-Match` (304), `Accept-Ranges: bytes`, the object's
//!   `Content-Type`, and `Access-Control-Allow-Origin: *` for media elements.
//!
//! Development only: no caching, no TLS, one bucket.

use std::net::SocketAddr;
use std::sync::Arc;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::Client;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use cadenza_cdn::TrustedKeys;
use cadenza_platform::config::{self, ConfigError};

#[derive(Clone)]
pub struct EdgeConfig {
    pub port: u16,
    pub bucket: String,
    pub keys: TrustedKeys,
    /// The edge's public origin (`http://127.0.0.1:8090`), which signed URLs
    /// name. Unset: taken from each request's `Host` header.
    pub public_url: Option<String>,
}

impl EdgeConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let key_pair_id = config::require("CLOUDFRONT_KEY_PAIR_ID")?;
        let pem = config::require("CLOUDFRONT_PUBLIC_KEY")?;
        let keys = TrustedKeys::new()
            .with_pem(key_pair_id, &pem)
            .map_err(|e| ConfigError::new("CLOUDFRONT_PUBLIC_KEY", e.to_string()))?;
        let public_url = match config::var("EDGE_PUBLIC_URL")? {
            Some(raw) => Some(config::check_base_url("EDGE_PUBLIC_URL", &raw)?),
            None => None,
        };
        Ok(Self {
            port: config::parse_or("EDGE_PORT", 8090)?,
            bucket: config::require("S3_BUCKET")?,
            keys,
            public_url,
        })
    }
}

/// A path-style S3 client from the environment (`AWS_ENDPOINT_URL_S3`).
pub async fn s3_client() -> Client {
    let sdk = cadenza_aws::sdk_config().await;
    Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    )
}

struct Edge {
    s3: Client,
    bucket: String,
    keys: TrustedKeys,
    public_url: Option<String>,
}

/// The edge's routes (every path; GET, HEAD and OPTIONS).
pub fn router(s3: Client, config: &EdgeConfig) -> Router {
    let edge = Arc::new(Edge {
        s3,
        bucket: config.bucket.clone(),
        keys: config.keys.clone(),
        public_url: config.public_url.clone(),
    });
    Router::new().fallback(serve).with_state(edge)
}

fn cors(headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Content-Length, Content-Range, Accept-Ranges, ETag"),
    );
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response();
    cors(r.headers_mut());
    r
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `%XX` decoding for the S3 key (the URL path stays encoded for signing).
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn serve(State(edge): State<Arc<Edge>>, req: Request) -> Response {
    let method = req.method().clone();
    if method == Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        cors(r.headers_mut());
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, HEAD, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Range, If-None-Match"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return r;
    }
    if method != Method::GET && method != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    let path = req.uri().path().to_owned();
    if path.starts_with("/songs/") {
        let origin = match &edge.public_url {
            Some(u) => u.clone(),
            None => match req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
            {
                Some(host) => format!("http://{host}"),
                None => return plain(StatusCode::FORBIDDEN, "access denied\n"),
            },
        };
        let path_and_query = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or(&path);
        let url = format!("{origin}{path_and_query}");
        let client_ip = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        if let Err(e) = cadenza_cdn::verify(&url, &edge.keys, unix_now(), client_ip) {
            tracing::info!(path, reason = %e, "signed URL refused");
            return plain(StatusCode::FORBIDDEN, "access denied\n");
        }
    } else if !path.starts_with("/thumbnails/") {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    }
    let Some(key) = percent_decode(&path[1..]) else {
        return plain(StatusCode::BAD_REQUEST, "bad path\n");
    };
    if key
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    }
    let headers = req.headers();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if method == Method::HEAD {
        head(&edge, &key, if_none_match).await
    } else {
        get(&edge, &key, range, if_none_match).await
    }
}

fn common_headers(
    h: &mut HeaderMap,
    content_type: Option<&str>,
    etag: Option<&str>,
    length: Option<i64>,
) {
    cors(h);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(v) = content_type.and_then(|v| HeaderValue::from_str(v).ok()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Some(v) = etag.and_then(|v| HeaderValue::from_str(v).ok()) {
        h.insert(header::ETAG, v);
    }
    if let Some(len) = length {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len.max(0) as u64));
    }
}

fn status_of<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

async fn object_size(edge: &Edge, key: &str) -> Option<i64> {
    edge.s3
        .head_object()
        .bucket(&edge.bucket)
        .key(key)
        .send()
        .await
        .ok()
        .and_then(|o| o.content_length())
}

async fn get(edge: &Edge, key: &str, range: Option<String>, inm: Option<String>) -> Response {
    let result = edge
        .s3
        .get_object()
        .bucket(&edge.bucket)
        .key(key)
        .set_range(range)
        .set_if_none_match(inm)
        .send()
        .await;
    let out = match result {
        Ok(out) => out,
        Err(err) => return s3_error(edge, key, &err, status_of(&err)).await,
    };
    let status = if out.content_range().is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    let h = response.headers_mut();
    common_headers(h, out.content_type(), out.e_tag(), out.content_length());
    if let Some(v) = out
        .content_range()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    let body = out.body;
    let stream = futures::stream::unfold(body, |mut body| async move {
        body.next()
            .await
            .map(|chunk| (chunk.map_err(std::io::Error::other), body))
    });
    *response.body_mut() = Body::from_stream(stream);
    response
}

async fn head(edge: &Edge, key: &str, inm: Option<String>) -> Response {
    let result = edge
        .s3
        .head_object()
        .bucket(&edge.bucket)
        .key(key)
        .set_if_none_match(inm)
        .send()
        .await;
    match result {
        Ok(out) => {
            let mut response = StatusCode::OK.into_response();
            common_headers(
                response.headers_mut(),
                out.content_type(),
                out.e_tag(),
                out.content_length(),
            );
            response
        }
        Err(err) => s3_error(edge, key, &err, status_of(&err)).await,
    }
}

async fn s3_error<E>(
    edge: &Edge,
    key: &str,
    err: &SdkError<E, HttpResponse>,
    status: Option<u16>,
) -> Response
where
    E: ProvideErrorMetadata + std::fmt::Debug,
{
    match status {
        Some(304) => {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            cors(r.headers_mut());
            r
        }
        Some(404) => plain(StatusCode::NOT_FOUND, "not found\n"),
        Some(416) => {
            let mut r = plain(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable\n");
            if let Some(size) = object_size(edge, key).await {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    r.headers_mut().insert(header::CONTENT_RANGE, v);
                }
            }
            r
        }
        Some(412) => plain(StatusCode::PRECONDITION_FAILED, "precondition failed\n"),
        _ => {
            let code = match err {
                SdkError::ServiceError(e) => e.err().code().unwrap_or("unknown").to_owned(),
                other => format!("{other:?}"),
            };
            tracing::warn!(key, error = %code, "S3 error");
            plain(StatusCode::BAD_GATEWAY, "origin error\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode("songs/a%20b.mp3").as_deref(),
            Some("songs/a b.mp3")
        );
        assert_eq!(
            percent_decode("songs/plain.mp3").as_deref(),
            Some("songs/plain.mp3")
        );
        assert_eq!(percent_decode("songs/%zz"), None);
        assert_eq!(percent_decode("songs/%4"), None);
    }
}
