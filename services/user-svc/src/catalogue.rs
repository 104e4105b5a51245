//! What user-svc hears from the catalogue: a deleted song leaves every
//! playlist and every favourite list (`song:deleted`; deleting an album
//! publishes one per song). Pub/Sub is at-most-once: a song whose event
//! was missed stays listed until removed, and the song lookup
//! (`POST /api/song/songs`) reports it as missing, so clients hide it.

use std::sync::Arc;

use cadenza_events::{channel, Envelope, EventSink, SongEvent, Subscriber};
use cadenza_platform::redis::Namespace;
use futures::future::BoxFuture;

use crate::store::Store;

struct Forget {
    store: Store,
}

impl EventSink for Forget {
    fn resync(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    fn deliver<'a>(&'a self, channel: &'a str, payload: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if channel != channel::SONG_DELETED {
                return;
            }
            let Ok(event) = serde_json::from_str::<Envelope<SongEvent>>(payload) else {
                tracing::warn!(channel, "undecodable song event dropped");
                return;
            };
            let song = event.payload.song_id.to_string();
            match self.store.forget_song(&song).await {
                Ok((entries, favorites)) => {
                    metrics::counter!("user_deleted_song_entries_total")
                        .increment(entries + favorites);
                    tracing::info!(
                        song,
                        entries,
                        favorites,
                        "deleted song removed from playlists and favourites"
                    );
                }
                Err(e) => {
                    tracing::warn!(song, error = %e, "could not remove a deleted song from playlists and favourites")
                }
            }
        })
    }
}

/// Subscribes to `song:deleted` for as long as the returned value lives.
pub fn spawn(client: redis::Client, ns: Namespace, store: Store) -> Subscriber {
    Subscriber::spawn(
        client,
        ns,
        &[channel::SONG_DELETED],
        Arc::new(Forget { store }),
    )
}
