use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use cadenza_platform::config::{self, ConfigError};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::claims::Claims;
use crate::denylist::Denylist;
use crate::keys::{refuse_test_keys, PublicJwk, PublicKeySet};
use crate::memo::{self, Lookup, Memo};
use crate::LEEWAY_SECS;

#[derive(Debug, Clone)]
pub enum KeySource {
    /// One or more PEM public keys (`JWT_PUBLIC_KEYS`).
    Pems(String),
    /// A JWKS document (`JWT_JWKS_URL`), fetched at start, refreshed every
    /// 10 minutes and on an unknown `kid` (at most every 30 s). Redirects
    /// are not followed; see [`TokenVerifier::reload_keys`] for when a fetched
    /// set replaces the cached one.
    Jwks(String),
}

#[derive(Debug, Clone)]
pub struct VerifierConfig {
    pub issuer: String,
    pub audience: String,
    pub keys: KeySource,
}

impl VerifierConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let keys = match (
            config::var("JWT_PUBLIC_KEYS")?,
            config::var("JWT_JWKS_URL")?,
        ) {
            (Some(pems), _) => {
                let named = |e| ConfigError::new("JWT_PUBLIC_KEYS", e);
                PublicKeySet::from_pems(&pems).map_err(named)?;
                // Whoever holds a committed test key's private half (anyone
                // with the source) could mint tokens this service accepts.
                let jwks = PublicJwk::all_from_public_pems(&pems).map_err(named)?;
                refuse_test_keys(&jwks, config::flag("ALLOW_TEST_KEYS", false)?).map_err(named)?;
                KeySource::Pems(pems)
            }
            (None, Some(url)) => {
                KeySource::Jwks(jwks_url(&url, config::flag("JWT_JWKS_ALLOW_HTTP", false)?)?)
            }
            (None, None) => {
                return Err(ConfigError::new(
                    "JWT_PUBLIC_KEYS",
                    "is required (or JWT_JWKS_URL) to verify access tokens",
                ))
            }
        };
        Ok(Self {
            issuer: config::var("JWT_ISSUER")?.unwrap_or_else(|| "cadenza-user".into()),
            audience: config::var("JWT_AUDIENCE")?.unwrap_or_else(|| "cadenza-api".into()),
            keys,
        })
    }
}

/// `JWT_JWKS_URL` must be https: whoever can answer it can mint tokens every
/// service accepts. Plain http only with `JWT_JWKS_ALLOW_HTTP=true` (dev and
/// tests, on loopback).
pub fn jwks_url(raw: &str, allow_http: bool) -> Result<String, ConfigError> {
    let url = config::check_base_url("JWT_JWKS_URL", raw)?;
    if !allow_http && !url.starts_with("https://") {
        return Err(ConfigError::new(
            "JWT_JWKS_URL",
            format!(
                "{url:?} is not https (set JWT_JWKS_ALLOW_HTTP=true for a dev setup, \
                 or mount JWT_PUBLIC_KEYS instead)"
            ),
        ));
    }
    Ok(url)
}

/// Upper bound of a JWKS answer; a real one is a few KiB.
const JWKS_MAX_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed token")]
    Malformed,
    #[error("token expired")]
    Expired,
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    #[error("token revoked")]
    Revoked,
}

struct JwksSource {
    url: String,
    http: reqwest::Client,
    last_fetch: Mutex<Option<Instant>>,
}

struct Inner {
    issuer: String,
    audience: String,
    keys: RwLock<PublicKeySet>,
    jwks: Option<JwksSource>,
    denylist: Denylist,
    verified: Memo,
}

/// Verifies access tokens; cheap to clone.
#[derive(Clone)]
pub struct TokenVerifier {
    inner: Arc<Inner>,
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<PublicJwk>,
}

