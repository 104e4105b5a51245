//! Every way a token can be wrong, against the verifier and through the
//! extractors, plus JWKS fetching and the Redis-fed denylist on real servers.

use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cadenza_auth::*;
use cadenza_platform::redis::Namespace;
use cadenza_testkit::keys::*;
use cadenza_testkit::{eventually, fresh_namespace, infra, mint, TestServer, TokenSpec};

fn verifier() -> TokenVerifier {
    TokenVerifier::with_keys(
        ISSUER,
        AUDIENCE,
        PublicKeySet::from_pems(JWT_PUBLIC_PEM).unwrap(),
    )
}

async fn check(spec: TokenSpec) -> Result<Claims, AuthError> {
    verifier().verify(&mint(&spec)).await
}

#[tokio::test]
async fn a_correct_token_is_accepted_with_its_claims() {
    let spec = TokenSpec::admin();
    let claims = check(spec.clone()).await.unwrap();
    assert_eq!(claims.sub, spec.sub);
    assert_eq!(claims.sid, spec.sid);
    assert_eq!(claims.role, Role::Admin);
    assert!(claims.is_verified);
}

#[tokio::test]
async fn expired_tokens_are_refused_after_the_leeway() {
    let spec = TokenSpec {
        iat_offset: -1000,
        nbf_offset: -1000,
        exp_offset: -31,
        ..TokenSpec::user()
    };
    assert_eq!(check(spec).await.unwrap_err(), AuthError::Expired);
    // Inside the 30 s leeway a just-expired token still passes.
    let spec = TokenSpec {
        iat_offset: -900,
        nbf_offset: -900,
        exp_offset: -5,
        ..TokenSpec::user()
    };
    assert!(check(spec).await.is_ok());
}

#[tokio::test]
async fn not_yet_valid_tokens_are_refused() {
    let spec = TokenSpec {
        nbf_offset: 120,
        ..TokenSpec::user()
    };
    assert_eq!(
        check(spec).await.unwrap_err(),
        AuthError::Invalid("token not yet valid")
    );
}

#[tokio::test]
async fn wrong_issuer_audience_and_type_are_refused() {
    let iss = TokenSpec {
        iss: "someone-else".into(),
        ..TokenSpec::user()
    };
    assert_eq!(
        check(iss).await.unwrap_err(),
        AuthError::Invalid("wrong issuer")
    );
    let aud = TokenSpec {
        aud: "other-api".into(),
        ..TokenSpec::user()
    };
    assert_eq!(
        check(aud).await.unwrap_err(),
        AuthError::Invalid("wrong audience")
    );
    let typ = TokenSpec {
        typ: Some("JWT".into()),
        ..TokenSpec::user()
    };
    assert_eq!(
        check(typ).await.unwrap_err(),
        AuthError::Invalid("not an access token")
    );
    let none = TokenSpec {
        typ: None,
        ..TokenSpec::user()
    };
    assert_eq!(
        check(none).await.unwrap_err(),
        AuthError::Invalid("not an access token")
    );
}

#[tokio::test]
async fn unknown_kid_and_foreign_keys_are_refused() {
    let unknown = TokenSpec {
        kid: Some("nope".into()),
        ..TokenSpec::user()
    };
    assert_eq!(
        check(unknown).await.unwrap_err(),
        AuthError::Invalid("unknown signing key")
    );
    let missing = TokenSpec {
        kid: None,
        ..TokenSpec::user()
    };
    assert_eq!(
        check(missing).await.unwrap_err(),
        AuthError::Invalid("missing key id")
    );
    // Signed by another key but claiming our kid.
    let forged = TokenSpec {
        private_pem: OTHER_PRIVATE_PEM,
        ..TokenSpec::user()
    };
    assert_eq!(
        check(forged).await.unwrap_err(),
        AuthError::Invalid("bad signature")
    );
}

