//! Dependency outages: MongoDB down answers 503 and creates nothing half-way;
//! Redis down keeps logins working (rate limits fail open).

mod common;

use std::time::Duration;

// testkit's MongoProcess writes through on commit: SecantusDB otherwise loses
// acknowledged writes when killed, which would fail this test for the wrong reason.
use cadenza_testkit::eventually;
use cadenza_testkit::process::{MongoProcess, RedisProcess};
use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn mongodb_outage_is_a_503_with_retry_after_and_nothing_half_created() {
    let mut mongo = MongoProcess::start();
    let uri = mongo.uri();
    let w = World::with(move |c| c.mongodb_uri = uri.into()).await;
    let s = w.user("steady@example.com").await;

    mongo.stop();
    for r in [
        w.register("during@example.com").await,
        w.login("steady@example.com", PASSWORD).await,
        w.call(Req::get("/api/user/check-auth").bearer(&s.access))
            .await,
        w.call(Req::post("/api/user/refresh-token").cookie(&s.refresh))
            .await,
        w.post(
            "/api/user/forgot-password",
            json!({"email": "steady@example.com"}),
        )
        .await,
    ] {
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
        assert!(r.headers.contains_key("retry-after"));
        assert_eq!(r.headers["content-type"], "application/problem+json");
        assert!(r.text.contains("mongodb"), "{}", r.text);
    }
    let ready = w.call(Req::get("/readyz")).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.problem_field().as_deref(), Some("mongodb"));

    mongo.restart();
    eventually(Duration::from_secs(20), "MongoDB back", || async {
        (w.call(Req::get("/readyz")).await.status == StatusCode::OK).then_some(())
    })
    .await;
    // The registration that failed left no user behind: the address is free.
    let db = mongodb::Client::with_uri_str(mongo.uri())
        .await
        .unwrap()
        .database(&w.mongo_db);
    let users = db.collection::<mongodb::bson::Document>("users");
    assert_eq!(
        users
            .count_documents(mongodb::bson::doc! {"email": "during@example.com"})
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        w.register("during@example.com").await.status,
        StatusCode::CREATED
    );
    w.job("verify_email", "during@example.com").await;
    assert_eq!(
        w.login("steady@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn redis_outage_keeps_logins_working_and_limits_fail_open() {
    let mut redis = RedisProcess::start();
    let url = redis.url();
    let w = World::with(move |c| c.redis_url = url.into()).await;
    let s = w.user("resilient@example.com").await;

    redis.stop();
    let r = w.login("resilient@example.com", PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "rate limiter fails open: {}",
        r.text
    );
    let r = w
        .call(Req::get("/api/user/check-auth").bearer(&s.access))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = w
        .call(Req::post("/api/user/logout").cookie(&s.refresh))
        .await;
    assert_eq!(r.status, StatusCode::OK, "logout still revokes in MongoDB");
    assert_eq!(
        w.call(Req::post("/api/user/refresh-token").cookie(&s.refresh))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let ready = w.call(Req::get("/readyz")).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.problem_field().as_deref(), Some("redis"));

    redis.restart();
    eventually(Duration::from_secs(15), "Redis back", || async {
        (w.call(Req::get("/readyz")).await.status == StatusCode::OK).then_some(())
    })
    .await;
    // The revocation made during the outage reaches Redis once it is back.
    let keys =
        cadenza_auth::PublicKeySet::from_pems(cadenza_testkit::keys::JWT_PUBLIC_PEM).unwrap();
    let v = cadenza_auth::TokenVerifier::with_keys(
        cadenza_testkit::keys::ISSUER,
        cadenza_testkit::keys::AUDIENCE,
        keys,
    );
    let sid = v.verify(&s.access).await.unwrap().sid;
    let key = w.ns.key(&format!("auth:revoked-sid:{sid}"));
    let client = redis::Client::open(redis.url()).unwrap();
    eventually(
        Duration::from_secs(30),
        "revocation republished",
        || async {
            let mut c = client.get_multiplexed_async_connection().await.ok()?;
            let v: Option<i64> = redis::AsyncCommands::get(&mut c, &key).await.ok()?;
            v
        },
    )
    .await;
}
