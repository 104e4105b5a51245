//! Migrating a running spotify-microservices deployment (issue 15): its
//! stored shapes written into a real MongoDB-wire database and a real
//! PostgreSQL database, both `import-seed` commands run as the real
//! binaries, a second run that changes nothing, then an imported listener
//! logs in with the old bcrypt password, sees the old favourites, browses
//! the imported albums with working cover keys and streams an imported song.
//!
//! Needs `cargo build -p user-svc -p admin-svc` (same CARGO_TARGET_DIR).

mod common;

use std::process::Command;

use cadenza_system_tests::service_binary;
use cadenza_testkit::infra;
use common::*;
use mongodb::bson::{doc, DateTime, Document};
use reqwest::StatusCode;
use serde_json::Value;

const SEED_PASSWORD: &str = "oldpass123";

/// The seed's catalogue tables after all six of its Prisma migrations.
const SEED_DDL: &[&str] = &[
    r#"CREATE TABLE "album" ("id" TEXT NOT NULL, "name" TEXT NOT NULL, "artist" TEXT NOT NULL,
        "thumbnailKey" TEXT NOT NULL, "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
        CONSTRAINT "album_pkey" PRIMARY KEY ("id"))"#,
    r#"CREATE TABLE "song" ("id" TEXT NOT NULL, "title" TEXT NOT NULL, "artist" TEXT NOT NULL,
        "audioKey" TEXT NOT NULL, "duration" DOUBLE PRECISION NOT NULL, "albumId" TEXT NOT NULL,
        "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
        CONSTRAINT "song_pkey" PRIMARY KEY ("id"))"#,
    r#"ALTER TABLE "song" ADD CONSTRAINT "song_albumId_fkey" FOREIGN KEY ("albumId") REFERENCES "album"("id") ON DELETE CASCADE ON UPDATE CASCADE"#,
    r#"ALTER TABLE "song" ADD COLUMN "imageUrl" TEXT"#,
];

/// Runs `bin args…` with `env` and returns its JSON report.
fn run(bin: &str, args: &[&str], env: &[(&str, String)]) -> Value {
    let mut cmd = Command::new(service_binary(bin));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    for k in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
        if let Ok(v) = std::env::var(k) {
            cmd.env(k, v);
        }
    }
    let out = cmd
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{bin} {args:?}: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{bin}: {e}: {stdout}"))
}

