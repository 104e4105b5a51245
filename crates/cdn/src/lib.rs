//! CloudFront signed URLs.
//!
//! [`StreamUrlSigner`] mints canned-policy URLs as AWS's own signers do
//! (botocore's `CloudFrontSigner`, the JS and Java SDKs): the policy JSON
//! without whitespace, signed, in CloudFront's URL-safe base64 (`+`→`-`,
//! `=`→`_`, `/`→`~`). Keys: ECDSA P-256 with SHA-256 (the default for new
//! key pairs: about 40 times cheaper to sign with than RSA-2048 here, and
//! shorter URLs), or RSA-2048 PKCS#1 v1.5 with SHA-1 (byte-for-byte what
//! botocore writes) or SHA-256. A SHA-256 signature adds
//! `Hash-Algorithm=SHA256` to the URL, as CloudFront requires.
//!
//! [`verify`] checks a signed URL as a CloudFront edge does, for canned
//! (`Expires`) and custom (`Policy`) policies; the dev edge uses it.
//!
//! Backends: `p256` 0.14 (RustCrypto; RFC 6979 deterministic nonces, DER
//! signatures as OpenSSL writes them) and `rsa` 0.10, whose private-key
//! operations are constant time (crypto-bigint) and blinded; 0.9 is
//! affected by RUSTSEC-2023-0071. See the crate README for the trade-off.

mod glob;
mod ip;

use std::net::IpAddr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use p256::ecdsa as ec;
use rsa_ct::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa_ct::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa_ct::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa_ct::signature::{SignatureEncoding, Signer, Verifier};
use rsa_ct::{PrivateKey, PublicKey};
use serde::Deserialize;
use sha1_v011::Sha1;
use sha2_v011::Sha256;

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
    #[error("ECDSA signing failed: {0}")]
    Ecdsa(String),
    #[error("the URL already has a CloudFront signing parameter ({0}); sign the bare URL")]
    SigningParameter(String),
}

/// The digest a signature is made with; CloudFront reads it from the
/// `Hash-Algorithm` parameter (absent: SHA-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha1,
    Sha256,
}

impl HashAlgorithm {
    /// `SHA1` or `SHA256`, as in the URL and in `CLOUDFRONT_HASH_ALGORITHM`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "SHA1" => Some(Self::Sha1),
            "SHA256" => Some(Self::Sha256),
            _ => None,
        }
    }
}

/// The kind of key a signer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    EcdsaP256,
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

enum PrivatePem {
    Rsa(PrivateKey),
    Ecdsa(ec::SigningKey),
}

enum PublicPem {
    Rsa(PublicKey),
    Ecdsa(ec::VerifyingKey),
}

fn parse_private_pem(pem: &str) -> Result<PrivatePem, KeyError> {
    let pem = pem.trim();
    if pem.contains("BEGIN RSA PRIVATE KEY") {
        PrivateKey::from_pkcs1_pem(pem)
            .map(PrivatePem::Rsa)
            .map_err(|e| KeyError(format!("PKCS#1 PEM: {e}")))
    } else if pem.contains("BEGIN EC PRIVATE KEY") {
        p256::SecretKey::from_sec1_pem(pem)
            .map(|k| PrivatePem::Ecdsa(ec::SigningKey::from(k)))
            .map_err(|e| KeyError(format!("SEC1 PEM (must be a P-256 key): {e:?}")))
    } else if pem.contains("BEGIN PRIVATE KEY") {
        match PrivateKey::from_pkcs8_pem(pem) {
            Ok(k) => Ok(PrivatePem::Rsa(k)),
            Err(rsa_err) => <ec::SigningKey as p256::pkcs8::DecodePrivateKey>::from_pkcs8_pem(pem)
                .map(PrivatePem::Ecdsa)
                .map_err(|ec_err| {
                    KeyError(format!(
                        "PKCS#8 PEM is neither RSA ({rsa_err}) nor ECDSA P-256 ({ec_err})"
                    ))
                }),
        }
    } else {
        Err(KeyError(
            "expected a PEM private key: ECDSA P-256 (BEGIN EC PRIVATE KEY or BEGIN PRIVATE KEY) or RSA (BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY)".into(),
        ))
    }
}

