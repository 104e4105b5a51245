//! Configuration from the environment (CONTRACTS §2).

use cadenza_auth::VerifierConfig;
use cadenza_platform::config::{self, ConfigError};
use cadenza_platform::redis::Namespace;
use secrecy::SecretString;

/// The service's settings. URLs that may carry a password are
/// [`SecretString`]s: `Debug` redacts them, and only the driver sees them.
#[derive(Clone)]
pub struct Config {
    pub port: u16,
    /// Browser origin, for CORS.
    pub public_base_url: String,
    pub verifier: VerifierConfig,
    pub database_url: SecretString,
    pub redis_url: SecretString,
    pub redis_namespace: Namespace,
    pub s3_bucket: String,
    /// Path-style addressing (`http://host/bucket/key`), needed by SeaweedFS.
    pub s3_force_path_style: bool,
    /// Where the server itself talks to S3. `None`: the SDK default (AWS, or
    /// `AWS_ENDPOINT_URL_S3`, which the SDK reads itself).
    pub s3_endpoint: Option<String>,
    /// The host presigned URLs point at, when browsers reach S3 under another
    /// name than the server does. `None`: the same endpoint.
    pub s3_public_endpoint: Option<String>,
    /// When set, deleted media paths are invalidated in this distribution.
    pub cloudfront_distribution_id: Option<String>,
    /// The CDN origin (`CLOUDFRONT_DOMAIN`, optional here): when set, albums
    /// carry a `thumbnailUrl` so the dashboard can show covers.
    pub cdn_base_url: Option<String>,
    /// CloudFront API endpoint override (`AWS_ENDPOINT_URL_CLOUDFRONT`).
    pub cloudfront_endpoint: Option<String>,
    /// Apply pending migrations when `serve` starts (dev and tests).
    pub migrate_on_start: bool,
    /// The media queue (`MEDIA_QUEUE_URL`, issue 20). Unset: media jobs are
    /// recorded with their songs but not sent (no relay runs).
    pub media_queue_url: Option<String>,
    /// Serve the API reference page (`API_DOCS`, default true).
    pub api_docs: bool,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            port: config::parse_or("PORT", 5001u16)?,
            public_base_url: config::base_url("PUBLIC_BASE_URL")?,
            verifier: VerifierConfig::from_env()?,
            database_url: config::require("DATABASE_URL")?.into(),
            redis_url: config::require("REDIS_URL")?.into(),
            redis_namespace: Namespace::from_env()?,
            s3_bucket: config::require("S3_BUCKET")?,
            s3_force_path_style: config::flag("S3_FORCE_PATH_STYLE", false)?,
            s3_endpoint: config::var("AWS_ENDPOINT_URL_S3")?
                .map(|u| config::check_base_url("AWS_ENDPOINT_URL_S3", &u))
                .transpose()?,
            s3_public_endpoint: config::var("S3_PUBLIC_ENDPOINT")?
                .map(|u| config::check_base_url("S3_PUBLIC_ENDPOINT", &u))
                .transpose()?,
            cloudfront_distribution_id: config::var("CLOUDFRONT_DISTRIBUTION_ID")?,
            cdn_base_url: config::var("CLOUDFRONT_DOMAIN")?
                .map(|raw| config::check_base_url("CLOUDFRONT_DOMAIN", &raw))
                .transpose()?,
            cloudfront_endpoint: config::var("AWS_ENDPOINT_URL_CLOUDFRONT")?
                .map(|u| config::check_base_url("AWS_ENDPOINT_URL_CLOUDFRONT", &u))
                .transpose()?,
            migrate_on_start: config::flag("MIGRATE_ON_START", false)?,
            media_queue_url: config::var("MEDIA_QUEUE_URL")?
                .map(|u| config::check_base_url("MEDIA_QUEUE_URL", &u))
                .transpose()?,
            api_docs: cadenza_platform::docs::enabled_from_env()?,
        })
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("port", &self.port)
            .field("public_base_url", &self.public_base_url)
            .field("verifier", &self.verifier)
            .field("database_url", &REDACTED)
            .field("redis_url", &REDACTED)
            .field("redis_namespace", &self.redis_namespace)
            .field("s3_bucket", &self.s3_bucket)
            .field("s3_force_path_style", &self.s3_force_path_style)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_public_endpoint", &self.s3_public_endpoint)
            .field(
                "cloudfront_distribution_id",
                &self.cloudfront_distribution_id,
            )
            .field("cdn_base_url", &self.cdn_base_url)
            .field("cloudfront_endpoint", &self.cloudfront_endpoint)
            .field("migrate_on_start", &self.migrate_on_start)
            .field("media_queue_url", &self.media_queue_url)
            .field("api_docs", &self.api_docs)
            .finish()
    }
}

/// What a secret shows in `Debug`.
const REDACTED: Redacted = Redacted;

struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// What `admin-svc migrate` needs: only the database.
pub fn database_url() -> Result<SecretString, ConfigError> {
    config::require("DATABASE_URL").map(SecretString::from)
}

/// What `admin-svc sweep` (and the trash and import commands) need: the
/// database and the bucket.
#[derive(Clone)]
pub struct SweepConfig {
    pub database_url: SecretString,
    pub s3_bucket: String,
    pub s3_force_path_style: bool,
    pub s3_endpoint: Option<String>,
    /// `TRASH_RETENTION_DAYS` (default 7, at least 1): trashed media older
    /// than this is deleted for good by `sweep` and `purge-trash`.
    pub trash_retention: std::time::Duration,
}

impl SweepConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            database_url: database_url()?,
            s3_bucket: config::require("S3_BUCKET")?,
            s3_force_path_style: config::flag("S3_FORCE_PATH_STYLE", false)?,
            s3_endpoint: config::var("AWS_ENDPOINT_URL_S3")?
                .map(|u| config::check_base_url("AWS_ENDPOINT_URL_S3", &u))
                .transpose()?,
            trash_retention: trash_retention()?,
        })
    }
}

impl std::fmt::Debug for SweepConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SweepConfig")
            .field("database_url", &REDACTED)
            .field("s3_bucket", &self.s3_bucket)
            .field("s3_force_path_style", &self.s3_force_path_style)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("trash_retention", &self.trash_retention)
            .finish()
    }
}

fn trash_retention() -> Result<std::time::Duration, ConfigError> {
    let days: u64 = config::parse_or("TRASH_RETENTION_DAYS", 7u64)?;
    if !(1..=3650).contains(&days) {
        return Err(ConfigError::new(
            "TRASH_RETENTION_DAYS",
            "must be between 1 and 3650 days",
        ));
    }
    Ok(std::time::Duration::from_secs(days * 24 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret() {
        let cfg = SweepConfig {
            database_url: "postgres://cadenza:hunter2@db/cadenza".into(),
            s3_bucket: "media".into(),
            s3_force_path_style: false,
            s3_endpoint: None,
            trash_retention: std::time::Duration::from_secs(60),
        };
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("[redacted]") && shown.contains("media"),
            "{shown}"
        );
    }
}
