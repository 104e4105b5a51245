//! What happens after a commit: change events on Redis, and removal of
//! media that no row references any more (bucket, then CDN edge).
//!
//! None of it may turn a committed change into an error. Events are
//! at-most-once by contract (consumers keep TTL backstops), so a failed
//! publish is logged. Object deletion runs in the background with retries;
//! if it still fails, the object is orphaned and logged (harmless: nothing
//! references it, and the CDN needs a signed URL for `songs/`).

use std::time::Duration;

use cadenza_events::{Envelope, Publisher};
use serde::Serialize;

use crate::cdn::CdnInvalidator;
use crate::storage::MediaStore;

const DELETE_BACKOFF: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(4),
];

#[derive(Clone)]
pub struct Effects {
    publisher: Publisher,
    media: MediaStore,
    cdn: Option<CdnInvalidator>,
}

impl Effects {
    pub fn new(publisher: Publisher, media: MediaStore, cdn: Option<CdnInvalidator>) -> Self {
        Self {
            publisher,
            media,
            cdn,
        }
    }

    /// Publishes one event for the change that committed as catalogue
    /// `version` (one retry on a transient failure).
    pub async fn publish<T: Serialize + Clone>(
        &self,
        channel: &'static str,
        payload: T,
        version: i64,
    ) {
        for attempt in 1..=2 {
            let envelope = Envelope::new(payload.clone()).with_version(version);
            match self.publisher.publish_envelope(channel, envelope).await {
                Ok(event_id) => {
                    tracing::debug!(channel, %event_id, "event published");
                    return;
                }
                Err(e) if attempt == 1 => {
                    tracing::warn!(channel, error = %e, "publish failed; retrying once");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => {
                    tracing::error!(channel, error = %e, "event lost (consumers fall back to cache TTLs)");
                }
            }
        }
    }

    /// Deletes `keys` from the bucket and invalidates them at the edge, in
    /// the background. Returns the task so callers (tests) may await it.
    pub fn purge(&self, keys: Vec<String>) -> Option<tokio::task::JoinHandle<()>> {
        if keys.is_empty() {
            return None;
        }
        let media = self.media.clone();
        let cdn = self.cdn.clone();
        Some(tokio::spawn(async move {
            futures::future::join_all(keys.iter().map(|k| delete_with_retry(&media, k))).await;
            if let Some(cdn) = cdn {
                invalidate_with_retry(&cdn, &keys).await;
            }
        }))
    }
}

async fn delete_with_retry(media: &MediaStore, key: &str) {
    let mut attempt = 0;
    loop {
        match media.delete(key).await {
            Ok(()) => {
                tracing::info!(key, "media object deleted");
                return;
            }
            Err(e) if attempt < DELETE_BACKOFF.len() => {
                tracing::warn!(key, error = %e, attempt, "media delete failed; retrying");
                tokio::time::sleep(DELETE_BACKOFF[attempt]).await;
                attempt += 1;
            }
            Err(e) => {
                metrics::counter!("admin_orphaned_objects_total").increment(1);
                tracing::error!(key, error = %e, "media delete failed; object orphaned");
                return;
            }
        }
    }
}

async fn invalidate_with_retry(cdn: &CdnInvalidator, keys: &[String]) {
    let mut attempt = 0;
    loop {
        match cdn.invalidate(keys).await {
            Ok(id) => {
                tracing::info!(invalidation = %id, paths = keys.len(), "CDN invalidation created");
                return;
            }
            Err(e) if attempt < DELETE_BACKOFF.len() => {
                tracing::warn!(error = %e, attempt, "CDN invalidation failed; retrying");
                tokio::time::sleep(DELETE_BACKOFF[attempt]).await;
                attempt += 1;
            }
            Err(e) => {
                tracing::error!(error = %e, "CDN invalidation failed; edge copies expire with their TTL");
                return;
            }
        }
    }
}
