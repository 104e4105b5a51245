use super::*;
use cadenza_testkit::keys::{
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
