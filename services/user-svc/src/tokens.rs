//! Access-token minting (CONTRACTS §3), opaque random tokens and their hashes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cadenza_auth::{Claims, PublicJwk, Role, ACCESS_TOKEN_TTL_SECS};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Signs access tokens with the one RS256 private key. The key is parsed
/// once, at startup.
#[derive(Clone)]
pub struct AccessTokenIssuer {
    key: EncodingKey,
    kid: String,
    issuer: String,
    audience: String,
}

/// The identity a token is minted for.
pub struct Subject<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    pub role: Role,
    pub is_verified: bool,
    pub sid: &'a str,
}

impl AccessTokenIssuer {
    pub fn new(private_pem: &str, issuer: &str, audience: &str) -> Result<Self, String> {
        let jwk = PublicJwk::from_private_pem(private_pem)?;
        let key = EncodingKey::from_rsa_pem(private_pem.as_bytes()).map_err(|e| e.to_string())?;
        Ok(Self {
            key,
            kid: jwk.kid(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Returns the compact JWT and its claims.
    pub fn mint(&self, s: &Subject<'_>) -> Result<(String, Claims), jsonwebtoken::errors::Error> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: s.user_id.to_owned(),
            email: s.email.to_owned(),
            role: s.role,
            is_verified: s.is_verified,
            sid: s.sid.to_owned(),
            iat: now,
            nbf: now,
            exp: now + ACCESS_TOKEN_TTL_SECS,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("at+jwt".into());
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.key)?;
        Ok((token, claims))
    }
}

/// 32 random bytes, base64url without padding (refresh and email tokens).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a token, hex: the only form in which tokens are stored.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The JWKs of every PEM public key block in `pems`.
pub fn public_jwks(pems: &str) -> Result<Vec<PublicJwk>, String> {
    PublicJwk::all_from_public_pems(pems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_32_bytes_base64url() {
        let t = random_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&t).unwrap().len(), 32);
        assert_ne!(t, random_token());
        assert!(!t.contains('=') && !t.contains('+') && !t.contains('/'));
    }

    #[test]
    fn token_hash_is_sha256_hex() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
