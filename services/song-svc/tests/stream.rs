//! `/stream/{id}` end to end: a signed URL from song-svc, fetched through the
//! dev edge (in process), served from SeaweedFS.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use cadenza_cdn::{StreamUrlSigner, TrustedKeys};
use cadenza_testkit::keys::{CLOUDFRONT_PRIVATE_PEM, CLOUDFRONT_PUBLIC_PEM};
use cadenza_testkit::{infra, mint, TestServer, TokenSpec};
use chrono::DateTime;
use common::*;
use dev_edge::EdgeConfig;
use uuid::Uuid;

async fn s3() -> aws_sdk_s3::Client {
    cadenza_testkit::aws::s3_client().await
}

async fn edge(s3: aws_sdk_s3::Client) -> TestServer {
    let config = EdgeConfig {
        port: 0,
        bucket: infra().s3_bucket.clone(),
        keys: TrustedKeys::new()
            .with_pem(KEY_PAIR_ID, CLOUDFRONT_PUBLIC_PEM)
            .unwrap(),
        public_url: None,
    };
    TestServer::start(dev_edge::router(s3, &config)).await
}

fn audio_bytes() -> Vec<u8> {
    (0..4096u32).map(|i| (i * 7 + i / 256) as u8).collect()
}

#[tokio::test]
async fn signed_stream_urls_play_through_the_edge() {
    let s3 = s3().await;
    let edge = edge(s3.clone()).await;
    let cdn = edge.url("");
    let w = World::with(&infra().redis_url.clone(), &cdn).await;

    let key = format!("songs/{}.mp3", Uuid::new_v4());
    let bytes = audio_bytes();
    s3.put_object()
        .bucket(&infra().s3_bucket)
        .key(&key)
        .content_type("audio/mpeg")
        .body(ByteStream::from(bytes.clone()))
        .send()
        .await
        .expect("upload to SeaweedFS");
    let thumb_key = format!("thumbnails/{}.jpg", Uuid::new_v4());
    s3.put_object()
        .bucket(&infra().s3_bucket)
        .key(&thumb_key)
        .content_type("image/jpeg")
        .body(ByteStream::from_static(b"\xff\xd8\xff jpeg"))
        .send()
        .await
        .unwrap();
    let album = insert_album(&w.db.pool, "Streamed", "S").await;
    let (song_id, _) = insert_song(
        &w.db.pool,
        NewSong {
            album,
            title: "Playable",
            artist: "S",
            track: 1,
            duration: 215.4,
            audio_key: Some(key.clone()),
        },
    )
    .await;
    let http = reqwest::Client::new();
    let stream_url = w.url(&format!("/stream/{song_id}"));

    // No token, a garbage token: 401.
    let resp = http.get(&stream_url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = http
        .get(&stream_url)
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let expired = mint(&TokenSpec {
        exp_offset: -120,
        iat_offset: -1000,
        nbf_offset: -1000,
        ..TokenSpec::user()
    });
    let resp = http
        .get(&stream_url)
        .bearer_auth(expired)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    let token = mint(&TokenSpec::user());
    let before = chrono::Utc::now().timestamp();
    let resp = http
        .get(&stream_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "private, no-store");
    let text = resp.text().await.unwrap();
    assert!(!text.contains("audioKey"));
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    let url = body["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{cdn}/{key}?Expires=")), "{url}");
    assert!(url.ends_with(&format!("&Key-Pair-Id={KEY_PAIR_ID}")));
    let expires_at = DateTime::parse_from_rfc3339(body["expiresAt"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let validity = expires_at - before;
    // duration + 10 min at least, plus at most 5 min of reuse slack (+ rounding).
    assert!(
        (216 + 600..216 + 600 + 300 + 62).contains(&validity),
        "{validity}"
    );
    assert!(url.contains(&format!("Expires={expires_at}&")));

    // The whole object, exactly, with the object's type and CORS for <audio>.
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "audio/mpeg");
    assert_eq!(resp.headers()["accept-ranges"], "bytes");
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(resp.bytes().await.unwrap().as_ref(), bytes.as_slice());

    // A range.
    let resp = http
        .get(&url)
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.headers()["content-range"], "bytes 100-199/4096");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &bytes[100..200]);
    let resp = http
        .get(&url)
        .header("Range", "bytes=9000-")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 416);
    assert_eq!(resp.headers()["content-range"], "bytes */4096");

    // Revalidation and HEAD.
    let resp = http
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);
    let resp = http.head(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], "4096");
    assert_eq!(resp.headers()["content-type"], "audio/mpeg");

    // One changed character anywhere that matters: 403.
    let sig_at = url.find("Signature=").unwrap() + "Signature=".len() + 10;
    let mut tampered = url.clone().into_bytes();
    tampered[sig_at] = if tampered[sig_at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let later = url.replace(
        &format!("Expires={expires_at}"),
        &format!("Expires={}", expires_at + 1),
    );
    let unsigned = format!("{cdn}/{key}");
    for bad in [tampered, later, unsigned] {
        let resp = http.get(&bad).send().await.unwrap();
        assert_eq!(resp.status(), 403, "{bad}");
    }
    // Signed correctly but expired: 403.
    let signer = StreamUrlSigner::from_pem(KEY_PAIR_ID, CLOUDFRONT_PRIVATE_PEM).unwrap();
    let stale = signer
        .sign_canned(&format!("{cdn}/{key}"), before - 1)
        .unwrap();
    assert_eq!(http.get(&stale).send().await.unwrap().status(), 403);
    // And a fresh one we sign ourselves works (the edge checks, not song-svc).
    let fresh = signer
        .sign_canned(&format!("{cdn}/{key}"), before + 60)
        .unwrap();
    assert_eq!(http.get(&fresh).send().await.unwrap().status(), 200);

    // Covers are public.
    let resp = http.get(format!("{cdn}/{thumb_key}")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    let resp = http
        .get(format!("{cdn}/thumbnails/{}.jpg", Uuid::new_v4()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // The same expiry, the same URL (memoised signature); another song 404.
    let again: serde_json::Value = http
        .get(&stream_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if again["expiresAt"] == body["expiresAt"] {
        assert_eq!(again["url"], url.as_str());
    }
    let resp = http
        .get(w.url(&format!("/stream/{}", Uuid::new_v4())))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn revoked_sessions_cannot_stream() {
    let w = World::new().await;
    let album = insert_album(&w.db.pool, "Revoked", "R").await;
    let (song_id, _) = song(&w.db.pool, album, "Gone", 1).await;
    let spec = TokenSpec::user();
    let token = mint(&spec);
    let url = w.url(&format!("/stream/{song_id}"));
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let client = redis::Client::open(w.redis_url.as_str()).unwrap();
    let conn = cadenza_platform::redis::manager(&client).await.unwrap();
    let exp = chrono::Utc::now().timestamp() + 900;
    cadenza_auth::RevocationPublisher::new(conn, w.ns.clone())
        .revoke_session(&spec.sid, &spec.sub, exp)
        .await
        .unwrap();
    cadenza_testkit::eventually(std::time::Duration::from_secs(5), "the revocation", || {
        let req = http.get(&url).bearer_auth(&token).send();
        async move { (req.await.unwrap().status() == 401).then_some(()) }
    })
    .await;
    // Another session of the same user still streams.
    let other = mint(&TokenSpec {
        sub: spec.sub.clone(),
        ..TokenSpec::user()
    });
    assert_eq!(
        http.get(&url)
            .bearer_auth(&other)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
