//! One token contract for every service (CONTRACTS §3), probes on each, and
//! the real binaries' start-up surface (a missing variable is one line).

mod common;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cadenza_system_tests::service_binary;
use cadenza_testkit::keys::{self, TokenSpec};
use cadenza_testkit::process::free_port;
use cadenza_testkit::{eventually, infra, mint};
use common::*;
use reqwest::StatusCode;

/// A route of each service that needs a valid token and nothing else.
fn protected_route(service: &str) -> String {
    match service {
        "user-svc" => "/api/user/favorites".into(),
        "admin-svc" => "/api/admin/album".into(),
        "song-svc" => format!("/api/song/stream/{}", uuid::Uuid::new_v4()),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn one_token_is_good_everywhere_and_each_bad_one_is_refused_everywhere() {
    let p = Platform::start().await;
    let spec = TokenSpec::admin();
    let good = mint(&spec);

    let expected = [
        ("user-svc", StatusCode::OK),
        ("admin-svc", StatusCode::OK),
        // Past authentication: an unknown song, not an unknown caller.
        ("song-svc", StatusCode::NOT_FOUND),
    ];
    for ((name, server), (_, status)) in p.services().into_iter().zip(expected) {
        let path = protected_route(name);
        let r = p.call(server, Req::get(&path).bearer(&good)).await;
        assert_eq!(
            r.status, status,
            "{name} {path} with a good token: {}",
            r.text
        );
    }

    // user-svc's check-auth also looks the subject up: a real account, and a
    // token for it minted with the same key, not issued by user-svc.
    let email = "contract@example.com";
    assert_eq!(p.register(email).await.status, StatusCode::CREATED);
    let user = p
        .mongo()
        .await
        .collection::<mongodb::bson::Document>("users")
        .find_one(mongodb::bson::doc! {"email": email})
        .await
        .unwrap()
        .expect("registered user");
    let id = user.get_object_id("_id").unwrap().to_hex();
    let token = mint(&TokenSpec {
        sub: id.clone(),
        email: email.into(),
        ..TokenSpec::user()
    });
    let r = p
        .call(&p.user, Req::get("/api/user/check-auth").bearer(&token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["user"]["id"], id.as_str());
    assert_eq!(r.json["user"]["email"], email);

    let mut refused = 0;
    for (what, bad) in bad_tokens(&spec) {
        for (name, server) in p.services() {
            let path = protected_route(name);
            let r = p.call(server, Req::get(&path).bearer(&bad)).await;
            r.assert_problem(401, &format!("{name} {path} with a token that is {what}"));
            refused += 1;
        }
    }
    for (name, server) in p.services() {
        let path = protected_route(name);
        let r = p.call(server, Req::get(&path)).await;
        r.assert_problem(401, &format!("{name} {path} without a token"));
        let r = p
            .call(
                server,
                Req::get(&path).header("authorization", format!("Basic {good}")),
            )
            .await;
        r.assert_problem(401, &format!("{name} {path} with a non-Bearer scheme"));
    }
    assert_eq!(refused, 13 * 3);
    // Within the 30 s leeway both ways, still good.
    let skewed = mint(&TokenSpec {
        exp_offset: -20,
        iat_offset: -920,
        nbf_offset: 20,
        ..spec.clone()
    });
    for ((name, server), (_, status)) in p.services().into_iter().zip(expected) {
        let path = protected_route(name);
        let r = p.call(server, Req::get(&path).bearer(&skewed)).await;
        assert_eq!(r.status, status, "{name} within the leeway: {}", r.text);
    }
    p.remove_bucket().await;
}

#[tokio::test]
async fn every_service_answers_its_probes() {
    let p = Platform::start().await;
    for (name, server) in p.services() {
        for probe in ["/healthz", "/readyz", "/metrics"] {
            let r = eventually(Duration::from_secs(15), probe, || async {
                let r = p.call(server, Req::get(probe)).await;
                (r.status == StatusCode::OK).then_some(r)
            })
            .await;
            assert_eq!(r.status, StatusCode::OK, "{name} {probe}");
        }
    }
    p.remove_bucket().await;
}

fn run_without(bin: &str, env: &HashMap<&str, String>, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(service_binary(bin))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{bin}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            return (status.code(), stderr);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{bin} did not exit with {env:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Each binary's complete configuration, minus nothing; ports are free ones
/// so that nothing ever binds a service's real port.
fn full_env(bin: &str) -> HashMap<&'static str, String> {
    let i = infra();
    let port = free_port().to_string();
    let common = [
        ("PORT", port),
        ("PUBLIC_BASE_URL", PUBLIC_BASE_URL.to_string()),
        ("REDIS_URL", i.redis_url.clone()),
        ("RUST_LOG", "warn".into()),
    ];
    let mut env: HashMap<&'static str, String> = common.into_iter().collect();
    match bin {
        "user-svc" => {
            env.insert("JWT_PRIVATE_KEY", keys::JWT_PRIVATE_PEM.into());
            env.insert("ALLOW_TEST_KEYS", "true".into());
            env.insert("MONGODB_URI", i.mongodb_uri.clone());
            env.insert("SQS_EMAIL_QUEUE_URL", i.sqs_queue_url.clone());
        }
        "admin-svc" => {
            env.insert("JWT_PUBLIC_KEYS", keys::JWT_PUBLIC_PEM.into());
            env.insert("ALLOW_TEST_KEYS", "true".into());
            env.insert("DATABASE_URL", i.pg_admin_url.clone());
            env.insert("S3_BUCKET", i.s3_bucket.clone());
        }
        "song-svc" => {
            env.insert("JWT_PUBLIC_KEYS", keys::JWT_PUBLIC_PEM.into());
            env.insert("ALLOW_TEST_KEYS", "true".into());
            env.insert("DATABASE_URL", i.pg_admin_url.clone());
            env.insert("CLOUDFRONT_DOMAIN", CDN.into());
            env.insert("CLOUDFRONT_KEY_PAIR_ID", KEY_PAIR_ID.into());
            env.insert(
                "CLOUDFRONT_PRIVATE_KEY",
                keys::CLOUDFRONT_PRIVATE_PEM.into(),
            );
        }
        "mailer" => {
            env.remove("PORT");
            env.insert("SES_FROM_ADDRESS", i.ses_from.clone());
            // Lambda mode: the runtime API address (never reached here).
            env.insert("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9".into());
        }
        _ => unreachable!(),
    }
    env
}

fn assert_one_line_naming(bin: &str, what: &str, var: &str, (code, stderr): (Option<i32>, String)) {
    assert!(
        code.is_some_and(|c| c != 0),
        "{bin} {what}: exit {code:?}, stderr {stderr:?}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{bin} {what}: one line, got {stderr:?}");
    assert!(
        lines[0].contains(var),
        "{bin} {what}: the line names {var}: {stderr:?}"
    );
}

#[test]
fn each_binary_refuses_to_start_without_each_required_variable() {
    let required: [(&str, &[&str]); 4] = [
        (
            "user-svc",
            &[
                "PUBLIC_BASE_URL",
                "JWT_PRIVATE_KEY",
                "MONGODB_URI",
                "REDIS_URL",
                "SQS_EMAIL_QUEUE_URL",
            ],
        ),
        (
            "admin-svc",
            &[
                "PUBLIC_BASE_URL",
                "JWT_PUBLIC_KEYS",
                "DATABASE_URL",
                "REDIS_URL",
                "S3_BUCKET",
            ],
        ),
        (
            "song-svc",
            &[
                "PUBLIC_BASE_URL",
                "JWT_PUBLIC_KEYS",
                "DATABASE_URL",
                "REDIS_URL",
                "CLOUDFRONT_DOMAIN",
                "CLOUDFRONT_KEY_PAIR_ID",
                "CLOUDFRONT_PRIVATE_KEY",
            ],
        ),
        ("mailer", &["SES_FROM_ADDRESS", "AWS_LAMBDA_RUNTIME_API"]),
    ];
    let mut checked = 0;
    for (bin, vars) in required {
        for var in vars {
            let mut env = full_env(bin);
            env.remove(var);
            assert_one_line_naming(
                bin,
                &format!("without {var}"),
                var,
                run_without(bin, &env, &[]),
            );
            checked += 1;
        }
    }
    // Malformed, not just missing.
    let malformed: [(&str, &str, &str); 5] = [
        (
            "user-svc",
            "JWT_PRIVATE_KEY",
            "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n",
        ),
        ("admin-svc", "PUBLIC_BASE_URL", "not a url"),
        ("song-svc", "CLOUDFRONT_PRIVATE_KEY", "not a key"),
        ("song-svc", "CLOUDFRONT_HASH_ALGORITHM", "MD5"),
        ("mailer", "SES_FROM_ADDRESS", "not an address"),
    ];
    for (bin, var, value) in malformed {
        let mut env = full_env(bin);
        env.insert(var, value.into());
        assert_one_line_naming(
            bin,
            &format!("with a malformed {var}"),
            var,
            run_without(bin, &env, &[]),
        );
        checked += 1;
    }
    assert_eq!(checked, 19 + 5);
}

/// The attack: the test key pairs are committed (crates/testkit), so anyone
/// can sign tokens with them. A deployment that mounted one of them by
/// mistake must not start; before the check moved into the shared verifier
/// only user-svc refused, and admin-svc/song-svc accepted forged admin tokens.
#[test]
fn every_binary_refuses_the_committed_test_keys_outside_tests() {
    for (bin, var) in [
        ("user-svc", "JWT_PRIVATE_KEY"),
        ("admin-svc", "JWT_PUBLIC_KEYS"),
        ("song-svc", "JWT_PUBLIC_KEYS"),
    ] {
        let mut env = full_env(bin);
        env.remove("ALLOW_TEST_KEYS");
        let (code, stderr) = run_without(bin, &env, &[]);
        assert!(stderr.contains("test key"), "{bin}: {stderr:?}");
        assert_one_line_naming(bin, "with a committed test key", var, (code, stderr));
        // The same with the flag set to anything but true.
        env.insert("ALLOW_TEST_KEYS", "false".into());
        assert_one_line_naming(
            bin,
            "with ALLOW_TEST_KEYS=false",
            var,
            run_without(bin, &env, &[]),
        );
    }
}

/// A running binary; SIGKILLed on drop if a test fails before stopping it.
struct Running {
    name: &'static str,
    child: std::process::Child,
    port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn each_binary_serves_its_probes_and_stops_cleanly_on_sigterm() {
    let i = infra();
    let db = cadenza_testkit::fresh_database().await;
    cadenza_catalog::migrate(&db.pool).await.unwrap();
    let s3 = s3_client().await;
    let bucket = cadenza_testkit::unique_name("cadenza-st-");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let sqs = sqs_client(&i.aws_endpoint).await;
    let queue = create_queue(&sqs, &cadenza_testkit::unique_name("system-t-")).await;
    let ns = cadenza_testkit::unique_name("t");

    let mut running = Vec::new();
    for name in ["user-svc", "admin-svc", "song-svc"] {
        let mut env = full_env(name);
        let port = free_port();
        env.insert("PORT", port.to_string());
        env.insert("REDIS_NAMESPACE", ns.clone());
        for k in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
            if let Ok(v) = std::env::var(k) {
                env.insert(k, v);
            }
        }
        match name {
            "user-svc" => {
                env.insert("MONGODB_DB", cadenza_testkit::fresh_mongo_db());
                env.insert("SQS_EMAIL_QUEUE_URL", queue.clone());
                env.insert("AWS_ENDPOINT_URL_SQS", i.aws_endpoint.clone());
                env.insert("COOKIE_SECURE", "false".into());
            }
            "admin-svc" => {
                env.insert("DATABASE_URL", db.url.clone());
                env.insert("S3_BUCKET", bucket.clone());
                env.insert("S3_FORCE_PATH_STYLE", "true".into());
                env.insert("AWS_ENDPOINT_URL_S3", i.s3_endpoint.clone());
            }
            "song-svc" => {
                env.insert("DATABASE_URL", db.url.clone());
            }
            _ => unreachable!(),
        }
        let child = Command::new(service_binary(name))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        running.push(Running { name, child, port });
    }
    let http = reqwest::Client::new();
    for r in &running {
        for probe in ["/healthz", "/readyz"] {
            let url = format!("http://127.0.0.1:{}{probe}", r.port);
            eventually(
                Duration::from_secs(60),
                &format!("{} {probe}", r.name),
                || async {
                    let s = http.get(&url).send().await.ok()?.status();
                    (s == StatusCode::OK).then_some(())
                },
            )
            .await;
        }
        // A just-started process exports its families before any API
        // request (before: an empty body until the first one).
        let text = http
            .get(format!("http://127.0.0.1:{}/metrics", r.port))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for want in [
            format!("cadenza_build_info{{service=\"{}\"", r.name),
            "# TYPE process_start_time_seconds gauge".to_string(),
            "# TYPE process_resident_memory_bytes gauge".to_string(),
        ] {
            assert!(text.contains(&want), "{}: no {want} in {text}", r.name);
        }
        let domain: &[&str] = match r.name {
            "user-svc" => &["user_refresh_reuse_total 0", "user_argon2_queue_depth 0"],
            "admin-svc" => &["admin_orphaned_objects_total 0", "db_pool_max_connections"],
            _ => &[
                "songsvc_cache_total{result=\"miss\"} 0",
                "songsvc_cache_subscriber_connected",
                "db_pool_connections{state=\"idle\"}",
            ],
        };
        for want in domain {
            assert!(text.contains(want), "{}: no {want} in {text}", r.name);
        }
    }
    for mut r in running {
        let pid = r.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let deadline = Instant::now() + Duration::from_secs(25);
        let status = loop {
            if let Some(s) = r.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "{} ignored SIGTERM", r.name);
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(
            status.success(),
            "{} exited with {status} on SIGTERM",
            r.name
        );
    }
    let out = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    assert!(out.contents().is_empty());
    let _ = s3.delete_bucket().bucket(&bucket).send().await;
}

#[tokio::test]
async fn services_keyed_by_user_svcs_jwks_accept_its_tokens_through_a_key_rotation() {
    // user-svc signs with the test key and also publishes the other key, as
    // during a rotation (JWT_PUBLIC_KEYS).
    let p = Platform::with(Stores::shared(), |c| {
        c.jwt_public_keys = Some(keys::OTHER_PUBLIC_PEM.into())
    })
    .await;
    let jwks_url = p.user.url("/api/user/.well-known/jwks.json");
    let keyed = |mut v: cadenza_auth::VerifierConfig| {
        v.keys = cadenza_auth::KeySource::Jwks(jwks_url.clone());
        v
    };
    let mut scfg = song_config(&Stores::shared(), &p.database_url, &p.ns);
    scfg.verifier = keyed(scfg.verifier);
    let song = cadenza_testkit::TestServer::start(song_svc::build(scfg).await.unwrap()).await;
    let mut acfg = admin_config(&Stores::shared(), &p.database_url, &p.ns, &p.bucket);
    acfg.verifier = keyed(acfg.verifier);
    let admin =
        cadenza_testkit::TestServer::start(admin_svc::build(acfg).await.unwrap().router).await;

    let listener = p.listener("jwks@example.com").await;
    let stream = format!("/api/song/stream/{}", uuid::Uuid::new_v4());
    let call = |server: &'static str, token: String| {
        let (p, song, admin, stream) = (&p, &song, &admin, stream.clone());
        async move {
            match server {
                "song-svc" => p.call(song, Req::get(&stream).bearer(&token)).await,
                _ => {
                    p.call(admin, Req::get("/api/admin/album").bearer(&token))
                        .await
                }
            }
        }
    };
    // A token user-svc itself issued.
    assert_eq!(
        call("song-svc", listener.access.clone()).await.status,
        StatusCode::NOT_FOUND
    );
    call("admin-svc", listener.access.clone())
        .await
        .assert_problem(403, "listener on admin-svc");
    // The current key and the published next key both verify.
    let current = mint(&TokenSpec::admin());
    let next = mint(&TokenSpec {
        private_pem: keys::OTHER_PRIVATE_PEM,
        kid: Some(keys::OTHER_KID.into()),
        ..TokenSpec::admin()
    });
    for token in [current, next] {
        assert_eq!(
            call("song-svc", token.clone()).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(call("admin-svc", token).await.status, StatusCode::OK);
    }
    // A key/kid mismatch and an unpublished kid are refused.
    let mismatched = mint(&TokenSpec {
        kid: Some(keys::OTHER_KID.into()),
        ..TokenSpec::admin()
    });
    let unknown = mint(&TokenSpec {
        kid: Some("not-published".into()),
        ..TokenSpec::admin()
    });
    for (what, token) in [
        ("signed by the key of another kid", mismatched),
        ("unpublished kid", unknown),
    ] {
        for service in ["song-svc", "admin-svc"] {
            call(service, token.clone())
                .await
                .assert_problem(401, &format!("{service}: {what}"));
        }
    }
    p.remove_bucket().await;
}

#[tokio::test]
async fn an_admin_made_with_the_cli_publishes_an_album_that_listeners_see() {
    let p = Platform::start().await;
    // `user-svc admin create`, the real binary, on the platform's database.
    let mut env = full_env("user-svc");
    env.insert("MONGODB_URI", p.mongodb_uri.clone());
    env.insert("MONGODB_DB", p.mongo_db.clone());
    env.insert("ADMIN_PASSWORD", PASSWORD.into());
    let out = Command::new(service_binary("user-svc"))
        .args(["admin", "create", "--email", "boss@example.com"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let boss = p.session("boss@example.com", PASSWORD).await;
    let album = p.create_album(&boss.access, "Made by the boss").await;
    assert_eq!(album.status, StatusCode::CREATED, "{}", album.text);
    let id = album.json["album"]["id"].as_str().unwrap().to_owned();
    let listener = p.listener("fan@example.com").await;
    let r = eventually(Duration::from_secs(10), "the album on song-svc", || async {
        let r = p.call(&p.song, Req::get("/api/song/album")).await;
        (r.json["albums"][0]["id"] == id.as_str()).then_some(r)
    })
    .await;
    assert_eq!(r.json["albums"][0]["name"], "Made by the boss");
    assert!(r.json["albums"][0]["thumbnailUrl"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{CDN}/thumbnails/")));
    // The listener's favourite of a catalogue song id round-trips.
    let r = p
        .call(
            &p.user,
            Req::post("/api/user/favorites")
                .bearer(&listener.access)
                .json(serde_json::json!({"songId": id})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // The listener is not an admin anywhere.
    p.call(
        &p.admin,
        Req::get("/api/admin/album").bearer(&listener.access),
    )
    .await
    .assert_problem(403, "listener on admin-svc");
    p.remove_bucket().await;
}

#[tokio::test]
async fn catalogue_services_are_not_ready_until_the_schema_exists() {
    let db = cadenza_testkit::fresh_database().await;
    let ns = cadenza_testkit::fresh_namespace();
    let s3 = s3_client().await;
    let bucket = cadenza_testkit::unique_name("cadenza-st-");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let mut acfg = admin_config(&Stores::shared(), &db.url, &ns, &bucket);
    acfg.migrate_on_start = false;
    let admin =
        cadenza_testkit::TestServer::start(admin_svc::build(acfg).await.unwrap().router).await;
    let song = cadenza_testkit::TestServer::start(
        song_svc::build(song_config(&Stores::shared(), &db.url, &ns))
            .await
            .unwrap(),
    )
    .await;
    let http = reqwest::Client::new();
    for server in [&admin, &song] {
        let r = send(http.get(server.url("/readyz"))).await;
        r.assert_unavailable("/readyz on an unmigrated database");
        assert_eq!(r.json["errors"][0]["field"], "postgres", "{}", r.text);
    }
    cadenza_catalog::migrate(&db.pool).await.unwrap();
    for server in [&admin, &song] {
        let r = send(http.get(server.url("/readyz"))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let _ = s3.delete_bucket().bucket(&bucket).send().await;
}
