//! The orphan sweeper against real PostgreSQL and SeaweedFS.

mod common;

use std::process::Command;
use std::time::Duration;

use admin_svc::sweep::sweep;
use common::World;
use serde_json::{json, Value};

#[tokio::test]
async fn sweep_deletes_only_old_unreferenced_media() {
    let w = World::new().await;
    let album = w.create_album("Kept").await;
    let song = w
        .create_song(album["id"].as_str().unwrap(), "Kept", json!({}))
        .await;
    let unused_cover = w.cover().await;
    let unused_audio = w.audio().await;
    // outside the media prefixes: never touched
    w.s3.put_object()
        .bucket(&w.bucket)
        .key("other/readme.txt")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();

    // everything is fresh: within the grace period nothing goes
    let report = sweep(
        &w.state.db,
        &w.state.media,
        Duration::from_secs(3600),
        false,
    )
    .await
    .unwrap();
    assert_eq!(report.scanned, 4);
    assert!(report.orphans.is_empty());

    let dry = sweep(&w.state.db, &w.state.media, Duration::ZERO, true)
        .await
        .unwrap();
    let mut want = vec![unused_audio.clone(), unused_cover.clone()];
    want.sort();
    let mut got = dry.orphans.clone();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(w.bucket_keys().await.len(), 5, "a dry run deletes nothing");

    // the CLI, as a CronJob runs it
    let infra = cadenza_testkit::infra();
    let out = Command::new(env!("CARGO_BIN_EXE_admin-svc"))
        .args(["sweep", "--older-than-hours", "0"])
        .env("DATABASE_URL", &w.db.url)
        .env("S3_BUCKET", &w.bucket)
        .env("S3_FORCE_PATH_STYLE", "true")
        .env("AWS_ENDPOINT_URL_S3", &infra.s3_endpoint)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["orphans"].as_array().unwrap().len(), 2, "{report}");

    let mut left = vec![
        album["thumbnailKey"].as_str().unwrap().to_owned(),
        song["audioKey"].as_str().unwrap().to_owned(),
        "other/readme.txt".to_owned(),
    ];
    left.sort();
    assert_eq!(w.bucket_keys().await, left);
}
