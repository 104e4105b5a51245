//! The API reference page every service serves at `<prefix>/docs`.
//!
//! Everything is in the binary: a small HTML page, one script and one
//! stylesheet (`src/docs/`), which fetch and render the service's own
//! `openapi.json`. No CDN, no third-party origin, and a CSP without
//! `'unsafe-inline'`: scripts and styles only from the same origin, and the
//! tags carry `integrity` hashes of the embedded files. The page shares an
//! origin with `/api/user/refresh-token`, so any script it ran could act for
//! a signed-in user; that is why nothing external is loaded.
//!
//! `API_DOCS=false` turns the page and its assets off (404); the
//! `openapi.json` document stays (it is the machine-readable contract).

use std::sync::LazyLock;

use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha384};

use crate::config::{self, ConfigError};

const SCRIPT: &str = include_str!("docs/app.js");
const STYLE: &str = include_str!("docs/app.css");

/// The docs' CSP: same-origin script, style and fetch only.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// `API_DOCS` (default true): serve the docs page.
pub fn enabled_from_env() -> Result<bool, ConfigError> {
    config::flag("API_DOCS", true)
}

fn sri(body: &str) -> String {
    format!(
        "sha384-{}",
        STANDARD.encode(Sha384::digest(body.as_bytes()))
    )
}

static PAGE: LazyLock<String> = LazyLock::new(|| {
    // Relative URLs: the page is `<prefix>/docs`, its assets
    // `<prefix>/docs/app.{js,css}`, the document `<prefix>/openapi.json`.
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>API reference</title>\n\
         <link rel=\"stylesheet\" href=\"docs/app.css\" integrity=\"{}\">\n\
         </head>\n<body>\n<main id=\"app\" data-spec=\"openapi.json\">Loading the API description…</main>\n\
         <script src=\"docs/app.js\" integrity=\"{}\"></script>\n</body>\n</html>\n",
        sri(STYLE),
        sri(SCRIPT)
    )
});

fn csp() -> [(header::HeaderName, HeaderValue); 1] {
    [(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    )]
}

/// The page at `mount` (e.g. `/api/song/docs`, or `/docs` inside a router
/// nested under the prefix) and its two assets; nothing when `enabled` is
/// false. Merge it into the service's router before the standard layers.
pub fn routes(mount: &str, enabled: bool) -> Router {
    if !enabled {
        return Router::new();
    }
    Router::new()
        .route(
            mount,
            get(|| async { (csp(), Html(PAGE.as_str())).into_response() }),
        )
        .route(
            &format!("{mount}/app.js"),
            get(|| async {
                (
                    csp(),
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "no-cache"),
                    ],
                    SCRIPT,
                )
                    .into_response()
            }),
        )
        .route(
            &format!("{mount}/app.css"),
            get(|| async {
                (
                    csp(),
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, "no-cache"),
                    ],
                    STYLE,
                )
                    .into_response()
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get(router: &Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
        let resp = router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8(body.to_vec()).unwrap())
    }

    #[test]
    fn the_docs_csp_allows_no_inline_code_and_no_other_origin() {
        assert!(!DOCS_CSP.contains("unsafe-inline"));
        assert!(!DOCS_CSP.contains("unsafe-eval"));
        assert!(
            !DOCS_CSP.contains("://"),
            "no origin but 'self': {DOCS_CSP}"
        );
        assert!(!DOCS_CSP.contains('*'));
        for directive in [
            "script-src 'self'",
            "style-src 'self'",
            "default-src 'none'",
        ] {
            assert!(DOCS_CSP.contains(directive), "{directive}");
        }
    }

    #[tokio::test]
    async fn the_docs_page_loads_nothing_from_a_third_party_origin() {
        let router = routes("/api/test/docs", true);
        let (status, headers, page) = get(&router, "/api/test/docs").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_SECURITY_POLICY], DOCS_CSP);
        assert!(headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        // No absolute or protocol-relative URL anywhere: page, script, style.
        for (name, text) in [
            ("page", page.as_str()),
            ("script", SCRIPT),
            ("style", STYLE),
        ] {
            assert!(!text.contains("://"), "{name} names another origin");
            assert!(
                !text.contains("src=\"//") && !text.contains("href=\"//"),
                "{name}"
            );
            assert!(!text.contains("@import"), "{name}");
        }
        // No inline code: every script has a src, no <style>, no style="" or on…="".
        assert_eq!(page.matches("<script").count(), 1);
        assert!(page.contains("<script src=\"docs/app.js\" integrity=\"sha384-"));
        assert!(!page.contains("<style") && !page.contains("style=\"") && !page.contains(" on"));
        assert!(!SCRIPT.contains("innerHTML") && !SCRIPT.contains("eval("));
        // The integrity hashes match what is served.
        let (status, headers, js) = get(&router, "/api/test/docs/app.js").await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));
        assert!(page.contains(&format!("integrity=\"{}\"", sri(&js))));
        let (status, _, css) = get(&router, "/api/test/docs/app.css").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&format!("integrity=\"{}\"", sri(&css))));
    }

    #[tokio::test]
    async fn api_docs_false_answers_404() {
        let router = routes("/api/test/docs", false);
        for uri in [
            "/api/test/docs",
            "/api/test/docs/app.js",
            "/api/test/docs/app.css",
        ] {
            assert_eq!(get(&router, uri).await.0, StatusCode::NOT_FOUND, "{uri}");
        }
    }
}