impl TokenVerifier {
    /// Builds a verifier. With a JWKS URL that cannot be fetched yet, it
    /// starts with no keys (refusing every token) and keeps trying, so that
    /// a service does not crash-loop while user-svc starts.
    pub async fn new(config: VerifierConfig) -> Result<Self, String> {
        let (keys, jwks) = match &config.keys {
            KeySource::Pems(pems) => (PublicKeySet::from_pems(pems)?, None),
            KeySource::Jwks(url) => (
                PublicKeySet::default(),
                Some(JwksSource {
                    url: url.clone(),
                    http: reqwest::Client::builder()
                        .timeout(Duration::from_secs(3))
                        // A redirect is an answer from somewhere else: refuse it.
                        .redirect(reqwest::redirect::Policy::none())
                        .build()
                        .map_err(|e| e.to_string())?,
                    last_fetch: Mutex::new(None),
                }),
            ),
        };
        let verifier = Self::build(config.issuer, config.audience, keys, jwks);
        if verifier.inner.jwks.is_some() {
            if let Err(e) = verifier.refresh_jwks(true).await {
                tracing::warn!(error = %e, "JWKS not reachable yet; tokens are refused until it is");
            }
            let weak = Arc::downgrade(&verifier.inner);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(600));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let Some(inner) = weak.upgrade() else { break };
                    let v = TokenVerifier { inner };
                    if let Err(e) = v.refresh_jwks(true).await {
                        tracing::warn!(error = %e, "JWKS refresh refused; keeping cached keys");
                    }
                }
            });
        }
        Ok(verifier)
    }

    /// A verifier over a fixed key set.
    pub fn with_keys(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        keys: PublicKeySet,
    ) -> Self {
        Self::build(issuer.into(), audience.into(), keys, None)
    }

    fn build(
        issuer: String,
        audience: String,
        keys: PublicKeySet,
        jwks: Option<JwksSource>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                issuer,
                audience,
                keys: RwLock::new(keys),
                jwks,
                denylist: Denylist::default(),
                verified: Memo::default(),
            }),
        }
    }

    pub fn denylist(&self) -> &Denylist {
        &self.inner.denylist
    }

    /// Fetches the JWKS now (no rate limit), returning the number of keys
    /// loaded. The rule for the cached keys: they are replaced only by a
    /// good answer, i.e. a 2xx (redirects are not followed), at most
    /// 64 KiB, a JWKS document whose RSA keys all parse, and at least one
    /// of them. Anything else (an error status, a redirect, garbage, an
    /// empty set, a key that does not parse) is an error and leaves the
    /// cached keys as they were. A good answer replaces the whole set, so a
    /// key user-svc stops publishing stops being accepted at the next
    /// refresh (10 minutes at most).
    pub async fn reload_keys(&self) -> Result<usize, String> {
        self.refresh_jwks(true).await
    }

    async fn refresh_jwks(&self, force: bool) -> Result<usize, String> {
        let Some(src) = &self.inner.jwks else {
            return Ok(0);
        };
        {
            let mut last = src.last_fetch.lock().unwrap();
            if !force && last.is_some_and(|t| t.elapsed() < Duration::from_secs(30)) {
                return Ok(0);
            }
            *last = Some(Instant::now());
        }
        let set = fetch_jwks(&src.http, &src.url).await?;
        let n = set.len();
        tracing::info!(keys = n, "JWKS loaded");
        self.inner.verified.replace_keys(|| {
            let mut keys = self.inner.keys.write().unwrap();
            let dropped_some = !set.keeps_every_key_of(&keys);
            *keys = set;
            dropped_some
        });
        Ok(n)
    }

    /// Verifies a compact JWS access token and its revocation state. A
    /// token that passed before under the same keys skips the signature
    /// and claim checks (see [`crate::memo`]); expiry and revocation are
    /// checked every time.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let digest = memo::digest(token);
        let now = jsonwebtoken::get_current_timestamp();
        let claims = match self.inner.verified.lookup(&digest, now) {
            Lookup::Valid(claims) => claims,
            Lookup::Expired => return Err(AuthError::Expired),
            Lookup::Unknown(generation) => {
                let claims = self.verify_in_full(token).await?;
                self.inner.verified.keep(digest, &claims, generation, now);
                claims
            }
        };
        if self.inner.denylist.is_revoked(&claims) {
            return Err(AuthError::Revoked);
        }
        Ok(claims)
    }

    /// The number of tokens whose verification is kept (metrics, tests).
    pub fn verified_tokens(&self) -> usize {
        self.inner.verified.len()
    }

    /// Signature, header and claims, with the keys as they are now.
    async fn verify_in_full(&self, token: &str) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        // Allowlist before anything else: this is what defeats `alg: none`
        // and HS256-signed-with-the-public-key confusion.
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::Invalid("algorithm not allowed"));
        }
        match header.typ.as_deref() {
            Some(t)
                if t.eq_ignore_ascii_case("at+jwt")
                    || t.eq_ignore_ascii_case("application/at+jwt") => {}
            _ => return Err(AuthError::Invalid("not an access token")),
        }
        let kid = header.kid.ok_or(AuthError::Invalid("missing key id"))?;
        let key = match self.key(&kid) {
            Some(k) => k,
            None => {
                if self.inner.jwks.is_some() {
                    let _ = self.refresh_jwks(false).await;
                }
                self.key(&kid)
                    .ok_or(AuthError::Invalid("unknown signing key"))?
            }
        };

        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.inner.issuer]);
        validation.set_audience(&[&self.inner.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);

        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| match e
            .kind()
        {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::Invalid("token not yet valid"),
            ErrorKind::InvalidIssuer => AuthError::Invalid("wrong issuer"),
            ErrorKind::InvalidAudience => AuthError::Invalid("wrong audience"),
            ErrorKind::InvalidSignature => AuthError::Invalid("bad signature"),
            ErrorKind::MissingRequiredClaim(_) => AuthError::Invalid("missing claim"),
            ErrorKind::Json(_) => AuthError::Invalid("bad claims"),
            _ => AuthError::Malformed,
        })?;
        Ok(data.claims)
    }

    fn key(&self, kid: &str) -> Option<jsonwebtoken::DecodingKey> {
        self.inner.keys.read().unwrap().get(kid).cloned()
    }
}

