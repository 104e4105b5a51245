//! The restore drill (README "Backups and restore"): a platform with
//! listeners, sessions, favourites, albums, songs and media is backed up
//! with `cadenza-backup`; then all three stores are lost (PostgreSQL and
//! MongoDB servers killed and their data directories removed, the bucket
//! emptied and deleted, Redis replaced by an empty namespace); new, empty
//! servers are started, the backup is restored into them, and the services
//! are started again on top. The public API must then answer as before.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use cadenza_backup::{media::Bucket, ALL_PARTS};
use cadenza_testkit::mint;
use cadenza_testkit::process::{MongoProcess, PostgresProcess};
use cadenza_testkit::TokenSpec;
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const ACCOUNTS_DB: &str = "cadenza";
const LISTENERS: [&str; 3] = [
    "drill-ada@example.com",
    "drill-bo@example.com",
    "drill-cy@example.com",
];

/// What the public API answers, in a form two lives can be compared in.
#[derive(Debug, PartialEq)]
struct Answers {
    albums: Value,
    album_details: BTreeMap<String, Value>,
    songs: Value,
    favourites: BTreeMap<String, Value>,
    /// Per song: the stream URL's object key and the bytes behind it.
    streams: BTreeMap<String, (String, Vec<u8>)>,
}

async fn answers(p: &Platform, sessions: &[(String, String)]) -> Answers {
    let albums = p.call(&p.song, Req::get("/api/song/album")).await;
    assert_eq!(albums.status, StatusCode::OK, "{}", albums.text);
    let mut album_details = BTreeMap::new();
    for a in albums.json["albums"].as_array().unwrap() {
        let id = a["id"].as_str().unwrap().to_owned();
        let r = p
            .call(&p.song, Req::get(&format!("/api/song/album/{id}")))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        album_details.insert(id, r.json);
    }
    let songs = p.call(&p.song, Req::get("/api/song/")).await;
    assert_eq!(songs.status, StatusCode::OK, "{}", songs.text);
    let mut favourites = BTreeMap::new();
    for (email, access) in sessions {
        let r = p
            .call(&p.user, Req::get("/api/user/favorites").bearer(access))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{email}: {}", r.text);
        favourites.insert(email.clone(), r.json["favorites"].clone());
    }
    let listener = &sessions[0].1;
    let mut streams = BTreeMap::new();
    // All songs: a plain array (the seed's shape).
    let list = songs.json.as_array().expect("an array of songs");
    for s in list {
        let id = s["id"].as_str().unwrap();
        let r = p
            .call(
                &p.song,
                Req::get(&format!("/api/song/stream/{id}")).bearer(listener),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "stream {id}: {}", r.text);
        let url = r.json["url"].as_str().unwrap();
        let key = url
            .strip_prefix(&format!("{CDN}/"))
            .and_then(|rest| rest.split('?').next())
            .unwrap_or_else(|| panic!("a CDN URL: {url}"))
            .to_owned();
        let object =
            p.s3.get_object()
                .bucket(&p.bucket)
                .key(&key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("the object behind {url}: {e:?}"));
        let bytes = object.body.collect().await.unwrap().into_bytes().to_vec();
        streams.insert(id.to_owned(), (key, bytes));
    }
    Answers {
        albums: albums.json,
        album_details,
        songs: songs.json,
        favourites,
        streams,
    }
}

async fn empty_stores() -> (PostgresProcess, MongoProcess, Stores) {
    let pg = PostgresProcess::start();
    let pool = sqlx::PgPool::connect(&pg.url()).await.unwrap();
    sqlx::query("CREATE DATABASE catalog")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let mongo = MongoProcess::start();
    let s3 = s3_client().await;
    let stores = Stores {
        database_url: Some(pg.url_for("catalog")),
        mongodb_uri: mongo.uri(),
        mongo_db: Some(ACCOUNTS_DB.into()),
        bucket: Some(create_bucket(&s3).await),
        ..Stores::shared()
    };
    (pg, mongo, stores)
}

fn backup_stores(stores: &Stores, s3: &aws_sdk_s3::Client) -> cadenza_backup::Stores {
    cadenza_backup::Stores {
        database_url: stores.database_url.clone(),
        mongo: Some((stores.mongodb_uri.clone(), ACCOUNTS_DB.into())),
        media: Some(Bucket {
            client: s3.clone(),
            name: stores.bucket.clone().unwrap(),
        }),
    }
}

