//! `cadenza-backup` as an operator runs it, on the real stores: a fresh
//! database on the local PostgreSQL, a fresh MongoDB database, a fresh
//! bucket on SeaweedFS.

use std::path::Path;
use std::process::Output;

use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use cadenza_testkit::{fresh_database, fresh_mongo_db, infra, unique_name};
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};

struct World {
    db: cadenza_testkit::TestDatabase,
    mongo: mongodb::Database,
    mongo_db: String,
    s3: aws_sdk_s3::Client,
    bucket: String,
}

impl World {
    async fn new() -> Self {
        let i = infra();
        let sdk = cadenza_aws::sdk_config().await;
        let conf = aws_sdk_s3::config::Builder::from(&sdk)
            .endpoint_url(&i.s3_endpoint)
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(conf);
        let bucket = unique_name("cadenza-bk-");
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        let mongo_db = fresh_mongo_db();
        let mongo = mongodb::Client::with_uri_str(&i.mongodb_uri)
            .await
            .unwrap()
            .database(&mongo_db);
        Self {
            db: fresh_database().await,
            mongo,
            mongo_db,
            s3,
            bucket,
        }
    }

    fn cli(&self, args: &[&str]) -> Output {
        self.cli_with(args, &[])
    }

    /// The binary on this world's stores, with some variables overridden.
    fn cli_with(&self, args: &[&str], overrides: &[(&str, &str)]) -> Output {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cadenza-backup"));
        cmd.args(args)
            .env("DATABASE_URL", &self.db.url)
            .env("MONGODB_URI", &infra().mongodb_uri)
            .env("MONGODB_DB", &self.mongo_db)
            .env("S3_BUCKET", &self.bucket)
            .env("S3_FORCE_PATH_STYLE", "true")
            .env("AWS_ENDPOINT_URL_S3", &infra().s3_endpoint)
            .env("RUST_LOG", "warn");
        for (k, v) in overrides {
            cmd.env(k, v);
        }
        cmd.output().expect("run cadenza-backup")
    }

    async fn sql(&self, q: &str) {
        sqlx::query(q).execute(&self.db.pool).await.unwrap();
    }

    /// The keys in `bucket`.
    async fn keys(&self, bucket: &str) -> Vec<String> {
        let listed = self.s3.list_objects_v2().bucket(bucket).send().await;
        listed.map_or_else(
            |_| vec![],
            |l| {
                l.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned))
                    .collect()
            },
        )
    }

    async fn empty_bucket(&self, bucket: &str) {
        for key in self.keys(bucket).await {
            let _ = self.s3.delete_object().bucket(bucket).key(key).send().await;
        }
    }

    /// Deletes `bucket` and everything in it (SeaweedFS gives each bucket
    /// volumes of its own: leaked ones exhaust it).
    async fn drop_bucket(&self, bucket: &str) {
        self.empty_bucket(bucket).await;
        let _ = self.s3.delete_bucket().bucket(bucket).send().await;
    }

    /// Everything the three stores hold, in a comparable form.
    async fn contents(
        &self,
    ) -> (
        Vec<(String, String)>,
        Vec<Document>,
        Vec<String>,
        Vec<(String, Option<String>, Vec<u8>)>,
    ) {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id::text, title FROM tracks ORDER BY id")
                .fetch_all(&self.db.pool)
                .await
                .unwrap_or_default();
        let users = self.mongo.collection::<Document>("users");
        let docs: Vec<Document> = users
            .find(doc! {})
            .sort(doc! {"_id": 1})
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let mut indexes: Vec<String> = users.list_index_names().await.unwrap_or_default();
        indexes.sort();
        let mut objects = vec![];
        for key in self.keys(&self.bucket).await {
            let got = self
                .s3
                .get_object()
                .bucket(&self.bucket)
                .key(&key)
                .send()
                .await
                .unwrap();
            let ct = got.content_type().map(str::to_owned);
            let bytes = got.body.collect().await.unwrap().into_bytes().to_vec();
            objects.push((key, ct, bytes));
        }
        objects.sort();
        (rows, docs, indexes, objects)
    }

    async fn destroy(&self) {
        sqlx::query("DROP TABLE tracks")
            .execute(&self.db.pool)
            .await
            .unwrap();
        self.mongo.drop().await.unwrap();
        self.empty_bucket(&self.bucket).await;
    }
}

