//! Cadenza's mailer: email jobs (CONTRACTS §6) arrive from SQS, are rendered
//! from embedded templates and sent with SES v2.
//!
//! The same [`handler::Mailer`] runs in AWS Lambda (`lambda_runtime`, partial
//! batch responses) and locally behind [`poller::Poller`], which plays the
//! part of Lambda's SQS event-source mapping.

pub mod config;
pub mod handler;
pub mod inbox;
pub mod job;
pub mod ledger;
pub mod poller;
pub mod render;
pub mod ses;
pub mod telemetry;

use std::time::Duration;

use cadenza_aws::aws_config::SdkConfig;

pub use config::Config;
pub use handler::{Mailer, Outcome};

/// Everything built once per cold start: the SES client and the sent
/// ledger's client (DynamoDB with `IDEMPOTENCY_TABLE`, else Redis with
/// `REDIS_URL`).
pub async fn build(config: &Config, sdk: &SdkConfig) -> anyhow::Result<Mailer> {
    // Bounded, so a hung call fails (and is retried) well within the
    // function timeout and the claim TTL.
    let timeouts = aws_sdk_sesv2::config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(15))
        .build();
    let ses_config = aws_sdk_sesv2::config::Builder::from(sdk)
        .timeout_config(timeouts)
        .build();
    let ses = ses::SesSender::new(
        aws_sdk_sesv2::Client::from_conf(ses_config),
        config.ses_from.clone(),
    );
    let ledger: Option<ledger::Ledger> = match (&config.idempotency_table, &config.redis_url) {
        (Some(table), _) => {
            let dynamo = aws_sdk_dynamodb::config::Builder::from(sdk)
                .timeout_config(
                    aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                        .connect_timeout(Duration::from_secs(3))
                        .operation_timeout(Duration::from_secs(5))
                        .build(),
                )
                .build();
            Some(
                ledger::DynamoLedger::new(
                    aws_sdk_dynamodb::Client::from_conf(dynamo),
                    table.clone(),
                    config.claim_ttl,
                )
                .into(),
            )
        }
        (None, None) => {
            tracing::warn!(
                "neither IDEMPOTENCY_TABLE nor REDIS_URL is set: no deduplication, \
                 a redelivered job may be sent twice"
            );
            None
        }
        (None, Some(url)) => {
            let client = cadenza_platform::redis::client(secrecy::ExposeSecret::expose_secret(url))
                .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
            let conn = cadenza_platform::redis::manager(&client)
                .await
                .map_err(|e| anyhow::anyhow!("cannot connect to Redis: {e}"))?;
            Some(
                ledger::SentLedger::new(conn, config.redis_namespace.clone(), config.claim_ttl)
                    .into(),
            )
        }
    };
    Ok(Mailer::new(ses, ledger, config.public_base_url.clone()))
}
