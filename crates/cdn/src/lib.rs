//! CloudFront signed URLs.
//!
//! [`StreamUrlSigner`] mints canned-policy URLs byte-for-byte as AWS's own
//! signers do (botocore's `CloudFrontSigner`, the JS and Java SDKs): the policy
//! JSON without whitespace, RSA-SHA1 PKCS#1 v1.5 over it, and CloudFront's
//! URL-safe base64 (`+`→`-`, `=`→`_`, `/`→`~`).
//!
//! [`verify`] checks a signed URL as a CloudFront edge does, for canned
//! (`Expires`) and custom (`Policy`) policies; the dev edge uses it.
//!
//! Backend: `rsa` 0.10, whose private-key operations are constant time
//! (crypto-bigint) and blinded; 0.9 is affected by RUSTSEC-2023-0071. See the
//! crate README for the trade-off.

mod glob;
mod ip;

use std::net::IpAddr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa_ct::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa_ct::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa_ct::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa_ct::signature::{SignatureEncoding, Signer, Verifier};
use rsa_ct::{PrivateKey, PublicKey};
use serde::Deserialize;
use sha1_v011::Sha1;

pub use glob::matches as resource_matches;

/// A key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CloudFront key: {0}")]
pub struct KeyError(String);

/// A URL that cannot be signed as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the URL must be printable ASCII (percent-encode it first)")]
    NotAscii,
    #[error("RSA signing failed: {0}")]
    Rsa(String),
}

/// Why a signed URL was refused. Every variant is a 403 at the edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the URL is not an absolute http(s) URL")]
    NotAbsolute,
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("{0} appears more than once")]
    Duplicate(&'static str),
    #[error("both Expires and Policy are present")]
    Ambiguous,
    #[error("malformed {0}")]
    Malformed(&'static str),
    #[error("unknown Key-Pair-Id")]
    UnknownKeyPair,
    #[error("bad signature")]
    BadSignature,
    #[error("the URL has expired")]
    Expired,
    #[error("the URL is not valid yet")]
    NotYetValid,
    #[error("the policy does not cover this resource")]
    ResourceMismatch,
    #[error("the policy does not allow this client address")]
    IpNotAllowed,
}

/// CloudFront's URL-safe base64.
pub fn url_b64_encode(data: &[u8]) -> String {
    STANDARD
        .encode(data)
        .chars()
        .map(|c| match c {
            '+' => '-',
            '=' => '_',
            '/' => '~',
            c => c,
        })
        .collect()
}

pub fn url_b64_decode(text: &str) -> Option<Vec<u8>> {
    let standard: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '=',
            '~' => '/',
            c => c,
        })
        .collect();
    STANDARD.decode(standard).ok()
}

/// The canned policy CloudFront reconstructs from `Expires` and the URL.
pub fn canned_policy(resource: &str, expires: i64) -> String {
    // A JSON string literal; for printable ASCII (all we sign) this is exactly
    // what Python's json.dumps writes.
    let resource = serde_json::to_string(resource).unwrap_or_default();
    format!(
        "{{\"Statement\":[{{\"Resource\":{resource},\"Condition\":{{\"DateLessThan\":{{\"AWS:EpochTime\":{expires}}}}}}}]}}"
    )
}

/// A custom policy, serialised in the order botocore writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomPolicy {
    /// `None` covers every resource of the distribution.
    pub resource: Option<String>,
    pub date_less_than: i64,
    pub date_greater_than: Option<i64>,
    /// A CIDR (`/32` is added to a bare address).
    pub ip_address: Option<String>,
}

impl CustomPolicy {
    pub fn to_json(&self) -> String {
        // Written by hand: serde_json's map would sort the keys.
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut condition = format!(
            "\"DateLessThan\":{{\"AWS:EpochTime\":{}}}",
            self.date_less_than
        );
        if let Some(ip) = &self.ip_address {
            let cidr = if ip.contains('/') {
                ip.clone()
            } else {
                format!("{ip}/32")
            };
            condition.push_str(&format!(
                ",\"IpAddress\":{{\"AWS:SourceIp\":{}}}",
                quote(&cidr)
            ));
        }
        if let Some(t) = self.date_greater_than {
            condition.push_str(&format!(",\"DateGreaterThan\":{{\"AWS:EpochTime\":{t}}}"));
        }
        let resource = match &self.resource {
            Some(r) => format!("\"Resource\":{},", quote(r)),
            None => String::new(),
        };
        format!("{{\"Statement\":[{{{resource}\"Condition\":{{{condition}}}}}]}}")
    }
}

fn parse_private_pem(pem: &str) -> Result<PrivateKey, KeyError> {
    let pem = pem.trim();
    if pem.contains("BEGIN RSA PRIVATE KEY") {
        PrivateKey::from_pkcs1_pem(pem).map_err(|e| KeyError(format!("PKCS#1 PEM: {e}")))
    } else if pem.contains("BEGIN PRIVATE KEY") {
        PrivateKey::from_pkcs8_pem(pem).map_err(|e| KeyError(format!("PKCS#8 PEM: {e}")))
    } else {
        Err(KeyError(
            "expected a PEM RSA private key (BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY)".into(),
        ))
    }
}