fn parse_public_pem(pem: &str) -> Result<PublicPem, KeyError> {
    let pem = pem.trim();
    if pem.contains("BEGIN RSA PUBLIC KEY") {
        PublicKey::from_pkcs1_pem(pem)
            .map(PublicPem::Rsa)
            .map_err(|e| KeyError(format!("PKCS#1 PEM: {e}")))
    } else if pem.contains("BEGIN PUBLIC KEY") {
        match PublicKey::from_public_key_pem(pem) {
            Ok(k) => Ok(PublicPem::Rsa(k)),
            Err(rsa_err) => {
                <ec::VerifyingKey as p256::pkcs8::DecodePublicKey>::from_public_key_pem(pem)
                    .map(PublicPem::Ecdsa)
                    .map_err(|ec_err| {
                        KeyError(format!(
                            "SPKI PEM is neither RSA ({rsa_err}) nor ECDSA P-256 ({ec_err})"
                        ))
                    })
            }
        }
    } else {
        Err(KeyError(
            "expected a PEM public key (BEGIN PUBLIC KEY, or BEGIN RSA PUBLIC KEY)".into(),
        ))
    }
}

enum Signing {
    RsaSha1(SigningKey<Sha1>),
    RsaSha256(SigningKey<Sha256>),
    /// ring's P-256 (assembly field arithmetic): about 4x faster than the
    /// pure-Rust p256 signer, which still parses the key and verifies.
    Ecdsa(ring::signature::EcdsaKeyPair, ring::rand::SystemRandom),
}

/// Mints CloudFront signed URLs with one key pair. The key is parsed once;
/// cheap to share behind an `Arc`.
pub struct StreamUrlSigner {
    key_pair_id: String,
    key: Signing,
}

impl std::fmt::Debug for StreamUrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamUrlSigner")
            .field("key_pair_id", &self.key_pair_id)
            .field("kind", &self.kind())
            .field("hash", &self.hash_algorithm())
            .finish_non_exhaustive()
    }
}

impl StreamUrlSigner {
    /// An ECDSA P-256 key (SEC1 `BEGIN EC PRIVATE KEY` or PKCS#8) signs with
    /// SHA-256; an RSA key (PKCS#1 `BEGIN RSA PRIVATE KEY` or PKCS#8) with
    /// SHA-1, as existing key groups expect.
    pub fn from_pem(key_pair_id: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        Self::from_pem_with(key_pair_id, pem, None)
    }

