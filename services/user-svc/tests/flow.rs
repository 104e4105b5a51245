//! End-to-end account flows against real SecantusDB, Redis and moto SQS.

mod common;

use std::time::Duration;

use cadenza_auth::{PublicKeySet, TokenVerifier};
use cadenza_testkit::{eventually, infra, keys};
use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn register_verify_login_refresh_rotation_reuse_and_relogin() {
    let w = World::with(|c| c.refresh_grace = Duration::from_secs(10)).await;
    let email = "Flow.User@Example.com";

    let r = w.register(email).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.json["message"].is_string());

    // The verify job is on the queue, in the contract's shape, with a working link.
    let job = w.job("verify_email", "flow.user@example.com").await;
    assert_eq!(job["version"], 1);
    assert!(uuid::Uuid::parse_str(job["id"].as_str().unwrap()).is_ok());
    assert!(job["data"]["expiresAt"].is_string());
    assert!(job["createdAt"].is_string());
    let token = link_token(&job, "/verify-email");

    // Unverified users may log in (as in the seed), with isVerified=false.
    let r = w.login(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["userData"]["isVerified"], false);

    let r = w
        .post("/api/user/verify-email", json!({"token": token}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["user"]["email"], "flow.user@example.com");
    assert_eq!(r.json["user"]["isVerified"], true);
    assert_eq!(r.json["user"]["role"], "user");
    let keys: Vec<_> = r.json["user"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys.len(), 4, "public fields only: {keys:?}");
    // Single use.
    let again = w
        .post("/api/user/verify-email", json!({"token": token}))
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    let r = w.login(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["message"], "Login successful");
    assert_eq!(r.json["userData"]["isVerified"], true);
    assert_eq!(r.json["userData"]["email"], "flow.user@example.com");
    let set_cookie = r.set_cookie().unwrap();
    assert!(
        set_cookie.contains("; HttpOnly; SameSite=Strict; Path=/api/user; Max-Age=2592000; Secure"),
        "{set_cookie}"
    );
    let access = r.json["accessToken"].as_str().unwrap().to_owned();
    let c1 = r.refresh_cookie().unwrap();
    assert_eq!(c1.len(), 43, "32 bytes base64url");

    // The access token follows CONTRACTS §3.
    let header = jsonwebtoken::decode_header(&access).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), Some(keys::JWT_KID));
    let verifier = TokenVerifier::with_keys(
        keys::ISSUER,
        keys::AUDIENCE,
        PublicKeySet::from_pems(keys::JWT_PUBLIC_PEM).unwrap(),
    );
    let claims = verifier.verify(&access).await.unwrap();
    assert_eq!(claims.exp - claims.iat, 900);
    assert_eq!(claims.nbf, claims.iat);
    assert_eq!(claims.sub, r.json["userData"]["sub"].as_str().unwrap());
    assert!(claims.is_verified);

    let me = w
        .call(Req::get("/api/user/check-auth").bearer(&access))
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["message"], "success");
    assert_eq!(me.json["user"]["id"], claims.sub);
    assert_eq!(me.json["user"]["isVerified"], true);
    let anon = w.call(Req::get("/api/user/check-auth")).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);

    // Refresh rotates the cookie.
    let r = w
        .call(Req::post("/api/user/refresh-token").cookie(&c1))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let c2 = r.refresh_cookie().expect("rotated cookie");
    assert_ne!(c1, c2);
    let a2 = r.json["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(verifier.verify(&a2).await.unwrap().sid, claims.sid);

    // Within the grace window the previous token gets an access token, no cookie.
    let r = w
        .call(Req::post("/api/user/refresh-token").cookie(&c1))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json["accessToken"].is_string());
    assert!(
        r.headers.get("set-cookie").is_none(),
        "no cookie inside the grace window"
    );

    // After the window, the old token is theft: 401 and the family is gone.
    w.app.state.clock.advance(Duration::from_secs(11));
    let r = w
        .call(Req::post("/api/user/refresh-token").cookie(&c1))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = w
        .call(Req::post("/api/user/refresh-token").cookie(&c2))
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the current token of the family is revoked too"
    );
    // The family's access tokens die with it (user-svc's own verifier follows the denylist).
    eventually(Duration::from_secs(2), "access token refused", || async {
        (w.call(Req::get("/api/user/check-auth").bearer(&a2))
            .await
            .status
            == StatusCode::UNAUTHORIZED)
            .then_some(())
    })
    .await;

    // Logging in again starts a fresh family.
    let s = w.session(email).await;
    let r = w
        .call(Req::post("/api/user/refresh-token").cookie(&s.refresh))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn tokens_older_than_the_previous_one_are_reuse_too() {
    let w = World::new().await;
    let s = w.user("gen@example.com").await;
    let mut cookies = vec![s.refresh.clone()];
    for _ in 0..3 {
        let r = w
            .call(Req::post("/api/user/refresh-token").cookie(cookies.last().unwrap()))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        cookies.push(r.refresh_cookie().unwrap());
    }
    // The first token is three rotations old: even inside the grace period it is reuse.
    let r = w
        .call(Req::post("/api/user/refresh-token").cookie(&cookies[0]))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = w
        .call(Req::post("/api/user/refresh-token").cookie(cookies.last().unwrap()))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = w
        .call(Req::post("/api/user/refresh-token").cookie("made-up"))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = w.call(Req::post("/api/user/refresh-token")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// A verifier as song-svc has it: public key only, fed by Redis.
async fn other_service_verifier(w: &World) -> (TokenVerifier, cadenza_events::Subscriber) {
    let v = TokenVerifier::with_keys(
        keys::ISSUER,
        keys::AUDIENCE,
        PublicKeySet::from_pems(keys::JWT_PUBLIC_PEM).unwrap(),
    );
    let client = redis::Client::open(infra().redis_url.as_str()).unwrap();
    let sub = v.denylist().spawn_sync(client, w.ns.clone());
    eventually(
        Duration::from_secs(5),
        "denylist subscriber connected",
        || async { sub.is_connected().then_some(()) },
    )
    .await;
    (v, sub)
}

#[tokio::test]
async fn logout_is_honoured_by_other_services_within_a_second() {
    let w = World::new().await;
    let s = w.user("leaver@example.com").await;
    let other = w.session("leaver@example.com").await;
    let (song_svc, _sub) = other_service_verifier(&w).await;
    assert!(song_svc.verify(&s.access).await.is_ok());

    let r = w
        .call(
            Req::post("/api/user/logout")
                .cookie(&s.refresh)
                .bearer(&s.access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let cleared = r.set_cookie().unwrap();
    assert!(
        cleared.starts_with("refreshToken=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let t0 = std::time::Instant::now();
    eventually(
        Duration::from_secs(1),
        "song-svc refuses the logged-out token",
        || async { song_svc.verify(&s.access).await.is_err().then_some(()) },
    )
    .await;
    println!(
        "revocation reached the other verifier in {:?}",
        t0.elapsed()
    );
    // The refresh token is dead; the user's other session is not.
    let r = w
        .call(Req::post("/api/user/refresh-token").cookie(&s.refresh))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(song_svc.verify(&other.access).await.is_ok());

    // logout-all ends the remaining session everywhere.
    let r = w
        .call(Req::post("/api/user/logout-all").bearer(&other.access))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    eventually(
        Duration::from_secs(1),
        "logout-all reaches song-svc",
        || async { song_svc.verify(&other.access).await.is_err().then_some(()) },
    )
    .await;
    let r = w
        .call(Req::post("/api/user/refresh-token").cookie(&other.refresh))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A login after logout-all works everywhere.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fresh = w.session("leaver@example.com").await;
    assert!(song_svc.verify(&fresh.access).await.is_ok());
}

#[tokio::test]
async fn forgot_and_set_password_reset_the_account_and_revoke_sessions() {
    let w = World::new().await;
    let s = w.user("forgetful@example.com").await;
    let (song_svc, _sub) = other_service_verifier(&w).await;

    let r = w
        .post(
            "/api/user/forgot-password",
            json!({"email": " FORGETFUL@example.com "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let job = w.job("password_reset", "forgetful@example.com").await;
    let token = link_token(&job, "/password-reset");

    let bad = w
        .call(Req::get("/api/user/validate-token?token=nope"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let ok = w
        .call(Req::get(&format!("/api/user/validate-token?token={token}")))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    // The verify page cannot consume a reset token: one token per purpose.
    let r = w
        .post("/api/user/verify-email", json!({"token": token}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let new_pw = "Velvet-Compass-Orchard-77";
    let r = w
        .post(
            "/api/user/set-password",
            json!({"token": token, "password": new_pw, "passwordAgain": "different-Thing-9"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.problem_field().as_deref(), Some("passwordAgain"));
    let r = w
        .post(
            "/api/user/set-password",
            json!({"token": token, "password": "password", "passwordAgain": "password"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem_field().as_deref(), Some("password"));
    let r = w
        .post(
            "/api/user/set-password",
            json!({"token": token, "password": new_pw, "passwordAgain": new_pw}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    w.job("password_changed", "forgetful@example.com").await;

    // Single use; old sessions and tokens are dead everywhere.
    let r = w
        .post(
            "/api/user/set-password",
            json!({"token": token, "password": new_pw, "passwordAgain": new_pw}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = w
        .call(Req::post("/api/user/refresh-token").cookie(&s.refresh))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    eventually(
        Duration::from_secs(1),
        "reset revokes access tokens",
        || async { song_svc.verify(&s.access).await.is_err().then_some(()) },
    )
    .await;
    assert_eq!(
        w.login("forgetful@example.com", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        w.login("forgetful@example.com", new_pw).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn change_password_keeps_this_session_and_ends_the_others() {
    let w = World::new().await;
    let me = w.user("changer@example.com").await;
    let elsewhere = w.session("changer@example.com").await;
    let new_pw = "Granite-Meadow-Piano-31";

    let r = w
        .call(
            Req::post("/api/user/change-password")
                .bearer(&me.access)
                .json(json!({"currentPassword": "wrong-one-123", "newPassword": new_pw})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem_field().as_deref(), Some("currentPassword"));
    let r = w
        .call(
            Req::post("/api/user/change-password")
                .bearer(&me.access)
                .json(json!({"currentPassword": PASSWORD, "newPassword": "12345678"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem_field().as_deref(), Some("newPassword"));
    let r = w
        .call(
            Req::post("/api/user/change-password")
                .bearer(&me.access)
                .json(json!({"currentPassword": PASSWORD, "newPassword": new_pw})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    w.job("password_changed", "changer@example.com").await;

    assert_eq!(
        w.call(Req::post("/api/user/refresh-token").cookie(&elsewhere.refresh))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        w.call(Req::post("/api/user/refresh-token").cookie(&me.refresh))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        w.call(Req::get("/api/user/check-auth").bearer(&me.access))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        w.login("changer@example.com", new_pw).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn taken_email_answers_like_a_new_one_and_mails_the_owner() {
    let w = World::new().await;
    let first = w.register("owner@example.com").await;
    w.job("verify_email", "owner@example.com").await;
    let second = w.register("OWNER@example.com").await;
    assert_eq!(first.status, second.status);
    assert_eq!(first.text, second.text);
    let job = w.job("account_exists", "owner@example.com").await;
    assert_eq!(
        job["data"]["link"],
        format!("{PUBLIC_BASE_URL}/forgot-password")
    );
    // Still one account, with the first password.
    let users = w
        .mongo()
        .await
        .collection::<mongodb::bson::Document>("users");
    assert_eq!(
        users.count_documents(mongodb::bson::doc! {}).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn resend_verification_mails_only_unverified_accounts() {
    let w = World::new().await;
    w.register("pending@example.com").await;
    let first = link_token(
        &w.job("verify_email", "pending@example.com").await,
        "/verify-email",
    );
    let r = w
        .post(
            "/api/user/resend-verification",
            json!({"email": "pending@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let second = link_token(
        &w.job("verify_email", "pending@example.com").await,
        "/verify-email",
    );
    // The new token replaces the old one.
    assert_eq!(
        w.post("/api/user/verify-email", json!({"token": first}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        w.post("/api/user/verify-email", json!({"token": second}))
            .await
            .status,
        StatusCode::OK
    );

    let verified = w
        .post(
            "/api/user/resend-verification",
            json!({"email": "pending@example.com"}),
        )
        .await;
    let unknown = w
        .post(
            "/api/user/resend-verification",
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK);
    assert_eq!(verified.text, unknown.text);
    // Nothing mailed to verified or unknown accounts.
    cadenza_testkit::assert_quiet_for(Duration::from_millis(500), "mail", || async {
        let jobs = w.all_jobs().await;
        (!jobs.is_empty()).then(|| format!("{jobs:?}"))
    })
    .await;
}

#[tokio::test]
async fn seed_bcrypt_hash_logs_in_and_is_upgraded_to_argon2id() {
    let w = World::new().await;
    let users = w
        .mongo()
        .await
        .collection::<mongodb::bson::Document>("users");
    let seed_hash = bcrypt::hash(PASSWORD, 10).unwrap();
    let now = mongodb::bson::DateTime::now();
    users
        .insert_one(mongodb::bson::doc! {
            "email": "seed@example.com", "password": &seed_hash, "role": "admin",
            "tokenVersion": 0, "verified": true, "createdAt": now, "updatedAt": now,
        })
        .await
        .unwrap();
    let r = w.login("seed@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["userData"]["role"], "admin");
    let stored = users
        .find_one(mongodb::bson::doc! {"email": "seed@example.com"})
        .await
        .unwrap()
        .unwrap();
    assert!(stored
        .get_str("password")
        .unwrap()
        .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_eq!(
        w.login("seed@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        w.login("seed@example.com", "Wrong-Password-000")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
