use super::*;
use cadenza_testkit::keys::{
    CLOUDFRONT_EC_PRIVATE_PEM, CLOUDFRONT_EC_PRIVATE_SEC1_PEM, CLOUDFRONT_EC_PUBLIC_PEM,
    CLOUDFRONT_PRIVATE_PEM, CLOUDFRONT_PRIVATE_PKCS1_PEM, CLOUDFRONT_PUBLIC_PEM, JWT_PUBLIC_PEM,
};

const KP: &str = "K2JCJMDEHXQW5F";
const URL: &str = "https://cdn.cadenza.test/songs/0b6c1e6e-5f7e-4c55-9d1e-6c1b1f2a9c11.mp3";
const NOW: i64 = 1_800_000_000;

fn signer() -> StreamUrlSigner {
    StreamUrlSigner::from_pem(KP, CLOUDFRONT_PRIVATE_PEM).unwrap()
}

fn keys() -> TrustedKeys {
    TrustedKeys::new()
        .with_pem(KP, CLOUDFRONT_PUBLIC_PEM)
        .unwrap()
}

#[test]
fn canned_policy_is_compact_json() {
    assert_eq!(
        canned_policy("https://d/x.mp3", 42),
        r#"{"Statement":[{"Resource":"https://d/x.mp3","Condition":{"DateLessThan":{"AWS:EpochTime":42}}}]}"#
    );
}

#[test]
fn url_base64_round_trips_with_cloudfront_alphabet() {
    let data = [0xfb, 0xff, 0xfe, 0x00];
    let enc = url_b64_encode(&data);
    assert!(!enc.contains(['+', '/', '=']), "{enc}");
    assert_eq!(enc, "-~~-AA__");
    assert_eq!(url_b64_decode(&enc).unwrap(), data);
}

#[test]
fn pkcs1_and_pkcs8_keys_sign_identically() {
    let a = signer().sign_canned(URL, NOW).unwrap();
    let b = StreamUrlSigner::from_pem(KP, CLOUDFRONT_PRIVATE_PKCS1_PEM)
        .unwrap()
        .sign_canned(URL, NOW)
        .unwrap();
    assert_eq!(a, b);
    assert!(a.starts_with(&format!("{URL}?Expires={NOW}&Signature=")));
    assert!(a.ends_with(&format!("&Key-Pair-Id={KP}")));
}

#[test]
fn bad_keys_are_refused_with_a_reason() {
    assert!(StreamUrlSigner::from_pem(KP, "not a pem").is_err());
    assert!(StreamUrlSigner::from_pem(KP, CLOUDFRONT_PUBLIC_PEM).is_err());
    assert!(StreamUrlSigner::from_pem("", CLOUDFRONT_PRIVATE_PEM).is_err());
    assert!(TrustedKeys::new()
        .with_pem(KP, CLOUDFRONT_PRIVATE_PEM)
        .is_err());
}

#[test]
fn canned_url_verifies_until_it_expires() {
    let url = signer().sign_canned(URL, NOW + 60).unwrap();
    let v = verify(&url, &keys(), NOW, None).unwrap();
    assert_eq!(v.path, "/songs/0b6c1e6e-5f7e-4c55-9d1e-6c1b1f2a9c11.mp3");
    assert_eq!(v.resource, URL);
    assert_eq!(v.expires, NOW + 60);
    assert_eq!(v.kind, PolicyKind::Canned);
    assert_eq!(
        verify(&url, &keys(), NOW + 60, None),
        Err(VerifyError::Expired)
    );
}

