//! Requests and answers in the HTTP tests of user-svc and the system
//! tests: a request description ([`Req`]) turned into a reqwest builder,
//! the answer read once into [`Resp`] (status, headers, text and JSON), and
//! the checks every test makes of it.

use reqwest::header::{HeaderMap, COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A signed-in user: the access token, the refresh cookie's value and the
/// user id.
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
}

/// One request, relative to a server's base URL.
pub struct Req<'a> {
    pub method: Method,
    pub path: &'a str,
    pub json: Option<Value>,
    /// Raw bytes; sent instead of `json` when both are set.
    pub body: Option<Vec<u8>>,
    pub bearer: Option<&'a str>,
    /// The refresh cookie's value.
    pub cookie: Option<&'a str>,
    pub headers: Vec<(&'static str, String)>,
}

impl<'a> Req<'a> {
    pub fn new(method: Method, path: &'a str) -> Self {
        Self {
            method,
            path,
            json: None,
            body: None,
            bearer: None,
            cookie: None,
            headers: Vec::new(),
        }
    }
    pub fn get(path: &'a str) -> Self {
        Self::new(Method::GET, path)
    }
    pub fn post(path: &'a str) -> Self {
        Self::new(Method::POST, path)
    }
    pub fn delete(path: &'a str) -> Self {
        Self::new(Method::DELETE, path)
    }
    pub fn json(mut self, v: Value) -> Self {
        self.json = Some(v);
        self
    }
    pub fn body(mut self, b: Vec<u8>) -> Self {
        self.body = Some(b);
        self
    }
    /// A body sent as `application/json` exactly as written (malformed
    /// JSON, duplicate keys).
    pub fn raw(self, body: &str) -> Self {
        self.header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
    }
    pub fn bearer(mut self, t: &'a str) -> Self {
        self.bearer = Some(t);
        self
    }
    pub fn cookie(mut self, c: &'a str) -> Self {
        self.cookie = Some(c);
        self
    }
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The request to `base` + `path` on `http`.
    pub fn build(self, http: &reqwest::Client, base: &str) -> reqwest::RequestBuilder {
        let mut b = http.request(self.method, format!("{base}{}", self.path));
        if let Some(t) = self.bearer {
            b = b.bearer_auth(t);
        }
        if let Some(c) = self.cookie {
            b = b.header(COOKIE, format!("refreshToken={c}"));
        }
        for (name, value) in &self.headers {
            b = b.header(*name, value.as_str());
        }
        match (self.body, self.json) {
            (Some(body), _) => b.body(body),
            (None, Some(json)) => b.json(&json),
            (None, None) => b,
        }
    }
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    /// `Null` when the body is not JSON.
    pub json: Value,
}

/// Sends `b` and reads the answer.
pub async fn send(b: reqwest::RequestBuilder) -> Resp {
    let resp = b.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        json,
    }
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The raw Set-Cookie header for the refresh token, if any.
    pub fn set_cookie(&self) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("refreshToken="))
            .map(str::to_owned)
    }

    /// The refresh cookie's value, if one was set (not cleared).
    pub fn refresh_cookie(&self) -> Option<String> {
        let c = self.set_cookie()?;
        let value = c
            .strip_prefix("refreshToken=")?
            .split(';')
            .next()?
            .to_owned();
        (!value.is_empty()).then_some(value)
    }

    /// The first field a problem+json names.
    pub fn problem_field(&self) -> Option<String> {
        self.json["errors"][0]["field"].as_str().map(str::to_owned)
    }

    /// Asserts an RFC 9457 problem with this status.
    pub fn assert_problem(&self, status: u16, context: &str) {
        assert_eq!(self.status.as_u16(), status, "{context}: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{context}: {}",
            self.text
        );
        assert_eq!(self.json["status"], status, "{context}: {}", self.text);
        assert!(self.json["message"].is_string(), "{context}: {}", self.text);
    }

    /// Asserts a 503 problem with Retry-After.
    pub fn assert_unavailable(&self, context: &str) {
        self.assert_problem(503, context);
        assert!(
            self.header("retry-after").is_some(),
            "{context}: 503 without Retry-After"
        );
    }
}

/// The token in a mail job's link, which must point at `page` on `origin`.
pub fn link_token(job: &Value, origin: &str, page: &str) -> String {
    let link = job["data"]["link"].as_str().expect("job link");
    let prefix = format!("{origin}{page}?token=");
    link.strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("link {link} does not start with {prefix}"))
        .to_owned()
}
