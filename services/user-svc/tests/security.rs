//! Enumeration, rate limits, input validation, IDOR, keys and docs.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn unknown_email_and_wrong_password_are_indistinguishable() {
    let w = World::new().await;
    w.user("known@example.com").await;
    let unknown = w.login("unknown@example.com", "Some-Password-123").await;
    let wrong = w.login("known@example.com", "Some-Password-123").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.text, wrong.text, "byte-identical bodies");
    assert_eq!(
        unknown.headers.get("content-type"),
        wrong.headers.get("content-type")
    );
    assert!(unknown.set_cookie().is_none() && wrong.set_cookie().is_none());

    // Timing: an unknown email still pays for one argon2 verification.
    let time = |email: &'static str| {
        let w = &w;
        async move {
            let t = std::time::Instant::now();
            w.login(email, "Some-Password-123").await;
            t.elapsed()
        }
    };
    // Minimums resist the noise of a shared 2-core machine.
    let mut u = std::time::Duration::MAX;
    let mut k = std::time::Duration::MAX;
    for _ in 0..5 {
        u = u.min(time("unknown@example.com").await);
        k = k.min(time("known@example.com").await);
    }
    let (u, k) = (u.as_secs_f64(), k.as_secs_f64());
    println!("fastest login failure: unknown email {u:.4}s, wrong password {k:.4}s");
    assert!(
        u > k * 0.5 && u < k * 2.0,
        "unknown {u}s vs wrong password {k}s"
    );
}

