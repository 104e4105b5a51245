//! Signed stream URLs (CONTRACTS §4): a canned-policy CloudFront URL for
//! `<CLOUDFRONT_DOMAIN>/<audio_key>`, valid for the track's duration plus
//! 10 minutes, at most 6 hours.
//!
//! RSA signing is the one expensive step of the read path. Expiries are
//! rounded to whole minutes, so every request for a song within the same
//! minute gets the same policy, and PKCS#1 v1.5 signatures are deterministic:
//! memoising the URL per (song, audio key, expiry) changes no URL, only the
//! CPU spent. Unlike the seed's 12 h cache, no URL outlives its own expiry,
//! and each one is valid for at least the full duration + 10 min.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cadenza_cdn::{SignError, StreamUrlSigner};
use uuid::Uuid;

pub const GRACE_SECS: i64 = 600;
pub const MAX_VALIDITY_SECS: i64 = 6 * 3600;
const MEMO_MAX: usize = 16_384;

/// The expiry for a track of `duration` seconds requested at `now`: at least
/// duration + 10 min, at most 6 h, on a minute boundary.
pub fn expiry(now: i64, duration_seconds: f64) -> i64 {
    let duration = if duration_seconds.is_finite() && duration_seconds > 0.0 {
        duration_seconds.ceil().min(MAX_VALIDITY_SECS as f64) as i64
    } else {
        0
    };
    let validity = (duration + GRACE_SECS).min(MAX_VALIDITY_SECS);
    let rounded = (now + validity + 59).div_euclid(60) * 60;
    if rounded - now > MAX_VALIDITY_SECS {
        (now + MAX_VALIDITY_SECS).div_euclid(60) * 60
    } else {
        rounded
    }
}

struct Memo {
    audio_key: String,
    expires: i64,
    url: Arc<str>,
}

pub struct StreamSigner {
    signer: Arc<StreamUrlSigner>,
    cdn: String,
    memo: Mutex<HashMap<Uuid, Memo>>,
}

impl StreamSigner {
    pub fn new(signer: Arc<StreamUrlSigner>, cloudfront_domain: &str) -> Self {
        Self {
            signer,
            cdn: cloudfront_domain.trim_end_matches('/').to_owned(),
            memo: Mutex::new(HashMap::new()),
        }
    }

    /// The signed URL and its expiry (Unix seconds).
    pub async fn url(
        self: &Arc<Self>,
        song: Uuid,
        audio_key: &str,
        duration_seconds: f64,
        now: i64,
    ) -> Result<(Arc<str>, i64), SignError> {
        let expires = expiry(now, duration_seconds);
        if let Some(m) = self.memo.lock().unwrap().get(&song) {
            if m.expires == expires && m.audio_key == audio_key {
                metrics::counter!("songsvc_stream_sign_total", "result" => "memo").increment(1);
                return Ok((m.url.clone(), expires));
            }
        }
        metrics::counter!("songsvc_stream_sign_total", "result" => "signed").increment(1);
        let resource = format!("{}/{}", self.cdn, audio_key.trim_start_matches('/'));
        // A few ms of constant-time RSA: keep it off the async workers.
        let this = self.clone();
        let url: Arc<str> =
            tokio::task::spawn_blocking(move || this.signer.sign_canned(&resource, expires))
                .await
                .map_err(|e| SignError::Rsa(e.to_string()))??
                .into();
        let mut memo = self.memo.lock().unwrap();
        if memo.len() >= MEMO_MAX {
            memo.retain(|_, m| m.expires > now);
            if memo.len() >= MEMO_MAX {
                memo.clear();
            }
        }
        memo.insert(
            song,
            Memo {
                audio_key: audio_key.to_owned(),
                expires,
                url: url.clone(),
            },
        );
        Ok((url, expires))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_covers_the_track_plus_ten_minutes_capped_at_six_hours() {
        let now = 1_800_000_030; // 30 s past a minute
        let e = expiry(now, 215.4);
        assert!(e - now >= 216 + 600, "{}", e - now);
        assert!(e - now < 216 + 600 + 60);
        assert_eq!(e % 60, 0);
        // Same minute, same expiry: the memo can serve it.
        assert_eq!(expiry(now + 20, 215.4), e);
        // Long tracks are capped at 6 h.
        let long = expiry(now, 10.0 * 3600.0);
        assert!(long - now <= MAX_VALIDITY_SECS && long - now > MAX_VALIDITY_SECS - 60);
        assert_eq!(long % 60, 0);
        // Broken durations still get the grace period.
        assert!(expiry(now, f64::NAN) - now >= GRACE_SECS);
        assert!(expiry(now, -5.0) - now >= GRACE_SECS);
    }
}
