//! Revocation that reaches every service before tokens expire (CONTRACTS §3).
//!
//! user-svc, on logout, logout-all, password change or reset, writes
//! `auth:revoked-sid:<sid>` / `auth:user-nbf:<userId>` keys (TTL: as long as
//! an affected token can live) and publishes `auth:session-revoked` /
//! `auth:user-revoked`. Each verifier keeps the same facts in memory, fed by
//! the events and reloaded from the keys on every (re)subscribe, so a
//! revocation made while a verifier was disconnected is still honoured.
//!
//! When Redis is unreachable the verifier keeps what it already knows and
//! accepts otherwise-valid tokens (fail open, bounded by the 15-minute token
//! lifetime); refusing every request during a Redis outage would take the
//! whole platform down with it.
//!
//! The keys only move forward: [`RevocationPublisher`] writes them with a
//! small Lua script that keeps the higher value and the longer TTL, so a
//! late retry of an older revocation cannot undo a newer one.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};
use std::time::Duration;

use cadenza_events::{channel, Publisher, SessionRevoked, Subscriber, UserRevoked};
use cadenza_platform::redis::Namespace;
use futures::future::BoxFuture;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;

use crate::claims::Claims;
use crate::{ACCESS_TOKEN_TTL_SECS, LEEWAY_SECS};

pub const REVOKED_SID_PREFIX: &str = "auth:revoked-sid:";
pub const USER_NBF_PREFIX: &str = "auth:user-nbf:";

#[derive(Default)]
struct State {
    /// sid → unix seconds after which its tokens are expired anyway.
    sids: HashMap<String, i64>,
    /// user id → tokens issued before this are refused.
    users: HashMap<String, i64>,
}

