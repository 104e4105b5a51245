//! `admin-svc import-seed` against a real PostgreSQL database holding the
//! seed's Prisma tables, exactly as its migrations left them, and the real
//! SeaweedFS bucket.

mod common;

use admin_svc::import::{import_seed, ImportOptions};
use cadenza_testkit::fresh_database;
use common::World;
use serde_json::Value;
use sqlx::PgPool;

/// The seed's schema after all six of its Prisma migrations.
const SEED_DDL: &[&str] = &[
    r#"CREATE TABLE "album" (
        "id" TEXT NOT NULL,
        "name" TEXT NOT NULL,
        "artist" TEXT NOT NULL,
        "thumbnailKey" TEXT NOT NULL,
        "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
        CONSTRAINT "album_pkey" PRIMARY KEY ("id"))"#,
    r#"CREATE TABLE "song" (
        "id" TEXT NOT NULL,
        "title" TEXT NOT NULL,
        "artist" TEXT NOT NULL,
        "audioKey" TEXT NOT NULL,
        "duration" DOUBLE PRECISION NOT NULL,
        "albumId" TEXT NOT NULL,
        "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
        CONSTRAINT "song_pkey" PRIMARY KEY ("id"))"#,
    r#"ALTER TABLE "song" ADD CONSTRAINT "song_albumId_fkey" FOREIGN KEY ("albumId") REFERENCES "album"("id") ON DELETE CASCADE ON UPDATE CASCADE"#,
    r#"ALTER TABLE "song" ADD COLUMN "imageUrl" TEXT"#,
];

pub struct SeedCatalog {
    pub album: String,
    pub old_album: String,
    pub songs: Vec<String>,
    pub cover: String,
    pub audio: Vec<String>,
    pub art: String,
    pub missing_album: String,
    pub missing_song: String,
}

async fn seed_db(pool: &PgPool) {
    for stmt in SEED_DDL {
        sqlx::query(stmt).execute(pool).await.unwrap();
    }
}

async fn put(w: &World, key: &str, ct: &str, bytes: Vec<u8>) {
    w.s3.put_object()
        .bucket(&w.bucket)
        .key(key)
        .content_type(ct)
        .body(bytes.into())
        .send()
        .await
        .unwrap();
}