fn many_logins(c: &mut user_svc::Config) {
    c.limits.login_per_ip = user_svc::ratelimit::Rule::per_minute(10_000);
    c.limits.register_per_ip = user_svc::ratelimit::Rule::per_minute(10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_all_three_stores_are_lost_a_restore_brings_back_every_account_session_favourite_album_and_stream(
) {
    let dir = std::env::temp_dir().join(cadenza_testkit::unique_name("cadenza-drill-"));
    let admin = mint(&TokenSpec::admin());

    // ---- first life
    let (pg, mongo, stores) = empty_stores().await;
    let p = Platform::with(stores.clone(), many_logins).await;
    let mut song_ids = vec![];
    for a in 0..2 {
        let album = p.create_album(&admin, &format!("Drill album {a}")).await;
        assert_eq!(album.status, StatusCode::CREATED, "{}", album.text);
        let album_id = album.json["album"]["id"].as_str().unwrap().to_owned();
        for s in 0..3 {
            let audio = format!("songs/{}.mp3", uuid::Uuid::new_v4());
            // Distinct bytes per song, so a mix-up would show.
            let bytes: Vec<u8> = (0..4096u32)
                .map(|i| (i * 7 + a * 31 + s * 131) as u8)
                .collect();
            p.put_object(&audio, "audio/mpeg", bytes).await;
            let r = p
                .call(
                    &p.admin,
                    Req::post("/api/admin/song").bearer(&admin).json(json!({
                        "title": format!("Drill song {a}.{s}"), "artist": "Drill",
                        "audioKey": audio, "duration": 200.0, "albumId": album_id,
                    })),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            song_ids.push(r.json["song"]["id"].as_str().unwrap().to_owned());
        }
    }
    let mut sessions = vec![];
    let mut refresh = vec![];
    for (i, email) in LISTENERS.iter().enumerate() {
        let s = p.listener(email).await;
        for song in song_ids.iter().skip(i).take(2 + i) {
            let r = p
                .call(
                    &p.user,
                    Req::post("/api/user/favorites")
                        .bearer(&s.access)
                        .json(json!({"songId": song})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
        sessions.push((email.to_string(), s.access.clone()));
        refresh.push(s.refresh.clone());
    }
    let before = answers(&p, &sessions).await;
    assert_eq!(before.albums["albums"].as_array().unwrap().len(), 2);
    assert_eq!(before.streams.len(), 6);
    assert_eq!(before.favourites[LISTENERS[2]].as_array().unwrap().len(), 4);

    let s3 = s3_client().await;
    let t = Instant::now();
    let manifest = cadenza_backup::create(&backup_stores(&stores, &s3), &ALL_PARTS, &dir)
        .await
        .expect("backup");
    let backup_time = t.elapsed();
    assert_eq!(
        manifest.media.as_ref().unwrap().objects,
        8,
        "6 songs and 2 covers"
    );

    // ---- the disaster: every store and every running service is gone
    p.remove_bucket().await;
    drop(p);
    drop(pg);
    drop(mongo);

    // ---- second life: new empty servers, the backup restored, services on top
    let t = Instant::now();
    let (_pg, _mongo, stores) = empty_stores().await;
    let servers_time = t.elapsed();
    let t = Instant::now();
    cadenza_backup::restore(&backup_stores(&stores, &s3), &ALL_PARTS, &dir)
        .await
        .expect("restore");
    let restore_time = t.elapsed();
    let p = Platform::with(stores.clone(), many_logins).await;
    let recovery_time = t.elapsed();

    // Every listener signs in with the same password.
    for email in LISTENERS {
        let r = p.login(email, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{email} signs in: {}", r.text);
    }
    // Sessions survive too: each old refresh cookie is still good.
    for (email, cookie) in LISTENERS.iter().zip(&refresh) {
        let r = p
            .call(&p.user, Req::post("/api/user/refresh-token").cookie(cookie))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{email}'s session: {}", r.text);
    }
    // Favourites, the catalogue and every stream's bytes are as they were.
    let after = answers(&p, &sessions).await;
    assert_eq!(after.albums, before.albums);
    assert_eq!(after.album_details, before.album_details);
    assert_eq!(after.songs, before.songs);
    assert_eq!(after.favourites, before.favourites);
    assert_eq!(after.streams, before.streams);
    // And the restored platform takes new writes.
    let r = p.create_album(&admin, "After the drill").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = p.register("drill-new@example.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // An existing address is known as one: its owner is told by mail, and
    // no second account is made.
    let r = p.register(LISTENERS[0]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    p.job("account_exists", LISTENERS[0]).await;
    let users = p
        .mongo()
        .await
        .collection::<mongodb::bson::Document>("users");
    let same = users
        .count_documents(mongodb::bson::doc! {"email": LISTENERS[0]})
        .await
        .unwrap();
    assert_eq!(same, 1);

    println!(
        "restore drill: backup {backup_time:?} ({} files, {} bytes); new empty servers {servers_time:?}; restore {restore_time:?}; services answering {recovery_time:?} after the restore began",
        manifest.files.len(),
        manifest.files.values().map(|f| f.bytes).sum::<u64>()
    );
    p.remove_bucket().await;
    let _ = std::fs::remove_dir_all(&dir);
}