#[test]
fn any_tampering_is_caught() {
    let url = signer().sign_canned(URL, NOW + 60).unwrap();
    // Another object, a later expiry, a flipped signature character.
    let other = url.replace("4c55", "4c56");
    assert_eq!(
        verify(&other, &keys(), NOW, None),
        Err(VerifyError::BadSignature)
    );
    let later = url.replace(
        &format!("Expires={}", NOW + 60),
        &format!("Expires={}", NOW + 6000),
    );
    assert_eq!(
        verify(&later, &keys(), NOW, None),
        Err(VerifyError::BadSignature)
    );
    let sig_at = url.find("Signature=").unwrap() + "Signature=".len() + 5;
    let mut bytes = url.clone().into_bytes();
    bytes[sig_at] = if bytes[sig_at] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(bytes).unwrap();
    assert!(matches!(
        verify(&flipped, &keys(), NOW, None),
        Err(VerifyError::BadSignature | VerifyError::Malformed(_))
    ));
    // Unknown key pair, missing and duplicated parameters.
    let unknown = url.replace(KP, "APKAOTHER");
    assert_eq!(
        verify(&unknown, &keys(), NOW, None),
        Err(VerifyError::UnknownKeyPair)
    );
    assert_eq!(
        verify(URL, &keys(), NOW, None),
        Err(VerifyError::Missing("Signature"))
    );
    let dup = format!("{url}&Expires=1");
    assert_eq!(
        verify(&dup, &keys(), NOW, None),
        Err(VerifyError::Duplicate("Expires"))
    );
    // A different key with the right id.
    let wrong = TrustedKeys::new().with_pem(KP, JWT_PUBLIC_PEM).unwrap();
    assert_eq!(
        verify(&url, &wrong, NOW, None),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn urls_with_a_query_keep_it_in_the_resource() {
    let with_query = format!("{URL}?response-content-type=audio%2Fmpeg");
    let url = signer().sign_canned(&with_query, NOW + 60).unwrap();
    assert!(url.contains("audio%2Fmpeg&Expires="));
    let v = verify(&url, &keys(), NOW, None).unwrap();
    assert_eq!(v.resource, with_query);
    // Dropping the extra parameter changes the resource.
    let dropped = url.replace("response-content-type=audio%2Fmpeg&", "");
    assert_eq!(
        verify(&dropped, &keys(), NOW, None),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn non_ascii_urls_are_refused() {
    assert_eq!(
        signer().sign_canned("https://d/songs/é.mp3", NOW),
        Err(SignError::NotAscii)
    );
}

#[test]
fn custom_policies_check_wildcards_dates_and_addresses() {
    let policy = CustomPolicy {
        resource: Some("https://cdn.cadenza.test/songs/*".into()),
        date_less_than: NOW + 100,
        date_greater_than: Some(NOW - 10),
        ip_address: Some("192.0.2.0/24".into()),
    };
    let url = signer().sign_custom(URL, &policy).unwrap();
    let client = Some("192.0.2.5".parse().unwrap());
    let v = verify(&url, &keys(), NOW, client).unwrap();
    assert_eq!(v.kind, PolicyKind::Custom);
    assert_eq!(v.expires, NOW + 100);
    assert_eq!(
        verify(&url, &keys(), NOW, Some("198.51.100.1".parse().unwrap())),
        Err(VerifyError::IpNotAllowed)
    );
    assert_eq!(
        verify(&url, &keys(), NOW, None),
        Err(VerifyError::IpNotAllowed)
    );
    assert_eq!(
        verify(&url, &keys(), NOW + 100, client),
        Err(VerifyError::Expired)
    );
    assert_eq!(
        verify(&url, &keys(), NOW - 20, client),
        Err(VerifyError::NotYetValid)
    );
    // The same policy and signature on a path outside the wildcard.
    let thumb = url.replace("/songs/", "/thumbnails/");
    assert_eq!(
        verify(&thumb, &keys(), NOW, client),
        Err(VerifyError::ResourceMismatch)
    );
    // A policy edited after signing.
    let open = CustomPolicy {
        resource: Some("*".into()),
        ..policy.clone()
    };
    let forged_policy = url_b64_encode(open.to_json().as_bytes());
    let start = url.find("Policy=").unwrap() + "Policy=".len();
    let end = url[start..].find('&').unwrap() + start;
    let forged = format!("{}{}{}", &url[..start], forged_policy, &url[end..]);
    assert_eq!(
        verify(&forged, &keys(), NOW, client),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn custom_policy_json_matches_botocore_order() {
    let p = CustomPolicy {
        resource: Some("https://d/*".into()),
        date_less_than: 2,
        date_greater_than: Some(1),
        ip_address: Some("192.0.2.1".into()),
    };
    assert_eq!(
        p.to_json(),
        r#"{"Statement":[{"Resource":"https://d/*","Condition":{"DateLessThan":{"AWS:EpochTime":2},"IpAddress":{"AWS:SourceIp":"192.0.2.1/32"},"DateGreaterThan":{"AWS:EpochTime":1}}}]}"#
    );
}

#[test]
fn signing_is_cheap_enough_for_the_stream_endpoint() {
    // Debug builds of crypto-bigint are slow; this guards the order of
    // magnitude, the bench measures the real figure.
    let s = signer();
    let start = std::time::Instant::now();
    for i in 0..5 {
        s.sign_canned(URL, NOW + i).unwrap();
    }
    let per = start.elapsed() / 5;
    eprintln!("sign_canned: {per:?} per URL");
    assert!(per < std::time::Duration::from_millis(500), "{per:?}");
}

// ------------------------------------------------------------ ECDSA, SHA-256

const EC_KP: &str = "K3ECDSAP256TEST";

fn ec_signer() -> StreamUrlSigner {
    StreamUrlSigner::from_pem(EC_KP, CLOUDFRONT_EC_PRIVATE_PEM).unwrap()
}

fn all_keys() -> TrustedKeys {
    keys().with_pem(EC_KP, CLOUDFRONT_EC_PUBLIC_PEM).unwrap()
}

/// `url` with its `name=value` parameter replaced (or removed for `None`).
fn with_param(url: &str, name: &str, value: Option<&str>) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let mut params: Vec<String> = query
        .split('&')
        .filter(|p| !p.starts_with(&format!("{name}=")))
        .map(str::to_owned)
        .collect();
    if let Some(v) = value {
        params.push(format!("{name}={v}"));
    }
    format!("{base}?{}", params.join("&"))
}

#[test]
fn ecdsa_keys_sign_with_sha256_and_say_so_in_the_url() {
    let s = ec_signer();
    assert_eq!(s.kind(), KeyKind::EcdsaP256);
    assert_eq!(s.hash_algorithm(), HashAlgorithm::Sha256);
    let url = s.sign_canned(URL, NOW).unwrap();
    assert!(url.starts_with(&format!("{URL}?Expires={NOW}&Signature=")));
    assert!(
        url.ends_with(&format!("&Key-Pair-Id={EC_KP}&Hash-Algorithm=SHA256")),
        "{url}"
    );
    // The key signs the same whichever PEM form it came in (ring draws a
    // fresh nonce per signature, so the bytes differ; both verify), and
    // never repeats a nonce.
    let sec1 = StreamUrlSigner::from_pem(EC_KP, CLOUDFRONT_EC_PRIVATE_SEC1_PEM).unwrap();
    let again = sec1.sign_canned(URL, NOW).unwrap();
    assert_ne!(again, url);
    for u in [&url, &again] {
        verify(u, &all_keys(), NOW - 1, None).expect("verifies");
    }
    // A DER signature is far shorter than RSA-2048's 256 bytes.
    let rsa = signer().sign_canned(URL, NOW).unwrap();
    assert!(
        url.len() + 200 < rsa.len(),
        "{} vs {}",
        url.len(),
        rsa.len()
    );
    // ECDSA with SHA-1 is not a thing CloudFront takes.
    let err =
        StreamUrlSigner::from_pem_with(EC_KP, CLOUDFRONT_EC_PRIVATE_PEM, Some(HashAlgorithm::Sha1))
            .unwrap_err();
    assert!(err.to_string().contains("SHA-256"), "{err}");
}

#[test]
fn ecdsa_canned_and_custom_urls_verify_and_every_tampering_is_caught() {
    let s = ec_signer();
    let keys = all_keys();
    let url = s.sign_canned(URL, NOW + 60).unwrap();
    let v = verify(&url, &keys, NOW, None).unwrap();
    assert_eq!(
        (v.kind, v.hash, v.expires),
        (PolicyKind::Canned, HashAlgorithm::Sha256, NOW + 60)
    );
    assert_eq!(
        verify(&url, &keys, NOW + 60, None),
        Err(VerifyError::Expired)
    );
    // Without Hash-Algorithm (read as SHA-1), or with SHA1, an ECDSA key refuses.
    for hash in [None, Some("SHA1")] {
        assert_eq!(
            verify(&with_param(&url, "Hash-Algorithm", hash), &keys, NOW, None),
            Err(VerifyError::BadSignature),
            "{hash:?}"
        );
    }
    assert_eq!(
        verify(
            &with_param(&url, "Hash-Algorithm", Some("MD5")),
            &keys,
            NOW,
            None
        ),
        Err(VerifyError::Malformed("Hash-Algorithm"))
    );
    assert_eq!(
        verify(&format!("{url}&Hash-Algorithm=SHA256"), &keys, NOW, None),
        Err(VerifyError::Duplicate("Hash-Algorithm"))
    );
    // A later expiry, another path, the RSA key's id: all refused.
    let later = with_param(&url, "Expires", Some(&(NOW + 999).to_string()));
    assert_eq!(
        verify(&later, &keys, NOW, None),
        Err(VerifyError::BadSignature)
    );
    let other = url.replace("/songs/", "/thumbnails/");
    assert_eq!(
        verify(&other, &keys, NOW, None),
        Err(VerifyError::BadSignature)
    );
    let wrong_key = with_param(&url, "Key-Pair-Id", Some(KP));
    assert_eq!(
        verify(&wrong_key, &keys, NOW, None),
        Err(VerifyError::BadSignature)
    );
    // A raw (r || s) signature is not DER: malformed.
    let garbage = with_param(&url, "Signature", Some(&url_b64_encode(&[7u8; 64])));
    assert_eq!(
        verify(&garbage, &keys, NOW, None),
        Err(VerifyError::Malformed("Signature"))
    );

    let policy = CustomPolicy {
        resource: Some("https://cdn.cadenza.test/songs/*".into()),
        date_less_than: NOW + 60,
        date_greater_than: Some(NOW - 60),
        ip_address: Some("192.0.2.0/24".into()),
    };
    let custom = s.sign_custom(URL, &policy).unwrap();
    assert!(custom.ends_with("&Hash-Algorithm=SHA256"), "{custom}");
    let inside: std::net::IpAddr = "192.0.2.7".parse().unwrap();
    let outside: std::net::IpAddr = "198.51.100.7".parse().unwrap();
    assert_eq!(
        verify(&custom, &keys, NOW, Some(inside)).unwrap().kind,
        PolicyKind::Custom
    );
    assert_eq!(
        verify(&custom, &keys, NOW, Some(outside)),
        Err(VerifyError::IpNotAllowed)
    );
}

#[test]
fn rsa_keys_can_sign_with_sha256_for_key_groups_that_ask_for_it() {
    let s = StreamUrlSigner::from_pem_with(KP, CLOUDFRONT_PRIVATE_PEM, Some(HashAlgorithm::Sha256))
        .unwrap();
    assert_eq!(
        (s.kind(), s.hash_algorithm()),
        (KeyKind::Rsa, HashAlgorithm::Sha256)
    );
    let url = s.sign_canned(URL, NOW + 60).unwrap();
    assert!(url.ends_with("&Hash-Algorithm=SHA256"), "{url}");
    let keys = all_keys();
    assert_eq!(
        verify(&url, &keys, NOW, None).unwrap().hash,
        HashAlgorithm::Sha256
    );
    // The same signature read as SHA-1 does not verify, nor does a SHA-1
    // signature claiming SHA-256.
    assert_eq!(
        verify(&with_param(&url, "Hash-Algorithm", None), &keys, NOW, None),
        Err(VerifyError::BadSignature)
    );
    let sha1 = signer().sign_canned(URL, NOW + 60).unwrap();
    assert_eq!(
        verify(&sha1, &keys, NOW, None).unwrap().hash,
        HashAlgorithm::Sha1
    );
    assert_eq!(
        verify(&format!("{sha1}&Hash-Algorithm=SHA256"), &keys, NOW, None),
        Err(VerifyError::BadSignature)
    );
}

/// A measurement, not a test (speed targets live in bench/README.md):
/// `cargo test --release -p cadenza-cdn --lib signing_cost -- --ignored --nocapture`.
#[test]
#[ignore = "measurement; run with --ignored --nocapture"]
fn signing_cost_per_key_kind() {
    for (name, s, n) in [
        ("ECDSA P-256 / SHA-256", ec_signer(), 200),
        ("RSA-2048 / SHA-1", signer(), 20),
    ] {
        let start = std::time::Instant::now();
        for i in 0..n {
            s.sign_canned(URL, NOW + i).unwrap();
        }
        eprintln!("{name}: {:?} per signed URL", start.elapsed() / n as u32);
    }
}

#[test]
fn a_url_that_already_carries_a_signing_parameter_is_not_signed() {
    for param in [
        "Expires=1",
        "Policy=x",
        "Signature=x",
        "Key-Pair-Id=K",
        "Hash-Algorithm=SHA256",
    ] {
        let url = format!("{URL}?a=1&{param}");
        for s in [signer(), ec_signer()] {
            assert!(
                matches!(
                    s.sign_canned(&url, NOW),
                    Err(SignError::SigningParameter(_))
                ),
                "{param}"
            );
        }
    }
    // Names that merely contain one are fine.
    assert!(signer()
        .sign_canned(&format!("{URL}?MyExpires=1"), NOW)
        .is_ok());
}
