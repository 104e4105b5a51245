//! Local stand-in for Lambda's SQS event-source mapping: long-poll the queue,
//! hand the batch to the same handler as an `SqsEvent`, then delete every
//! message except the returned `batchItemFailures` (those become visible
//! again after the visibility timeout, exactly as in AWS).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use aws_sdk_sqs::Client;
use tracing::{debug, info, warn};

use crate::handler::Mailer;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollReport {
    pub received: usize,
    pub deleted: usize,
    pub failed: usize,
}

pub struct Poller {
    client: Client,
    queue_url: String,
    event_source_arn: Option<String>,
    region: Option<String>,
    wait: Duration,
    batch_size: i32,
}

impl Poller {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        let queue_url = queue_url.into();
        let region = client.config().region().map(|r| r.to_string());
        let event_source_arn = queue_arn(&queue_url, region.as_deref().unwrap_or("us-east-1"));
        Self {
            client,
            queue_url,
            event_source_arn,
            region,
            wait: Duration::from_secs(20),
            batch_size: 10,
        }
    }

    /// Long-poll wait per receive (SQS allows 0–20 s).
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = wait.min(Duration::from_secs(20));
        self
    }

    /// Messages per batch (1–10), like the mapping's `BatchSize`.
    pub fn with_batch_size(mut self, n: i32) -> Self {
        self.batch_size = n.clamp(1, 10);
        self
    }

    /// One receive → handle → delete round.
    pub async fn poll_once(&self, mailer: &Mailer) -> Result<PollReport, String> {
        let messages = self.receive().await?;
        self.handle_batch(mailer, messages).await
    }

    async fn receive(&self) -> Result<Vec<Message>, String> {
        let received = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size)
            .wait_time_seconds(self.wait.as_secs() as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| format!("ReceiveMessage: {}", DisplayErrorContext(&e)))?;
        Ok(received.messages.unwrap_or_default())
    }

    async fn handle_batch(
        &self,
        mailer: &Mailer,
        messages: Vec<Message>,
    ) -> Result<PollReport, String> {
        if messages.is_empty() {
            return Ok(PollReport::default());
        }
        let mut event = SqsEvent::default();
        event.records = messages.iter().map(|m| self.to_record(m)).collect();
        let response = mailer.handle(event).await;
        let failed: HashSet<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        let entries: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .filter(|m| !failed.contains(m.message_id().unwrap_or_default()))
            .filter_map(|m| m.receipt_handle())
            .enumerate()
            .map(|(i, handle)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .build()
                    .expect("id and receipt handle are set")
            })
            .collect();
        let mut deleted = 0;
        if !entries.is_empty() {
            let out = self
                .client
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| format!("DeleteMessageBatch: {}", DisplayErrorContext(&e)))?;
            deleted = out.successful.len();
            for f in &out.failed {
                warn!(
                    code = f.code,
                    message = f.message,
                    "could not delete a handled message; it will be redelivered"
                );
            }
        }
        let report = PollReport {
            received: messages.len(),
            deleted,
            failed: failed.len(),
        };
        info!(
            received = report.received,
            deleted = report.deleted,
            failed = report.failed,
            "batch handled"
        );
        Ok(report)
    }

    /// Polls until `shutdown` resolves. Shutdown interrupts only the wait
    /// for messages: a batch in hand is always handled and deleted first.
    pub async fn run(&self, mailer: &Mailer, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        info!(queue_url = %self.queue_url, "polling for email jobs");
        loop {
            let received = tokio::select! {
                biased;
                () = &mut shutdown => break,
                received = self.receive() => received,
            };
            if let Err(e) = match received {
                Ok(messages) => self.handle_batch(mailer, messages).await.map(|_| ()),
                Err(e) => Err(e),
            } {
                warn!(error = %e, "poll failed; backing off");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(Duration::from_secs(2)) => {}
                }
            }
        }
        info!("poller stopped");
    }

    /// The record Lambda would deliver for `m`.
    fn to_record(&self, m: &Message) -> SqsMessage {
        let mut r = SqsMessage::default();
        r.message_id = m.message_id.clone();
        r.receipt_handle = m.receipt_handle.clone();
        r.body = m.body.clone();
        r.md5_of_body = m.md5_of_body.clone();
        r.md5_of_message_attributes = m.md5_of_message_attributes.clone();
        r.attributes = m
            .attributes
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
            .collect::<HashMap<_, _>>();
        r.message_attributes = m
            .message_attributes
            .iter()
            .flatten()
            .map(|(k, v)| {
                let mut a = SqsMessageAttribute::default();
                a.string_value = v.string_value.clone();
                a.data_type = Some(v.data_type.clone());
                a.string_list_values = v.string_list_values.clone().unwrap_or_default();
                (k.clone(), a)
            })
            .collect();
        r.event_source = Some("aws:sqs".into());
        r.event_source_arn = self.event_source_arn.clone();
        r.aws_region = self.region.clone();
        debug!(message_id = ?r.message_id, "received");
        r
    }
}

/// `https://sqs.<region>.amazonaws.com/<account>/<name>` (or an emulator's
/// `http://host:port/<account>/<name>`) → `arn:aws:sqs:<region>:<account>:<name>`.
fn queue_arn(queue_url: &str, region: &str) -> Option<String> {
    let path = queue_url.split_once("://")?.1.split_once('/')?.1;
    let (account, name) = path.trim_end_matches('/').split_once('/')?;
    if account.is_empty() || name.is_empty() || name.contains('/') {
        return None;
    }
    Some(format!("arn:aws:sqs:{region}:{account}:{name}"))
}

#[cfg(test)]
mod tests {
    use super::queue_arn;

    #[test]
    fn queue_urls_map_to_arns() {
        assert_eq!(
            queue_arn(
                "http://127.0.0.1:4566/123456789012/cadenza-email",
                "us-east-1"
            )
            .as_deref(),
            Some("arn:aws:sqs:us-east-1:123456789012:cadenza-email")
        );
        assert_eq!(
            queue_arn(
                "https://sqs.eu-west-1.amazonaws.com/111122223333/q",
                "eu-west-1"
            )
            .as_deref(),
            Some("arn:aws:sqs:eu-west-1:111122223333:q")
        );
        assert_eq!(queue_arn("not a url", "us-east-1"), None);
    }
}
