//! Cross-checks against an independent implementation: botocore's
//! `CloudFrontSigner` with `cryptography` (RSA PKCS#1 v1.5 with SHA-1 or
//! SHA-256, ECDSA P-256 with SHA-256), run from
//! the project's venv at test time, plus vectors it produced once
//! (`tests/vectors.json`, regenerate with `tests/gen_vectors.py`) so that a
//! signer change is caught even where the venv is unavailable.

use std::path::PathBuf;
use std::process::Command;

use cadenza_cdn::{verify, HashAlgorithm, PolicyKind, StreamUrlSigner, TrustedKeys};
use cadenza_testkit::keys::{
    CLOUDFRONT_EC_PRIVATE_PEM, CLOUDFRONT_EC_PRIVATE_SEC1_PEM, CLOUDFRONT_EC_PUBLIC_PEM,
    CLOUDFRONT_PRIVATE_PEM, CLOUDFRONT_PRIVATE_PKCS1_PEM, CLOUDFRONT_PUBLIC_PEM,
};

const KP: &str = "K2JCJMDEHXQW5F";

fn python() -> PathBuf {
    let venv = cadenza_testkit::infra()
        .venv
        .clone()
        .expect("CADENZA_VENV is not set: run `./dev infra up`");
    let py = venv.join("bin/python");
    assert!(py.exists(), "no python at {}", py.display());
    py
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/gen_vectors.py")
}

/// botocore's signed URL for (pem, url, expires) or, with `custom`, for a
/// custom policy with a `songs/*` wildcard resource.
fn botocore(pem: &str, url: &str, expires: i64, custom: Option<&str>) -> String {
    botocore_with(pem, url, expires, custom, None)
}

/// As [`botocore`]; `hash` = `Some("SHA256")` makes an RSA key sign with
/// SHA-256 (ECDSA keys always do).
fn botocore_with(
    pem: &str,
    url: &str,
    expires: i64,
    custom: Option<&str>,
    hash: Option<&str>,
) -> String {
    let dir = std::env::temp_dir().join(cadenza_testkit::unique_name("cdn-"));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("key.pem");
    std::fs::write(&key, pem).unwrap();
    let mut cmd = Command::new(python());
    cmd.arg(script())
        .arg("sign")
        .arg(&key)
        .arg(KP)
        .arg(url)
        .arg(expires.to_string());
    if let Some(resource) = custom {
        cmd.arg(resource);
    }
    if let Some(h) = hash {
        cmd.env("HASH", h);
    }
    let out = cmd.output().expect("run python");
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "botocore signer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn canned_urls_match_botocore_byte_for_byte_for_pkcs8_and_pkcs1_keys() {
    let cases = [
        (
            "https://d111111abcdef8.cloudfront.net/songs/3f1c.mp3",
            1_767_225_600,
        ),
        ("http://127.0.0.1:8090/songs/a.ogg?x=1&y=%2F", 2_000_000_000),
        (
            "https://cdn.cadenza.test/songs/0b6c1e6e.flac?response-content-type=audio%2Fflac",
            1_800_000_123,
        ),
    ];
    for (pem_name, pem) in [
        ("pkcs8", CLOUDFRONT_PRIVATE_PEM),
        ("pkcs1", CLOUDFRONT_PRIVATE_PKCS1_PEM),
    ] {
        let signer = StreamUrlSigner::from_pem(KP, pem).unwrap();
        for (url, expires) in cases {
            let ours = signer.sign_canned(url, expires).unwrap();
            let theirs = botocore(pem, url, expires, None);
            assert_eq!(ours, theirs, "{pem_name} key, {url}");
        }
    }
}

#[test]
fn botocore_custom_policy_urls_verify_here() {
    let keys = TrustedKeys::new()
        .with_pem(KP, CLOUDFRONT_PUBLIC_PEM)
        .unwrap();
    let now = chrono_now();
    let url = "https://cdn.cadenza.test/songs/abc.mp3";
    let signed = botocore(
        CLOUDFRONT_PRIVATE_PEM,
        url,
        now + 300,
        Some("https://cdn.cadenza.test/songs/*"),
    );
    assert!(signed.contains("Policy="), "{signed}");
    let v = verify(&signed, &keys, now, None).unwrap();
    assert_eq!(v.kind, PolicyKind::Custom);
    assert_eq!(v.path, "/songs/abc.mp3");
    // The wildcard policy does not stretch to the covers.
    let elsewhere = signed.replace("/songs/abc.mp3", "/thumbnails/abc.jpg");
    assert!(verify(&elsewhere, &keys, now, None).is_err());
    // And a botocore canned URL verifies too.
    let canned = botocore(CLOUDFRONT_PRIVATE_PEM, url, now + 300, None);
    assert_eq!(
        verify(&canned, &keys, now, None).unwrap().kind,
        PolicyKind::Canned
    );
}