fn ok(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "cadenza-backup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON summary")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn fill(w: &World) {
    w.sql("CREATE TABLE tracks (id uuid PRIMARY KEY, title text NOT NULL)")
        .await;
    for i in 0..50 {
        sqlx::query("INSERT INTO tracks VALUES (gen_random_uuid(), $1)")
            .bind(format!("Track {i} – “quoted”, ünïcode"))
            .execute(&w.db.pool)
            .await
            .unwrap();
    }
    let users = w.mongo.collection::<Document>("users");
    users
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! {"email": 1})
                .options(
                    mongodb::options::IndexOptions::builder()
                        .unique(true)
                        .build(),
                )
                .build(),
        )
        .await
        .unwrap();
    // More documents than one restore batch.
    let docs: Vec<Document> = (0..1_200)
        .map(|i| {
            doc! {
                "email": format!("listener{i}@example.com"),
                "tokenVersion": i as i64,
                "createdAt": mongodb::bson::DateTime::from_millis(1_700_000_000_000 + i as i64),
                "favorites": [format!("song-{i}")],
            }
        })
        .collect();
    users.insert_many(docs).await.unwrap();
    for (key, ct, body) in [
        ("songs/a.mp3", "audio/mpeg", vec![0xFF_u8; 70_000]),
        (
            "thumbnails/cover one+two.png",
            "image/png",
            b"\x89PNG".to_vec(),
        ),
        ("trash/songs/b.mp3", "audio/mpeg", b"ID3 old".to_vec()),
    ] {
        w.s3.put_object()
            .bucket(&w.bucket)
            .key(key)
            .content_type(ct)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
}