#[derive(Clone, Default)]
pub struct Denylist {
    state: Arc<RwLock<State>>,
    /// Set once the first load from Redis has been attempted (successfully or
    /// not): until then a fresh replica could accept a revoked token, so its
    /// readiness waits for this.
    first_load_done: Arc<std::sync::atomic::AtomicBool>,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Denylist {
    pub fn revoke_sid(&self, sid: &str, until: i64) {
        let mut s = self.state.write().unwrap();
        let entry = s.sids.entry(sid.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
    }

    pub fn revoke_user_before(&self, user_id: &str, not_before: i64) {
        let mut s = self.state.write().unwrap();
        let entry = s.users.entry(user_id.to_owned()).or_insert(not_before);
        *entry = (*entry).max(not_before);
    }

    pub fn is_revoked(&self, claims: &Claims) -> bool {
        let s = self.state.read().unwrap();
        s.sids.contains_key(&claims.sid)
            || s.users
                .get(&claims.sub)
                .is_some_and(|nbf| claims.iat < *nbf)
    }

    /// Drops entries no live token can match any more.
    pub fn prune(&self) {
        let horizon = now() - LEEWAY_SECS as i64;
        let mut s = self.state.write().unwrap();
        s.sids.retain(|_, until| *until >= horizon);
        s.users
            .retain(|_, nbf| *nbf + ACCESS_TOKEN_TTL_SECS >= horizon);
    }

    /// Whether the first load from Redis has been attempted. Services add
    /// this to `/readyz` so that no traffic reaches a replica that has not
    /// yet heard of the revocations made before it started.
    pub fn first_load_done(&self) -> bool {
        self.first_load_done
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits (at most 3 s) for the first load, so a service can finish it
    /// before it starts listening.
    pub async fn wait_first_load(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while !self.first_load_done() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A `/readyz` check for [`Self::first_load_done`].
    pub fn readiness(
        &self,
    ) -> impl Fn() -> futures::future::Ready<Result<(), &'static str>> + Send + Sync + 'static {
        let denylist = self.clone();
        move || {
            futures::future::ready(if denylist.first_load_done() {
                Ok(())
            } else {
                Err("revocation list not loaded yet")
            })
        }
    }

    pub fn len(&self) -> usize {
        let s = self.state.read().unwrap();
        s.sids.len() + s.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn apply(&self, channel_name: &str, payload: &str) {
        match channel_name {
            channel::SESSION_REVOKED => match serde_json::from_str::<SessionRevoked>(payload) {
                Ok(e) => self.revoke_sid(&e.sid, e.exp),
                Err(e) => tracing::warn!(error = %e, "bad session-revoked event"),
            },
            channel::USER_REVOKED => match serde_json::from_str::<UserRevoked>(payload) {
                Ok(e) => self.revoke_user_before(&e.user_id, e.not_before),
                Err(e) => tracing::warn!(error = %e, "bad user-revoked event"),
            },
            _ => {}
        }
    }

    /// What every service does at start: [`Denylist::spawn_sync`], then
    /// waits (up to 3 s) for the first load, so that revocations made
    /// before this replica started are known before it serves.
    pub async fn start_sync(&self, client: redis::Client, ns: Namespace) -> Subscriber {
        let sync = self.spawn_sync(client, ns);
        self.wait_first_load().await;
        sync
    }

    /// Keeps this denylist in step with Redis for as long as the returned
    /// subscriber lives.
    pub fn spawn_sync(&self, client: redis::Client, ns: Namespace) -> Subscriber {
        metrics::describe_gauge!(
            "auth_denylist_entries",
            "Revoked sessions and users this replica refuses."
        );
        metrics::describe_gauge!(
            "auth_denylist_last_reload_timestamp_seconds",
            "When this replica last reloaded its denylist from Redis (0: never)."
        );
        metrics::gauge!("auth_denylist_last_reload_timestamp_seconds").increment(0.0);
        let state = Arc::downgrade(&self.state);
        cadenza_platform::metrics::on_scrape(move || {
            let Some(state) = state.upgrade() else {
                return false;
            };
            let s = state.read().unwrap_or_else(|p| p.into_inner());
            metrics::gauge!("auth_denylist_entries").set((s.sids.len() + s.users.len()) as f64);
            true
        });
        let sink = Arc::new(DenylistSink {
            denylist: self.clone(),
            client: client.clone(),
            ns: ns.clone(),
        });
        let pruner = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                pruner.prune();
                if Arc::strong_count(&pruner.state) == 1 {
                    break;
                }
            }
        });
        // Load once straight away, bounded, independently of the subscriber:
        // readiness must not wait forever when Redis is down at start (the
        // verifier then fails open, as documented above).
        let first = sink.clone();
        let done = self.first_load_done.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(Duration::from_secs(2), first.reload()).await {
                Ok(Ok(n)) => tracing::info!(entries = n, "revocation denylist loaded"),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "revocation denylist not loaded; Redis unreachable")
                }
                Err(_) => tracing::warn!("revocation denylist load timed out"),
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        Subscriber::spawn(client, ns, &channel::AUTH, sink)
    }
}

struct DenylistSink {
    denylist: Denylist,
    client: redis::Client,
    ns: Namespace,
}

impl DenylistSink {
    async fn reload(&self) -> redis::RedisResult<usize> {
        let loaded = self.load().await?;
        metrics::gauge!("auth_denylist_last_reload_timestamp_seconds").set(now() as f64);
        Ok(loaded)
    }

