//! What happens after a commit: change events on Redis, and removal of
//! media that no row references any more (bucket, then CDN edge).
//!
//! None of it may turn a committed change into an error. Events are
//! at-most-once by contract (consumers keep TTL backstops), so a failed
//! publish is logged. Objects are moved to `trash/` (not deleted; see
//! `trash`) in the background with retries; if that still fails, the object
//! is orphaned and logged (harmless: nothing references it, and the CDN
//! needs a signed URL for `songs/`). An object is trashed only if, under its
//! key's lock, no row references it any more (a create may have reused it
//! since the commit; see `orphans`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cadenza_events::Publisher;
use serde::Serialize;

use crate::cdn::CdnInvalidator;
use crate::objects::MediaStore;
use crate::orphans::KeyLocks;
use crate::trash::Reason;

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
    key_locks: KeyLocks,
    purges: Arc<InFlight>,
}

/// Background purges still running.
#[derive(Default)]
struct InFlight {
    count: AtomicUsize,
    done: tokio::sync::Notify,
}

impl Effects {
    pub fn new(
        publisher: Publisher,
        media: MediaStore,
        cdn: Option<CdnInvalidator>,
        key_locks: KeyLocks,
    ) -> Self {
        Self {
            publisher,
            media,
            cdn,
            key_locks,
            purges: Arc::default(),
        }
    }

    /// Waits until no purge is running (tests, shutdown).
    pub async fn purges_settled(&self) {
        loop {
            let done = self.purges.done.notified();
            if self.purges.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            done.await;
        }
    }

    /// Publishes one event for the change that committed as catalogue
    /// `version` (one retry on a transient failure). Each event of a
    /// committed change is also an info line (the audit trail of the
    /// catalogue, with the request's trace id); one change may announce
    /// several (an album deleted with its songs).
    pub async fn publish<T: Serialize + Clone>(
        &self,
        channel: &'static str,
        payload: T,
        version: i64,
    ) {
        tracing::info!(channel, version, "catalogue change committed");
        self.publisher
            .publish_change(channel, payload, version)
            .await;
    }

    /// Moves `keys` to the trash and invalidates them at the edge, in
    /// the background. Returns the task so callers (tests) may await it.
    pub fn purge(&self, keys: Vec<String>) -> Option<tokio::task::JoinHandle<()>> {
        if keys.is_empty() {
            return None;
        }
        let media = self.media.clone();
        let cdn = self.cdn.clone();
        let locks = self.key_locks.clone();
        let purges = self.purges.clone();
        purges.count.fetch_add(1, Ordering::SeqCst);
        // Its own span, in the trace of the request that deleted the media
        // (not a tracing child: the request's span ends with its answer).
        let span = tracing::info_span!(
            parent: None,
            "purge",
            keys = keys.len(),
            trace_id = tracing::field::Empty,
            remote_traceparent = tracing::field::Empty,
        );
        let caller = cadenza_platform::telemetry::propagation::current();
        cadenza_platform::telemetry::propagation::join(&span, caller.as_deref());
        Some(tokio::spawn(tracing::Instrument::instrument(
            async move {
                let deleted: Vec<bool> = futures::future::join_all(
                    keys.iter().map(|k| delete_with_retry(&locks, &media, k)),
                )
                .await;
                let gone: Vec<String> = keys
                    .into_iter()
                    .zip(deleted)
                    .filter_map(|(k, d)| d.then_some(k))
                    .collect();
                if let (Some(cdn), false) = (cdn, gone.is_empty()) {
                    invalidate_with_retry(&cdn, &gone).await;
                }
                purges.count.fetch_sub(1, Ordering::SeqCst);
                purges.done.notify_waiters();
            },
            span,
        )))
    }
}

/// `true` when the object was moved to the trash.
async fn delete_with_retry(locks: &KeyLocks, media: &MediaStore, key: &str) -> bool {
    let mut attempt = 0;
    loop {
        match locks
            .trash_if_unreferenced(media, key, Reason::Delete)
            .await
        {
            Ok(true) => {
                tracing::info!(key, "media object trashed");
                return true;
            }
            Ok(false) => return false,
            Err(e) if attempt < DELETE_BACKOFF.len() => {
                tracing::warn!(key, error = %e, attempt, "moving media to trash failed; retrying");
                tokio::time::sleep(DELETE_BACKOFF[attempt]).await;
                attempt += 1;
            }
            Err(e) => {
                metrics::counter!("admin_orphaned_objects_total").increment(1);
                tracing::error!(key, error = %e, "moving media to trash failed; object orphaned");
                return false;
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
