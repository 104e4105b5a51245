//! Fixture keys (see `fixtures/README.md`) and access-token minting with
//! every claim overridable, for testing verifiers.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

pub const JWT_PRIVATE_PEM: &str = include_str!("../fixtures/jwt-test.key.pem");
pub const JWT_PUBLIC_PEM: &str = include_str!("../fixtures/jwt-test.pub.pem");
/// RFC 7638 thumbprint of the test key (computed independently with Python).
pub const JWT_KID: &str = "SKJ7OGte9Lt_Fz3Oxay4-2ZDXb1qeVsS8qn5jNCiKjg";
pub const OTHER_PRIVATE_PEM: &str = include_str!("../fixtures/jwt-other.key.pem");
pub const OTHER_PUBLIC_PEM: &str = include_str!("../fixtures/jwt-other.pub.pem");
pub const OTHER_KID: &str = "TVseiD1kU-3liCL6rpK394JDtCkv3vqmxs6RDJfVg0A";
pub const CLOUDFRONT_PRIVATE_PEM: &str = include_str!("../fixtures/cloudfront-test.key.pem");
pub const CLOUDFRONT_PRIVATE_PKCS1_PEM: &str =
    include_str!("../fixtures/cloudfront-test.pkcs1.pem");
pub const CLOUDFRONT_PUBLIC_PEM: &str = include_str!("../fixtures/cloudfront-test.pub.pem");
/// An ECDSA P-256 CloudFront key pair: PKCS#8, SEC1, SPKI.
pub const CLOUDFRONT_EC_PRIVATE_PEM: &str = include_str!("../fixtures/cloudfront-ec-test.key.pem");
pub const CLOUDFRONT_EC_PRIVATE_SEC1_PEM: &str =
    include_str!("../fixtures/cloudfront-ec-test.sec1.pem");
pub const CLOUDFRONT_EC_PUBLIC_PEM: &str = include_str!("../fixtures/cloudfront-ec-test.pub.pem");

pub const ISSUER: &str = "cadenza-user";
pub const AUDIENCE: &str = "cadenza-api";

/// What a service under test verifies tokens with: the fixture key,
/// [`ISSUER`] and [`AUDIENCE`] (tokens from [`mint`] pass).
pub fn verifier_config() -> cadenza_auth::VerifierConfig {
    cadenza_auth::VerifierConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        keys: cadenza_auth::KeySource::Pems(JWT_PUBLIC_PEM.into()),
    }
}

/// Everything about a token; `TokenSpec::user()` is valid as it stands.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub sub: String,
    pub email: String,
    pub role: String,
    pub is_verified: bool,
    pub sid: String,
    pub iss: String,
    pub aud: String,
    pub typ: Option<String>,
    pub kid: Option<String>,
    /// Seconds relative to now.
    pub iat_offset: i64,
    pub nbf_offset: i64,
    pub exp_offset: i64,
    pub private_pem: &'static str,
}

impl TokenSpec {
    pub fn user() -> Self {
        Self {
            sub: uuid::Uuid::new_v4().simple().to_string()[..24].to_owned(),
            email: "listener@cadenza.test".into(),
            role: "user".into(),
            is_verified: true,
            sid: uuid::Uuid::new_v4().to_string(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            typ: Some("at+jwt".into()),
            kid: Some(JWT_KID.into()),
            iat_offset: 0,
            nbf_offset: 0,
            exp_offset: 900,
            private_pem: JWT_PRIVATE_PEM,
        }
    }

    pub fn admin() -> Self {
        Self {
            role: "admin".into(),
            email: "admin@cadenza.test".into(),
            ..Self::user()
        }
    }
}

/// Signs `spec` with RS256.
pub fn mint(spec: &TokenSpec) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut header = Header::new(Algorithm::RS256);
    header.typ = spec.typ.clone();
    header.kid = spec.kid.clone();
    let claims = json!({
        "iss": spec.iss,
        "aud": spec.aud,
        "sub": spec.sub,
        "email": spec.email,
        "role": spec.role,
        "isVerified": spec.is_verified,
        "sid": spec.sid,
        "iat": now + spec.iat_offset,
        "nbf": now + spec.nbf_offset,
        "exp": now + spec.exp_offset,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let key = EncodingKey::from_rsa_pem(spec.private_pem.as_bytes()).expect("fixture key");
    jsonwebtoken::encode(&header, &claims, &key).expect("sign token")
}