    async fn load(&self) -> redis::RedisResult<usize> {
        let mut conn = self.client.get_multiplexed_async_connection().await?;
        let mut loaded = 0;
        for (prefix, is_sid) in [(REVOKED_SID_PREFIX, true), (USER_NBF_PREFIX, false)] {
            let pattern = format!("{}*", self.ns.key(prefix));
            let keys: Vec<String> = {
                let mut iter = conn.scan_match::<_, String>(&pattern).await?;
                let mut keys = Vec::new();
                while let Some(k) = futures::StreamExt::next(&mut iter).await {
                    keys.push(k);
                }
                keys
            };
            let full_prefix = self.ns.key(prefix);
            for key in keys {
                let Some(id) = key.strip_prefix(&full_prefix) else {
                    continue;
                };
                let value: Option<i64> = conn.get(&key).await?;
                let Some(value) = value else { continue };
                if is_sid {
                    self.denylist.revoke_sid(id, value);
                } else {
                    self.denylist.revoke_user_before(id, value);
                }
                loaded += 1;
            }
        }
        Ok(loaded)
    }
}

impl cadenza_events::EventSink for DenylistSink {
    fn resync(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            match self.reload().await {
                Ok(n) => tracing::info!(entries = n, "revocation denylist reloaded"),
                Err(e) => tracing::warn!(error = %e, "revocation denylist reload failed"),
            }
        })
    }

    fn deliver<'a>(&'a self, channel_name: &'a str, payload: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move { self.denylist.apply(channel_name, payload) })
    }
}

/// Monotonic write of a revocation key: KEYS[1] is set to ARGV[1] only if it
/// is absent (or not a number) or holds a lower value, and its TTL becomes at
/// least ARGV[2] seconds (a longer remaining TTL is kept; a key without one
/// stays without one). The value is stored as the same decimal string a plain
/// `SET` wrote, so readers are unchanged. Unix seconds fit a Lua double.
static SET_MAX: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local ttl = tonumber(ARGV[2])
local left = redis.call('TTL', KEYS[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '')
if cur == nil or cur < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
  if left == -2 then left = 0 end
end
if left >= 0 and left < ttl then
  redis.call('EXPIRE', KEYS[1], ttl)
end
return 0
",
    )
});

/// The writing side, used by user-svc: durable key first, then the event.
#[derive(Clone)]
pub struct RevocationPublisher {
    conn: ConnectionManager,
    ns: Namespace,
    publisher: Publisher,
}

impl RevocationPublisher {
    pub fn new(conn: ConnectionManager, ns: Namespace) -> Self {
        Self {
            publisher: Publisher::new(conn.clone(), ns.clone()),
            conn,
            ns,
        }
    }

    /// Stores `value` under `key` (in this namespace) unless the key already
    /// holds a higher one, and makes its TTL at least `ttl` seconds without
    /// ever shortening a longer one. So a late retry of an older revocation
    /// (user-svc retries failed publishes in the background) cannot move a
    /// cut-off or an expiry backwards.
    async fn set_max(&self, key: &str, value: i64, ttl: u64) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        SET_MAX
            .key(self.ns.key(key))
            .arg(value)
            .arg(ttl)
            .invoke_async::<()>(&mut conn)
            .await
    }

    /// Revokes one session until `exp`, the expiry of its newest access token.
    pub async fn revoke_session(
        &self,
        sid: &str,
        user_id: &str,
        exp: i64,
    ) -> redis::RedisResult<()> {
        let ttl = (exp + LEEWAY_SECS as i64 - now()).max(1) as u64;
        self.set_max(&format!("{REVOKED_SID_PREFIX}{sid}"), exp, ttl)
            .await?;
        self.publisher
            .publish(
                channel::SESSION_REVOKED,
                SessionRevoked {
                    sid: sid.to_owned(),
                    user_id: user_id.to_owned(),
                    exp,
                },
            )
            .await?;
        Ok(())
    }

    /// Refuses every access token of `user_id` issued before `not_before`.
    pub async fn revoke_user(&self, user_id: &str, not_before: i64) -> redis::RedisResult<()> {
        let ttl = (ACCESS_TOKEN_TTL_SECS + LEEWAY_SECS as i64) as u64;
        self.set_max(&format!("{USER_NBF_PREFIX}{user_id}"), not_before, ttl)
            .await?;
        self.publisher
            .publish(
                channel::USER_REVOKED,
                UserRevoked {
                    user_id: user_id.to_owned(),
                    not_before,
                },
            )
            .await?;
        Ok(())
    }
}
