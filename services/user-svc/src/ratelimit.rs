//! user-svc's limits: which rule guards which route, and the daily mail
//! cap. The limiter itself (Redis fixed windows, fail-open) is
//! `cadenza_platform::ratelimit`; argon2's cost and the hashing semaphore
//! still bound a brute-force rate while Redis is down.

use std::time::Duration;

pub use cadenza_platform::ratelimit::{RateLimiter, Rule};

/// The rejection counter of user-svc's limits, labelled by scope.
pub const REJECTED_METRIC: &str = "user_rate_limited_total";

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
    /// Playlist changes by one listener (create, edit, add, move, remove).
    pub playlist_writes_per_user: Rule,
    /// Play reports by one listener (a play counts after 30 s at the least).
    pub plays_per_user: Rule,
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
            // A drag-and-drop session moves a song a second at most; an
            // album added song by song is one request.
            playlist_writes_per_user: Rule::per_minute(120),
            plays_per_user: Rule::per_minute(30),
            mail_per_address_per_day: DEFAULT_MAIL_DAILY_CAP,
        }
    }
}

/// Counts one mail to `address` against the daily cap; false once the cap
/// is reached. The count is one atomic INCR, so concurrent requests cannot
/// overshoot it; fails open while Redis is down, like every limit.
pub async fn allow_mail(limiter: &RateLimiter, address: &str, cap: u32) -> bool {
    let rule = Rule {
        max: cap,
        window: Duration::from_secs(86_400),
    };
    let allowed = limiter.hit("mail:to", address, rule).await.is_ok();
    if !allowed {
        metrics::counter!("user_mail_capped_total").increment(1);
        tracing::info!("daily mail cap reached for an address; mail dropped");
    }
    allowed
}
