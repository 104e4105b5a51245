//! song-svc configuration, from the environment (CONTRACTS §2).

use std::sync::Arc;
use std::time::Duration;

use cadenza_auth::VerifierConfig;
use cadenza_cdn::StreamUrlSigner;
use cadenza_platform::client_ip::ProxyPolicy;
use cadenza_platform::config::{self, ConfigError};
use cadenza_platform::ratelimit::Rule;
use cadenza_platform::redis::Namespace;
use secrecy::SecretString;

#[derive(Clone)]
pub struct Config {
    pub port: u16,
    pub public_base_url: String,
    pub verifier: VerifierConfig,
    /// May carry a password: only the driver sees it.
    pub database_url: SecretString,
    /// May carry a password: only the driver sees it.
    pub redis_url: SecretString,
    pub redis_namespace: Namespace,
    /// `https://dxxxx.cloudfront.net` (with scheme, no trailing slash).
    pub cloudfront_domain: String,
    /// Parsed once at start; a bad key is a config error, not a 500 later.
    pub signer: Arc<StreamUrlSigner>,
    /// PostgreSQL pool size.
    pub database_max_connections: u32,
    /// The catalogue cache's TTL backstop (`CATALOG_CACHE_TTL_SECS`).
    pub cache_ttl: Duration,
    /// Serve the API reference page (`API_DOCS`, default true).
    pub api_docs: bool,
    /// Who may say who the client is (`TRUST_PROXY_HEADERS`, `TRUSTED_PROXIES`).
    pub proxy: ProxyPolicy,
    /// Searches that reach PostgreSQL, per client address
    /// (`SEARCH_RATE_PER_MINUTE`, default 120); answers from the search
    /// cache are not counted.
    pub search_per_ip: Rule,
    /// Signed stream URLs kept for reuse per replica
    /// (`STREAM_URL_MEMO_MAX`, default 16 384; 0 signs every request).
    pub stream_url_memo_max: usize,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("port", &self.port)
            .field("public_base_url", &self.public_base_url)
            .field("cloudfront_domain", &self.cloudfront_domain)
            .field("key_pair_id", &self.signer.key_pair_id())
            .field("key_kind", &self.signer.kind())
            .field("hash_algorithm", &self.signer.hash_algorithm())
            .finish_non_exhaustive()
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let key_pair_id = config::require("CLOUDFRONT_KEY_PAIR_ID")?;
        let pem = config::require("CLOUDFRONT_PRIVATE_KEY")?;
        // SHA1 or SHA256; unset: SHA-256 for an ECDSA key, SHA-1 for RSA
        // (what existing RSA key groups were set up with).
        let hash = match config::var("CLOUDFRONT_HASH_ALGORITHM")? {
            None => None,
            Some(h) => Some(cadenza_cdn::HashAlgorithm::parse(&h).ok_or_else(|| {
                ConfigError::new("CLOUDFRONT_HASH_ALGORITHM", "must be SHA1 or SHA256")
            })?),
        };
        let signer = StreamUrlSigner::from_pem_with(key_pair_id, &pem, hash)
            .map_err(|e| ConfigError::new("CLOUDFRONT_PRIVATE_KEY", e.to_string()))?;
        let database_url = config::require("DATABASE_URL")?;
        if !database_url.starts_with("postgres://") && !database_url.starts_with("postgresql://") {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "must be a postgres:// URL",
            ));
        }
        let redis_url = config::require("REDIS_URL")?;
        redis::Client::open(redis_url.as_str())
            .map_err(|e| ConfigError::new("REDIS_URL", e.to_string()))?;
        Ok(Self {
            port: config::parse_or("PORT", 7000)?,
            public_base_url: config::base_url("PUBLIC_BASE_URL")?,
            verifier: VerifierConfig::from_env()?,
            database_url: database_url.into(),
            redis_url: redis_url.into(),
            redis_namespace: Namespace::from_env()?,
            cloudfront_domain: config::base_url("CLOUDFRONT_DOMAIN")?,
            signer: Arc::new(signer),
            database_max_connections: config::parse_or("DATABASE_MAX_CONNECTIONS", 16)?,
            cache_ttl: cache_ttl()?,
            api_docs: cadenza_platform::docs::enabled_from_env()?,
            proxy: ProxyPolicy::from_env()?,
            search_per_ip: search_rate()?,
            stream_url_memo_max: config::parse_or("STREAM_URL_MEMO_MAX", crate::stream::MEMO_MAX)?,
        })
    }
}

pub const DEFAULT_SEARCH_RATE_PER_MINUTE: u32 = 120;

/// `SEARCH_RATE_PER_MINUTE`: 1 to 100 000.
fn search_rate() -> Result<Rule, ConfigError> {
    let max: u32 = config::parse_or("SEARCH_RATE_PER_MINUTE", DEFAULT_SEARCH_RATE_PER_MINUTE)?;
    if !(1..=100_000).contains(&max) {
        return Err(ConfigError::new(
            "SEARCH_RATE_PER_MINUTE",
            format!("{max} is outside 1..=100000"),
        ));
    }
    Ok(Rule::per_minute(max))
}

/// `CATALOG_CACHE_TTL_SECS`: 1 s to 1 day, default 600 s (CONTRACTS §5).
fn cache_ttl() -> Result<Duration, ConfigError> {
    let secs: u64 = config::parse_or(
        "CATALOG_CACHE_TTL_SECS",
        crate::cache::DEFAULT_TTL.as_secs(),
    )?;
    if !(1..=86_400).contains(&secs) {
        return Err(ConfigError::new(
            "CATALOG_CACHE_TTL_SECS",
            "must be between 1 and 86400 seconds",
        ));
    }
    Ok(Duration::from_secs(secs))
}