async fn fetch_jwks(http: &reqwest::Client, url: &str) -> Result<PublicKeySet, String> {
    let mut resp = http.get(url).send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    if !status.is_success() {
        return Err(if status.is_redirection() {
            format!("JWKS answered a redirect ({status}); redirects are not followed")
        } else {
            format!("JWKS answered {status}")
        });
    }
    if resp
        .content_length()
        .is_some_and(|n| n > JWKS_MAX_BYTES as u64)
    {
        return Err("JWKS answer is larger than 64 KiB".into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        body.extend_from_slice(&chunk);
        if body.len() > JWKS_MAX_BYTES {
            return Err("JWKS answer is larger than 64 KiB".into());
        }
    }
    let doc: JwksDocument =
        serde_json::from_slice(&body).map_err(|e| format!("JWKS is not a key set: {e}"))?;
    let set = PublicKeySet::from_jwks(&doc.keys)?;
    if set.is_empty() {
        return Err("JWKS holds no RSA key".into());
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jwks_url_must_be_https_unless_http_is_allowed() {
        assert_eq!(
            jwks_url("https://keys.example/jwks.json", false).unwrap(),
            "https://keys.example/jwks.json"
        );
        let e = jwks_url("http://user-svc:5000/jwks.json", false).unwrap_err();
        assert!(e.to_string().contains("JWT_JWKS_URL"), "{e}");
        assert!(e.to_string().contains("JWT_JWKS_ALLOW_HTTP"), "{e}");
        assert_eq!(
            jwks_url("http://127.0.0.1:5000/jwks.json", true).unwrap(),
            "http://127.0.0.1:5000/jwks.json"
        );
        assert!(jwks_url("ftp://x/jwks.json", true).is_err());
    }
}
