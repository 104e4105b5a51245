//! The sweeper, the upload ledger and the trash against real PostgreSQL and
//! SeaweedFS (issue 22).

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use admin_svc::sweep::sweep;
use common::World;
use futures::future::join_all;
use serde_json::{json, Value};

fn cli(w: &World, args: &[&str]) -> Output {
    let infra = cadenza_testkit::infra();
    Command::new(env!("CARGO_BIN_EXE_admin-svc"))
        .args(args)
        .env("DATABASE_URL", &w.db.url)
        .env("S3_BUCKET", &w.bucket)
        .env("S3_FORCE_PATH_STYLE", "true")
        .env("AWS_ENDPOINT_URL_S3", &infra.s3_endpoint)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn cli_json(w: &World, args: &[&str]) -> Value {
    let out = cli(w, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn trash_rows(w: &World) -> Vec<(String, String)> {
    sqlx::query_as("SELECT key, reason FROM trash ORDER BY key")
        .fetch_all(&w.state.db)
        .await
        .unwrap()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn sweep_trashes_only_ledger_orphans_never_foreign_objects_and_restores() {
    let w = World::new().await;
    let album = w.create_album("Kept").await;
    let song = w
        .create_song(album["id"].as_str().unwrap(), "Kept", json!({}))
        .await;
    let unused_cover = w.cover().await;
    let unused_audio = w.audio().await;
    let audio_bytes = w.object_bytes(&unused_audio).await;

    // Objects admin-svc never issued, shaped exactly like its own keys (the
    // original suite's media in a shared bucket): never touched, whatever
    // their age (a zero grace period makes every object "old").
    let foreign_audio = format!("songs/{}.mp3", uuid::Uuid::new_v4());
    let foreign_cover = format!("thumbnails/{}.jpg", uuid::Uuid::new_v4());
    w.put(&foreign_audio, b"not ours").await;
    w.put(&foreign_cover, b"not ours either").await;
    // A catalogue key brought in by import-seed: referenced, not in the ledger.
    let seed_cover = "thumbnails/seed cover+1.jpg".to_owned();
    w.put(&seed_cover, b"seed").await;
    sqlx::query("INSERT INTO albums (name, artist, thumbnail_key) VALUES ('Seed', 'X', $1)")
        .bind(&seed_cover)
        .execute(&w.state.db)
        .await
        .unwrap();
    // Outside the media prefixes: not even scanned.
    w.put("other/readme.txt", b"x").await;
    let before = w.all_keys().await;

    // The ledger recorded each upload URL with its kind, type and size.
    let (kind, ct, size): (String, String, Option<i64>) =
        sqlx::query_as("SELECT kind, content_type, size_bytes FROM upload_ledger WHERE key = $1")
            .bind(&unused_audio)
            .fetch_one(&w.state.db)
            .await
            .unwrap();
    assert_eq!(
        (kind.as_str(), ct.as_str(), size),
        ("song", "audio/mpeg", Some(2048))
    );

    // Within the grace period no ledger key goes; foreign ones are counted.
    let report = sweep(
        &w.state.db,
        &w.state.media,
        Duration::from_secs(3600),
        false,
    )
    .await
    .unwrap();
    assert_eq!(report.scanned, 7, "{report:?}");
    assert!(report.orphaned.is_empty(), "{report:?}");
    assert_eq!(report.foreign, 2, "{report:?}");

    let dry = sweep(&w.state.db, &w.state.media, Duration::ZERO, true)
        .await
        .unwrap();
    assert_eq!(
        sorted(dry.orphaned.clone()),
        sorted(vec![unused_audio.clone(), unused_cover.clone()])
    );
    assert_eq!((dry.foreign, dry.trashed), (2, 0));
    assert_eq!(w.all_keys().await, before, "a dry run moves nothing");

    // The CLI, as the CronJob runs it.
    let report = cli_json(&w, &["sweep", "--older-than-hours", "0"]);
    assert_eq!(report["orphaned"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(report["trashed"], 2, "{report}");
    assert_eq!(report["foreign"], 2, "{report}");
    assert_eq!(report["scanned"], 7, "{report}");
    assert_eq!(report["failed"], json!([]), "{report}");

    let live = sorted(vec![
        album["thumbnailKey"].as_str().unwrap().to_owned(),
        song["audioKey"].as_str().unwrap().to_owned(),
        foreign_audio.clone(),
        foreign_cover.clone(),
        seed_cover.clone(),
        "other/readme.txt".to_owned(),
    ]);
    assert_eq!(w.bucket_keys().await, live);
    assert_eq!(
        w.trash_keys().await,
        sorted(vec![unused_audio.clone(), unused_cover.clone()])
    );
    assert_eq!(
        trash_rows(&w).await,
        sorted(vec![unused_audio.clone(), unused_cover.clone()])
            .into_iter()
            .map(|k| (k, "sweep".to_owned()))
            .collect::<Vec<_>>()
    );

    // Restore brings back identical bytes and forgets the entry.
    let restored = cli_json(&w, &["restore-trash", &unused_audio]);
    assert_eq!(restored["restored"], json!([unused_audio]), "{restored}");
    assert_eq!(w.object_bytes(&unused_audio).await, audio_bytes);
    assert_eq!(w.trash_keys().await, vec![unused_cover.clone()]);
    assert_eq!(trash_rows(&w).await.len(), 1);
    // Its row is still gone: it is a ledger orphan again.
    let again = sweep(&w.state.db, &w.state.media, Duration::ZERO, false)
        .await
        .unwrap();
    assert_eq!(again.orphaned, vec![unused_audio.clone()]);
    assert_eq!(again.foreign, 2);
    let not_in_trash = cli(&w, &["restore-trash", "songs/never-trashed.mp3"]);
    assert!(!not_in_trash.status.success());

    // Retention: only trash older than TRASH_RETENTION_DAYS is deleted.
    sqlx::query("UPDATE trash SET trashed_at = now() - interval '8 days' WHERE key = $1")
        .bind(&unused_cover)
        .execute(&w.state.db)
        .await
        .unwrap();
    let purged = cli_json(&w, &["purge-trash"]);
    assert_eq!(purged["purged"], json!([unused_cover]), "{purged}");
    assert_eq!(w.trash_keys().await, vec![unused_audio.clone()]);
    assert_eq!(trash_rows(&w).await.len(), 1);
    assert_eq!(
        w.bucket_keys().await,
        live,
        "purging trash touches nothing live"
    );

    // A catalogue delete trashes (reason "delete") instead of deleting.
    let r = w
        .delete(&format!("/album/{}", album["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    w.state.effects.purges_settled().await;
    let deleted_audio = song["audioKey"].as_str().unwrap().to_owned();
    let rows = trash_rows(&w).await;
    assert!(
        rows.contains(&(deleted_audio.clone(), "delete".to_owned())),
        "{rows:?}"
    );
    let restored = cli_json(
        &w,
        &["restore-trash", "--all-since", "2000-01-01T00:00:00Z"],
    );
    assert_eq!(
        restored["restored"].as_array().unwrap().len(),
        3,
        "{restored}"
    );
    assert!(w.trash_keys().await.is_empty());
    assert_eq!(w.object_bytes(&deleted_audio).await, vec![7u8; 2048]);

    // The counters are exported.
    let metrics = cadenza_platform::health::metrics_handle().render();
    for result in admin_svc::sweep::RESULTS {
        assert!(
            metrics.contains(&format!("admin_sweep_objects_total{{result=\"{result}\"}}")),
            "{result} missing"
        );
    }
}

#[tokio::test]
async fn an_upload_url_is_never_issued_without_a_ledger_entry() {
    let w = World::new().await;
    sqlx::query("ALTER TABLE upload_ledger RENAME TO upload_ledger_gone")
        .execute(&w.state.db)
        .await
        .unwrap();
    let resp = w
        .post("/upload-url", json!({"type": "song", "size": 10}))
        .send()
        .await
        .unwrap();
    let body = common::assert_problem(resp, 503, "").await;
    assert!(body.get("presignedURL").is_none(), "{body}");
}

/// Sweeps with a zero grace period run while many requests create albums
/// with an unreferenced ledger cover: every answer is a success or a 422
/// (the cover was trashed first), and every object a row references exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_and_sweeps_never_lose_a_referenced_object() {
    const ROUNDS: usize = 6;
    const CREATES: usize = 8;
    const SWEEPS: usize = 3;
    const STAGGER_MS: u64 = 3;
    let w = World::new().await;
    let (mut kept, mut refused) = (0, 0);
    for round in 0..ROUNDS {
        let cover = w.cover().await;
        let w = &w;
        // Staggered, later each round, so that creates land before, during
        // and after the sweeps' candidate query and move (a sweep takes a
        // few ms here).
        let creates = join_all((0..CREATES).map(|i| {
            let body = json!({"name": format!("Race {round}.{i}"), "artist": "Nina Simone", "thumbnailKey": &cover});
            async move {
                let offset = STAGGER_MS * (2 * round + i) as u64;
                tokio::time::sleep(Duration::from_millis(offset)).await;
                w.post("/album", body).send().await.unwrap()
            }
        }));
        let sweeps = join_all((0..SWEEPS).map(|j| async move {
            tokio::time::sleep(Duration::from_millis(STAGGER_MS * j as u64)).await;
            sweep(&w.state.db, &w.state.media, Duration::ZERO, false)
                .await
                .unwrap()
        }));
        let (created, swept) = tokio::join!(creates, sweeps);
        for r in created {
            match r.status().as_u16() {
                201 => kept += 1,
                422 => refused += 1,
                other => panic!("round {round}: {other} {}", r.text().await.unwrap()),
            }
        }
        for report in swept {
            assert!(report.failed.is_empty(), "{report:?}");
        }
        let referenced: Vec<String> = sqlx::query_scalar("SELECT thumbnail_key FROM albums")
            .fetch_all(&w.state.db)
            .await
            .unwrap();
        let present = w.bucket_keys().await;
        for key in &referenced {
            assert!(
                present.contains(key),
                "round {round}: {key} referenced but trashed"
            );
        }
        if !referenced.contains(&cover) {
            assert!(w.trash_keys().await.contains(&cover), "round {round}");
        }
    }
    eprintln!("{kept} creates kept the cover, {refused} found it trashed (422)");
    assert!(kept + refused == ROUNDS * CREATES);
}
