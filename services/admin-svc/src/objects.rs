//! S3 object storage, the media bucket: presigned uploads, HEAD checks,
//! deletes, copies and listings.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::Client;
use chrono::{DateTime, Utc};

use crate::config::{Config, SweepConfig};

/// An S3 call that failed, with the SDK's whole cause chain.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct S3Error(String);

impl S3Error {
    /// A failure described in words (tests, and callers outside the SDK).
    pub fn from_message(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    fn sdk(e: impl std::error::Error) -> Self {
        Self(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
    }
}

/// For callers that report failures as text (the trash and its locks).
impl From<S3Error> for String {
    fn from(e: S3Error) -> Self {
        e.0
    }
}

/// Presigned PUTs live this long (CONTRACTS §4).
pub const UPLOAD_URL_TTL: Duration = Duration::from_secs(300);

#[derive(Clone)]
pub struct MediaStore {
    client: Client,
    /// Same credentials, but presigns against the browser-facing endpoint.
    presigner: Client,
    bucket: String,
}

#[derive(Debug, Clone)]
pub struct PresignedUpload {
    pub url: String,
    /// Every header the PUT must carry exactly as given (they are signed).
    pub headers: BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub content_type: Option<String>,
    pub size: i64,
}

impl MediaStore {
    pub fn new(
        sdk: &cadenza_aws::aws_config::SdkConfig,
        bucket: impl Into<String>,
        endpoint: Option<&str>,
        public_endpoint: Option<&str>,
        force_path_style: bool,
    ) -> Self {
        let build = |endpoint: Option<&str>| {
            let mut b = aws_sdk_s3::config::Builder::from(sdk)
                .force_path_style(force_path_style)
                // The SDK's default CRC32 checksums would end up in presigned
                // URLs (as a checksum of an empty body) and are not needed.
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
            if let Some(url) = endpoint {
                b = b.endpoint_url(url);
            }
            Client::from_conf(b.build())
        };
        Self {
            client: build(endpoint),
            presigner: build(public_endpoint.or(endpoint)),
            bucket: bucket.into(),
        }
    }

    /// The bucket as `serve` reaches it: presigned URLs point at the
    /// browser-facing endpoint when one is configured.
    pub fn from_config(sdk: &cadenza_aws::aws_config::SdkConfig, config: &Config) -> Self {
        Self::new(
            sdk,
            &config.s3_bucket,
            config.s3_endpoint.as_deref(),
            config.s3_public_endpoint.as_deref(),
            config.s3_force_path_style,
        )
    }

    /// The bucket as the maintenance commands (`sweep`, the trash
    /// commands, `import-seed`) reach it: they presign nothing.
    pub fn from_sweep_config(
        sdk: &cadenza_aws::aws_config::SdkConfig,
        config: &SweepConfig,
    ) -> Self {
        Self::new(
            sdk,
            &config.s3_bucket,
            config.s3_endpoint.as_deref(),
            None,
            config.s3_force_path_style,
        )
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// A PUT URL that only accepts exactly this type, and this length when
    /// one is given (the seed's clients give none).
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: Option<i64>,
    ) -> Result<PresignedUpload, S3Error> {
        let config =
            PresigningConfig::expires_in(UPLOAD_URL_TTL).map_err(|e| S3Error(e.to_string()))?;
        let start = Utc::now();
        let presigned = self
            .presigner
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .set_content_length(size)
            .presigned(config)
            .await
            .map_err(S3Error::sdk)?;
        let mut headers = BTreeMap::new();
        for (name, value) in presigned.headers() {
            let name = match name.to_ascii_lowercase().as_str() {
                "content-type" => "Content-Type".to_owned(),
                "content-length" => "Content-Length".to_owned(),
                "host" => continue,
                other => other.to_owned(),
            };
            headers.insert(name, value.to_owned());
        }
        // The client must send both even if a future SDK stops listing them.
        headers.insert("Content-Type".into(), content_type.to_owned());
        match size {
            Some(size) => headers.insert("Content-Length".into(), size.to_string()),
            None => headers.remove("Content-Length"),
        };
        Ok(PresignedUpload {
            url: presigned.uri().to_owned(),
            headers,
            expires_at: start + chrono::Duration::from_std(UPLOAD_URL_TTL).unwrap_or_default(),
        })
    }

    /// `Ok(None)` when the object does not exist.
    #[tracing::instrument(name = "s3.head", skip_all, fields(otel.kind = "client", rpc.system = "aws-api", rpc.service = "S3"))]
    pub async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, S3Error> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectInfo {
                content_type: out.content_type().map(str::to_owned),
                size: out.content_length().unwrap_or(0),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => {
                // HEAD has no body, so a 404 may come back unmodelled.
                if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) {
                    return Ok(None);
                }
                Err(S3Error::sdk(e))
            }
        }
    }

    /// Deletes one object (deleting a missing object succeeds).
    #[tracing::instrument(name = "s3.delete", skip_all, fields(otel.kind = "client", rpc.system = "aws-api", rpc.service = "S3"))]
    pub async fn delete(&self, key: &str) -> Result<(), S3Error> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(S3Error::sdk)
    }

    /// Server-side copy of `from` to `to` within the bucket (metadata and
    /// content type are copied with the object).
    #[tracing::instrument(name = "s3.copy", skip_all, fields(otel.kind = "client", rpc.system = "aws-api", rpc.service = "S3"))]
    pub async fn copy(&self, from: &str, to: &str) -> Result<(), S3Error> {
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{}", self.bucket, encode_key(from)))
            .key(to)
            .send()
            .await
            .map(|_| ())
            .map_err(S3Error::sdk)
    }

    /// Every object under `prefix` with its last-modified time (Unix seconds).
    #[tracing::instrument(name = "s3.list", skip_all, fields(otel.kind = "client", rpc.system = "aws-api", rpc.service = "S3"))]
    pub async fn list(&self, prefix: &str) -> Result<Vec<(String, i64)>, S3Error> {
        let mut objects = vec![];
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(S3Error::sdk)?;
            for o in out.contents() {
                if let (Some(key), Some(at)) = (o.key(), o.last_modified()) {
                    objects.push((key.to_owned(), at.secs()));
                }
            }
            match out.next_continuation_token() {
                Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => return Ok(objects),
            }
        }
    }

    /// Readiness: the bucket answers.
    #[tracing::instrument(name = "s3.check_bucket", skip_all, fields(otel.kind = "client", rpc.system = "aws-api", rpc.service = "S3"))]
    pub async fn check_bucket(&self) -> Result<(), S3Error> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(S3Error::sdk)
    }
}

/// `x-amz-copy-source` is a URL path: percent-encode everything but the
/// unreserved characters and `/` (imported keys may hold spaces, `+`, ...).
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_sources_are_percent_encoded() {
        assert_eq!(
            super::encode_key("songs/a b+c%ü.mp3"),
            "songs/a%20b%2Bc%25%C3%BC.mp3"
        );
        assert_eq!(
            super::encode_key("thumbnails/x-1_2.~jpg"),
            "thumbnails/x-1_2.~jpg"
        );
    }
}
