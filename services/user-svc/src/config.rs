//! Configuration from the environment (CONTRACTS §2).

use std::time::Duration;

use cadenza_platform::config::{self, ConfigError};
use cadenza_platform::redis::Namespace;
use secrecy::SecretString;

use crate::client_ip::ProxyPolicy;
use crate::ratelimit::Limits;

#[derive(Clone)]
pub struct Config {
    pub port: u16,
    pub public_base_url: String,
    /// PKCS#8 PEM of the RS256 signing key.
    pub jwt_private_key: SecretString,
    /// Extra verification keys (PEM blocks), published in the JWKS during a rotation.
    pub jwt_public_keys: Option<String>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// May carry a password.
    pub mongodb_uri: SecretString,
    pub mongodb_db: String,
    /// May carry a password.
    pub redis_url: SecretString,
    pub redis_namespace: Namespace,
    pub sqs_email_queue_url: String,
    /// `AWS_ENDPOINT_URL_SQS`; `None` lets the SDK resolve the real endpoint.
    pub sqs_endpoint: Option<String>,
    pub cookie_secure: bool,
    pub proxy: ProxyPolicy,
    pub limits: Limits,
    /// The window in which the immediately previous refresh token still works.
    pub refresh_grace: Duration,
    /// First retry delay of the email outbox relay; doubles per attempt.
    pub outbox_base_backoff: Duration,
    /// How often the relay looks for due outbox entries.
    pub outbox_poll_interval: Duration,
    /// Serve the API reference page (`API_DOCS`, default true).
    pub api_docs: bool,
}

/// Secrets show as `[REDACTED]` (their `SecretString` Debug).
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("port", &self.port)
            .field("public_base_url", &self.public_base_url)
            .field("jwt_private_key", &self.jwt_private_key)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("mongodb_uri", &self.mongodb_uri)
            .field("mongodb_db", &self.mongodb_db)
            .field("redis_url", &self.redis_url)
            .field("redis_namespace", &self.redis_namespace)
            .field("sqs_email_queue_url", &self.sqs_email_queue_url)
            .field("cookie_secure", &self.cookie_secure)
            .finish_non_exhaustive()
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let jwt_private_key = config::require("JWT_PRIVATE_KEY")?;
        let signing = cadenza_auth::PublicJwk::from_private_pem(&jwt_private_key)
            .map_err(|e| ConfigError::new("JWT_PRIVATE_KEY", e))?;
        // The test keys' private halves are public (crates/testkit).
        let allow_test_keys = config::flag("ALLOW_TEST_KEYS", false)?;
        cadenza_auth::keys::refuse_test_keys(&[signing], allow_test_keys)
            .map_err(|e| ConfigError::new("JWT_PRIVATE_KEY", e))?;
        let jwt_public_keys = config::var("JWT_PUBLIC_KEYS")?;
        if let Some(pems) = &jwt_public_keys {
            let jwks = crate::tokens::public_jwks(pems)
                .map_err(|e| ConfigError::new("JWT_PUBLIC_KEYS", e))?;
            cadenza_auth::keys::refuse_test_keys(&jwks, allow_test_keys)
                .map_err(|e| ConfigError::new("JWT_PUBLIC_KEYS", e))?;
        }
        let sqs_endpoint = match config::var("AWS_ENDPOINT_URL_SQS")? {
            Some(raw) => Some(config::check_base_url("AWS_ENDPOINT_URL_SQS", &raw)?),
            None => None,
        };
        Ok(Self {
            port: config::parse_or("PORT", 5000)?,
            public_base_url: config::base_url("PUBLIC_BASE_URL")?,
            jwt_private_key: jwt_private_key.into(),
            jwt_public_keys,
            jwt_issuer: config::var("JWT_ISSUER")?.unwrap_or_else(|| "cadenza-user".into()),
            jwt_audience: config::var("JWT_AUDIENCE")?.unwrap_or_else(|| "cadenza-api".into()),
            mongodb_uri: config::require("MONGODB_URI")?.into(),
            mongodb_db: config::var("MONGODB_DB")?.unwrap_or_else(|| "cadenza".into()),
            redis_url: config::require("REDIS_URL")?.into(),
            redis_namespace: Namespace::from_env()?,
            sqs_email_queue_url: config::base_url("SQS_EMAIL_QUEUE_URL")?,
            sqs_endpoint,
            cookie_secure: config::flag("COOKIE_SECURE", true)?,
            proxy: ProxyPolicy::from_env()?,
            limits: Limits {
                mail_per_address_per_day: config::parse_or(
                    "MAIL_DAILY_CAP_PER_ADDRESS",
                    crate::ratelimit::DEFAULT_MAIL_DAILY_CAP,
                )?,
                ..Limits::default()
            },
            refresh_grace: Duration::from_secs(config::parse_or("REFRESH_GRACE_SECS", 10u64)?),
            outbox_base_backoff: Duration::from_millis(config::parse_or(
                "OUTBOX_BASE_BACKOFF_MS",
                1000u64,
            )?),
            outbox_poll_interval: Duration::from_millis(config::parse_or(
                "OUTBOX_POLL_INTERVAL_MS",
                1000u64,
            )?),
            api_docs: cadenza_platform::docs::enabled_from_env()?,
        })
    }
}
