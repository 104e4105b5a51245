//! Attacks through the real HTTP surface of the three services together:
//! refresh-token replay, expired and reused reset links, IDOR, privilege,
//! oversized bodies, CORS and security headers.

mod common;

use std::time::Duration;

use cadenza_testkit::{eventually, mint, TokenSpec};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Waits until `token` is refused (401) by every service, as revocation
/// events reach them.
async fn refused_everywhere(p: &Platform, token: &str, what: &str) {
    let song = format!("/api/song/stream/{}", uuid::Uuid::new_v4());
    for (name, server, path) in [
        ("user-svc", &p.user, "/api/user/favorites"),
        ("admin-svc", &p.admin, "/api/admin/album"),
        ("song-svc", &p.song, song.as_str()),
    ] {
        let r = eventually(
            Duration::from_secs(10),
            &format!("{name} to refuse {what}"),
            || async {
                let r = p.call(server, Req::get(path).bearer(token)).await;
                (r.status == StatusCode::UNAUTHORIZED).then_some(r)
            },
        )
        .await;
        r.assert_problem(401, &format!("{name} {what}"));
    }
}

#[tokio::test]
async fn a_refresh_token_replayed_after_the_grace_window_kills_its_family_everywhere() {
    let grace = Duration::from_secs(10);
    let p = Platform::with(Stores::shared(), |c| c.refresh_grace = grace).await;
    let s = p.listener("replay@example.com").await;

    let first = p
        .call(
            &p.user,
            Req::post("/api/user/refresh-token").cookie(&s.refresh),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let rotated = first.refresh_cookie().expect("rotated cookie");
    assert_ne!(rotated, s.refresh);
    let a1 = first.json["accessToken"].as_str().unwrap().to_owned();

    // Two tabs racing: the previous token within the grace window gets an
    // access token and no new cookie.
    let racing = p
        .call(
            &p.user,
            Req::post("/api/user/refresh-token").cookie(&s.refresh),
        )
        .await;
    assert_eq!(racing.status, StatusCode::OK, "{}", racing.text);
    assert!(racing.refresh_cookie().is_none(), "no second rotation");
    let a2 = racing.json["accessToken"].as_str().unwrap().to_owned();
    // Every access token of the family works on the other services meanwhile.
    let song = format!("/api/song/stream/{}", uuid::Uuid::new_v4());
    for t in [&s.access, &a1, &a2] {
        assert_eq!(
            p.call(&p.song, Req::get(&song).bearer(t)).await.status,
            StatusCode::NOT_FOUND
        );
    }

    // user-svc's clock moves past the window (no sleep).
    p.user_app
        .state
        .clock
        .advance(grace + Duration::from_secs(1));
    let replay = p
        .call(
            &p.user,
            Req::post("/api/user/refresh-token").cookie(&s.refresh),
        )
        .await;
    replay.assert_problem(401, "replayed refresh token");
    // The family is dead: the legitimate latest token is refused too…
    let latest = p
        .call(
            &p.user,
            Req::post("/api/user/refresh-token").cookie(&rotated),
        )
        .await;
    latest.assert_problem(401, "the family's latest refresh token");
    // …and so is every access token of the session, on every service.
    for (i, t) in [&s.access, &a1, &a2].into_iter().enumerate() {
        refused_everywhere(&p, t, &format!("access token {i} of the revoked family")).await;
    }
    let sessions = p
        .mongo()
        .await
        .collection::<mongodb::bson::Document>("sessions");
    let live = sessions
        .count_documents(mongodb::bson::doc! {"userId": &s.user_id, "revokedAt": null})
        .await
        .unwrap();
    assert_eq!(live, 0, "no live session left in the family");
    // Signing in again starts a new, working family.
    let again = p.session("replay@example.com", PASSWORD).await;
    let r = p
        .call(
            &p.user,
            Req::post("/api/user/refresh-token").cookie(&again.refresh),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    p.remove_bucket().await;
}

#[tokio::test]
async fn reset_links_expire_and_work_only_once() {
    let p = Platform::start().await;
    let email = "reset@example.com";
    let s = p.listener(email).await;

    // 1. An expired link: a real token whose expiry has passed.
    let r = p
        .post_user("/api/user/forgot-password", json!({"email": email}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let expired = link_token(&p.job("password_reset", email).await, "/password-reset");
    let tokens = p
        .mongo()
        .await
        .collection::<mongodb::bson::Document>("email_tokens");
    let past = mongodb::bson::DateTime::from_millis(chrono::Utc::now().timestamp_millis() - 60_000);
    let changed = tokens
        .update_many(
            mongodb::bson::doc! {"userId": &s.user_id, "purpose": "password_reset"},
            mongodb::bson::doc! {"$set": {"expiresAt": past}},
        )
        .await
        .unwrap();
    assert_eq!(changed.matched_count, 1, "one reset token per user");
    let v = p
        .call(
            &p.user,
            Req::get(&format!("/api/user/validate-token?token={expired}")),
        )
        .await;
    v.assert_problem(400, "validate an expired reset token");
    let r = p
        .post_user(
            "/api/user/set-password",
            json!({"token": expired, "password": "Brand-New-Kettle-77", "passwordAgain": "Brand-New-Kettle-77"}),
        )
        .await;
    r.assert_problem(400, "set-password with an expired token");
    assert_eq!(
        p.login(email, PASSWORD).await.status,
        StatusCode::OK,
        "password unchanged"
    );

    // 2. A fresh link works once.
    let r = p
        .post_user("/api/user/forgot-password", json!({"email": email}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let token = link_token(&p.job("password_reset", email).await, "/password-reset");
    let v = p
        .call(
            &p.user,
            Req::get(&format!("/api/user/validate-token?token={token}")),
        )
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    let body = json!({"token": token, "password": "Brand-New-Kettle-77", "passwordAgain": "Brand-New-Kettle-77"});
    let first = p.post_user("/api/user/set-password", body.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let body2 = json!({"token": token, "password": "Other-Fresh-Teapot-88", "passwordAgain": "Other-Fresh-Teapot-88"});
    let second = p.post_user("/api/user/set-password", body2).await;
    second.assert_problem(400, "second use of a reset token");
    assert_eq!(
        p.login(email, "Brand-New-Kettle-77").await.status,
        StatusCode::OK
    );
    assert_eq!(
        p.login(email, "Other-Fresh-Teapot-88").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        p.login(email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The reset ended every earlier session, on every service.
    let r = p
        .call(
            &p.user,
            Req::post("/api/user/refresh-token").cookie(&s.refresh),
        )
        .await;
    r.assert_problem(401, "a refresh token from before the reset");
    refused_everywhere(&p, &s.access, "an access token from before the reset").await;
    p.remove_bucket().await;
}

#[tokio::test]
async fn a_listener_cannot_read_or_end_another_listeners_favourites_or_sessions() {
    let p = Platform::start().await;
    let a = p.listener("alice@example.com").await;
    let b = p.listener("bob@example.com").await;
    let song = uuid::Uuid::new_v4().to_string();
    let r = p
        .call(
            &p.user,
            Req::post("/api/user/favorites")
                .bearer(&a.access)
                .json(json!({"songId": song})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let list = |t: String| {
        let p = &p;
        async move {
            let r = p
                .call(&p.user, Req::get("/api/user/favorites").bearer(&t))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.json["favorites"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["songId"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(a.access.clone()).await, vec![song.clone()]);
    assert!(
        list(b.access.clone()).await.is_empty(),
        "B sees none of A's favourites"
    );
    // B removing "it" (both the REST route and the seed's body form) leaves A's.
    let path = format!("/api/user/favorites/{song}");
    let r = p.call(&p.user, Req::delete(&path).bearer(&b.access)).await;
    assert!(
        r.status.is_success() || r.status == StatusCode::NOT_FOUND,
        "{}",
        r.text
    );
    let r = p
        .call(
            &p.user,
            Req::delete("/api/user/favorites")
                .bearer(&b.access)
                .json(json!({"songId": song})),
        )
        .await;
    assert!(
        r.status.is_success() || r.status == StatusCode::NOT_FOUND,
        "{}",
        r.text
    );
    assert_eq!(
        list(a.access.clone()).await,
        vec![song.clone()],
        "A's favourite survives B"
    );
    // A token for B's subject cannot carry A's id anywhere but `sub`.
    let forged = mint(&TokenSpec {
        sub: b.user_id.clone(),
        ..TokenSpec::user()
    });
    assert!(list(forged).await.is_empty());

    let sessions = |t: String| {
        let p = &p;
        async move {
            let r = p
                .call(&p.user, Req::get("/api/user/sessions").bearer(&t))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.json["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let a_sessions = sessions(a.access.clone()).await;
    let b_sessions = sessions(b.access.clone()).await;
    assert_eq!(a_sessions.len(), 1);
    assert!(
        b_sessions.iter().all(|id| !a_sessions.contains(id)),
        "B lists only B's sessions"
    );
    let r = p
        .call(
            &p.user,
            Req::delete(&format!("/api/user/sessions/{}", a_sessions[0])).bearer(&b.access),
        )
        .await;
    r.assert_problem(404, "B ending A's session");
    // A's session is untouched: its refresh token still rotates.
    let r = p
        .call(
            &p.user,
            Req::post("/api/user/refresh-token").cookie(&a.refresh),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    p.remove_bucket().await;
}

#[tokio::test]
async fn a_listener_is_forbidden_on_every_admin_route() {
    let p = Platform::start().await;
    let listener = p.listener("listener@example.com").await;
    let admin = mint(&TokenSpec::admin());
    let album = p.create_album(&admin, "Kept").await;
    assert_eq!(album.status, StatusCode::CREATED, "{}", album.text);
    let id = album.json["album"]["id"].as_str().unwrap().to_owned();
    let some = uuid::Uuid::new_v4();
    let routes: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, "/api/admin/album".into(), None),
        (
            Method::POST,
            "/api/admin/album".into(),
            Some(json!({"name": "x", "artist": "y", "thumbnailKey": "thumbnails/x.png"})),
        ),
        (
            Method::PATCH,
            format!("/api/admin/album/{id}"),
            Some(json!({"name": "Hijacked"})),
        ),
        (Method::DELETE, format!("/api/admin/album/{id}"), None),
        (Method::GET, format!("/api/admin/album/{id}/song"), None),
        (Method::GET, "/api/admin/song".into(), None),
        (
            Method::POST,
            "/api/admin/song".into(),
            Some(json!({"title": "t"})),
        ),
        (
            Method::PATCH,
            format!("/api/admin/song/{some}"),
            Some(json!({"title": "t"})),
        ),
        (Method::DELETE, format!("/api/admin/song/{some}"), None),
        (
            Method::POST,
            "/api/admin/upload-url".into(),
            Some(json!({"type": "song", "contentType": "audio/mpeg", "size": 10})),
        ),
    ];
    for (method, path, body) in &routes {
        let mut req = Req::new(method.clone(), path).bearer(&listener.access);
        if let Some(b) = body {
            req = req.json(b.clone());
        }
        let r = p.call(&p.admin, req).await;
        r.assert_problem(403, &format!("listener {method} {path}"));
    }
    // Nothing changed.
    let r = p
        .call(&p.song, Req::get(&format!("/api/song/album/{id}")))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["album"]["name"], "Kept");
    p.remove_bucket().await;
}

#[tokio::test]
async fn oversized_bodies_are_413_problems_on_every_service() {
    let p = Platform::start().await;
    let admin = mint(&TokenSpec::admin());
    let big = |n: usize| {
        json!({"email": "a@example.com", "password": "x".repeat(n)})
            .to_string()
            .into_bytes()
    };
    let cases: [(&str, &common::Platform, &str, usize); 3] = [
        ("user-svc", &p, "/api/user/login", 64 * 1024),
        ("admin-svc", &p, "/api/admin/album", 16 * 1024),
        ("song-svc", &p, "/api/song/album", 64 * 1024),
    ];
    for (name, p, path, limit) in cases {
        let server = match name {
            "user-svc" => &p.user,
            "admin-svc" => &p.admin,
            _ => &p.song,
        };
        let method = if name == "song-svc" {
            Method::GET
        } else {
            Method::POST
        };
        // Declared with Content-Length.
        let r = p
            .call(
                server,
                Req::new(method.clone(), path)
                    .bearer(&admin)
                    .header("content-type", "application/json")
                    .body(big(limit + 1024)),
            )
            .await;
        r.assert_problem(
            413,
            &format!("{name} {path}, {} bytes with Content-Length", limit + 1024),
        );
        // Streamed (chunked, no Content-Length), for the routes that read bodies.
        if name != "song-svc" {
            let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big(limit + 1024)
                .chunks(4096)
                .map(|c| Ok(c.to_vec()))
                .collect();
            let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
            let r = send(
                p.http
                    .request(method.clone(), server.url(path))
                    .bearer_auth(&admin)
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await;
            r.assert_problem(413, &format!("{name} {path}, chunked over the limit"));
        }
        // Just under the limit is read (and refused for its content, not size).
        let r = p
            .call(
                server,
                Req::new(method, path)
                    .bearer(&admin)
                    .header("content-type", "application/json")
                    .body(big(limit - 1024)),
            )
            .await;
        assert_ne!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{name} {path} under the limit"
        );
    }
    p.remove_bucket().await;
}

#[tokio::test]
async fn cors_answers_only_the_public_origin_on_every_service() {
    let p = Platform::start().await;
    for (name, server) in p.services() {
        let path = match name {
            "user-svc" => "/api/user/login",
            "admin-svc" => "/api/admin/album",
            _ => "/api/song/album",
        };
        for origin in [
            "https://evil.example",
            PUBLIC_BASE_URL,
            "http://cadenza.test.evil.example",
        ] {
            let preflight = p
                .call(
                    server,
                    Req::new(Method::OPTIONS, path)
                        .header("origin", origin)
                        .header("access-control-request-method", "POST")
                        .header(
                            "access-control-request-headers",
                            "content-type, authorization",
                        ),
                )
                .await;
            let simple = p
                .call(server, Req::get(path).header("origin", origin))
                .await;
            for (kind, r) in [("preflight", &preflight), ("simple", &simple)] {
                let allowed = r.header("access-control-allow-origin");
                if origin == PUBLIC_BASE_URL {
                    assert_eq!(allowed, Some(origin), "{name} {kind} from {origin}");
                    assert_eq!(
                        r.header("access-control-allow-credentials"),
                        Some("true"),
                        "{name} {kind} from {origin}"
                    );
                } else {
                    assert_eq!(allowed, None, "{name} {kind} from {origin}");
                    assert_eq!(
                        r.header("access-control-allow-credentials")
                            .filter(|_| allowed.is_some()),
                        None
                    );
                }
                assert!(
                    r.headers.get_all("vary").iter().any(|v| v.to_str().unwrap_or("").to_ascii_lowercase().contains("origin")),
                    "{name} {kind}: Vary: Origin, so caches never serve one origin's answer to another"
                );
            }
        }
    }
    p.remove_bucket().await;
}

#[tokio::test]
async fn every_answer_of_every_service_carries_the_security_headers() {
    let p = Platform::start().await;
    let admin = mint(&TokenSpec::admin());
    let stream = format!("/api/song/stream/{}", uuid::Uuid::new_v4());
    let cases: Vec<(&str, &cadenza_testkit::TestServer, Req)> = vec![
        ("user-svc", &p.user, Req::get("/healthz")),
        (
            "user-svc",
            &p.user,
            Req::get("/api/user/.well-known/jwks.json"),
        ),
        ("user-svc", &p.user, Req::get("/api/user/check-auth")),
        ("user-svc", &p.user, Req::get("/api/user/no-such-route")),
        (
            "user-svc",
            &p.user,
            Req::post("/api/user/login").json(json!({"email": "x"})),
        ),
        ("admin-svc", &p.admin, Req::get("/readyz")),
        (
            "admin-svc",
            &p.admin,
            Req::get("/api/admin/album").bearer(&admin),
        ),
        ("admin-svc", &p.admin, Req::get("/api/admin/album")),
        (
            "admin-svc",
            &p.admin,
            Req::delete("/api/admin/album/not-a-uuid").bearer(&admin),
        ),
        ("song-svc", &p.song, Req::get("/metrics")),
        ("song-svc", &p.song, Req::get("/api/song/album")),
        ("song-svc", &p.song, Req::get(&stream)),
        ("song-svc", &p.song, Req::get(&stream).bearer(&admin)),
        (
            "song-svc",
            &p.song,
            Req::new(Method::PUT, "/api/song/album"),
        ),
    ];
    for (name, server, req) in cases {
        let what = format!("{name} {} {}", req.method, req.path);
        let r = p.call(server, req).await;
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{what} ({})",
            r.status
        );
        assert_eq!(
            r.header("x-frame-options"),
            Some("DENY"),
            "{what} ({})",
            r.status
        );
        assert!(
            r.header("referrer-policy").is_some(),
            "{what} ({})",
            r.status
        );
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'"),
            "{what} ({}): CSP {csp:?}",
            r.status
        );
        assert!(r.header("x-request-id").is_some(), "{what} ({})", r.status);
    }
    p.remove_bucket().await;
}

#[tokio::test]
async fn services_started_after_a_logout_load_the_revocations_from_redis() {
    let p = Platform::start().await;
    let one = p.listener("revoked@example.com").await;
    let two = p.session("revoked@example.com", PASSWORD).await;
    let other = p.listener("untouched@example.com").await;
    // Logout revokes one session (auth:revoked-sid); logout-all every
    // session of the user (auth:user-nbf). Both are written to Redis keys
    // before any verifier below exists, so only the reload can teach them.
    let r = p
        .call(
            &p.user,
            Req::post("/api/user/logout")
                .cookie(&one.refresh)
                .bearer(&one.access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let fresh = p.session("revoked@example.com", PASSWORD).await;
    tokio::time::sleep(Duration::from_millis(1100)).await; // a later second than `fresh`'s iat
    let r = p
        .call(
            &p.user,
            Req::post("/api/user/logout-all").bearer(&fresh.access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let started = std::time::Instant::now();
    let song = song_svc::build_app(song_config(&Stores::shared(), &p.database_url, &p.ns))
        .await
        .unwrap();
    let song = cadenza_testkit::TestServer::start(song.router).await;
    let admin = admin_svc::build(admin_config(
        &Stores::shared(),
        &p.database_url,
        &p.ns,
        &p.bucket,
    ))
    .await
    .unwrap();
    let admin = cadenza_testkit::TestServer::start(admin.router).await;
    let stream = format!("/api/song/stream/{}", uuid::Uuid::new_v4());
    let first = p
        .call(&song, Req::get(&stream).bearer(&one.access))
        .await
        .status;
    // build() finishes the first reload before it returns, so not even the
    // first request to a just-started replica gets through.
    assert_eq!(
        first,
        StatusCode::UNAUTHORIZED,
        "first answer of a just-started song-svc"
    );
    for (what, token) in [
        ("logged-out session", &one.access),
        ("logout-all", &two.access),
        ("logout-all, newest", &fresh.access),
    ] {
        for (name, server, path) in [
            ("song-svc", &song, stream.as_str()),
            ("admin-svc", &admin, "/api/admin/album"),
        ] {
            let (_, t) = timed(
                Duration::from_secs(10),
                &format!("new {name} to refuse the {what} token"),
                || async {
                    let r = p.call(server, Req::get(path).bearer(token)).await;
                    (r.status == StatusCode::UNAUTHORIZED).then_some(())
                },
            )
            .await;
            println!(
                "new {name} refuses the {what} token {:?} after start ({t:?} of polling)",
                started.elapsed()
            );
        }
    }
    // Another user's token is untouched.
    assert_eq!(
        p.call(&song, Req::get(&stream).bearer(&other.access))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        p.call(&admin, Req::get("/api/admin/album").bearer(&other.access))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    p.remove_bucket().await;
}
