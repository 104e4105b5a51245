//! Fixed-window rate limits in Redis, so they hold across replicas.
//!
//! One Lua script increments the window's counter and sets its expiry
//! atomically, so concurrent hits from many replicas can never overshoot a
//! rule. When Redis is unreachable the limiter fails OPEN (the request
//! proceeds, a warning is logged): the service stays usable during a Redis
//! outage, at the price of unthrottled requests for its duration. Each
//! service bounds its expensive work another way too (argon2's queue in
//! user-svc, the statement timeout on search in song-svc).

use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};

use crate::redis::Namespace;
use crate::Problem;

/// `max` hits per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub max: u32,
    pub window: Duration,
}

impl Rule {
    pub const fn per_minute(max: u32) -> Self {
        Self {
            max,
            window: Duration::from_secs(60),
        }
    }
}

const SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
";

type Slot = Arc<RwLock<Option<ConnectionManager>>>;

/// The longest one hit may wait for Redis before failing open.
const HIT_TIMEOUT: Duration = Duration::from_millis(250);
/// After a Redis error, hits fail open at once for this long, so an outage
/// costs each request nothing (not a timeout each).
const BREAKER: Duration = Duration::from_secs(2);

/// Counts hits per `(scope, subject)`; cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    conn: Slot,
    ns: Namespace,
    script: redis::Script,
    /// The counter incremented on every rejection, labelled by scope.
    metric: &'static str,
    /// Until when hits skip Redis after an error.
    open_until: Arc<RwLock<Option<std::time::Instant>>>,
}

impl RateLimiter {
    /// A limiter on an established connection.
    pub fn new(conn: ConnectionManager, ns: Namespace, metric: &'static str) -> Self {
        Self {
            conn: Arc::new(RwLock::new(Some(conn))),
            ns,
            script: redis::Script::new(SCRIPT),
            metric,
            open_until: Arc::default(),
        }
    }

    /// A limiter that connects in the background, for a service that starts
    /// while Redis is down; it fails open until connected.
    pub fn connecting(client: redis::Client, ns: Namespace, metric: &'static str) -> Self {
        let limiter = Self {
            conn: Arc::new(RwLock::new(None)),
            ns,
            script: redis::Script::new(SCRIPT),
            metric,
            open_until: Arc::default(),
        };
        crate::redis::connect_in_background(
            client,
            Arc::downgrade(&limiter.conn),
            "rate limiter (failing open)",
            |slot, conn| *slot.write().unwrap_or_else(|p| p.into_inner()) = Some(conn),
        );
        limiter
    }

    fn key(&self, scope: &str, subject: &str) -> String {
        let digest = hex_digest(subject);
        self.ns.key(&format!("ratelimit:{scope}:{digest}"))
    }

    /// The connection, unless there is none yet or Redis failed lately.
    fn conn(&self) -> Option<ConnectionManager> {
        let open = *self.open_until.read().unwrap_or_else(|p| p.into_inner());
        if open.is_some_and(|until| std::time::Instant::now() < until) {
            return None;
        }
        self.conn.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn trip(&self) {
        *self.open_until.write().unwrap_or_else(|p| p.into_inner()) =
            Some(std::time::Instant::now() + BREAKER);
    }

    /// Forgets every hit on `(scope, subject)` (a successful login resets
    /// its failure counts). Best effort: a Redis error is only logged.
    pub async fn clear(&self, scope: &str, subject: &str) {
        let key = self.key(scope, subject);
        let Some(mut conn) = self.conn() else { return };
        if let Err(e) = redis::cmd("DEL")
            .arg(&key)
            .query_async::<()>(&mut conn)
            .await
        {
            tracing::warn!(scope, error = %e, "rate limit reset failed");
        }
    }

    /// Counts one hit for a client address: IPv4 per address, IPv6 per /64
    /// (see [`crate::client_ip::limit_key`]).
    pub async fn hit_ip(&self, scope: &str, ip: IpAddr, rule: Rule) -> Result<(), Problem> {
        self.hit(scope, &crate::client_ip::limit_key(ip), rule)
            .await
    }

    /// Counts one hit on `(scope, subject)`; 429 with `Retry-After` once the
    /// rule is exceeded. The subject is hashed so that no email address or
    /// client address lands in Redis.
    #[tracing::instrument(name = "redis.ratelimit", skip_all, fields(otel.kind = "client", db.system = "redis", scope = scope))]
    pub async fn hit(&self, scope: &str, subject: &str, rule: Rule) -> Result<(), Problem> {
        let Some(mut conn) = self.conn() else {
            tracing::debug!(scope, "rate limiter without Redis; failing open");
            return Ok(());
        };
        let key = self.key(scope, subject);
        let window_ms = rule.window.as_millis() as u64;
        let mut invocation = self.script.key(&key);
        invocation.arg(window_ms);
        let result: redis::RedisResult<(u64, i64)> =
            match tokio::time::timeout(HIT_TIMEOUT, async {
                match invocation.invoke_async(&mut conn).await {
                    // The first call after Redis restarts finds the old
                    // socket dead; the manager is already reconnecting, so
                    // one retry (within the same budget) counts the hit
                    // instead of opening the breaker on a healthy Redis.
                    Err(e) if e.is_connection_dropped() || e.is_io_error() => {
                        invocation.invoke_async(&mut conn).await
                    }
                    r => r,
                }
            })
            .await
            {
                Ok(r) => r,
                Err(_) => Err(redis::RedisError::from((
                    redis::ErrorKind::IoError,
                    "rate limit timed out",
                ))),
            };
        match result {
            Ok((count, ttl_ms)) if count > rule.max as u64 => {
                let secs = (ttl_ms.max(0) as u64).div_ceil(1000).max(1);
                metrics::counter!(self.metric, "scope" => scope.to_owned()).increment(1);
                Err(Problem::too_many_requests(secs))
            }
            Ok(_) => Ok(()),
            Err(e) => {
                self.trip();
                tracing::warn!(scope, error = %e, "rate limiter unavailable; failing open for {BREAKER:?}");
                Ok(())
            }
        }
    }
}

fn hex_digest(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}