#[tokio::test]
async fn forgot_password_for_an_unknown_email_sends_nothing() {
    let w = World::new().await;
    let r = w
        .post(
            "/api/user/forgot-password",
            json!({"email": "ghost@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    w.register("real@example.com").await;
    w.job("verify_email", "real@example.com").await;
    let known = w
        .post(
            "/api/user/forgot-password",
            json!({"email": "real@example.com"}),
        )
        .await;
    assert_eq!(known.text, r.text, "same answer for known and unknown");
    w.job("password_reset", "real@example.com").await;
    // Nothing for the unknown address, nothing more for the known one.
    cadenza_testkit::assert_quiet_for(
        std::time::Duration::from_millis(700),
        "second mail",
        || async {
            let rest = w.all_jobs().await;
            (!rest.is_empty()).then(|| format!("{rest:?}"))
        },
    )
    .await;
}

#[tokio::test]
async fn the_eleventh_login_for_one_email_is_rate_limited() {
    let w = World::new().await;
    for i in 1..=10 {
        let r = w.login("target@example.com", "Guess-Number-0000").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = w.login("target@example.com", "Guess-Number-0000").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(r.headers["content-type"], "application/problem+json");
    // Normalisation cannot dodge it; another email is unaffected.
    assert_eq!(
        w.login(" TARGET@example.com", "x-Guess-1").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        w.login("other@example.com", "x-Guess-1").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_per_ip_limit_covers_register_and_forgot_password() {
    let w = World::with(|c| {
        c.limits.register_per_ip = user_svc::ratelimit::Rule::per_minute(2);
        c.limits.email_action_per_ip = user_svc::ratelimit::Rule::per_minute(2);
    })
    .await;
    assert_eq!(
        w.register("a1@example.com").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        w.register("a2@example.com").await.status,
        StatusCode::CREATED
    );
    let r = w.register("a3@example.com").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key("retry-after"));
    for i in 0..2 {
        let r = w
            .post(
                "/api/user/forgot-password",
                json!({"email": format!("f{i}@example.com")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = w
        .post(
            "/api/user/forgot-password",
            json!({"email": "f9@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn bad_input_is_a_problem_naming_the_field_never_a_500() {
    let w = World::new().await;
    let s = w.user("validator@example.com").await;
    let long = "a".repeat(300);
    type Case<'a> = (
        &'a str,
        Option<serde_json::Value>,
        Option<&'a str>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "/api/user/register",
            None,
            Some("{\"email\": "),
            400,
            "body",
        ),
        ("/api/user/register", None, Some("not json"), 400, "body"),
        (
            "/api/user/register",
            Some(json!({"password": PASSWORD})),
            None,
            422,
            "email",
        ),
        (
            "/api/user/register",
            Some(json!({"email": "a@b.co"})),
            None,
            422,
            "password",
        ),
        (
            "/api/user/register",
            Some(json!({"email": 42, "password": PASSWORD})),
            None,
            422,
            "email",
        ),
        (
            "/api/user/register",
            Some(json!({"email": "a@b.co", "password": ["x"]})),
            None,
            422,
            "password",
        ),
        (
            "/api/user/register",
            Some(json!({"email": "not-an-email", "password": PASSWORD})),
            None,
            422,
            "email",
        ),
        (
            "/api/user/register",
            Some(json!({"email": format!("{long}@example.com"), "password": PASSWORD})),
            None,
            422,
            "email",
        ),
        (
            "/api/user/register",
            Some(json!({"email": "x@example.com", "password": "short"})),
            None,
            422,
            "password",
        ),
        (
            "/api/user/register",
            Some(json!({"email": "x@example.com", "password": "a".repeat(129)})),
            None,
            422,
            "password",
        ),
        (
            "/api/user/register",
            Some(json!({"email": "x@example.com", "password": "password123"})),
            None,
            422,
            "password",
        ),
        (
            "/api/user/login",
            Some(json!({"email": "x@example.com"})),
            None,
            422,
            "password",
        ),
        (
            "/api/user/login",
            Some(json!({"email": "nope", "password": "x"})),
            None,
            422,
            "email",
        ),
        (
            "/api/user/login",
            Some(json!("just a string")),
            None,
            422,
            "body",
        ),
        (
            "/api/user/forgot-password",
            Some(json!({"email": null})),
            None,
            422,
            "email",
        ),
        (
            "/api/user/resend-verification",
            Some(json!({"email": "@"})),
            None,
            422,
            "email",
        ),
        (
            "/api/user/verify-email",
            Some(json!({"token": long})),
            None,
            400,
            "token",
        ),
        (
            "/api/user/verify-email",
            Some(json!({})),
            None,
            422,
            "token",
        ),
        (
            "/api/user/set-password",
            Some(json!({"token": "t", "password": "p"})),
            None,
            422,
            "passwordAgain",
        ),
    ];
    for (path, body, raw, status, field) in cases {
        let mut req = Req::post(path);
        req = match (body, raw) {
            (Some(b), _) => req.json(b),
            (None, Some(r)) => req.raw(r),
            _ => req,
        };
        let r = w.call(req).await;
        assert_eq!(r.status.as_u16(), status, "{path}: {}", r.text);
        assert_eq!(
            r.headers["content-type"], "application/problem+json",
            "{path}"
        );
        assert_eq!(
            r.problem_field().as_deref(),
            Some(field),
            "{path}: {}",
            r.text
        );
        assert_eq!(r.json["message"], r.json["detail"]);
    }
    let authed: Vec<(Method, &str, Option<serde_json::Value>, u16, &str)> = vec![
        (
            Method::POST,
            "/api/user/favorites",
            Some(json!({"songId": 5})),
            422,
            "songId",
        ),
        (
            Method::POST,
            "/api/user/favorites",
            Some(json!({"songId": "../../etc"})),
            422,
            "songId",
        ),
        (
            Method::POST,
            "/api/user/favorites",
            Some(json!({"songId": long})),
            422,
            "songId",
        ),
        (
            Method::POST,
            "/api/user/change-password",
            Some(json!({"currentPassword": PASSWORD})),
            422,
            "newPassword",
        ),
    ];
    for (method, path, body, status, field) in authed {
        let mut req = Req::new(method, path).bearer(&s.access);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = w.call(req).await;
        assert_eq!(r.status.as_u16(), status, "{path}: {}", r.text);
        assert_eq!(
            r.problem_field().as_deref(),
            Some(field),
            "{path}: {}",
            r.text
        );
    }
    let r = w.call(Req::get("/api/user/validate-token")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.problem_field().as_deref(), Some("token"));
    // A forged or garbage bearer is 401, never 500.
    for bad in ["garbage", "a.b.c", &s.access[..s.access.len() - 3]] {
        let r = w.call(Req::get("/api/user/check-auth").bearer(bad)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad}");
    }
}

#[tokio::test]
async fn users_cannot_see_or_end_each_others_sessions_or_favourites() {
    let w = World::new().await;
    let a = w.user("alice@example.com").await;
    let b = w.user("bob@example.com").await;
    let song = "7f8b1e2a-4c5d-4e6f-8a9b-0c1d2e3f4a5b";

    // Favourites: add (idempotent), list, delete.
    let r = w
        .call(
            Req::post("/api/user/favorites")
                .bearer(&a.access)
                .json(json!({"songId": song})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json["favorite"]["songId"], song);
    let again = w
        .call(
            Req::post("/api/user/favorites")
                .bearer(&a.access)
                .json(json!({"songId": song})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(
        again.json["favorite"]["createdAt"],
        r.json["favorite"]["createdAt"]
    );
    let list = w
        .call(Req::get("/api/user/favorites").bearer(&a.access))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json["favorites"].as_array().unwrap().len(), 1);
    let fav = &list.json["favorites"][0];
    assert_eq!(fav["songId"], song);
    assert!(fav["createdAt"].is_string());
    // The seed's item fields: id, userId, songId, addedAt.
    assert_eq!(fav["id"], r.json["favorite"]["id"]);
    assert!(!fav["id"].as_str().unwrap().is_empty());
    assert_eq!(fav["addedAt"], fav["createdAt"]);
    let me = w
        .call(Req::get("/api/user/check-auth").bearer(&a.access))
        .await;
    assert_eq!(fav["userId"], me.json["user"]["id"]);

    let bobs = w
        .call(Req::get("/api/user/favorites").bearer(&b.access))
        .await;
    assert_eq!(bobs.json["favorites"], json!([]));
    let path = format!("/api/user/favorites/{song}");
    assert_eq!(
        w.call(Req::delete(&path).bearer(&b.access)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.call(Req::get("/api/user/favorites").bearer(&a.access))
            .await
            .json["favorites"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        w.call(Req::delete(&path)).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Sessions: Bob sees only his, and Alice's id is "not found" to him.
    let a_sessions = w
        .call(Req::get("/api/user/sessions").bearer(&a.access))
        .await;
    assert_eq!(a_sessions.status, StatusCode::OK);
    let list = a_sessions.json["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let a_sid = list[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list[0]["current"], true);
    for key in ["userAgent", "ip", "createdAt", "lastUsedAt"] {
        assert!(list[0].get(key).is_some(), "{key}");
    }
    let b_sessions = w
        .call(Req::get("/api/user/sessions").bearer(&b.access))
        .await;
    assert!(b_sessions.json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["id"] != a_sid.as_str()));
    let r = w
        .call(Req::delete(&format!("/api/user/sessions/{a_sid}")).bearer(&b.access))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        w.call(Req::post("/api/user/refresh-token").cookie(&a.refresh))
            .await
            .status,
        StatusCode::OK
    );

    // Alice ends a second session of hers from the first.
    let a2 = w.session("alice@example.com").await;
    let list = w
        .call(Req::get("/api/user/sessions").bearer(&a.access))
        .await;
    let second = list.json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = w
        .call(Req::delete(&format!("/api/user/sessions/{second}")).bearer(&a.access))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        w.call(Req::post("/api/user/refresh-token").cookie(&a2.refresh))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        w.call(Req::get("/api/user/sessions").bearer(&a.access))
            .await
            .json["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    assert_eq!(
        w.call(Req::delete(&path).bearer(&a.access)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        w.call(Req::get("/api/user/favorites").bearer(&a.access))
            .await
            .json["favorites"],
        json!([])
    );
    // The seed's body form of DELETE works as well.
    w.call(
        Req::post("/api/user/favorites")
            .bearer(&a.access)
            .json(json!({"songId": song})),
    )
    .await;
    let r = w
        .call(
            Req::delete("/api/user/favorites")
                .bearer(&a.access)
                .json(json!({"songId": song})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn jwks_openapi_docs_and_probes() {
    let w = World::new().await;
    let r = w.call(Req::get("/api/user/.well-known/jwks.json")).await;
    assert_eq!(r.status, StatusCode::OK);
    let key = &r.json["keys"][0];
    assert_eq!(key["kid"], cadenza_testkit::keys::JWT_KID);
    assert_eq!(key["alg"], "RS256");
    assert!(key.get("d").is_none(), "no private parts");
    let set: Vec<cadenza_auth::PublicJwk> = serde_json::from_value(r.json["keys"].clone()).unwrap();
    assert!(cadenza_auth::PublicKeySet::from_jwks(&set)
        .unwrap()
        .get(cadenza_testkit::keys::JWT_KID)
        .is_some());

    let r = w.call(Req::get("/api/user/openapi.json")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json["openapi"].as_str().unwrap().starts_with("3.1"));
    for p in [
        "/api/user/login",
        "/api/user/refresh-token",
        "/api/user/sessions/{id}",
        "/api/user/favorites",
    ] {
        assert!(r.json["paths"].get(p).is_some(), "{p} missing");
    }
    let r = w.call(Req::get("/api/user/docs")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(
        r.headers["content-security-policy"],
        cadenza_platform::docs::DOCS_CSP
    );
    assert!(!r.text.contains("://"), "{}", r.text);

    assert_eq!(w.call(Req::get("/healthz")).await.status, StatusCode::OK);
    let ready = w.call(Req::get("/readyz")).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(
        w.call(Req::get("/api/user/nope")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let w = World::with(|c| {
        c.proxy = user_svc::client_ip::ProxyPolicy::trusting("127.0.0.0/8").unwrap();
        c.limits.login_per_ip = user_svc::ratelimit::Rule::per_minute(2);
    })
    .await;
    w.user("proxied@example.com").await;
    let login = |xff: &'static str| {
        let w = &w;
        async move {
            w.http
                .post(w.url("/api/user/login"))
                .header("x-forwarded-for", xff)
                .json(&json!({"email": "proxied@example.com", "password": PASSWORD}))
                .send()
                .await
                .unwrap()
        }
    };
    // Two logins from one client IP, then the third is limited…
    assert_eq!(
        login("6.6.6.6, 198.51.100.1").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        login("7.7.7.7, 198.51.100.1").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        login("198.51.100.1").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // …while another client behind the same proxy is not, and the session records its address.
    let r = login("198.51.100.2").await;
    assert_eq!(r.status(), StatusCode::OK);
    let access = r.json::<serde_json::Value>().await.unwrap()["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = w.call(Req::get("/api/user/sessions").bearer(&access)).await;
    let current = list.json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()
        .clone();
    assert_eq!(current["ip"], "198.51.100.2");
}

#[test]
fn openapi_operation_ids_are_unique() {
    let doc =
        serde_json::to_value(<user_svc::openapi::ApiDoc as utoipa::OpenApi>::openapi()).unwrap();
    let mut ids = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
                ids.push(id.to_owned());
            }
        }
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "{ids:?}");
    assert!(n >= 18);
}

#[tokio::test]
async fn favourites_page_with_limit_and_offset() {
    let w = World::new().await;
    let s = w.user("pager@example.com").await;
    for i in 0..3 {
        let id = format!("00000000-0000-4000-8000-00000000000{i}");
        let r = w
            .call(
                Req::post("/api/user/favorites")
                    .bearer(&s.access)
                    .json(json!({"songId": id})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let all = w
        .call(Req::get("/api/user/favorites").bearer(&s.access))
        .await;
    let ids: Vec<_> = all.json["favorites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["songId"].clone())
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(
        ids[0], "00000000-0000-4000-8000-000000000002",
        "newest first"
    );
    let page = w
        .call(Req::get("/api/user/favorites?limit=2&offset=1").bearer(&s.access))
        .await;
    let paged: Vec<_> = page.json["favorites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["songId"].clone())
        .collect();
    assert_eq!(paged, ids[1..3].to_vec());
    let bad = w
        .call(Req::get("/api/user/favorites?limit=0").bearer(&s.access))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.problem_field().as_deref(), Some("limit"));
    let bad = w
        .call(Req::get("/api/user/favorites?limit=lots").bearer(&s.access))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// POSTs /api/user/refresh-token (no cookie: 401 until the per-IP limit,
/// then 429) from the local address `from`, claiming `xff`.
async fn refresh_from(w: &World, from: &str, xff: &str) -> StatusCode {
    let http = reqwest::Client::builder()
        .local_address(from.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    http.post(w.url("/api/user/refresh-token"))
        .header("x-forwarded-for", xff)
        .send()
        .await
        .expect("request")
        .status()
}

#[tokio::test]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    // The gateway is 127.0.0.2; 127.0.0.1 is a client that reached the
    // service directly and forges a fresh X-Forwarded-For on every request.
    let w = World::with(|c| {
        c.proxy = user_svc::client_ip::ProxyPolicy::trusting("127.0.0.2/32").unwrap();
        c.limits.refresh_per_ip = user_svc::ratelimit::Rule::per_minute(2);
    })
    .await;
    assert_eq!(
        refresh_from(&w, "127.0.0.1", "203.0.113.1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh_from(&w, "127.0.0.1", "203.0.113.2").await,
        StatusCode::UNAUTHORIZED
    );
    // Before the fix (any private peer trusted) this was a fresh budget.
    assert_eq!(
        refresh_from(&w, "127.0.0.1", "203.0.113.3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Through the gateway, the header is believed: another client, its own budget.
    assert_eq!(
        refresh_from(&w, "127.0.0.2", "203.0.113.4").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn two_ipv6_addresses_in_one_64_share_one_limit() {
    let w = World::with(|c| {
        c.proxy = user_svc::client_ip::ProxyPolicy::trusting("127.0.0.1/32").unwrap();
        c.limits.refresh_per_ip = user_svc::ratelimit::Rule::per_minute(2);
    })
    .await;
    for xff in ["2001:db8:1:2::1", "2001:db8:1:2:aaaa:bbbb:cccc:dddd"] {
        assert_eq!(
            refresh_from(&w, "127.0.0.1", xff).await,
            StatusCode::UNAUTHORIZED
        );
    }
    // A third address of the same /64 is the same subscriber: limited.
    assert_eq!(
        refresh_from(&w, "127.0.0.1", "2001:db8:1:2::ffff").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The neighbouring /64 is someone else.
    assert_eq!(
        refresh_from(&w, "127.0.0.1", "2001:db8:1:3::1").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn api_docs_false_answers_404_for_the_docs_page_and_its_assets() {
    let w = World::with(|c| c.api_docs = false).await;
    for path in [
        "/api/user/docs",
        "/api/user/docs/app.js",
        "/api/user/docs/app.css",
    ] {
        assert_eq!(
            w.call(Req::get(path)).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // The machine-readable document stays.
    assert_eq!(
        w.call(Req::get("/api/user/openapi.json")).await.status,
        StatusCode::OK
    );
}
