//! Redis connections with bounded timeouts, and the optional key namespace.
//!
//! `REDIS_NAMESPACE` (default empty) prefixes every key and channel as
//! `<ns>:`. Production leaves it empty, so names are exactly those of the
//! contract; tests set it so that parallel worlds sharing one Redis never see
//! each other's keys, rate limits or events.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespace(String);

impl Namespace {
    pub fn new(ns: impl Into<String>) -> Self {
        Self(ns.into())
    }

    pub fn from_env() -> Result<Self, crate::config::ConfigError> {
        Ok(Self(
            crate::config::var("REDIS_NAMESPACE")?.unwrap_or_default(),
        ))
    }

    /// `name` inside this namespace.
    pub fn key(&self, name: &str) -> String {
        if self.0.is_empty() {
            name.to_owned()
        } else {
            format!("{}:{name}", self.0)
        }
    }

    /// The contract name of a namespaced key or channel, if it is ours.
    pub fn strip<'a>(&self, full: &'a str) -> Option<&'a str> {
        if self.0.is_empty() {
            Some(full)
        } else {
            full.strip_prefix(self.0.as_str())
                .and_then(|rest| rest.strip_prefix(':'))
        }
    }
}

pub fn client(url: &str) -> redis::RedisResult<redis::Client> {
    redis::Client::open(url)
}

/// A self-healing multiplexed connection. Commands fail fast (bounded
/// timeouts) while Redis is down instead of hanging a request.
pub async fn manager(client: &redis::Client) -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_millis(500))
        .set_response_timeout(Duration::from_millis(500))
        .set_number_of_retries(1)
        .set_max_delay(2000);
    ConnectionManager::new_with_config(client.clone(), config).await
}

/// Connects in the background, retrying with a capped backoff until Redis
/// answers, then hands the connection to `install`; gives up once `owner`
/// is gone. For parts that must start (and work without Redis) while it is
/// down.
pub fn connect_in_background<T: Send + Sync + 'static>(
    client: redis::Client,
    owner: std::sync::Weak<T>,
    what: &'static str,
    install: impl FnOnce(&T, ConnectionManager) + Send + 'static,
) {
    tokio::spawn(async move {
        let mut delay = Duration::from_millis(200);
        loop {
            match manager(&client).await {
                Ok(conn) => {
                    if let Some(owner) = owner.upgrade() {
                        install(&owner, conn);
                    }
                    return;
                }
                Err(e) => {
                    if owner.strong_count() == 0 {
                        return;
                    }
                    tracing::warn!(error = %e, "{what}: redis not reachable yet");
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    });
}

/// A `PING` for readiness checks.
pub async fn ping(conn: &mut ConnectionManager) -> redis::RedisResult<()> {
    redis::cmd("PING")
        .query_async::<String>(conn)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_prefixes_and_strips() {
        let none = Namespace::default();
        assert_eq!(none.key("album:created"), "album:created");
        assert_eq!(none.strip("album:created"), Some("album:created"));
        let t = Namespace::new("t1");
        assert_eq!(t.key("album:created"), "t1:album:created");
        assert_eq!(t.strip("t1:album:created"), Some("album:created"));
        assert_eq!(t.strip("t2:album:created"), None);
    }
}
