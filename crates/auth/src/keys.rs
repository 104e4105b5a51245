//! RSA public keys, their RFC 7638 thumbprints (`kid`) and JWK form.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::DecodingKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A public key as a JWK (the entries of `/.well-known/jwks.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    pub kty: String,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default)]
    pub kid: Option<String>,
    pub n: String,
    pub e: String,
}

impl PublicJwk {
    pub fn from_rsa(key: &RsaPublicKey) -> Self {
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        let kid = thumbprint(&n, &e);
        Self {
            kty: "RSA".into(),
            use_: Some("sig".into()),
            alg: Some("RS256".into()),
            kid: Some(kid),
            n,
            e,
        }
    }

    /// The public half of a PKCS#8 private key (what user-svc signs with).
    pub fn from_private_pem(pem: &str) -> Result<Self, String> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem)
            .map_err(|e| format!("not a PKCS#8 RSA private key: {e}"))?;
        Ok(Self::from_rsa(&key.to_public_key()))
    }

    pub fn from_public_pem(pem: &str) -> Result<Self, String> {
        let key = RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
            .map_err(|e| format!("not an RSA public key: {e}"))?;
        Ok(Self::from_rsa(&key))
    }

    /// The JWK of every PEM public key block in `pems`.
    pub fn all_from_public_pems(pems: &str) -> Result<Vec<Self>, String> {
        let keys = split_pem_blocks(pems)
            .iter()
            .map(|block| Self::from_public_pem(block))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err("no PEM public key found".into());
        }
        Ok(keys)
    }

    pub fn kid(&self) -> String {
        self.kid
            .clone()
            .unwrap_or_else(|| thumbprint(&self.n, &self.e))
    }

    fn decoding_key(&self) -> Result<DecodingKey, String> {
        DecodingKey::from_rsa_components(&self.n, &self.e).map_err(|e| e.to_string())
    }
}

/// RFC 7638: SHA-256 over the canonical JSON of the required members, in
/// lexicographic order, base64url without padding.
pub fn thumbprint(n_b64: &str, e_b64: &str) -> String {
    let canonical = format!(r#"{{"e":"{e_b64}","kty":"RSA","n":"{n_b64}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Verification keys by `kid`.
#[derive(Clone, Default)]
pub struct PublicKeySet {
    /// kid -> the key, and the RFC 7638 thumbprint of it (DecodingKey does
    /// not expose its components, and a kid is only a name).
    keys: HashMap<String, (DecodingKey, String)>,
}

impl PublicKeySet {
    /// Every PEM block in `pems` (one string may hold several, which is how
    /// a rotation publishes two keys).
    pub fn from_pems(pems: &str) -> Result<Self, String> {
        let mut set = Self::default();
        for block in split_pem_blocks(pems) {
            let jwk = PublicJwk::from_public_pem(&block)?;
            set.insert(&jwk)?;
        }
        if set.keys.is_empty() {
            return Err("no PEM public key found".into());
        }
        Ok(set)
    }

    pub fn from_jwks(jwks: &[PublicJwk]) -> Result<Self, String> {
        let mut set = Self::default();
        for jwk in jwks.iter().filter(|k| k.kty == "RSA") {
            set.insert(jwk)?;
        }
        Ok(set)
    }

    fn insert(&mut self, jwk: &PublicJwk) -> Result<(), String> {
        self.keys
            .insert(jwk.kid(), (jwk.decoding_key()?, thumbprint(&jwk.n, &jwk.e)));
        Ok(())
    }

    /// Whether every key of `old` is still here, under the same kid: then
    /// nothing verified with `old` rests on a key that is gone.
    pub fn keeps_every_key_of(&self, old: &PublicKeySet) -> bool {
        old.keys
            .iter()
            .all(|(kid, (_, t))| self.keys.get(kid).is_some_and(|(_, mine)| mine == t))
    }

    pub fn get(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.get(kid).map(|(key, _)| key)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn split_pem_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("-----BEGIN ") {
            current = Some(format!("{line}\n"));
        } else if let Some(buf) = current.as_mut() {
            buf.push_str(line);
            buf.push('\n');
            if line.starts_with("-----END ") {
                blocks.push(current.take().unwrap());
            }
        }
    }
    blocks
}

/// The `kid`s of the key pairs committed in `crates/testkit/src/keys.rs`.
/// Anyone can sign tokens with them, so a service must not start with them
/// unless a test says so (`ALLOW_TEST_KEYS=true`).
pub const COMMITTED_TEST_KIDS: [&str; 2] = [
    "SKJ7OGte9Lt_Fz3Oxay4-2ZDXb1qeVsS8qn5jNCiKjg",
    "TVseiD1kU-3liCL6rpK394JDtCkv3vqmxs6RDJfVg0A",
];

/// Refuses `jwks` if one of them is a committed test key, unless `allowed`.
pub fn refuse_test_keys(jwks: &[PublicJwk], allowed: bool) -> Result<(), String> {
    match jwks
        .iter()
        .find(|k| COMMITTED_TEST_KIDS.contains(&k.kid().as_str()))
    {
        Some(k) if !allowed => Err(format!(
            "is the public test key {} committed in crates/testkit: generate a key \
             (set ALLOW_TEST_KEYS=true only in tests)",
            k.kid()
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cadenza_testkit::keys::*;

    #[test]
    fn the_committed_test_kids_are_the_testkit_keys() {
        assert_eq!(COMMITTED_TEST_KIDS, [JWT_KID, OTHER_KID]);
        let jwk = PublicJwk::from_private_pem(JWT_PRIVATE_PEM).unwrap();
        assert!(refuse_test_keys(std::slice::from_ref(&jwk), false).is_err());
        assert!(refuse_test_keys(&[jwk], true).is_ok());
    }

    #[test]
    fn thumbprint_matches_an_independent_implementation() {
        // JWT_KID was computed with Python's `cryptography` (see testkit).
        assert_eq!(
            PublicJwk::from_public_pem(JWT_PUBLIC_PEM).unwrap().kid(),
            JWT_KID
        );
        assert_eq!(
            PublicJwk::from_private_pem(JWT_PRIVATE_PEM).unwrap().kid(),
            JWT_KID
        );
        assert_eq!(
            PublicJwk::from_public_pem(OTHER_PUBLIC_PEM).unwrap().kid(),
            OTHER_KID
        );
    }

    #[test]
    fn several_pem_blocks_give_several_keys() {
        let both = format!("{JWT_PUBLIC_PEM}\n{OTHER_PUBLIC_PEM}");
        let set = PublicKeySet::from_pems(&both).unwrap();
        assert_eq!(set.len(), 2);
        assert!(set.get(JWT_KID).is_some() && set.get(OTHER_KID).is_some());
        assert!(PublicKeySet::from_pems("garbage").is_err());
    }
}