fn parse_public_pem(pem: &str) -> Result<PublicKey, KeyError> {
    let pem = pem.trim();
    if pem.contains("BEGIN RSA PUBLIC KEY") {
        PublicKey::from_pkcs1_pem(pem).map_err(|e| KeyError(format!("PKCS#1 PEM: {e}")))
    } else if pem.contains("BEGIN PUBLIC KEY") {
        PublicKey::from_public_key_pem(pem).map_err(|e| KeyError(format!("SPKI PEM: {e}")))
    } else {
        Err(KeyError(
            "expected a PEM RSA public key (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY)".into(),
        ))
    }
}

/// Mints CloudFront signed URLs with one key pair. The key is parsed once;
/// cheap to share behind an `Arc`.
pub struct StreamUrlSigner {
    key_pair_id: String,
    key: SigningKey<Sha1>,
}

impl std::fmt::Debug for StreamUrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamUrlSigner")
            .field("key_pair_id", &self.key_pair_id)
            .finish_non_exhaustive()
    }
}

impl StreamUrlSigner {
    /// `pem` may be PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`).
    pub fn from_pem(key_pair_id: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        let key_pair_id = key_pair_id.into();
        if key_pair_id.is_empty() || !key_pair_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(KeyError(
                "the key pair id must be non-empty and alphanumeric".into(),
            ));
        }
        let key = parse_private_pem(pem)?;
        Ok(Self {
            key_pair_id,
            key: SigningKey::<Sha1>::new(key),
        })
    }

    pub fn key_pair_id(&self) -> &str {
        &self.key_pair_id
    }

    fn sign_bytes(&self, message: &[u8]) -> Result<String, SignError> {
        let signature: Signature = self
            .key
            .try_sign(message)
            .map_err(|e| SignError::Rsa(e.to_string()))?;
        Ok(url_b64_encode(&signature.to_vec()))
    }

    /// `url?Expires=…&Signature=…&Key-Pair-Id=…` (`&` when `url` already has
    /// a query), valid until `expires` (Unix seconds).
    pub fn sign_canned(&self, url: &str, expires: i64) -> Result<String, SignError> {
        check_ascii(url)?;
        let signature = self.sign_bytes(canned_policy(url, expires).as_bytes())?;
        let sep = if url.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{url}{sep}Expires={expires}&Signature={signature}&Key-Pair-Id={}",
            self.key_pair_id
        ))
    }

    /// `url?Policy=…&Signature=…&Key-Pair-Id=…` for a custom policy.
    pub fn sign_custom(&self, url: &str, policy: &CustomPolicy) -> Result<String, SignError> {
        check_ascii(url)?;
        let json = policy.to_json();
        let signature = self.sign_bytes(json.as_bytes())?;
        let sep = if url.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{url}{sep}Policy={}&Signature={signature}&Key-Pair-Id={}",
            url_b64_encode(json.as_bytes()),
            self.key_pair_id
        ))
    }
}

fn check_ascii(url: &str) -> Result<(), SignError> {
    if url.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        Ok(())
    } else {
        Err(SignError::NotAscii)
    }
}

/// The public keys an edge trusts, by key pair id.
#[derive(Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<(String, VerifyingKey<Sha1>)>,
}

impl TrustedKeys {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key (SPKI `BEGIN PUBLIC KEY` or PKCS#1 `BEGIN RSA PUBLIC KEY`).
    pub fn with_pem(mut self, key_pair_id: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        let key = parse_public_pem(pem)?;
        self.keys
            .push((key_pair_id.into(), VerifyingKey::<Sha1>::new(key)));
        Ok(self)
    }

    fn get(&self, id: &str) -> Option<&VerifyingKey<Sha1>> {
        self.keys.iter().find(|(k, _)| k == id).map(|(_, v)| v)
    }
}

/// Which kind of policy a verified URL carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Canned,
    Custom,
}

/// A URL that passed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The URL path (still percent-encoded), e.g. `/songs/x.mp3`.
    pub path: String,
    /// The URL without the signing parameters: what the policy covers.
    pub resource: String,
    pub expires: i64,
    pub key_pair_id: String,
    pub kind: PolicyKind,
}

#[derive(Deserialize)]
struct PolicyDoc {
    #[serde(rename = "Statement")]
    statement: Vec<Statement>,
}

#[derive(Deserialize)]
struct Statement {
    #[serde(rename = "Resource")]
    resource: Option<String>,
    #[serde(rename = "Condition")]
    condition: Condition,
}

