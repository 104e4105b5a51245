use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use cadenza_platform::config::{self, ConfigError};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::claims::Claims;
use crate::denylist::Denylist;
use crate::keys::{PublicJwk, PublicKeySet};
use crate::LEEWAY_SECS;

#[derive(Debug, Clone)]
pub enum KeySource {
    /// One or more PEM public keys (`JWT_PUBLIC_KEYS`).
    Pems(String),
    /// A JWKS document (`JWT_JWKS_URL`), fetched at start, refreshed every
    /// 10 minutes and on an unknown `kid` (at most every 30 s).
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
                PublicKeySet::from_pems(&pems)
                    .map_err(|e| ConfigError::new("JWT_PUBLIC_KEYS", e))?;
                KeySource::Pems(pems)
            }
            (None, Some(url)) => KeySource::Jwks(config::check_base_url("JWT_JWKS_URL", &url)?),
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
                        tracing::warn!(error = %e, "JWKS refresh failed; keeping cached keys");
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
            }),
        }
    }

    pub fn denylist(&self) -> &Denylist {
        &self.inner.denylist
    }

    async fn refresh_jwks(&self, force: bool) -> Result<(), String> {
        let Some(src) = &self.inner.jwks else {
            return Ok(());
        };
        {
            let mut last = src.last_fetch.lock().unwrap();
            if !force && last.is_some_and(|t| t.elapsed() < Duration::from_secs(30)) {
                return Ok(());
            }
            *last = Some(Instant::now());
        }
        let doc: JwksDocument = src
            .http
            .get(&src.url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let set = PublicKeySet::from_jwks(&doc.keys)?;
        tracing::info!(keys = set.len(), "JWKS loaded");
        *self.inner.keys.write().unwrap() = set;
        Ok(())
    }

    /// Verifies a compact JWS access token and its revocation state.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
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
        if self.inner.denylist.is_revoked(&data.claims) {
            return Err(AuthError::Revoked);
        }
        Ok(data.claims)
    }

    fn key(&self, kid: &str) -> Option<jsonwebtoken::DecodingKey> {
        self.inner.keys.read().unwrap().get(kid).cloned()
    }
}
