//! Signed stream URLs (CONTRACTS §4): a canned-policy CloudFront URL for
//! `<CLOUDFRONT_DOMAIN>/<audio_key>`, valid for the track's duration plus
//! 10 minutes, at most 6 hours.
//!
//! Signing is the one costly step of the read path (about 17 µs with an
//! ECDSA P-256 key, 2 ms with RSA-2048), so a signed URL is reused while it still has the validity a fresh one must have: a URL is
//! minted with 5 minutes of slack on top (expiry rounded up to the minute)
//! and memoised per (song, audio key) until its remaining validity drops
//! below duration + 10 min. So every URL handed out is valid for at least
//! duration + 10 min and at most 15 min more (never beyond 6 h), and a hot
//! song is signed about once per 5 minutes per replica. Unlike the seed's
//! 12 h cache, no URL is served after it could no longer cover the track.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cadenza_cdn::{KeyKind, SignError, StreamUrlSigner};
use uuid::Uuid;

pub const GRACE_SECS: i64 = 600;
pub const MAX_VALIDITY_SECS: i64 = 6 * 3600;
/// Extra validity minted so the URL can be reused for this long.
pub const REUSE_SLACK_SECS: i64 = 300;
/// URLs kept per replica by default (`STREAM_URL_MEMO_MAX`).
pub const MEMO_MAX: usize = 16_384;

/// The validity a URL must still have when handed out: duration + 10 min,
/// at most 6 h (minus the reuse slack for tracks that hit the cap).
pub fn required_validity(duration_seconds: f64) -> i64 {
    let duration = if duration_seconds.is_finite() && duration_seconds > 0.0 {
        duration_seconds.ceil().min(MAX_VALIDITY_SECS as f64) as i64
    } else {
        0
    };
    (duration + GRACE_SECS).min(MAX_VALIDITY_SECS - REUSE_SLACK_SECS)
}

/// The expiry of a freshly minted URL: the required validity plus the reuse
/// slack, rounded up to the minute, never more than 6 h away.
pub fn fresh_expiry(now: i64, duration_seconds: f64) -> i64 {
    let target = now + required_validity(duration_seconds) + REUSE_SLACK_SECS;
    let rounded = (target + 59).div_euclid(60) * 60;
    rounded.min(now + MAX_VALIDITY_SECS)
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
    memo_max: usize,
}

impl StreamSigner {
    pub fn new(signer: Arc<StreamUrlSigner>, cloudfront_domain: &str) -> Self {
        Self::with_memo(signer, cloudfront_domain, MEMO_MAX)
    }

