//! Fixed-window rate limits in Redis, so they hold across replicas.
//!
//! One Lua script increments the window's counter and sets its expiry
//! atomically. When Redis is unreachable the limiter fails OPEN (the request
//! proceeds, a warning is logged): accounts stay reachable during a Redis
//! outage, at the price of unthrottled attempts for its duration. Argon2's
//! cost and the hashing semaphore still bound a brute-force rate.

use std::net::IpAddr;
use std::time::Duration;

use cadenza_platform::redis::Namespace;
use cadenza_platform::Problem;
use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};

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

/// The limits of every throttled route.
///
/// Login (issue 14): `login_per_ip` counts every attempt from one client
/// address. `login_per_email` counts failed sign-ins for one address *from
/// one client address* (the pair), and `login_failures_per_email` failed
/// sign-ins for one address from anywhere; a successful sign-in clears both
/// (for its own pair). An attacker's junk logins therefore lock only their
/// own (email, IP) pair: one client address can add at most
/// `login_per_email` failures a minute to the address-wide count, which
/// is set so that one client address alone can never reach it.
#[derive(Debug, Clone)]
pub struct Limits {
    pub login_per_email: Rule,
    pub login_failures_per_email: Rule,
    pub login_per_ip: Rule,
    pub register_per_email: Rule,
    pub register_per_ip: Rule,
    pub email_action_per_email: Rule,
    pub email_action_per_ip: Rule,
    pub refresh_per_ip: Rule,
    /// Mails (verify, reset, account-exists) to one address per day
    /// (`MAIL_DAILY_CAP_PER_ADDRESS`); further ones are dropped silently.
    pub mail_per_address_per_day: u32,
}

pub const DEFAULT_MAIL_DAILY_CAP: u32 = 10;

impl Default for Limits {
    fn default() -> Self {
        Self {
            login_per_email: Rule::per_minute(10),
            // One client address adds at most 600 failures an hour.
            login_failures_per_email: Rule {
                max: 1000,
                window: Duration::from_secs(3600),
            },
            login_per_ip: Rule::per_minute(100),
            register_per_email: Rule::per_minute(5),
            register_per_ip: Rule::per_minute(30),
            email_action_per_email: Rule::per_minute(5),
            email_action_per_ip: Rule::per_minute(30),
            refresh_per_ip: Rule::per_minute(300),
            mail_per_address_per_day: DEFAULT_MAIL_DAILY_CAP,
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

#[derive(Clone)]
pub struct RateLimiter {
    conn: ConnectionManager,
    ns: Namespace,
    script: redis::Script,
}

impl RateLimiter {
    pub fn new(conn: ConnectionManager, ns: Namespace) -> Self {
        Self {
            conn,
            ns,
            script: redis::Script::new(SCRIPT),
        }
    }

    fn key(&self, scope: &str, subject: &str) -> String {
        let digest = hex_digest(subject);
        self.ns.key(&format!("ratelimit:{scope}:{digest}"))
    }

    /// Forgets every hit on `(scope, subject)` (a successful login resets
    /// its failure counts). Best effort: a Redis error is only logged.
    pub async fn clear(&self, scope: &str, subject: &str) {
        let key = self.key(scope, subject);
        let mut conn = self.conn.clone();
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

    /// Counts one hit on `(scope, subject)`; 429 once the rule is exceeded.
    /// The subject is hashed so that no email address lands in Redis.
    pub async fn hit(&self, scope: &str, subject: &str, rule: Rule) -> Result<(), Problem> {
        let key = self.key(scope, subject);
        let mut conn = self.conn.clone();
        let window_ms = rule.window.as_millis() as u64;
        let result: redis::RedisResult<(u64, i64)> = self
            .script
            .key(&key)
            .arg(window_ms)
            .invoke_async(&mut conn)
            .await;
        match result {
            Ok((count, ttl_ms)) if count > rule.max as u64 => {
                let secs = (ttl_ms.max(0) as u64).div_ceil(1000).max(1);
                metrics::counter!("user_rate_limited_total", "scope" => scope.to_owned())
                    .increment(1);
                Err(Problem::too_many_requests(secs))
            }
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(scope, error = %e, "rate limiter unavailable; failing open");
                Ok(())
            }
        }
    }
}

fn hex_digest(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

impl RateLimiter {
    /// Counts one mail to `address` against the daily cap; false once the
    /// cap is reached. The count is one atomic INCR, so concurrent requests
    /// cannot overshoot it; fails open while Redis is down, like `hit`.
    pub async fn allow_mail(&self, address: &str, cap: u32) -> bool {
        let rule = Rule {
            max: cap,
            window: Duration::from_secs(86_400),
        };
        let allowed = self.hit("mail:to", address, rule).await.is_ok();
        if !allowed {
            metrics::counter!("user_mail_capped_total").increment(1);
            tracing::info!("daily mail cap reached for an address; mail dropped");
        }
        allowed
    }
}