fn b64(v: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn valid_payload() -> serde_json::Value {
    let token = mint(&TokenSpec::admin());
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn alg_none_is_refused() {
    let header = serde_json::json!({"alg": "none", "typ": "at+jwt", "kid": JWT_KID});
    let token = format!("{}.{}.", b64(&header), b64(&valid_payload()));
    assert!(verifier().verify(&token).await.is_err());
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(JWT_KID.into());
    let token = encode(
        &header,
        &valid_payload(),
        &EncodingKey::from_secret(JWT_PUBLIC_PEM.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        verifier().verify(&token).await.unwrap_err(),
        AuthError::Invalid("algorithm not allowed")
    );
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    let token = mint(&TokenSpec::user());
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = valid_payload();
    payload["role"] = "admin".into();
    let tampered = format!("{}.{}.{}", parts[0], b64(&payload), parts[2]);
    assert_eq!(
        verifier().verify(&tampered).await.unwrap_err(),
        AuthError::Invalid("bad signature")
    );
    assert_eq!(
        verifier().verify("not-a-jwt").await.unwrap_err(),
        AuthError::Malformed
    );
}

#[tokio::test]
async fn revoked_sessions_and_users_are_refused() {
    let v = verifier();
    let spec = TokenSpec::user();
    let token = mint(&spec);
    assert!(v.verify(&token).await.is_ok());
    v.denylist()
        .revoke_sid(&spec.sid, chrono::Utc::now().timestamp() + 900);
    assert_eq!(v.verify(&token).await.unwrap_err(), AuthError::Revoked);

    // User-wide: tokens issued before notBefore die, later ones live.
    let spec = TokenSpec {
        iat_offset: -10,
        ..TokenSpec::user()
    };
    let old = mint(&spec);
    v.denylist()
        .revoke_user_before(&spec.sub, chrono::Utc::now().timestamp() - 5);
    assert_eq!(v.verify(&old).await.unwrap_err(), AuthError::Revoked);
    let fresh = mint(&TokenSpec {
        sid: "new".into(),
        iat_offset: 0,
        ..spec
    });
    assert!(v.verify(&fresh).await.is_ok());
}

async fn protected_app(v: TokenVerifier) -> TestServer {
    let app = Router::new()
        .route(
            "/me",
            get(|AuthUser(c): AuthUser| async move { Json(c.sub) }),
        )
        .route(
            "/admin",
            get(|AdminUser(c): AdminUser| async move { Json(c.sub) }),
        )
        .route(
            "/maybe",
            get(|MaybeUser(c): MaybeUser| async move { Json(c.map(|c| c.sub)) }),
        )
        .with_state(v);
    TestServer::start(app).await
}

#[tokio::test]
async fn extractors_answer_401_403_problems() {
    let server = protected_app(verifier()).await;
    let http = reqwest::Client::new();
    let get = |path: &str, token: Option<String>| {
        let mut req = http.get(server.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };

    let resp = get("/me", None).await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["message"], "missing bearer token");

    let expired = mint(&TokenSpec {
        iat_offset: -2000,
        nbf_offset: -2000,
        exp_offset: -100,
        ..TokenSpec::user()
    });
    let resp = get("/me", Some(expired)).await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["message"], "Token expired");

    let user = mint(&TokenSpec::user());
    assert_eq!(get("/me", Some(user.clone())).await.unwrap().status(), 200);
    assert_eq!(
        get("/admin", Some(user.clone())).await.unwrap().status(),
        403
    );
    assert_eq!(
        get("/admin", Some(mint(&TokenSpec::admin())))
            .await
            .unwrap()
            .status(),
        200
    );

    assert_eq!(
        get("/maybe", None).await.unwrap().text().await.unwrap(),
        "null"
    );
    assert_eq!(
        get("/maybe", Some("garbage".into()))
            .await
            .unwrap()
            .status(),
        401
    );
    let wrong_scheme = http
        .get(server.url("/me"))
        .header("authorization", format!("Basic {user}"));
    assert_eq!(wrong_scheme.send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn jwks_keys_are_fetched_and_rotation_is_picked_up() {
    // A JWKS endpoint that first publishes the test key, then both keys.
    let keys = std::sync::Arc::new(std::sync::Mutex::new(vec![PublicJwk::from_public_pem(
        JWT_PUBLIC_PEM,
    )
    .unwrap()]));
    let served = keys.clone();
    let jwks = TestServer::start(Router::new().route(
        "/jwks.json",
        get(move || {
            let k = served.lock().unwrap().clone();
            async move { Json(serde_json::json!({ "keys": k })) }
        }),
    ))
    .await;
    let v = TokenVerifier::new(VerifierConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        keys: KeySource::Jwks(jwks.url("/jwks.json")),
    })
    .await
    .unwrap();
    assert!(v.verify(&mint(&TokenSpec::user())).await.is_ok());

    let other = TokenSpec {
        private_pem: OTHER_PRIVATE_PEM,
        kid: Some(OTHER_KID.into()),
        ..TokenSpec::user()
    };
    // Not published yet: refused, and the refetch is rate-limited, so
    // publishing now is only noticed after the 30 s window. Force it by
    // building a new verifier, as a restarted pod would.
    assert_eq!(
        v.verify(&mint(&other)).await.unwrap_err(),
        AuthError::Invalid("unknown signing key")
    );
    keys.lock()
        .unwrap()
        .push(PublicJwk::from_public_pem(OTHER_PUBLIC_PEM).unwrap());
    let v2 = TokenVerifier::new(VerifierConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        keys: KeySource::Jwks(jwks.url("/jwks.json")),
    })
    .await
    .unwrap();
    assert!(v2.verify(&mint(&other)).await.is_ok());
    assert!(v2.verify(&mint(&TokenSpec::user())).await.is_ok());
}

async fn publisher(ns: &Namespace) -> RevocationPublisher {
    let client = redis::Client::open(infra().redis_url.as_str()).unwrap();
    let conn = cadenza_platform::redis::manager(&client).await.unwrap();
    RevocationPublisher::new(conn, ns.clone())
}

#[tokio::test]
async fn revocations_reach_another_verifier_through_redis_within_a_second() {
    let ns = fresh_namespace();
    let v = verifier();
    let client = redis::Client::open(infra().redis_url.as_str()).unwrap();
    let sub = v.denylist().spawn_sync(client, ns.clone());
    eventually(Duration::from_secs(5), "subscription", || async {
        sub.is_connected().then_some(())
    })
    .await;

    let spec = TokenSpec::user();
    let token = mint(&spec);
    assert!(v.verify(&token).await.is_ok());
    let started = std::time::Instant::now();
    publisher(&ns)
        .await
        .revoke_session(&spec.sid, &spec.sub, chrono::Utc::now().timestamp() + 900)
        .await
        .unwrap();
    eventually(Duration::from_secs(1), "session revocation", || {
        let v = v.clone();
        let token = token.clone();
        async move { (v.verify(&token).await == Err(AuthError::Revoked)).then_some(()) }
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn revocations_made_while_disconnected_are_loaded_on_subscribe() {
    let ns = fresh_namespace();
    let spec = TokenSpec {
        iat_offset: -60,
        ..TokenSpec::user()
    };
    let other = TokenSpec::user();
    // Revoked before this verifier exists: only the Redis keys can tell it.
    let p = publisher(&ns).await;
    p.revoke_user(&spec.sub, chrono::Utc::now().timestamp() - 1)
        .await
        .unwrap();
    p.revoke_session(&other.sid, &other.sub, chrono::Utc::now().timestamp() + 900)
        .await
        .unwrap();

    let v = verifier();
    let client = redis::Client::open(infra().redis_url.as_str()).unwrap();
    let _sub = v.denylist().spawn_sync(client, ns);
    for (what, spec) in [("user not-before", spec), ("revoked sid", other)] {
        let token = mint(&spec);
        eventually(Duration::from_secs(5), what, || {
            let v = v.clone();
            let token = token.clone();
            async move { (v.verify(&token).await == Err(AuthError::Revoked)).then_some(()) }
        })
        .await;
    }
}

#[tokio::test]
async fn a_new_replica_knows_earlier_revocations_once_its_first_load_is_done() {
    let ns = fresh_namespace();
    let spec = TokenSpec::user();
    publisher(&ns)
        .await
        .revoke_session(&spec.sid, &spec.sub, chrono::Utc::now().timestamp() + 900)
        .await
        .unwrap();

    let v = verifier();
    assert!(!v.denylist().first_load_done());
    let client = redis::Client::open(infra().redis_url.as_str()).unwrap();
    let _sub = v.denylist().spawn_sync(client, ns);
    eventually(Duration::from_secs(5), "first load", || async {
        v.denylist().first_load_done().then_some(())
    })
    .await;
    // Readiness flips only after the load, so the very next request is safe.
    assert_eq!(
        v.verify(&mint(&spec)).await.unwrap_err(),
        AuthError::Revoked
    );
    assert!((v.denylist().readiness())().await.is_ok());
}

#[tokio::test]
async fn readiness_does_not_wait_forever_when_redis_is_down_at_start() {
    let port = cadenza_testkit::process::free_port();
    let v = verifier();
    assert!((v.denylist().readiness())().await.is_err());
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
    let _sub = v.denylist().spawn_sync(client, fresh_namespace());
    eventually(Duration::from_secs(5), "first load attempt", || async {
        v.denylist().first_load_done().then_some(())
    })
    .await;
    // Fail open, as documented: a valid token is still accepted.
    assert!(v.verify(&mint(&TokenSpec::user())).await.is_ok());
}

/// What the JWKS test endpoint answers next.
#[derive(Clone)]
enum JwksAnswer {
    Keys(Vec<PublicJwk>),
    Raw(axum::http::StatusCode, &'static str),
    Redirect(String),
}

/// A real HTTP server whose `/jwks.json` answers whatever `answer` holds, and
/// whose `/attacker.json` publishes the other key (a redirect target).
async fn jwks_server(answer: std::sync::Arc<std::sync::Mutex<JwksAnswer>>) -> TestServer {
    use axum::response::{IntoResponse, Redirect};
    TestServer::start(
        Router::new()
            .route(
                "/jwks.json",
                get(move || {
                    let a = answer.lock().unwrap().clone();
                    async move {
                        match a {
                            JwksAnswer::Keys(k) => {
                                Json(serde_json::json!({ "keys": k })).into_response()
                            }
                            JwksAnswer::Raw(status, body) => (status, body).into_response(),
                            JwksAnswer::Redirect(to) => Redirect::temporary(&to).into_response(),
                        }
                    }
                }),
            )
            .route(
                "/attacker.json",
                get(|| async {
                    Json(serde_json::json!({
                        "keys": [PublicJwk::from_public_pem(OTHER_PUBLIC_PEM).unwrap()]
                    }))
                }),
            ),
    )
    .await
}

fn jwks_config(url: String) -> VerifierConfig {
    VerifierConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        keys: KeySource::Jwks(url),
    }
}

fn other_key_token() -> String {
    mint(&TokenSpec {
        private_pem: OTHER_PRIVATE_PEM,
        kid: Some(OTHER_KID.into()),
        ..TokenSpec::user()
    })
}

#[tokio::test]
async fn a_jwks_redirect_to_an_attacker_key_set_is_not_followed() {
    let answer = std::sync::Arc::new(std::sync::Mutex::new(JwksAnswer::Keys(vec![])));
    let server = jwks_server(answer.clone()).await;
    *answer.lock().unwrap() = JwksAnswer::Redirect(server.url("/attacker.json"));

    // At start: the redirect is refused, so no key at all (every token refused)…
    let v = TokenVerifier::new(jwks_config(server.url("/jwks.json")))
        .await
        .unwrap();
    assert_eq!(
        v.verify(&other_key_token()).await.unwrap_err(),
        AuthError::Invalid("unknown signing key"),
        "a token signed with the redirect target's key must not verify"
    );
    let e = v.reload_keys().await.unwrap_err();
    assert!(e.contains("redirect"), "{e}");

    // …and later: a verifier with good keys keeps them when the URL starts redirecting.
    *answer.lock().unwrap() =
        JwksAnswer::Keys(vec![PublicJwk::from_public_pem(JWT_PUBLIC_PEM).unwrap()]);
    assert_eq!(v.reload_keys().await, Ok(1));
    *answer.lock().unwrap() = JwksAnswer::Redirect(server.url("/attacker.json"));
    assert!(v.reload_keys().await.is_err());
    assert!(v.verify(&mint(&TokenSpec::user())).await.is_ok());
    assert!(v.verify(&other_key_token()).await.is_err());
}

#[tokio::test]
async fn a_bad_or_empty_jwks_answer_keeps_the_cached_keys() {
    use axum::http::StatusCode;
    let good = vec![PublicJwk::from_public_pem(JWT_PUBLIC_PEM).unwrap()];
    let answer = std::sync::Arc::new(std::sync::Mutex::new(JwksAnswer::Keys(good)));
    let server = jwks_server(answer.clone()).await;
    let v = TokenVerifier::new(jwks_config(server.url("/jwks.json")))
        .await
        .unwrap();
    let token = mint(&TokenSpec::user());
    assert!(v.verify(&token).await.is_ok());

    let mut broken_key = PublicJwk::from_public_pem(OTHER_PUBLIC_PEM).unwrap();
    broken_key.n = "!!not base64!!".into();
    let bad = [
        JwksAnswer::Keys(vec![]),
        JwksAnswer::Keys(vec![broken_key]),
        JwksAnswer::Raw(StatusCode::OK, "{\"keys\": 7}"),
        JwksAnswer::Raw(StatusCode::OK, "<html>maintenance</html>"),
        JwksAnswer::Raw(StatusCode::INTERNAL_SERVER_ERROR, "{\"keys\": []}"),
        JwksAnswer::Raw(StatusCode::NOT_FOUND, ""),
    ];
    for (i, a) in bad.into_iter().enumerate() {
        *answer.lock().unwrap() = a;
        assert!(
            v.reload_keys().await.is_err(),
            "bad answer #{i} was accepted"
        );
        assert!(
            v.verify(&token).await.is_ok(),
            "bad answer #{i} dropped the cached key"
        );
    }

    // A good answer replaces the set: a key no longer published stops working.
    *answer.lock().unwrap() =
        JwksAnswer::Keys(vec![PublicJwk::from_public_pem(OTHER_PUBLIC_PEM).unwrap()]);
    assert_eq!(v.reload_keys().await, Ok(1));
    assert!(v.verify(&other_key_token()).await.is_ok());
    assert_eq!(
        v.verify(&token).await.unwrap_err(),
        AuthError::Invalid("unknown signing key")
    );
}

#[tokio::test]
async fn a_kept_verification_still_answers_to_revocation_and_key_removal() {
    let both = vec![
        PublicJwk::from_public_pem(JWT_PUBLIC_PEM).unwrap(),
        PublicJwk::from_public_pem(OTHER_PUBLIC_PEM).unwrap(),
    ];
    let answer = std::sync::Arc::new(std::sync::Mutex::new(JwksAnswer::Keys(both)));
    let server = jwks_server(answer.clone()).await;
    let v = TokenVerifier::new(jwks_config(server.url("/jwks.json")))
        .await
        .unwrap();
    let spec = TokenSpec::user();
    let token = mint(&spec);
    let other = other_key_token();
    for _ in 0..3 {
        assert!(v.verify(&token).await.is_ok());
        assert!(v.verify(&other).await.is_ok());
    }
    assert_eq!(v.verified_tokens(), 2, "both outcomes are kept");
    // A refresh that drops no key (the 10-minute refetch, or one forced by
    // an unknown kid, which anyone can cause) keeps them.
    assert_eq!(v.reload_keys().await, Ok(2));
    assert_eq!(
        v.verified_tokens(),
        2,
        "an unchanged key set keeps the memo"
    );

    // Revoked after it was kept: refused on the next request.
    v.denylist().revoke_sid(&spec.sid, i64::MAX);
    assert_eq!(v.verify(&token).await.unwrap_err(), AuthError::Revoked);

    // The other key leaves the JWKS: its kept token is refused at once.
    *answer.lock().unwrap() =
        JwksAnswer::Keys(vec![PublicJwk::from_public_pem(JWT_PUBLIC_PEM).unwrap()]);
    assert_eq!(v.reload_keys().await, Ok(1));
    assert_eq!(v.verified_tokens(), 0);
    assert_eq!(
        v.verify(&other).await.unwrap_err(),
        AuthError::Invalid("unknown signing key")
    );
}

/// Sixteen clients verify tokens of a key while the JWKS drops that key. A
/// verification that read the old key before the reload and finished after
/// it must not leave its outcome behind: once `reload_keys` has returned, no
/// verification that starts later may accept a token of the dropped key.
/// Each round starts with nothing kept, so full verifications (the only ones
/// that can race the reload) are in flight when the key goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dropped_key_stops_verifying_at_once_under_concurrent_verification() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;

    const CLIENTS: usize = 16;
    const TOKENS: usize = 256;
    const ROUNDS: usize = 12;
    let a = PublicJwk::from_public_pem(OTHER_PUBLIC_PEM).unwrap();
    let b = PublicJwk::from_public_pem(JWT_PUBLIC_PEM).unwrap();
    let answer = Arc::new(std::sync::Mutex::new(JwksAnswer::Keys(vec![])));
    let server = jwks_server(answer.clone()).await;
    let v = TokenVerifier::new(jwks_config(server.url("/jwks.json")))
        .await
        .unwrap();
    let tokens: Arc<Vec<String>> = Arc::new((0..TOKENS).map(|_| other_key_token()).collect());

    let mut straddled = 0;
    for round in 0..ROUNDS {
        *answer.lock().unwrap() = JwksAnswer::Keys(vec![a.clone(), b.clone()]);
        assert_eq!(v.reload_keys().await, Ok(2));
        let dropping = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (v, tokens, dropping, dropped, done) = (
                    v.clone(),
                    tokens.clone(),
                    dropping.clone(),
                    dropped.clone(),
                    done.clone(),
                );
                tokio::spawn(async move {
                    let (mut late_accepts, mut straddles, mut passes_after) = (0, 0, 0);
                    while passes_after < 2 {
                        let was_dropped = dropped.load(SeqCst);
                        for t in tokens.iter().skip(c).step_by(CLIENTS) {
                            let before = dropped.load(SeqCst);
                            let before_reload = !dropping.load(SeqCst);
                            let ok = v.verify(t).await.is_ok();
                            done.fetch_add(1, SeqCst);
                            if before && ok {
                                late_accepts += 1;
                            }
                            // In flight across the whole reload, swap included.
                            if before_reload && dropped.load(SeqCst) {
                                straddles += 1;
                            }
                            tokio::task::yield_now().await;
                        }
                        if was_dropped {
                            passes_after += 1;
                        }
                    }
                    (late_accepts, straddles)
                })
            })
            .collect();
        // Drop the key while about a third of the first pass is done.
        while done.load(SeqCst) < TOKENS / 3 {
            tokio::task::yield_now().await;
        }
        *answer.lock().unwrap() = JwksAnswer::Keys(vec![b.clone()]);
        dropping.store(true, SeqCst);
        assert_eq!(v.reload_keys().await, Ok(1));
        dropped.store(true, SeqCst);
        for client in clients {
            let (late, straddles) = client.await.unwrap();
            assert_eq!(
                late, 0,
                "round {round}: a token of the dropped key verified after the reload returned"
            );
            straddled += straddles;
        }
    }
    assert!(
        straddled > 0,
        "no verification was in flight when a key was dropped: the race was not exercised"
    );
}
