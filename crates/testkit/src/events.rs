//! Listening to what a service publishes on Redis Pub/Sub, in a test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cadenza_platform::redis::Namespace;
use futures::StreamExt;
use serde_json::Value;

use crate::infra;

/// Records every event published on `channels` in a namespace, from the
/// moment [`EventLog::start`] returns (the subscription is confirmed by
/// then).
pub struct EventLog {
    events: Arc<Mutex<Vec<(String, Value)>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl EventLog {
    pub async fn start(ns: &Namespace, channels: &[&str]) -> Self {
        let client = redis::Client::open(infra().redis_url.as_str()).unwrap();
        let mut pubsub = client.get_async_pubsub().await.unwrap();
        let channels: Vec<String> = channels.iter().map(|c| ns.key(c)).collect();
        pubsub.subscribe(&channels).await.unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let ns = ns.clone();
        let task = tokio::spawn(async move {
            let mut stream = pubsub.on_message();
            while let Some(msg) = stream.next().await {
                let channel = ns.strip(msg.get_channel_name()).unwrap().to_owned();
                let payload: String = msg.get_payload().unwrap();
                sink.lock()
                    .unwrap()
                    .push((channel, serde_json::from_str(&payload).unwrap()));
            }
        });
        EventLog {
            events,
            _task: task,
        }
    }

    pub fn snapshot(&self) -> Vec<(String, Value)> {
        self.events.lock().unwrap().clone()
    }

    /// Waits for `n` events, then makes sure no more arrive.
    pub async fn exactly(&self, n: usize) -> Vec<(String, Value)> {
        crate::eventually(Duration::from_secs(5), &format!("{n} events"), || async {
            (self.events.lock().unwrap().len() >= n).then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let all = self.snapshot();
        assert_eq!(all.len(), n, "unexpected extra events: {all:#?}");
        all
    }
}

/// Counts per channel.
pub fn by_channel(events: &[(String, Value)]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for (c, _) in events {
        *m.entry(c.clone()).or_insert(0) += 1;
    }
    m
}

/// Drops every Pub/Sub connection of the Redis at `redis_url`
/// (`CLIENT KILL TYPE pubsub`), as a network blip would: the count of
/// connections killed.
pub async fn kill_pubsub_clients(redis_url: &str) -> redis::RedisResult<i64> {
    let mut conn = redis::Client::open(redis_url)?
        .get_multiplexed_async_connection()
        .await?;
    redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut conn)
        .await
}