    /// As [`from_pem`](Self::from_pem), with the digest chosen: RSA takes
    /// SHA-1 or SHA-256; ECDSA only SHA-256.
    pub fn from_pem_with(
        key_pair_id: impl Into<String>,
        pem: &str,
        hash: Option<HashAlgorithm>,
    ) -> Result<Self, KeyError> {
        let key_pair_id = key_pair_id.into();
        if key_pair_id.is_empty() || !key_pair_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(KeyError(
                "the key pair id must be non-empty and alphanumeric".into(),
            ));
        }
        let key = match (parse_private_pem(pem)?, hash) {
            (PrivatePem::Rsa(k), None | Some(HashAlgorithm::Sha1)) => {
                Signing::RsaSha1(SigningKey::<Sha1>::new(k))
            }
            (PrivatePem::Rsa(k), Some(HashAlgorithm::Sha256)) => {
                Signing::RsaSha256(SigningKey::<Sha256>::new(k))
            }
            (PrivatePem::Ecdsa(k), None | Some(HashAlgorithm::Sha256)) => {
                let pkcs8 = <p256::SecretKey as p256::pkcs8::EncodePrivateKey>::to_pkcs8_der(
                    &p256::SecretKey::from(k),
                )
                .map_err(|e| KeyError(format!("ECDSA key: {e}")))?;
                let rng = ring::rand::SystemRandom::new();
                let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
                    &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                    pkcs8.as_bytes(),
                    &rng,
                )
                .map_err(|e| KeyError(format!("ECDSA key: {e}")))?;
                Signing::Ecdsa(pair, rng)
            }
            (PrivatePem::Ecdsa(_), Some(HashAlgorithm::Sha1)) => {
                return Err(KeyError(
                    "an ECDSA key signs with SHA-256 only (CLOUDFRONT_HASH_ALGORITHM=SHA256)"
                        .into(),
                ))
            }
        };
        Ok(Self { key_pair_id, key })
    }

    pub fn key_pair_id(&self) -> &str {
        &self.key_pair_id
    }

    pub fn kind(&self) -> KeyKind {
        match self.key {
            Signing::Ecdsa(..) => KeyKind::EcdsaP256,
            _ => KeyKind::Rsa,
        }
    }

    pub fn hash_algorithm(&self) -> HashAlgorithm {
        match self.key {
            Signing::RsaSha1(_) => HashAlgorithm::Sha1,
            _ => HashAlgorithm::Sha256,
        }
    }

    fn sign_bytes(&self, message: &[u8]) -> Result<String, SignError> {
        let bytes = match &self.key {
            Signing::RsaSha1(k) => {
                let signature: Signature = k
                    .try_sign(message)
                    .map_err(|e| SignError::Rsa(e.to_string()))?;
                signature.to_vec()
            }
            Signing::RsaSha256(k) => {
                let signature: Signature = k
                    .try_sign(message)
                    .map_err(|e| SignError::Rsa(e.to_string()))?;
                signature.to_vec()
            }
            // ASN.1 DER (r, s), as CloudFront expects.
            Signing::Ecdsa(pair, rng) => pair
                .sign(rng, message)
                .map_err(|e| SignError::Ecdsa(e.to_string()))?
                .as_ref()
                .to_vec(),
        };
        Ok(url_b64_encode(&bytes))
    }

    /// `&Hash-Algorithm=SHA256` for a SHA-256 signature, else nothing.
    fn hash_param(&self) -> &'static str {
        match self.hash_algorithm() {
            HashAlgorithm::Sha1 => "",
            HashAlgorithm::Sha256 => "&Hash-Algorithm=SHA256",
        }
    }

    /// `url?Expires=…&Signature=…&Key-Pair-Id=…[&Hash-Algorithm=SHA256]`
    /// (`&` when `url` already has a query), valid until `expires` (Unix
    /// seconds).
    pub fn sign_canned(&self, url: &str, expires: i64) -> Result<String, SignError> {
        check_ascii(url)?;
        let signature = self.sign_bytes(canned_policy(url, expires).as_bytes())?;
        let sep = if url.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{url}{sep}Expires={expires}&Signature={signature}&Key-Pair-Id={}{}",
            self.key_pair_id,
            self.hash_param()
        ))
    }

    /// `url?Policy=…&Signature=…&Key-Pair-Id=…[&Hash-Algorithm=SHA256]` for
    /// a custom policy.
    pub fn sign_custom(&self, url: &str, policy: &CustomPolicy) -> Result<String, SignError> {
        check_ascii(url)?;
        let json = policy.to_json();
        let signature = self.sign_bytes(json.as_bytes())?;
        let sep = if url.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{url}{sep}Policy={}&Signature={signature}&Key-Pair-Id={}{}",
            url_b64_encode(json.as_bytes()),
            self.key_pair_id,
            self.hash_param()
        ))
    }
}

fn check_ascii(url: &str) -> Result<(), SignError> {
    if !url.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(SignError::NotAscii);
    }
    // CloudFront strips these before checking the policy, so a URL that
    // already carries one would never verify.
    let query = url.split_once('?').map_or("", |(_, q)| q);
    for param in query.split('&') {
        let name = param.split_once('=').map_or(param, |(n, _)| n);
        if matches!(
            name,
            "Expires" | "Policy" | "Signature" | "Key-Pair-Id" | "Hash-Algorithm"
        ) {
            return Err(SignError::SigningParameter(name.to_owned()));
        }
    }
    Ok(())
}

