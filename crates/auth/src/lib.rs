//! Access-token verification for every Cadenza service.
//!
//! Verifiers hold public keys only (PEMs, or a JWKS URL fetched and cached),
//! accept RS256 alone, require `typ: at+jwt`, exact `iss`/`aud`, `exp` and
//! `nbf` with 30 s leeway, and pick the key by `kid`. A verified token is
//! still refused when its session or user was revoked: revocations reach
//! every service through Redis (see [`denylist`]).

pub mod claims;
pub mod denylist;
pub mod extract;
pub mod keys;
pub mod memo;
pub mod verifier;

pub use claims::{Claims, Role};
pub use denylist::{Denylist, RevocationPublisher};
pub use extract::{AdminUser, AuthUser, MaybeUser};
pub use keys::{PublicJwk, PublicKeySet};
pub use verifier::{AuthError, KeySource, TokenVerifier, VerifierConfig};

/// Access tokens live this long (CONTRACTS §3).
pub const ACCESS_TOKEN_TTL_SECS: i64 = 900;
/// Clock leeway for `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;
