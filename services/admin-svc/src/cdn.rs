//! CloudFront invalidation of deleted media, so the edge stops serving it
//! before its cache lifetime ends.

use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use aws_sdk_cloudfront::Client;

#[derive(Clone)]
pub struct CdnInvalidator {
    client: Client,
    distribution_id: String,
}

impl CdnInvalidator {
    pub fn new(
        sdk: &cadenza_aws::aws_config::SdkConfig,
        distribution_id: String,
        endpoint: Option<&str>,
    ) -> Self {
        let mut b = aws_sdk_cloudfront::config::Builder::from(sdk);
        if let Some(url) = endpoint {
            b = b.endpoint_url(url);
        }
        Self {
            client: Client::from_conf(b.build()),
            distribution_id,
        }
    }

    /// One invalidation for all `keys` (as `/key` paths); returns its id.
    #[tracing::instrument(name = "cloudfront.invalidate", skip_all, fields(otel.kind = "client", rpc.system = "aws-api", rpc.service = "CloudFront"))]
    pub async fn invalidate(&self, keys: &[String]) -> Result<String, String> {
        let paths: Vec<String> = keys.iter().map(|k| format!("/{k}")).collect();
        let batch = InvalidationBatch::builder()
            .caller_reference(uuid::Uuid::new_v4().to_string())
            .paths(
                Paths::builder()
                    .quantity(paths.len() as i32)
                    .set_items(Some(paths))
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .build()
            .map_err(|e| e.to_string())?;
        let out = self
            .client
            .create_invalidation()
            .distribution_id(&self.distribution_id)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(|e| format!("{}", aws_sdk_cloudfront::error::DisplayErrorContext(&e)))?;
        Ok(out
            .invalidation()
            .map(|i| i.id().to_owned())
            .unwrap_or_default())
    }
}