/// A trusted public key, ready for either digest.
#[derive(Clone)]
enum Trusted {
    Rsa {
        sha1: VerifyingKey<Sha1>,
        sha256: VerifyingKey<Sha256>,
    },
    Ecdsa(ec::VerifyingKey),
}

impl Trusted {
    fn verify(
        &self,
        message: &[u8],
        signature: &[u8],
        hash: HashAlgorithm,
    ) -> Result<(), VerifyError> {
        match self {
            Trusted::Rsa { sha1, sha256 } => {
                let signature = Signature::try_from(signature)
                    .map_err(|_| VerifyError::Malformed("Signature"))?;
                let ok = match hash {
                    HashAlgorithm::Sha1 => sha1.verify(message, &signature),
                    HashAlgorithm::Sha256 => sha256.verify(message, &signature),
                };
                ok.map_err(|_| VerifyError::BadSignature)
            }
            Trusted::Ecdsa(key) => {
                // ECDSA signatures are SHA-256 only, and must say so.
                if hash != HashAlgorithm::Sha256 {
                    return Err(VerifyError::BadSignature);
                }
                let signature = ec::Signature::from_der(signature)
                    .map_err(|_| VerifyError::Malformed("Signature"))?;
                <ec::VerifyingKey as p256::ecdsa::signature::Verifier<ec::Signature>>::verify(
                    key, message, &signature,
                )
                .map_err(|_| VerifyError::BadSignature)
            }
        }
    }
}

/// The public keys an edge trusts, by key pair id.
#[derive(Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<(String, Trusted)>,
}

impl TrustedKeys {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key: SPKI `BEGIN PUBLIC KEY` (RSA or ECDSA P-256) or PKCS#1
    /// `BEGIN RSA PUBLIC KEY`.
    pub fn with_pem(mut self, key_pair_id: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        let key = match parse_public_pem(pem)? {
            PublicPem::Rsa(k) => Trusted::Rsa {
                sha1: VerifyingKey::<Sha1>::new(k.clone()),
                sha256: VerifyingKey::<Sha256>::new(k),
            },
            PublicPem::Ecdsa(k) => Trusted::Ecdsa(k),
        };
        self.keys.push((key_pair_id.into(), key));
        Ok(self)
    }

    fn get(&self, id: &str) -> Option<&Trusted> {
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
    pub hash: HashAlgorithm,
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
    hash_algorithm: Option<&'a str>,
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
    let mut hash_algorithm = None;
    for param in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        let slot = match name {
            "Expires" => &mut expires,
            "Policy" => &mut policy,
            "Signature" => &mut signature,
            "Key-Pair-Id" => &mut key_pair_id,
            "Hash-Algorithm" => &mut hash_algorithm,
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
                "Hash-Algorithm" => "Hash-Algorithm",
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
        hash_algorithm,
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
    let signature = url_b64_decode(parts.signature).ok_or(VerifyError::Malformed("Signature"))?;
    let hash = match parts.hash_algorithm {
        None => HashAlgorithm::Sha1,
        Some(h) => HashAlgorithm::parse(h).ok_or(VerifyError::Malformed("Hash-Algorithm"))?,
    };
    let (kind, expires) = match (parts.expires, parts.policy) {
        (Some(_), Some(_)) => return Err(VerifyError::Ambiguous),
        (None, None) => return Err(VerifyError::Missing("Expires or Policy")),
        (Some(expires), None) => {
            let expires: i64 = expires
                .parse()
                .map_err(|_| VerifyError::Malformed("Expires"))?;
            let policy = canned_policy(&parts.resource, expires);
            key.verify(policy.as_bytes(), &signature, hash)?;
            if now >= expires {
                return Err(VerifyError::Expired);
            }
            (PolicyKind::Canned, expires)
        }
        (None, Some(policy)) => {
            let bytes = url_b64_decode(policy).ok_or(VerifyError::Malformed("Policy"))?;
            key.verify(&bytes, &signature, hash)?;
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
        hash,
    })
}

#[cfg(test)]
mod tests;