    /// At most `memo_max` URLs kept; 0 signs every request.
    pub fn with_memo(
        signer: Arc<StreamUrlSigner>,
        cloudfront_domain: &str,
        memo_max: usize,
    ) -> Self {
        Self {
            signer,
            cdn: cloudfront_domain.trim_end_matches('/').to_owned(),
            memo: Mutex::new(HashMap::new()),
            memo_max,
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
        let required = required_validity(duration_seconds);
        if let Some(m) = self.memo.lock().unwrap().get(&song) {
            if m.expires - now >= required && m.audio_key == audio_key {
                metrics::counter!("songsvc_stream_sign_total", "result" => "memo").increment(1);
                return Ok((m.url.clone(), m.expires));
            }
        }
        metrics::counter!("songsvc_stream_sign_total", "result" => "signed").increment(1);
        let expires = fresh_expiry(now, duration_seconds);
        let resource = format!("{}/{}", self.cdn, audio_key.trim_start_matches('/'));
        let url: Arc<str> = match self.signer.kind() {
            // Tens of microseconds: cheaper than a hop to the blocking pool.
            KeyKind::EcdsaP256 => self.signer.sign_canned(&resource, expires)?.into(),
            // Milliseconds of constant-time RSA: keep it off the async workers.
            KeyKind::Rsa => {
                let this = self.clone();
                tokio::task::spawn_blocking(move || this.signer.sign_canned(&resource, expires))
                    .await
                    .map_err(|e| SignError::Rsa(e.to_string()))??
                    .into()
            }
        };
        if self.memo_max == 0 {
            return Ok((url, expires));
        }
        let mut memo = self.memo.lock().unwrap();
        if memo.len() >= self.memo_max {
            memo.retain(|_, m| m.expires > now);
            if memo.len() >= self.memo_max {
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
    fn fresh_urls_cover_the_track_plus_ten_minutes_with_bounded_slack() {
        let now = 1_800_000_030;
        let e = fresh_expiry(now, 215.4);
        assert_eq!(e % 60, 0);
        assert!(
            e - now >= 216 + GRACE_SECS + REUSE_SLACK_SECS,
            "{}",
            e - now
        );
        assert!(e - now < 216 + GRACE_SECS + REUSE_SLACK_SECS + 60);
        // Long tracks are capped at 6 h, and still reusable for a while.
        let long = fresh_expiry(now, 10.0 * 3600.0);
        assert_eq!(long - now, MAX_VALIDITY_SECS);
        assert!(long - now - required_validity(36_000.0) >= REUSE_SLACK_SECS);
        // Broken durations still get the grace period.
        assert_eq!(required_validity(f64::NAN), GRACE_SECS);
        assert_eq!(required_validity(-5.0), GRACE_SECS);
    }

    #[tokio::test]
    async fn urls_are_reused_only_while_they_still_cover_the_track() {
        let signer = Arc::new(StreamSigner::new(
            Arc::new(
                StreamUrlSigner::from_pem(
                    "K2JCJMDEHXQW5F",
                    include_str!("../../../crates/testkit/fixtures/cloudfront-test.key.pem"),
                )
                .unwrap(),
            ),
            "https://cdn.example/",
        ));
        let song = Uuid::new_v4();
        let now = 1_800_000_000;
        let (a, ea) = signer.url(song, "songs/a.mp3", 200.0, now).await.unwrap();
        assert!(a.starts_with("https://cdn.example/songs/a.mp3?Expires="));
        // Within the slack: the same URL.
        let (b, eb) = signer
            .url(song, "songs/a.mp3", 200.0, now + 200)
            .await
            .unwrap();
        assert_eq!((a.clone(), ea), (b, eb));
        assert!(eb - (now + 200) >= required_validity(200.0));
        // Past it: a new one that again covers the whole track.
        let later = ea - required_validity(200.0) + 1;
        let (c, ec) = signer.url(song, "songs/a.mp3", 200.0, later).await.unwrap();
        assert_ne!(a, c);
        assert!(ec - later >= required_validity(200.0));
        // A changed audio key is never served from the memo.
        let (d, _) = signer.url(song, "songs/b.mp3", 200.0, later).await.unwrap();
        assert!(d.contains("/songs/b.mp3?"));
    }

    #[tokio::test]
    async fn an_ecdsa_key_signs_inline_and_a_zero_memo_keeps_nothing() {
        let key = include_str!("../../../crates/testkit/fixtures/cloudfront-ec-test.key.pem");
        let public = include_str!("../../../crates/testkit/fixtures/cloudfront-ec-test.pub.pem");
        let signer = Arc::new(StreamSigner::with_memo(
            Arc::new(StreamUrlSigner::from_pem("K2ECTEST", key).unwrap()),
            "https://cdn.example",
            0,
        ));
        let now = 1_800_000_000;
        let song = Uuid::new_v4();
        let (url, expires) = signer.url(song, "songs/a.mp3", 200.0, now).await.unwrap();
        let keys = cadenza_cdn::TrustedKeys::new()
            .with_pem("K2ECTEST", public)
            .unwrap();
        cadenza_cdn::verify(&url, &keys, now, None).expect("the edge accepts it");
        assert!(expires - now >= required_validity(200.0));
        assert!(signer.memo.lock().unwrap().is_empty(), "memo off");
        signer.url(song, "songs/a.mp3", 200.0, now).await.unwrap();
        assert!(signer.memo.lock().unwrap().is_empty(), "still off");
    }
}