fn flip_a_byte(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    b[0] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_brings_all_three_stores_back_after_they_are_emptied() {
    let w = World::new().await;
    fill(&w).await;
    let before = w.contents().await;
    assert_eq!(before.0.len(), 50);
    assert_eq!(before.1.len(), 1_200);
    assert_eq!(before.3.len(), 3);

    let dir = tempdir();
    let out = dir.join("b1");
    let summary = ok(&w.cli(&["create", "--out", out.to_str().unwrap()]));
    assert_eq!(summary["objects"], 3, "{summary}");
    assert_eq!(summary["documents"], 1_200, "{summary}");
    // A backup is never written over another.
    let again = w.cli(&["create", "--out", out.to_str().unwrap()]);
    assert!(
        !again.status.success() && stderr(&again).contains("not empty"),
        "{}",
        stderr(&again)
    );
    // A backup that fails half-way leaves nothing behind.
    let broken = dir.join("broken");
    let missing = format!("{}_missing", w.db.url);
    let r = w.cli_with(
        &["create", "--out", broken.to_str().unwrap()],
        &[("DATABASE_URL", &missing)],
    );
    assert!(
        !r.status.success() && stderr(&r).contains("pg_dump failed"),
        "{}",
        stderr(&r)
    );
    assert!(
        !broken.exists(),
        "the accounts part written before the failure is removed"
    );
    ok(&w.cli(&["verify", out.to_str().unwrap()]));

    w.destroy().await;
    assert!(w.contents().await.3.is_empty());

    // Restoring overwrites: it wants to be told so.
    let refused = w.cli(&["restore", "--from", out.to_str().unwrap()]);
    assert!(!refused.status.success() && stderr(&refused).contains("--yes"));

    ok(&w.cli(&["restore", "--from", out.to_str().unwrap(), "--yes"]));
    let after = w.contents().await;
    assert_eq!(after.0, before.0, "catalogue rows");
    assert_eq!(after.1, before.1, "account documents, types and all");
    assert_eq!(after.2, before.2, "account indexes");
    assert_eq!(after.3, before.3, "objects, bytes and content types");
    // The unique index is a real one again.
    let dup = w
        .mongo
        .collection::<Document>("users")
        .insert_one(doc! {"email": "listener7@example.com"})
        .await;
    assert!(
        dup.is_err(),
        "a duplicate email is refused after the restore"
    );

    // Restoring again over live data gives the same stores (the catalogue
    // tables are dropped and recreated, the collections refilled).
    ok(&w.cli(&["restore", "--from", out.to_str().unwrap(), "--yes"]));
    assert_eq!(w.contents().await, after);
    w.drop_bucket(&w.bucket).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_or_unfinished_backup_is_refused_before_any_store_is_touched() {
    let w = World::new().await;
    fill(&w).await;
    let dir = tempdir();
    let out = dir.join("b1");
    ok(&w.cli(&["create", "--out", out.to_str().unwrap()]));
    w.destroy().await;
    let empty = w.contents().await;

    // One flipped bit in one object: named, and nothing restored, not even
    // the parts that come before media.
    flip_a_byte(&out.join("media/objects/000000"));
    let r = w.cli(&["restore", "--from", out.to_str().unwrap(), "--yes"]);
    assert!(!r.status.success());
    assert!(
        stderr(&r).contains("media/objects/000000 does not match"),
        "{}",
        stderr(&r)
    );
    let v = w.cli(&["verify", out.to_str().unwrap()]);
    assert!(!v.status.success());
    assert_eq!(w.contents().await, empty, "nothing was restored");
    flip_a_byte(&out.join("media/objects/000000"));

    // A missing file.
    let pg = out.join("postgres/catalog.pgdump");
    let saved = std::fs::read(&pg).unwrap();
    std::fs::remove_file(&pg).unwrap();
    let r = w.cli(&["restore", "--from", out.to_str().unwrap(), "--yes"]);
    assert!(
        !r.status.success() && stderr(&r).contains("catalog.pgdump"),
        "{}",
        stderr(&r)
    );
    std::fs::write(&pg, saved).unwrap();

    // A manifest that points outside the backup.
    let manifest_path = out.join("manifest.json");
    let original = std::fs::read_to_string(&manifest_path).unwrap();
    let mut m: serde_json::Value = serde_json::from_str(&original).unwrap();
    m["files"]["../../etc/passwd"] = serde_json::json!({"bytes": 1, "sha256": "00"});
    std::fs::write(&manifest_path, m.to_string()).unwrap();
    let r = w.cli(&["restore", "--from", out.to_str().unwrap(), "--yes"]);
    assert!(
        !r.status.success() && stderr(&r).contains("not a path inside the backup"),
        "{}",
        stderr(&r)
    );

    // An interrupted backup (no finish time).
    let mut m: serde_json::Value = serde_json::from_str(&original).unwrap();
    m["finishedAt"] = serde_json::Value::Null;
    std::fs::write(&manifest_path, m.to_string()).unwrap();
    let r = w.cli(&["restore", "--from", out.to_str().unwrap(), "--yes"]);
    assert!(
        !r.status.success() && stderr(&r).contains("never finished"),
        "{}",
        stderr(&r)
    );
    assert_eq!(w.contents().await, empty, "still nothing restored");

    std::fs::write(&manifest_path, original).unwrap();
    ok(&w.cli(&["restore", "--from", out.to_str().unwrap(), "--yes"]));
    assert_eq!(w.contents().await.1.len(), 1_200);
    w.drop_bucket(&w.bucket).await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(unique_name("cadenza-backup-t-"));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_backup_is_fetched_whole_and_a_copy_without_its_manifest_is_not_a_backup() {
    let w = World::new().await;
    fill(&w).await;
    let offsite = unique_name("cadenza-bk-off-");
    w.s3.create_bucket().bucket(&offsite).send().await.unwrap();
    let dir = tempdir();
    let summary = ok(&w.cli(&[
        "create",
        "--into",
        dir.to_str().unwrap(),
        "--part",
        "postgres",
        "--part",
        "mongo",
        "--upload-to",
        &format!("s3://{offsite}/nightly/"),
    ]));
    let url = summary["uploadedTo"]
        .as_str()
        .expect("the upload's location")
        .to_owned();
    let local = std::path::PathBuf::from(summary["dir"].as_str().unwrap());
    assert!(local.starts_with(&dir), "{summary}");
    let name = local.file_name().unwrap().to_str().unwrap();
    assert_eq!(url, format!("s3://{offsite}/nightly/{name}"));
    assert!(
        summary["objects"].is_null(),
        "media was not asked for: {summary}"
    );

    let fetched = dir.join("fetched");
    ok(&w.cli(&["fetch", &url, "--to", fetched.to_str().unwrap()]));
    assert_eq!(
        std::fs::read(fetched.join("manifest.json")).unwrap(),
        std::fs::read(local.join("manifest.json")).unwrap()
    );
    assert_eq!(
        std::fs::read(fetched.join("postgres/catalog.pgdump")).unwrap(),
        std::fs::read(local.join("postgres/catalog.pgdump")).unwrap()
    );
    w.destroy().await;
    ok(&w.cli(&["restore", "--from", fetched.to_str().unwrap(), "--yes"]));
    assert_eq!(w.contents().await.1.len(), 1_200);

    // An upload cut off before its manifest is not taken for a backup.
    w.s3.delete_object()
        .bucket(&offsite)
        .key(format!("nightly/{name}/manifest.json"))
        .send()
        .await
        .unwrap();
    let r = w.cli(&["fetch", &url, "--to", dir.join("again").to_str().unwrap()]);
    assert!(
        !r.status.success() && stderr(&r).contains("manifest.json"),
        "{}",
        stderr(&r)
    );
    w.drop_bucket(&offsite).await;
    w.drop_bucket(&w.bucket).await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn catalog_version(w: &World) -> Option<i64> {
    sqlx::query_scalar("SELECT version FROM catalog_version")
        .fetch_optional(&w.db.pool)
        .await
        .unwrap_or(None)
}

/// song-svc's cache entries carry the catalogue version they were read at;
/// a restore that put an older version back would let them outrank the
/// restored catalogue. The restore moves the version past both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_catalogue_is_newer_than_anything_cached_and_a_missing_part_stops_before_any_write(
) {
    let w = World::new().await;
    fill(&w).await;
    w.sql("CREATE TABLE catalog_version (singleton boolean PRIMARY KEY DEFAULT true, version bigint NOT NULL)").await;
    w.sql("INSERT INTO catalog_version (version) VALUES (5)")
        .await;
    let dir = tempdir();
    let out = dir.join("b1");
    ok(&w.cli(&[
        "create",
        "--out",
        out.to_str().unwrap(),
        "--part",
        "postgres",
    ]));
    // Changes after the backup: the version moved on to 9.
    w.sql("UPDATE catalog_version SET version = 9").await;
    w.sql("DELETE FROM tracks").await;

    // Asking for a part the backup does not hold fails before the catalogue
    // is touched.
    let r = w.cli(&[
        "restore",
        "--from",
        out.to_str().unwrap(),
        "--part",
        "postgres",
        "--part",
        "media",
        "--yes",
    ]);
    assert!(
        !r.status.success() && stderr(&r).contains("no media part"),
        "{}",
        stderr(&r)
    );
    assert_eq!(w.contents().await.0.len(), 0, "nothing restored");
    assert_eq!(catalog_version(&w).await, Some(9));

    ok(&w.cli(&["restore", "--from", out.to_str().unwrap(), "--yes"]));
    assert_eq!(w.contents().await.0.len(), 50);
    assert_eq!(
        catalog_version(&w).await,
        Some(10),
        "past the 9 the database had"
    );

    // Into a database without the table: past the restored 5.
    w.sql("DROP TABLE catalog_version, tracks").await;
    ok(&w.cli(&["restore", "--from", out.to_str().unwrap(), "--yes"]));
    assert_eq!(catalog_version(&w).await, Some(6));
    w.drop_bucket(&w.bucket).await;
    let _ = std::fs::remove_dir_all(&dir);
}