#[derive(serde::Deserialize)]
struct Vector {
    key: String,
    url: String,
    expires: i64,
    signed: String,
}

#[test]
fn committed_botocore_vectors_still_match() {
    let text = include_str!("vectors.json");
    let vectors: Vec<Vector> = serde_json::from_str(text).unwrap();
    assert!(vectors.len() >= 2);
    for v in vectors {
        let pem = match v.key.as_str() {
            "pkcs8" => CLOUDFRONT_PRIVATE_PEM,
            "pkcs1" => CLOUDFRONT_PRIVATE_PKCS1_PEM,
            other => panic!("unknown key form {other}"),
        };
        let signer = StreamUrlSigner::from_pem(KP, pem).unwrap();
        assert_eq!(
            signer.sign_canned(&v.url, v.expires).unwrap(),
            v.signed,
            "{}",
            v.key
        );
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `cryptography`'s verdict on a canned URL of ours (policy rebuilt by
/// botocore, signature checked with `public_pem`).
fn python_verifies(public_pem: &str, signed: &str) -> Result<(), String> {
    let dir = std::env::temp_dir().join(cadenza_testkit::unique_name("cdn-"));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("pub.pem");
    std::fs::write(&key, public_pem).unwrap();
    let out = Command::new(python())
        .arg(script())
        .arg("verify")
        .arg(&key)
        .arg(signed)
        .output()
        .expect("run python");
    std::fs::remove_dir_all(&dir).ok();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

#[test]
fn ecdsa_urls_cross_verify_with_botocore_and_cryptography() {
    let keys = TrustedKeys::new()
        .with_pem(KP, CLOUDFRONT_EC_PUBLIC_PEM)
        .unwrap();
    let now = chrono_now();
    let url = "https://cdn.cadenza.test/songs/abc.mp3?x=1";
    for (form, pem) in [
        ("pkcs8", CLOUDFRONT_EC_PRIVATE_PEM),
        ("sec1", CLOUDFRONT_EC_PRIVATE_SEC1_PEM),
    ] {
        // Theirs verifies here: canned and custom.
        let canned = botocore(pem, url, now + 300, None);
        assert!(canned.ends_with("&Hash-Algorithm=SHA256"), "{canned}");
        let v = verify(&canned, &keys, now, None).unwrap_or_else(|e| panic!("{form}: {e}"));
        assert_eq!(
            (v.kind, v.hash),
            (PolicyKind::Canned, HashAlgorithm::Sha256)
        );
        let custom = botocore(
            pem,
            url,
            now + 300,
            Some("https://cdn.cadenza.test/songs/*"),
        );
        assert_eq!(
            verify(&custom, &keys, now, None).unwrap().kind,
            PolicyKind::Custom
        );
        // Ours verifies there; ECDSA signatures are randomised in
        // cryptography (RFC 6979 here), so the check is verification, not
        // equality.
        let ours = StreamUrlSigner::from_pem(KP, pem)
            .unwrap()
            .sign_canned(url, now + 300)
            .unwrap();
        python_verifies(CLOUDFRONT_EC_PUBLIC_PEM, &ours).unwrap_or_else(|e| panic!("{form}: {e}"));
        // And theirs fails there once tampered with (the checker can fail).
        let tampered = ours.replace("/songs/abc.mp3", "/songs/abd.mp3");
        assert!(python_verifies(CLOUDFRONT_EC_PUBLIC_PEM, &tampered).is_err());
    }
}

#[test]
fn rsa_sha256_urls_match_botocore_byte_for_byte() {
    let signer =
        StreamUrlSigner::from_pem_with(KP, CLOUDFRONT_PRIVATE_PEM, Some(HashAlgorithm::Sha256))
            .unwrap();
    let url = "https://d111111abcdef8.cloudfront.net/songs/3f1c.mp3";
    let ours = signer.sign_canned(url, 1_767_225_600).unwrap();
    let theirs = botocore_with(
        CLOUDFRONT_PRIVATE_PEM,
        url,
        1_767_225_600,
        None,
        Some("SHA256"),
    );
    assert_eq!(ours, theirs);
    python_verifies(CLOUDFRONT_PUBLIC_PEM, &ours).unwrap();
    // The SHA-1 URL is a different signature, and says nothing of a hash.
    let sha1 = StreamUrlSigner::from_pem(KP, CLOUDFRONT_PRIVATE_PEM)
        .unwrap()
        .sign_canned(url, 1_767_225_600)
        .unwrap();
    assert!(!sha1.contains("Hash-Algorithm"));
    python_verifies(CLOUDFRONT_PUBLIC_PEM, &sha1).unwrap();
}
