//! Tokens whose signature and claims already passed, so that a listener's
//! next requests with the same access token skip the RSA verification (about
//! 14 µs of CPU, most of a cached catalogue read).
//!
//! What is kept is the outcome of the checks that cannot change while the
//! key set stays the same: signature, `alg`, `typ`, `kid`, `iss`, `aud`,
//! `nbf` (once valid, a token stays valid) and the claims. What is checked on
//! every request anyway: `exp` (with the leeway) and the denylist.
//!
//! Keyed by the SHA-256 of the whole compact token, so a token that differs
//! in one byte is a different entry and goes through the full check. A key
//! set change that drops or replaces a key bumps a generation and empties the
//! map under the same lock ([`Memo::replace_keys`]); a verification records
//! the generation before it reads its key ([`Lookup::Unknown`]) and cannot
//! add its result once the generation has moved ([`Memo::keep`]).

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::claims::Claims;
use crate::LEEWAY_SECS;

/// At most this many tokens are kept: a few hundred bytes each.
pub const MEMO_MAX: usize = 8192;

/// The SHA-256 of a compact token.
pub type TokenDigest = [u8; 32];

pub fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

/// What a lookup found.
pub enum Lookup {
    /// Verified before under the current keys and not expired.
    Valid(Claims),
    /// Verified before, but `exp` (plus the leeway) has passed.
    Expired,
    /// Not kept: verify in full, then [`Memo::keep`] with this generation.
    Unknown(u64),
}

#[derive(Default)]
struct State {
    generation: u64,
    entries: HashMap<TokenDigest, Claims>,
}

#[derive(Default)]
pub struct Memo {
    state: Mutex<State>,
}

impl Memo {
    /// The kept outcome for `digest` at `now` (Unix seconds).
    pub fn lookup(&self, digest: &TokenDigest, now: u64) -> Lookup {
        let s = self.state.lock().unwrap();
        match s.entries.get(digest) {
            Some(c) if expired(c, now) => Lookup::Expired,
            Some(c) => Lookup::Valid(c.clone()),
            None => Lookup::Unknown(s.generation),
        }
    }

    /// Keeps `claims`, verified with the keys of `generation` (from
    /// [`Lookup::Unknown`], read before the key was), unless the key set has
    /// changed since: then the outcome may rest on a key that is gone.
    pub fn keep(&self, digest: TokenDigest, claims: &Claims, generation: u64, now: u64) {
        let mut s = self.state.lock().unwrap();
        if s.generation != generation {
            return;
        }
        if s.entries.len() >= MEMO_MAX {
            s.entries.retain(|_, c| !expired(c, now));
            if s.entries.len() > MEMO_MAX - MEMO_MAX / 8 {
                // Still nearly full of live tokens: start again rather than
                // sweep the whole map on almost every miss, or track recency
                // on every hit; the cost is one verification per token.
                s.entries.clear();
            }
        }
        s.entries.insert(digest, claims.clone());
    }

    /// Runs `replace`, which swaps the key set and says whether a key was
    /// dropped or changed; if so, forgets every outcome, as one step: no
    /// verification sees the new generation with old keys. A set that only
    /// gains keys (or is fetched again unchanged, as every JWKS refresh
    /// does) keeps them: nothing kept rests on a key that went.
    pub fn replace_keys(&self, replace: impl FnOnce() -> bool) {
        let mut s = self.state.lock().unwrap();
        if replace() {
            s.generation += 1;
            s.entries.clear();
        }
    }

    pub fn len(&self) -> usize {
        self.state.lock().unwrap().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The rule jsonwebtoken applies: expired once `exp` is more than the
/// leeway in the past.
fn expired(claims: &Claims, now: u64) -> bool {
    claims.exp < now as i64 - LEEWAY_SECS as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Role;

    fn claims(exp: i64) -> Claims {
        Claims {
            iss: "i".into(),
            aud: "a".into(),
            sub: "u".into(),
            email: "e@x".into(),
            role: Role::User,
            is_verified: true,
            sid: "s".into(),
            iat: 0,
            nbf: 0,
            exp,
            jti: "j".into(),
        }
    }

    #[test]
    fn kept_until_exp_plus_leeway() {
        let m = Memo::default();
        let d = digest("t");
        let Lookup::Unknown(g) = m.lookup(&d, 100) else {
            panic!("empty memo found something")
        };
        m.keep(d, &claims(1000), g, 100);
        assert!(matches!(m.lookup(&d, 1000 + LEEWAY_SECS), Lookup::Valid(_)));
        assert!(matches!(m.lookup(&d, 1001 + LEEWAY_SECS), Lookup::Expired));
    }

    #[test]
    fn an_outcome_from_before_a_key_change_is_not_kept() {
        let m = Memo::default();
        let d = digest("t");
        let Lookup::Unknown(g) = m.lookup(&d, 0) else {
            unreachable!()
        };
        m.replace_keys(|| true);
        m.keep(d, &claims(1000), g, 0);
        assert!(matches!(m.lookup(&d, 0), Lookup::Unknown(_)));
    }

    #[test]
    fn a_full_memo_drops_expired_entries_first_and_never_grows_past_its_bound() {
        let m = Memo::default();
        for i in 0..MEMO_MAX {
            let exp = if i % 2 == 0 { 10 } else { 10_000 };
            m.keep(digest(&i.to_string()), &claims(exp), 0, 0);
        }
        assert_eq!(m.len(), MEMO_MAX);
        m.keep(digest("new"), &claims(10_000), 0, 1000);
        assert_eq!(m.len(), MEMO_MAX / 2 + 1, "the expired half went first");
        // Nearly full of live tokens: emptied, not swept on every miss.
        let m = Memo::default();
        for i in 0..MEMO_MAX {
            m.keep(
                digest(&i.to_string()),
                &claims(if i < 100 { 10 } else { 10_000 }),
                0,
                0,
            );
        }
        m.keep(digest("new"), &claims(10_000), 0, 1000);
        assert_eq!(m.len(), 1);
        for i in 0..MEMO_MAX {
            m.keep(digest(&format!("more{i}")), &claims(10_000), 0, 1000);
            assert!(m.len() <= MEMO_MAX);
        }
    }
}
