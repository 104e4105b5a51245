//! Clients for the local AWS stand-ins (SeaweedFS for S3, moto for SQS),
//! and test buckets that leave nothing behind.

use std::time::Duration;

use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};

use crate::{infra, unique_name};

/// Buckets made by tests start with this; `./dev test` sweeps leftovers
/// (SeaweedFS gives every bucket volumes of its own, and leaked buckets run
/// it out of them).
pub const TEST_BUCKET_PREFIX: &str = "cadenza-t-";

/// An S3 client for the shared SeaweedFS (path-style; checksums only where
/// S3 requires them, as SeaweedFS does not answer the newer ones).
pub async fn s3_client() -> aws_sdk_s3::Client {
    let sdk = cadenza_aws::sdk_config().await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .endpoint_url(&infra().s3_endpoint)
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build(),
    )
}

/// An SQS client for `endpoint` (moto: `infra().aws_endpoint`, or a
/// private one a fault test started).
pub async fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    let sdk = cadenza_aws::sdk_config().await;
    aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&sdk)
            .endpoint_url(endpoint)
            .build(),
    )
}

/// A new, empty bucket named [`TEST_BUCKET_PREFIX`]…; remove it with
/// [`remove_bucket`] (from a `Drop`, through [`remove_bucket_blocking`]).
pub async fn create_bucket(s3: &aws_sdk_s3::Client) -> String {
    let bucket = unique_name(TEST_BUCKET_PREFIX);
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "create test bucket {bucket}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        });
    bucket
}

/// Empties and removes a test bucket (best effort; retried, as an app's
/// background purge may still be deleting objects).
pub async fn remove_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    for _ in 0..5 {
        if let Ok(out) = s3.list_objects_v2().bucket(bucket).send().await {
            for key in out.contents().iter().filter_map(|o| o.key()) {
                let _ = s3.delete_object().bucket(bucket).key(key).send().await;
            }
        }
        match s3.delete_bucket().bucket(bucket).send().await {
            Ok(_) => return,
            Err(e) => eprintln!(
                "remove_bucket {bucket}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// [`remove_bucket`] from a `Drop`, which runs inside the test's runtime
/// and cannot block on it: on a thread with a runtime of its own.
pub fn remove_bucket_blocking(bucket: String) {
    let _ = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async { remove_bucket(&s3_client().await, &bucket).await });
    })
    .join();
}

/// Takes what is waiting on a queue now (up to 10 messages, no long poll)
/// and deletes it: the bodies, in the order SQS gave them. A failed
/// receive is an error; a failed delete is not (the message comes back
/// after its visibility timeout, which a test that drains again sees).
pub async fn drain_queue(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
) -> Result<Vec<String>, String> {
    let out = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(0)
        .send()
        .await
        .map_err(|e| format!("receiving from {queue_url}: {e:?}"))?;
    let mut bodies = Vec::new();
    for m in out.messages() {
        bodies.push(m.body().unwrap_or_default().to_owned());
        if let Some(handle) = m.receipt_handle() {
            let _ = sqs
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(handle)
                .send()
                .await;
        }
    }
    Ok(bodies)
}
