//! Environment configuration (CONTRACTS §2).

use std::time::Duration;

use cadenza_platform::config::{self, ConfigError};
use cadenza_platform::redis::Namespace;
use secrecy::SecretString;

use crate::job::EmailAddress;
use crate::ledger::DEFAULT_CLAIM_TTL;

#[derive(Debug, Clone)]
pub struct Config {
    /// `SES_FROM_ADDRESS`: `no-reply@example.com` or `Cadenza <no-reply@example.com>`.
    pub ses_from: String,
    /// `IDEMPOTENCY_TABLE`: a DynamoDB table (key `pk`, string; TTL on
    /// `expires_at`) for exactly-once sending per job id. Wins over Redis.
    pub idempotency_table: Option<String>,
    /// `REDIS_URL`: the same ledger in Redis, for a poller beside the
    /// services. May carry a password: only the driver sees it (and
    /// `Debug` prints it redacted).
    pub redis_url: Option<SecretString>,
    pub redis_namespace: Namespace,
    /// `PUBLIC_BASE_URL` (optional): when set, links elsewhere are refused.
    pub public_base_url: Option<String>,
    /// `MAILER_CLAIM_TTL_SECS`: how long an in-flight claim blocks other
    /// workers; keep it above the function timeout.
    pub claim_ttl: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let ses_from = config::require("SES_FROM_ADDRESS")?;
        check_from_address(&ses_from).map_err(|reason| {
            ConfigError::new("SES_FROM_ADDRESS", format!("{ses_from:?}: {reason}"))
        })?;
        let public_base_url = config::var("PUBLIC_BASE_URL")?
            .map(|raw| config::check_base_url("PUBLIC_BASE_URL", &raw))
            .transpose()?;
        let claim_secs: u64 =
            config::parse_or("MAILER_CLAIM_TTL_SECS", DEFAULT_CLAIM_TTL.as_secs())?;
        if claim_secs == 0 {
            return Err(ConfigError::new(
                "MAILER_CLAIM_TTL_SECS",
                "must be at least 1",
            ));
        }
        Ok(Self {
            ses_from,
            idempotency_table: config::var("IDEMPOTENCY_TABLE")?,
            redis_url: config::var("REDIS_URL")?.map(SecretString::from),
            redis_namespace: Namespace::from_env()?,
            public_base_url,
            claim_ttl: Duration::from_secs(claim_secs),
        })
    }
}

/// A bare address, or `Display Name <address>`.
pub fn check_from_address(raw: &str) -> Result<(), &'static str> {
    let addr = match raw.trim_end().strip_suffix('>') {
        Some(rest) => {
            let (name, addr) = rest.rsplit_once('<').ok_or("unbalanced <>")?;
            if name.contains(['\r', '\n', '<', '>']) {
                return Err("malformed display name");
            }
            addr
        }
        None => raw,
    };
    EmailAddress::parse(addr).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::check_from_address;

    #[test]
    fn from_addresses() {
        assert!(check_from_address("no-reply@cadenza.local").is_ok());
        assert!(check_from_address("Cadenza <no-reply@cadenza.local>").is_ok());
        assert!(check_from_address("Cadenza no-reply@cadenza.local>").is_err());
        assert!(check_from_address("no-reply").is_err());
        assert!(check_from_address("Ca\r\ndenza <no-reply@cadenza.local>").is_err());
    }
}
