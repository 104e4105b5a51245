//! Dependencies going away, and the binary's own surface (migrate, config).

mod common;

use std::process::Command;

use cadenza_testkit::process::RedisProcess;
use cadenza_testkit::{
    fresh_database, fresh_namespace, infra, mint, unique_name, TestServer, TokenSpec,
};
use common::{assert_problem, config, s3_client};
use serde_json::{json, Value};

#[tokio::test]
async fn s3_down_is_a_503_with_retry_after_not_a_422() {
    let db = fresh_database().await;
    let ns = fresh_namespace();
    let mut cfg = config(&db, &ns, "cadenza-media", None);
    cfg.s3_endpoint = Some("http://127.0.0.1:1".into());
    let app = admin_svc::build(cfg).await.unwrap();
    let server = TestServer::start(app.router).await;
    let token = mint(&TokenSpec::admin());
    let resp = reqwest::Client::new()
        .post(server.url("/api/admin/album"))
        .bearer_auth(&token)
        .json(&json!({"name": "n", "artist": "a", "thumbnailKey": format!("thumbnails/{}.png", uuid::Uuid::new_v4())}))
        .send()
        .await
        .unwrap();
    assert!(resp.headers().contains_key("retry-after"));
    let body = assert_problem(resp, 503, "").await;
    assert!(body["message"].as_str().unwrap().contains("s3"), "{body}");
    let ready = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_problem(ready, 503, "s3").await;
}

#[tokio::test]
async fn a_change_commits_even_when_redis_is_down() {
    let mut redis = RedisProcess::start();
    let db = fresh_database().await;
    let ns = fresh_namespace();
    let s3 = s3_client().await;
    let bucket = unique_name("cadenza-t-");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let mut cfg = config(&db, &ns, &bucket, None);
    cfg.redis_url = redis.url().into();
    let app = admin_svc::build(cfg).await.unwrap();
    let server = TestServer::start(app.router).await;
    let http = reqwest::Client::new();
    let token = mint(&TokenSpec::admin());

    let key = format!("thumbnails/{}.png", uuid::Uuid::new_v4());
    s3.put_object()
        .bucket(&bucket)
        .key(&key)
        .content_type("image/png")
        .body(b"png".to_vec().into())
        .send()
        .await
        .unwrap();
    redis.stop();

    let resp = http
        .post(server.url("/api/admin/album"))
        .bearer_auth(&token)
        .json(&json!({"name": "Offline", "artist": "a", "thumbnailKey": key}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let albums: Value = http
        .get(server.url("/api/admin/album"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(albums["albums"][0]["name"], "Offline");
    assert_problem(
        reqwest::get(server.url("/readyz")).await.unwrap(),
        503,
        "redis",
    )
    .await;
    common::remove_bucket(&s3, &bucket).await;
}

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_admin-svc"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[tokio::test]
async fn migrate_subcommand_applies_the_schema_and_exits() {
    let db = fresh_database().await;
    let out = bin()
        .arg("migrate")
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('albums', 'songs', 'trash', 'upload_ledger') ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(tables, ["albums", "songs", "trash", "upload_ledger"]);
    // twice is fine
    assert!(bin()
        .arg("migrate")
        .env("DATABASE_URL", &db.url)
        .status()
        .unwrap()
        .success());
}

#[test]
fn missing_configuration_exits_naming_the_variable() {
    let _ = infra();
    let out = bin().arg("migrate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"));

    let out = bin()
        .env("PUBLIC_BASE_URL", "http://127.0.0.1:8080")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JWT_PUBLIC_KEYS"), "{stderr}");

    let out = bin()
        .env("PUBLIC_BASE_URL", "http://127.0.0.1:8080")
        .env("JWT_PUBLIC_KEYS", cadenza_testkit::keys::JWT_PUBLIC_PEM)
        .env("ALLOW_TEST_KEYS", "true")
        .env("DATABASE_URL", "postgres://x")
        .env("REDIS_URL", "redis://x")
        .env("S3_BUCKET", "b")
        .env("S3_FORCE_PATH_STYLE", "maybe")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("S3_FORCE_PATH_STYLE"));

    // A zero retention would delete trash at once: refused before any work.
    for (days, want) in [
        ("0", "between 1 and 3650"),
        ("seven", "TRASH_RETENTION_DAYS"),
    ] {
        let out = bin()
            .arg("purge-trash")
            .env("DATABASE_URL", "postgres://x")
            .env("S3_BUCKET", "b")
            .env("TRASH_RETENTION_DAYS", days)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{days}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("TRASH_RETENTION_DAYS") && stderr.contains(want),
            "{days}: {stderr}"
        );
    }
}