#[derive(Deserialize)]
struct Condition {
    #[serde(rename = "DateLessThan")]
    date_less_than: EpochTime,
    #[serde(rename = "DateGreaterThan")]
    date_greater_than: Option<EpochTime>,
    #[serde(rename = "IpAddress")]
    ip_address: Option<SourceIp>,
}

#[derive(Deserialize)]
struct EpochTime {
    #[serde(rename = "AWS:EpochTime")]
    t: i64,
}

#[derive(Deserialize)]
struct SourceIp {
    #[serde(rename = "AWS:SourceIp")]
    cidr: String,
}

struct SignedParts<'a> {
    resource: String,
    path: &'a str,
    expires: Option<&'a str>,
    policy: Option<&'a str>,
    signature: &'a str,
    key_pair_id: &'a str,
}

fn split_signed(url: &str) -> Result<SignedParts<'_>, VerifyError> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let rest = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))
        .ok_or(VerifyError::NotAbsolute)?;
    let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
    let mut kept: Vec<&str> = Vec::new();
    let (mut expires, mut policy, mut signature, mut key_pair_id) = (None, None, None, None);
    for param in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        let slot = match name {
            "Expires" => &mut expires,
            "Policy" => &mut policy,
            "Signature" => &mut signature,
            "Key-Pair-Id" => &mut key_pair_id,
            _ => {
                kept.push(param);
                continue;
            }
        };
        if slot.replace(value).is_some() {
            return Err(VerifyError::Duplicate(match name {
                "Expires" => "Expires",
                "Policy" => "Policy",
                "Signature" => "Signature",
                _ => "Key-Pair-Id",
            }));
        }
    }
    let resource = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(SignedParts {
        resource,
        path,
        expires,
        policy,
        signature: signature.ok_or(VerifyError::Missing("Signature"))?,
        key_pair_id: key_pair_id.ok_or(VerifyError::Missing("Key-Pair-Id"))?,
    })
}

/// Verifies a signed URL (absolute, with its query) as CloudFront does, at
/// time `now` (Unix seconds). `client_ip` is checked against a custom
/// policy's `IpAddress`; a policy with an address condition and no known
/// client address is refused.
pub fn verify(
    url: &str,
    keys: &TrustedKeys,
    now: i64,
    client_ip: Option<IpAddr>,
) -> Result<Verified, VerifyError> {
    let parts = split_signed(url)?;
    let key = keys
        .get(parts.key_pair_id)
        .ok_or(VerifyError::UnknownKeyPair)?;
    let signature_bytes =
        url_b64_decode(parts.signature).ok_or(VerifyError::Malformed("Signature"))?;
    let signature = Signature::try_from(signature_bytes.as_slice())
        .map_err(|_| VerifyError::Malformed("Signature"))?;
    let (kind, expires) = match (parts.expires, parts.policy) {
        (Some(_), Some(_)) => return Err(VerifyError::Ambiguous),
        (None, None) => return Err(VerifyError::Missing("Expires or Policy")),
        (Some(expires), None) => {
            let expires: i64 = expires
                .parse()
                .map_err(|_| VerifyError::Malformed("Expires"))?;
            let policy = canned_policy(&parts.resource, expires);
            key.verify(policy.as_bytes(), &signature)
                .map_err(|_| VerifyError::BadSignature)?;
            if now >= expires {
                return Err(VerifyError::Expired);
            }
            (PolicyKind::Canned, expires)
        }
        (None, Some(policy)) => {
            let bytes = url_b64_decode(policy).ok_or(VerifyError::Malformed("Policy"))?;
            key.verify(&bytes, &signature)
                .map_err(|_| VerifyError::BadSignature)?;
            let doc: PolicyDoc =
                serde_json::from_slice(&bytes).map_err(|_| VerifyError::Malformed("Policy"))?;
            let [statement] = doc.statement.as_slice() else {
                return Err(VerifyError::Malformed("Policy"));
            };
            let cond = &statement.condition;
            if now >= cond.date_less_than.t {
                return Err(VerifyError::Expired);
            }
            if let Some(start) = &cond.date_greater_than {
                if now <= start.t {
                    return Err(VerifyError::NotYetValid);
                }
            }
            if let Some(pattern) = &statement.resource {
                if !glob::matches(pattern, &parts.resource) {
                    return Err(VerifyError::ResourceMismatch);
                }
            }
            if let Some(source) = &cond.ip_address {
                let allowed = client_ip
                    .map(|addr| ip::cidr_contains(&source.cidr, addr))
                    .transpose()
                    .map_err(|_| VerifyError::Malformed("Policy"))?;
                if allowed != Some(true) {
                    return Err(VerifyError::IpNotAllowed);
                }
            }
            (PolicyKind::Custom, cond.date_less_than.t)
        }
    };
    Ok(Verified {
        path: parts.path.to_owned(),
        resource: parts.resource.clone(),
        expires,
        key_pair_id: parts.key_pair_id.to_owned(),
        kind,
    })
}

#[cfg(test)]
mod tests;