#[tokio::test]
async fn a_seed_deployment_migrates_and_its_listener_carries_on() {
    let p = Platform::start().await;
    let i = infra();

    // --- the seed's MongoDB: users and favorites as Prisma stored them.
    let seed_mongo = cadenza_testkit::fresh_mongo_db();
    let mdb = mongodb::Client::with_uri_str(&p.mongodb_uri)
        .await
        .unwrap()
        .database(&seed_mongo);
    let hash = bcrypt::hash(SEED_PASSWORD, 10).unwrap();
    let (nina, admin) = ("cm9x1k2ab0000qz8r4v7w1abc", "cm9x1k2ab0001qz8r4v7w1abd");
    let at = DateTime::from_millis(1_751_630_967_123);
    let users = mdb.collection::<Document>("users");
    users
        .insert_one(
            doc! {"_id": nina, "email": "nina@example.com", "password": &hash, "role": "user",
            "playlists": [], "tokenVersion": 2, "verified": true, "createdAt": at, "updatedAt": at},
        )
        .await
        .unwrap();
    users
        .insert_one(
            doc! {"_id": admin, "email": "dj@example.com", "password": &hash, "role": "admin",
            "playlists": [], "tokenVersion": 0, "verified": true, "createdAt": at, "updatedAt": at},
        )
        .await
        .unwrap();
    mdb.collection::<Document>("email_verification_tokens")
        .insert_one(doc! {"_id": "cm9x1k2ab0002qz8r4v7w1abe", "userId": nina, "token": "raw", "expiresAt": at, "createdAt": at})
        .await
        .unwrap();

    // --- the seed's PostgreSQL catalogue and its S3 objects.
    let seed_pg = cadenza_testkit::fresh_database().await;
    for stmt in SEED_DDL {
        sqlx::query(stmt).execute(&seed_pg.pool).await.unwrap();
    }
    let album = uuid::Uuid::new_v4().to_string();
    let song = uuid::Uuid::new_v4().to_string();
    let cover = format!("thumbnails/{}.jpg", uuid::Uuid::new_v4());
    let audio = format!("songs/{}.mp3", uuid::Uuid::new_v4());
    p.put_object(&cover, "image/jpeg", b"\xff\xd8 seed cover".to_vec())
        .await;
    p.put_object(&audio, "audio/mpeg", vec![5; 2048]).await;
    sqlx::query(r#"INSERT INTO "album" ("id","name","artist","thumbnailKey","createdAt") VALUES ($1,'Wild Is the Wind','Nina Simone',$2,'2025-07-04 12:29:27.123')"#)
        .bind(&album).bind(&cover).execute(&seed_pg.pool).await.unwrap();
    sqlx::query(r#"INSERT INTO "song" ("id","title","artist","audioKey","duration","albumId","createdAt","imageUrl") VALUES ($1,'Four Women','Nina Simone',$2,245.7,$3,'2025-07-04 12:30:00.456',NULL)"#)
        .bind(&song).bind(&audio).bind(&album).execute(&seed_pg.pool).await.unwrap();
    let favourite = "cm9x1k2ab0003qz8r4v7w1abf";
    mdb.collection::<Document>("favorites")
        .insert_one(doc! {"_id": favourite, "userId": nina, "songId": &song, "addedAt": at})
        .await
        .unwrap();

    // --- both imports, twice.
    let admin_env = [
        ("DATABASE_URL", p.database_url.clone()),
        ("S3_BUCKET", p.bucket.clone()),
        ("S3_FORCE_PATH_STYLE", "true".to_owned()),
        ("AWS_ENDPOINT_URL_S3", i.s3_endpoint.clone()),
    ];
    let admin_args = ["import-seed", "--from-database-url", seed_pg.url.as_str()];
    let user_env = [
        ("MONGODB_URI", p.mongodb_uri.clone()),
        ("MONGODB_DB", p.mongo_db.clone()),
    ];
    let user_args = [
        "import-seed",
        "--from-mongodb-uri",
        p.mongodb_uri.as_str(),
        "--from-db",
        seed_mongo.as_str(),
    ];
    let dry: Vec<&str> = admin_args.iter().copied().chain(["--dry-run"]).collect();
    let report = run("admin-svc", &dry, &admin_env);
    assert_eq!(report["dryRun"], true);
    assert_eq!(report["songs"]["imported"], 1);
    let report = run("admin-svc", &admin_args, &admin_env);
    assert_eq!(report["albums"]["imported"], 1, "{report}");
    assert_eq!(report["songs"]["imported"], 1, "{report}");
    assert_eq!(report["missingObjects"], serde_json::json!([]));
    let report = run("user-svc", &user_args, &user_env);
    assert_eq!(report["users"]["imported"], 2, "{report}");
    assert_eq!(report["favorites"]["imported"], 1, "{report}");

    let again = run("admin-svc", &admin_args, &admin_env);
    assert_eq!(again["albums"]["imported"], 0, "{again}");
    assert_eq!(again["songs"]["existing"], 1, "{again}");
    let again = run("user-svc", &user_args, &user_env);
    assert_eq!(again["users"]["imported"], 0, "{again}");
    assert_eq!(again["users"]["existing"], 2, "{again}");
    assert_eq!(again["favorites"]["existing"], 1, "{again}");
    let target = p.mongo().await;
    assert_eq!(
        target
            .collection::<Document>("users")
            .count_documents(doc! {})
            .await
            .unwrap(),
        2
    );

    // --- the listener logs in with the old password; the hash is upgraded.
    let r = p.login("nina@example.com", SEED_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["userData"]["sub"], nina, "the old id is the sub");
    let access = r.json["accessToken"].as_str().unwrap().to_owned();
    let stored = target
        .collection::<Document>("users")
        .find_one(doc! {"_id": nina})
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored
            .get_str("password")
            .unwrap()
            .starts_with("$argon2id$"),
        "rehashed on login"
    );
    let r = p
        .call(&p.user, Req::get("/api/user/check-auth").bearer(&access))
        .await;
    assert_eq!(r.json["user"]["id"], nina);

    // ... sees the old favourites, with the seed's fields ...
    let r = p
        .call(&p.user, Req::get("/api/user/favorites").bearer(&access))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let fav = &r.json["favorites"][0];
    assert_eq!(fav["id"], favourite);
    assert_eq!(fav["userId"], nina);
    assert_eq!(fav["songId"], song.as_str());
    assert_eq!(fav["addedAt"], "2025-07-04T12:09:27.123Z");

    // ... browses the imported albums, whose cover keys resolve ...
    let r = p.call(&p.song, Req::get("/api/song/album")).await;
    assert_eq!(r.json["albums"][0]["id"], album.as_str());
    assert_eq!(r.json["albums"][0]["thumbnailKey"], cover.as_str());
    assert_eq!(r.json["albums"][0]["createdAt"], "2025-07-04T12:29:27.123Z");
    let obj =
        p.s3.get_object()
            .bucket(&p.bucket)
            .key(r.json["albums"][0]["thumbnailKey"].as_str().unwrap())
            .send()
            .await
            .expect("the cover key names the object");
    assert_eq!(
        &obj.body.collect().await.unwrap().into_bytes()[..],
        b"\xff\xd8 seed cover"
    );
    let r = p
        .call(&p.song, Req::get(&format!("/api/song/album/{album}")))
        .await;
    assert_eq!(r.json["songs"][0]["id"], song.as_str());
    assert_eq!(r.json["songs"][0]["duration"], 245.7);

    // ... and streams the imported song.
    let r = p
        .call(
            &p.song,
            Req::get(&format!("/api/song/stream/{song}")).bearer(&access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json["url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{CDN}/{audio}?")));

    // The imported admin is still an admin (old password, new token).
    let r = p.login("dj@example.com", SEED_PASSWORD).await;
    assert_eq!(r.json["userData"]["role"], "admin", "{}", r.text);
    let r = p
        .call(
            &p.admin,
            Req::get("/api/admin/album").bearer(r.json["accessToken"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    p.remove_bucket().await;
}