/// Two albums and three songs written as the seed wrote them, plus an album
/// and a song whose objects were never uploaded.
async fn fixtures(w: &World, seed: &PgPool) -> SeedCatalog {
    let id = || uuid::Uuid::new_v4().to_string();
    let cover = format!("thumbnails/{}.jpg", id());
    let art = format!("thumbnails/{}.jpg", id());
    let audio: Vec<String> = (0..3).map(|_| format!("songs/{}.mp3", id())).collect();
    put(w, &cover, "image/jpeg", vec![1; 64]).await;
    // The seed had no cap: a cover over today's 10 MiB still imports.
    put(w, &art, "image/jpeg", vec![2; 10 * 1024 * 1024 + 5]).await;
    for k in &audio {
        put(w, k, "audio/mpeg", vec![3; 4096]).await;
    }
    let (album, old_album, missing_album) = (id(), id(), id());
    for (aid, name, key, at) in [
        (&old_album, "Old", cover.clone(), "2025-06-24 13:01:34.123"),
        (
            &album,
            "Pastel Blues",
            cover.clone(),
            "2025-07-04 12:29:27.456",
        ),
        (
            &missing_album,
            "Lost",
            format!("thumbnails/{}.jpg", id()),
            "2025-07-05 08:00:00.000",
        ),
    ] {
        sqlx::query(r#"INSERT INTO "album" ("id","name","artist","thumbnailKey","createdAt") VALUES ($1,$2,'Nina Simone',$3,$4::timestamp)"#)
            .bind(aid).bind(name).bind(key).bind(at)
            .execute(seed).await.unwrap();
    }
    let songs: Vec<String> = (0..3).map(|_| id()).collect();
    let missing_song = id();
    for (sid, title, key, image, at) in [
        (
            &songs[0],
            "Be My Husband",
            audio[0].clone(),
            Some(art.clone()),
            "2025-07-04 12:30:00.001",
        ),
        (
            &songs[1],
            "Ain't No Use",
            audio[1].clone(),
            None,
            "2025-07-04 12:31:00.002",
        ),
        (
            &songs[2],
            "Take Care of Business",
            audio[2].clone(),
            None,
            "2025-07-04 12:32:00.003",
        ),
        (
            &missing_song,
            "Gone",
            format!("songs/{}.mp3", id()),
            None,
            "2025-07-04 12:33:00.004",
        ),
    ] {
        sqlx::query(r#"INSERT INTO "song" ("id","title","artist","audioKey","duration","albumId","createdAt","imageUrl") VALUES ($1,$2,'Nina Simone',$3,187.5,$4,$5::timestamp,$6)"#)
            .bind(sid).bind(title).bind(key).bind(&album).bind(at).bind(image)
            .execute(seed).await.unwrap();
    }
    SeedCatalog {
        album,
        old_album,
        songs,
        cover,
        audio,
        art,
        missing_album,
        missing_song,
    }
}

#[tokio::test]
async fn import_keeps_ids_keys_and_times_reports_missing_objects_and_is_idempotent() {
    let w = World::new().await;
    let seed = fresh_database().await;
    seed_db(&seed.pool).await;
    let c = fixtures(&w, &seed.pool).await;
    let run = |opts: ImportOptions| import_seed(&seed.pool, &w.state.db, &w.state.media, opts);

    // A dry run reports everything and writes nothing.
    let dry = run(ImportOptions {
        dry_run: true,
        skip_missing_objects: false,
    })
    .await
    .unwrap();
    assert_eq!((dry.albums.seen, dry.albums.imported), (3, 3));
    assert_eq!((dry.songs.seen, dry.songs.imported), (4, 4));
    assert_eq!(dry.missing_objects.len(), 2, "{dry:?}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM albums")
        .fetch_one(&w.state.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "a dry run writes nothing");

    // With the flag, rows whose objects are missing are skipped.
    let report = run(ImportOptions {
        dry_run: false,
        skip_missing_objects: true,
    })
    .await
    .unwrap();
    assert_eq!(report.albums.imported, 2);
    assert_eq!(report.albums.skipped, 1);
    assert_eq!(report.songs.imported, 3);
    assert_eq!(report.songs.skipped, 1);
    let mut missing: Vec<(&str, &str)> = report
        .missing_objects
        .iter()
        .map(|m| (m.id.as_str(), m.field))
        .collect();
    missing.sort();
    let mut want = vec![
        (c.missing_album.as_str(), "thumbnailKey"),
        (c.missing_song.as_str(), "audioKey"),
    ];
    want.sort();
    assert_eq!(missing, want);

    // Ids, keys and timestamps as in the seed, through the admin API.
    let albums: Value = w.get("/album").send().await.unwrap().json().await.unwrap();
    let albums = albums["albums"].as_array().unwrap();
    assert_eq!(albums.len(), 2);
    assert_eq!(albums[0]["id"], c.album.as_str(), "newest first");
    assert_eq!(albums[0]["thumbnailKey"], c.cover.as_str());
    assert_eq!(albums[0]["createdAt"], "2025-07-04T12:29:27.456Z");
    assert_eq!(albums[1]["id"], c.old_album.as_str());
    let songs: Value = w
        .get(&format!("/album/{}/song", c.album))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let songs = songs["songs"].as_array().unwrap();
    let ids: Vec<&str> = songs.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, c.songs.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(songs[0]["imageUrl"], c.art.as_str());
    assert_eq!(songs[0]["duration"], 187.5);
    assert_eq!(songs[0]["createdAt"], "2025-07-04T12:30:00.001Z");
    assert_eq!(songs[2]["trackNumber"], 3);
    let all: Value = w.get("/song").send().await.unwrap().json().await.unwrap();
    let first = all["songs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == c.songs[0].as_str())
        .unwrap()
        .clone();
    assert_eq!(first["audioKey"], c.audio[0].as_str());
    assert_eq!(first["size"], 4096);
    assert_eq!(first["contentType"], "audio/mpeg");

    // A second import changes nothing.
    let snapshot = |db: PgPool| async move {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT row_to_json(t)::text FROM (SELECT * FROM albums ORDER BY id) t \
             UNION ALL SELECT row_to_json(t)::text FROM (SELECT * FROM songs ORDER BY id) t",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        rows
    };
    let before = snapshot(w.state.db.clone()).await;
    let again = run(ImportOptions {
        dry_run: false,
        skip_missing_objects: true,
    })
    .await
    .unwrap();
    assert_eq!(again.albums.imported, 0);
    assert_eq!(again.albums.existing, 2);
    assert_eq!(again.songs.imported, 0);
    assert_eq!(again.songs.existing, 3);
    assert_eq!(snapshot(w.state.db.clone()).await, before);

    // Without the flag the rest is imported, and still reported.
    let rest = run(ImportOptions::default()).await.unwrap();
    assert_eq!((rest.albums.imported, rest.songs.imported), (1, 1));
    assert_eq!(rest.missing_objects.len(), 2);
    let song: (String, i64, i32) = sqlx::query_as(
        "SELECT content_type, size_bytes, track_number FROM songs WHERE id = $1::uuid",
    )
    .bind(&c.missing_song)
    .fetch_one(&w.state.db)
    .await
    .unwrap();
    assert_eq!(song, ("audio/mpeg".to_owned(), 1, 4));
}
