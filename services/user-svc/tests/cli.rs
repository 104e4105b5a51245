//! The binary: configuration errors, and `admin create` / `user create`.

mod common;

use std::process::Command;

use cadenza_testkit::{infra, keys};
use common::*;
use reqwest::StatusCode;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_user-svc"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "error")
        .env("ALLOW_TEST_KEYS", "true");
    c
}

fn configured(w: &World) -> Command {
    let i = infra();
    let mut c = bin();
    c.env("PUBLIC_BASE_URL", PUBLIC_BASE_URL)
        .env("JWT_PRIVATE_KEY", keys::JWT_PRIVATE_PEM)
        .env("MONGODB_URI", &i.mongodb_uri)
        .env("MONGODB_DB", &w.mongo_db)
        .env("REDIS_URL", &i.redis_url)
        .env("SQS_EMAIL_QUEUE_URL", &w.queue_url);
    c
}

#[test]
fn a_missing_or_malformed_variable_exits_with_one_line_naming_it() {
    let out = bin().arg("serve").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("JWT_PRIVATE_KEY"), "{err}");

    let out = bin()
        .env("JWT_PRIVATE_KEY", "not a key")
        .env("PUBLIC_BASE_URL", PUBLIC_BASE_URL)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_PRIVATE_KEY"));

    let out = bin()
        .env("JWT_PRIVATE_KEY", keys::JWT_PRIVATE_PEM)
        .env("PUBLIC_BASE_URL", PUBLIC_BASE_URL)
        .env("MONGODB_URI", "mongodb://x")
        .env("REDIS_URL", "redis://x")
        .env("SQS_EMAIL_QUEUE_URL", "http://q")
        .env("COOKIE_SECURE", "maybe")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("COOKIE_SECURE"));
}

#[tokio::test]
async fn admin_create_makes_a_verified_admin_and_promotes_existing_users() {
    let w = World::new().await;
    let admin_pw = "Brass-Section-Conductor-88";
    let out = configured(&w)
        .args([
            "admin",
            "create",
            "--email",
            "Boss@Example.com",
            "--password",
            admin_pw,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = w.login("boss@example.com", admin_pw).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["userData"]["role"], "admin");
    assert_eq!(r.json["userData"]["isVerified"], true);

    // An existing listener is promoted; the password is left alone.
    let out = configured(&w)
        .args([
            "user",
            "create",
            "--email",
            "fan@example.com",
            "--password",
            PASSWORD,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        w.login("fan@example.com", PASSWORD).await.json["userData"]["role"],
        "user"
    );
    let out = configured(&w)
        .args(["admin", "create", "--email", "fan@example.com"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let r = w.login("fan@example.com", PASSWORD).await;
    assert_eq!(r.json["userData"]["role"], "admin");

    // Weak passwords are refused here too.
    let out = configured(&w)
        .args([
            "admin",
            "create",
            "--email",
            "weak@example.com",
            "--password",
            "password",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn the_committed_test_key_is_refused_outside_tests() {
    let run_with = |private: &str, allow: Option<&str>, public: Option<&str>| {
        let mut c = bin();
        c.env_remove("ALLOW_TEST_KEYS");
        if let Some(a) = allow {
            c.env("ALLOW_TEST_KEYS", a);
        }
        c.env("PUBLIC_BASE_URL", PUBLIC_BASE_URL)
            .env("JWT_PRIVATE_KEY", private)
            .env("MONGODB_URI", "mongodb://x")
            .env("REDIS_URL", "redis://x")
            .env("SQS_EMAIL_QUEUE_URL", "http://q")
            .env("COOKIE_SECURE", "maybe");
        if let Some(p) = public {
            c.env("JWT_PUBLIC_KEYS", p);
        }
        let out = c.arg("serve").output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let run = |allow, public| run_with(keys::JWT_PRIVATE_PEM, allow, public);
    for allow in [None, Some("false")] {
        let (code, err) = run(allow, None);
        assert_eq!(code, Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("JWT_PRIVATE_KEY") && err.contains("test key"),
            "{err}"
        );
    }
    // Allowed: start-up goes on to the next (deliberately bad) variable.
    let (code, err) = run(Some("true"), None);
    assert_eq!(code, Some(2));
    assert!(err.contains("COOKIE_SECURE"), "{err}");
    // A test key among the extra verification keys is refused as well (the
    // signing key here is another RSA key, not one of the JWT test keys).
    let (code, err) = run_with(
        keys::CLOUDFRONT_PRIVATE_PEM,
        None,
        Some(keys::OTHER_PUBLIC_PEM),
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("JWT_PUBLIC_KEYS") && err.contains("test key"),
        "{err}"
    );
}
