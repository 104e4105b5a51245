//! The AWS SDK configuration every Cadenza binary uses.
//!
//! The SDK's default HTTPS client builds aws-lc-sys (a long C build). Cadenza
//! passes a rustls + ring client explicitly instead, which the rest of the
//! workspace already compiles. Endpoints honour the SDK's own
//! `AWS_ENDPOINT_URL_<SERVICE>` variables, which point at the emulators
//! locally (CONTRACTS §2).

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

pub use aws_config;

/// Loads region, credentials and endpoints from the environment.
pub async fn sdk_config() -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await
}
