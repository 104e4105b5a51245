//! Races and key rotation.

mod common;

use cadenza_testkit::keys::{self, TokenSpec};
use common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn two_tabs_refreshing_at_once_both_succeed_and_only_one_gets_a_cookie() {
    let w = World::new().await;
    let s = w.user("tabs@example.com").await;
    let (a, b) = tokio::join!(
        w.call(Req::post("/api/user/refresh-token").cookie(&s.refresh)),
        w.call(Req::post("/api/user/refresh-token").cookie(&s.refresh)),
    );
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(b.status, StatusCode::OK, "{}", b.text);
    let cookies: Vec<String> = [&a, &b].iter().filter_map(|r| r.refresh_cookie()).collect();
    assert_eq!(cookies.len(), 1, "exactly one rotation");
    // The family is intact: the winner's cookie keeps working.
    let r = w
        .call(Req::post("/api/user/refresh-token").cookie(&cookies[0]))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn concurrent_registrations_of_one_address_make_one_account() {
    let w = World::new().await;
    let answers = futures::future::join_all((0..5).map(|_| w.register("racer@example.com"))).await;
    for r in &answers {
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.text, answers[0].text);
    }
    let users = w
        .mongo()
        .await
        .collection::<mongodb::bson::Document>("users");
    assert_eq!(
        users
            .count_documents(mongodb::bson::doc! {"email": "racer@example.com"})
            .await
            .unwrap(),
        1
    );
    w.job("verify_email", "racer@example.com").await;
    for _ in 0..4 {
        w.job("account_exists", "racer@example.com").await;
    }
}

#[tokio::test]
async fn a_second_public_key_is_published_and_accepted_during_rotation() {
    let w = World::with(|c| c.jwt_public_keys = Some(keys::OTHER_PUBLIC_PEM.into())).await;
    let jwks = w.call(Req::get("/api/user/.well-known/jwks.json")).await;
    let kids: Vec<_> = jwks.json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kids,
        vec![keys::JWT_KID.to_owned(), keys::OTHER_KID.to_owned()]
    );

    let old_key_token = cadenza_testkit::mint(&TokenSpec {
        kid: Some(keys::OTHER_KID.into()),
        private_pem: keys::OTHER_PRIVATE_PEM,
        ..TokenSpec::user()
    });
    let r = w
        .call(Req::get("/api/user/favorites").bearer(&old_key_token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Without the rotation key, the same token is refused.
    let plain = World::new().await;
    let r = plain
        .call(Req::get("/api/user/favorites").bearer(&old_key_token))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // And tokens with the wrong type or an unknown key are refused.
    let id_token = cadenza_testkit::mint(&TokenSpec {
        typ: Some("JWT".into()),
        ..TokenSpec::user()
    });
    assert_eq!(
        plain
            .call(Req::get("/api/user/favorites").bearer(&id_token))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
