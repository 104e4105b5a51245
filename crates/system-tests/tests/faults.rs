//! Fault injection (issue 8): each test runs its own PostgreSQL, Redis,
//! SecantusDB or moto process, stops or kills it for real, restarts it, and
//! checks what the three services answer meanwhile and how fast they heal.
//! The shared `./dev infra` servers are never touched.

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use cadenza_testkit::process::{MongoProcess, MotoProcess, PostgresProcess, RedisProcess};
use cadenza_testkit::{eventually, mint, TokenSpec};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn song_album_name(p: &Platform, id: &str) -> Option<String> {
    let r = p
        .call(&p.song, Req::get(&format!("/api/song/album/{id}")))
        .await;
    assert_eq!(r.status, StatusCode::OK, "song-svc album read: {}", r.text);
    r.json["album"]["name"].as_str().map(str::to_owned)
}

async fn rename_album(
    p: &Platform,
    admin: &cadenza_testkit::TestServer,
    token: &str,
    id: &str,
    name: &str,
) {
    let r = p
        .call(
            admin,
            Req::new(Method::PATCH, &format!("/api/admin/album/{id}"))
                .bearer(token)
                .json(json!({"name": name})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "rename: {}", r.text);
}

async fn cache_live(p: &Platform, timeout: Duration) -> Duration {
    let cache = p.song_cache.clone();
    timed(timeout, "song-svc's cache to go live", || {
        let live = cache.usable();
        async move { live.then_some(()) }
    })
    .await
    .1
}

/// Asserts `/readyz` is a 503 naming `dependency`, with Retry-After.
fn assert_not_ready(r: &Resp, service: &str, dependency: &str) {
    r.assert_unavailable(&format!("{service} /readyz"));
    let named: Vec<&str> = r.json["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        named.contains(&dependency),
        "{service} /readyz names {dependency}: {}",
        r.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_reads_and_logins_still_work_and_a_change_made_meanwhile_shows_after_the_reconnect(
) {
    let mut redis = RedisProcess::start();
    let p = Platform::with(
        Stores {
            redis_url: redis.url(),
            ..Stores::shared()
        },
        |_| {},
    )
    .await;
    let admin = mint(&TokenSpec::admin());
    p.listener("steady@example.com").await;
    let album = p.create_album(&admin, "Before").await;
    assert_eq!(album.status, StatusCode::CREATED, "{}", album.text);
    let id = album.json["album"]["id"].as_str().unwrap().to_owned();
    cache_live(&p, Duration::from_secs(15)).await;
    for _ in 0..2 {
        assert_eq!(song_album_name(&p, &id).await.as_deref(), Some("Before"));
    }

    redis.stop();
    // song-svc: every catalogue read answers 200 from PostgreSQL.
    for path in [
        "/api/song/album".to_string(),
        format!("/api/song/album/{id}"),
        "/api/song/".into(),
        "/api/song/search?q=Before".into(),
    ] {
        let t = Instant::now();
        let r = p.call(&p.song, Req::get(&path)).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "song-svc {path} with Redis down: {}",
            r.text
        );
        println!("song-svc {path} with Redis down: 200 in {:?}", t.elapsed());
    }
    let ready = p.call(&p.song, Req::get("/readyz")).await;
    assert_eq!(
        ready.status,
        StatusCode::OK,
        "Redis is not song-svc's readiness dependency"
    );
    assert_not_ready(
        &p.call(&p.user, Req::get("/readyz")).await,
        "user-svc",
        "redis",
    );
    assert_not_ready(
        &p.call(&p.admin, Req::get("/readyz")).await,
        "admin-svc",
        "redis",
    );

    // user-svc: the rate limiter fails open. Twelve wrong passwords for one
    // address (the limit is 10 a minute) are all plain 401s, never 429, and
    // the right password still signs in.
    for i in 1..=12 {
        let r = p
            .login("steady@example.com", "Wrong-Password-Guess-1")
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "wrong login {i} with Redis down: {}",
            r.text
        );
    }
    let r = p.login("steady@example.com", PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "login with Redis down: {}",
        r.text
    );

    // admin-svc commits a change whose event goes nowhere.
    rename_album(&p, &p.admin, &admin, &id, "During").await;
    eventually(
        Duration::from_secs(10),
        "song-svc to read through to PostgreSQL",
        || async { (song_album_name(&p, &id).await.as_deref() == Some("During")).then_some(()) },
    )
    .await;

    redis.restart();
    let live = cache_live(&p, Duration::from_secs(30)).await;
    println!("song-svc subscriber live again {live:?} after Redis came back");
    // The in-process copy still held "Before": only the resync flush makes
    // this read fresh.
    assert_eq!(song_album_name(&p, &id).await.as_deref(), Some("During"));
    let all = p.call(&p.song, Req::get("/api/song/album")).await;
    assert_eq!(all.json["albums"][0]["name"], "During", "{}", all.text);
    // Events flow again through admin-svc's reconnected publisher.
    let (_, t) = timed(Duration::from_secs(15), "admin-svc readiness", || async {
        (p.call(&p.admin, Req::get("/readyz")).await.status == StatusCode::OK).then_some(())
    })
    .await;
    println!("admin-svc /readyz 200 {t:?} after Redis came back");
    for i in 0..2 {
        assert_eq!(
            song_album_name(&p, &id).await.as_deref(),
            Some("During"),
            "cached read {i}"
        );
    }
    rename_album(&p, &p.admin, &admin, &id, "After").await;
    let (_, t) = timed(
        Duration::from_secs(10),
        "the album:updated event to reach song-svc",
        || async { (song_album_name(&p, &id).await.as_deref() == Some("After")).then_some(()) },
    )
    .await;
    println!("event-driven invalidation after the outage: {t:?}");
    // And the limiter holds again once Redis is back: within its breaker
    // (2 s after the last Redis error) plus a margin, wrong logins for one
    // address are counted and cut off with a 429 and Retry-After.
    let (retry_after, t) = timed(
        Duration::from_secs(10),
        "wrong logins to be limited again",
        || async {
            let r = p
                .login("limited@example.com", "Wrong-Password-Guess-1")
                .await;
            if r.status == StatusCode::TOO_MANY_REQUESTS {
                return r.header("retry-after").map(str::to_owned);
            }
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
            None
        },
    )
    .await;
    println!("login limiter holding again (Retry-After {retry_after}) {t:?} into the loop");
    p.remove_bucket().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_is_a_503_with_retry_after_and_both_catalogue_services_recover_within_5s()
{
    let mut pg = PostgresProcess::start();
    {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&pg.url())
            .await
            .expect("private PostgreSQL");
        cadenza_catalog::migrate(&pool).await.expect("migrate");
        pool.close().await;
    }
    let p = Platform::with(
        Stores {
            database_url: Some(pg.url()),
            ..Stores::shared()
        },
        |_| {},
    )
    .await;
    let admin = mint(&TokenSpec::admin());
    let album = p.create_album(&admin, "Steady").await;
    assert_eq!(album.status, StatusCode::CREATED, "{}", album.text);
    let id = album.json["album"]["id"].as_str().unwrap().to_owned();
    cache_live(&p, Duration::from_secs(15)).await;
    assert_eq!(song_album_name(&p, &id).await.as_deref(), Some("Steady"));

    pg.stop();
    let (_, t) = timed(
        Duration::from_secs(15),
        "both /readyz to say postgres",
        || async {
            let a = p.call(&p.admin, Req::get("/readyz")).await;
            let s = p.call(&p.song, Req::get("/readyz")).await;
            (a.status == StatusCode::SERVICE_UNAVAILABLE
                && s.status == StatusCode::SERVICE_UNAVAILABLE)
                .then_some((a, s))
        },
    )
    .await;
    println!("/readyz 503 on both {t:?} after PostgreSQL stopped");
    let (a, s) = (
        p.call(&p.admin, Req::get("/readyz")).await,
        p.call(&p.song, Req::get("/readyz")).await,
    );
    assert_not_ready(&a, "admin-svc", "postgres");
    assert_not_ready(&s, "song-svc", "postgres");

    // Nothing is a 500 while it is down: a 503 with Retry-After, or (for a
    // read song-svc has cached) a 200.
    let stream = format!("/api/song/stream/{}", uuid::Uuid::new_v4());
    let unknown = format!("/api/song/album/{}", uuid::Uuid::new_v4());
    let cached = format!("/api/song/album/{id}");
    let admin_album = format!("/api/admin/album/{id}");
    let create = p.create_album(&admin, "While down").await;
    create.assert_unavailable("admin-svc POST /album with PostgreSQL down");
    let reads: Vec<(&str, &cadenza_testkit::TestServer, Req)> = vec![
        (
            "admin-svc",
            &p.admin,
            Req::get("/api/admin/album").bearer(&admin),
        ),
        (
            "admin-svc",
            &p.admin,
            Req::get("/api/admin/song").bearer(&admin),
        ),
        (
            "admin-svc",
            &p.admin,
            Req::new(Method::PATCH, &admin_album)
                .bearer(&admin)
                .json(json!({"name": "x"})),
        ),
        (
            "admin-svc",
            &p.admin,
            Req::delete(&admin_album).bearer(&admin),
        ),
        ("song-svc", &p.song, Req::get("/api/song/search?q=steady")),
        ("song-svc", &p.song, Req::get(&unknown)),
        ("song-svc", &p.song, Req::get(&stream).bearer(&admin)),
        ("song-svc", &p.song, Req::get(&cached)),
        ("song-svc", &p.song, Req::get("/api/song/album")),
    ];
    for (name, server, req) in reads {
        let what = format!("{name} {} {} with PostgreSQL down", req.method, req.path);
        let cacheable = name == "song-svc"
            && req.method == Method::GET
            && !req.path.contains("search")
            && !req.path.contains("stream")
            && req.path != unknown;
        let r = p.call(server, req).await;
        if cacheable && r.status == StatusCode::OK {
            println!("{what}: 200 from the cache");
            continue;
        }
        r.assert_unavailable(&what);
    }

    pg.restart();
    let back = Instant::now();
    eventually(
        Duration::from_secs(30),
        "both /readyz to be 200",
        || async {
            let a = p.call(&p.admin, Req::get("/readyz")).await.status;
            let s = p.call(&p.song, Req::get("/readyz")).await.status;
            (a == StatusCode::OK && s == StatusCode::OK).then_some(())
        },
    )
    .await;
    let ready = back.elapsed();
    let new_id = eventually(Duration::from_secs(30), "a real write and read", || async {
        let r = p.create_album(&admin, "After").await;
        if r.status != StatusCode::CREATED {
            println!(
                "{:?} admin-svc POST /album: {} {}",
                back.elapsed(),
                r.status,
                r.text
            );
            return None;
        }
        let id = r.json["album"]["id"].as_str()?.to_owned();
        let read = p
            .call(&p.song, Req::get(&format!("/api/song/album/{id}")))
            .await;
        if read.status != StatusCode::OK {
            println!(
                "{:?} song-svc GET /album/{id}: {} {}",
                back.elapsed(),
                read.status,
                read.text
            );
        }
        (read.status == StatusCode::OK).then_some(id)
    })
    .await;
    let rw = back.elapsed();
    println!("after PostgreSQL restart: /readyz 200 on both in {ready:?}, write+read in {rw:?}");
    assert!(ready <= Duration::from_secs(5), "readyz back in {ready:?}");
    assert!(
        rw <= Duration::from_secs(5),
        "write and read back in {rw:?}"
    );
    assert_eq!(song_album_name(&p, &new_id).await.as_deref(), Some("After"));
    // Nothing written while down.
    let pool = sqlx::PgPool::connect(&pg.url()).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM albums ORDER BY created_at")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(names, ["Steady", "After"]);
    p.remove_bucket().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongodb_down_register_and_login_are_503_and_no_account_is_left_half_made() {
    let mut mongo = MongoProcess::start();
    let p = Platform::with(
        Stores {
            mongodb_uri: mongo.uri(),
            ..Stores::shared()
        },
        |c| {
            // Many registrations from one address in this test.
            c.limits.register_per_ip = user_svc::ratelimit::Rule::per_minute(10_000);
            c.limits.login_per_ip = user_svc::ratelimit::Rule::per_minute(10_000);
        },
    )
    .await;
    p.listener("steady@example.com").await;

    // Registrations keep arriving while the server is killed under them.
    let results: Mutex<Vec<(String, StatusCode, bool)>> = Mutex::new(Vec::new());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let traffic = async {
        let mut i = 0;
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            i += 1;
            let email = format!("burst{i}@example.com");
            let r = p.register(&email).await;
            results
                .lock()
                .unwrap()
                .push((email, r.status, r.header("retry-after").is_some()));
            if r.status != StatusCode::CREATED {
                r.assert_unavailable("register while MongoDB dies");
            }
        }
    };
    let killer = async {
        eventually(Duration::from_secs(30), "a few registrations", || async {
            (results.lock().unwrap().len() >= 3).then_some(())
        })
        .await;
        mongo.stop();
        eventually(Duration::from_secs(60), "registrations to fail", || async {
            let r = results.lock().unwrap();
            (r.iter()
                .filter(|(_, s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
                .count()
                >= 2)
                .then_some(())
        })
        .await;
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    tokio::join!(traffic, killer);

    let r = p.register("during@example.com").await;
    r.assert_unavailable("register with MongoDB down");
    let r = p.login("steady@example.com", PASSWORD).await;
    r.assert_unavailable("login with MongoDB down");
    assert_not_ready(
        &p.call(&p.user, Req::get("/readyz")).await,
        "user-svc",
        "mongodb",
    );

    mongo.restart();
    let (_, t) = timed(Duration::from_secs(30), "user-svc /readyz 200", || async {
        (p.call(&p.user, Req::get("/readyz")).await.status == StatusCode::OK).then_some(())
    })
    .await;
    println!("user-svc /readyz 200 {t:?} after MongoDB came back");
    let results = results.into_inner().unwrap();
    let ok: Vec<&String> = results
        .iter()
        .filter(|r| r.1 == StatusCode::CREATED)
        .map(|r| &r.0)
        .collect();
    let failed: Vec<&String> = results
        .iter()
        .filter(|r| r.1 != StatusCode::CREATED)
        .map(|r| &r.0)
        .collect();
    println!(
        "registrations around the kill: {} answered 201, {} answered 503",
        ok.len(),
        failed.len()
    );
    assert!(results
        .iter()
        .all(|r| r.1 == StatusCode::CREATED || (r.1 == StatusCode::SERVICE_UNAVAILABLE && r.2)));

    let users = p
        .mongo()
        .await
        .collection::<mongodb::bson::Document>("users");
    let count = |email: String| {
        let users = users.clone();
        async move {
            users
                .count_documents(mongodb::bson::doc! {"email": email})
                .await
                .unwrap()
        }
    };
    // Every 201 is a complete account whose verification mail goes out.
    for email in &ok {
        assert_eq!(count(email.to_string()).await, 1, "{email}");
        p.job_within("verify_email", email, Duration::from_secs(30))
            .await;
    }
    // Every 503 left nothing that blocks a clean retry.
    for email in failed
        .iter()
        .map(|e| e.to_string())
        .chain(["during@example.com".to_string()])
    {
        assert!(count(email.clone()).await <= 1, "{email}");
        let r = p.register(&email).await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{email} registers again: {}",
            r.text
        );
        assert_eq!(count(email.clone()).await, 1, "{email}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let job = loop {
            let jobs = p.pending_jobs().await;
            if let Some(j) = jobs.into_iter().find(|j| j["to"] == email.as_str()) {
                break j;
            }
            assert!(Instant::now() < deadline, "no mail to {email}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        if job["kind"] == "verify_email" {
            let token = link_token(&job, "/verify-email");
            let r = p
                .post_user("/api/user/verify-email", json!({"token": token}))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{email} verifies: {}", r.text);
        } else {
            // The 503'd attempt had in fact committed: the owner is told.
            assert_eq!(job["kind"], "account_exists", "{job}");
        }
    }
    assert_eq!(
        p.login("steady@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    p.remove_bucket().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_down_during_register_is_a_201_and_the_outbox_delivers_once_sqs_is_back() {
    let mut moto = MotoProcess::start();
    let queue_name = cadenza_testkit::unique_name("system-t-");
    let sqs = sqs_client(&moto.endpoint()).await;
    let queue_url = create_queue(&sqs, &queue_name).await;
    let p = Platform::with(
        Stores {
            sqs_endpoint: moto.endpoint(),
            queue_url: Some(queue_url.clone()),
            ..Stores::shared()
        },
        |_| {},
    )
    .await;
    // The queue works before the outage.
    assert_eq!(
        p.register("before@example.com").await.status,
        StatusCode::CREATED
    );
    p.job("verify_email", "before@example.com").await;

    moto.stop();
    let t = Instant::now();
    let r = p.register("during@example.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    println!("register with SQS down: 201 in {:?}", t.elapsed());
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "register does not wait for SQS"
    );
    let outbox = p
        .mongo()
        .await
        .collection::<mongodb::bson::Document>("email_outbox");
    let pending = eventually(Duration::from_secs(20), "a failed delivery attempt", || async {
        outbox
            .find_one(mongodb::bson::doc! {"kind": "verify_email", "status": "pending", "lastError": {"$type": "string"}})
            .await
            .unwrap()
            .filter(|d| d.get_str("body").unwrap_or_default().contains("during@example.com"))
    })
    .await;
    let job_id = pending.get_str("_id").unwrap().to_owned();

    moto.restart();
    let again = create_queue(&sqs, &queue_name).await;
    assert_eq!(again, queue_url, "the same queue URL after the restart");
    let back = Instant::now();
    let job = p
        .job_within(
            "verify_email",
            "during@example.com",
            Duration::from_secs(90),
        )
        .await;
    println!("outbox delivered {:?} after SQS came back", back.elapsed());
    assert_eq!(job["id"], job_id.as_str());
    let sent = eventually(
        Duration::from_secs(10),
        "the outbox entry marked sent",
        || async {
            outbox
                .find_one(mongodb::bson::doc! {"_id": &job_id, "status": "sent"})
                .await
                .unwrap()
        },
    )
    .await;
    assert!(sent.get_i32("attempts").unwrap() >= 2, "{sent}");
    // Delivered once.
    cadenza_testkit::assert_quiet_for(Duration::from_secs(1), "second delivery", || async {
        let dupes: Vec<_> = p
            .pending_jobs()
            .await
            .into_iter()
            .filter(|j| j["to"] == "during@example.com")
            .collect();
        (!dupes.is_empty()).then(|| format!("{dupes:?}"))
    })
    .await;
    // The delayed link works.
    let token = link_token(&job, "/verify-email");
    let r = p
        .post_user("/api/user/verify-email", json!({"token": token}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    p.remove_bucket().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_catalogue_event_is_healed_when_the_subscriber_reconnects() {
    let redis = RedisProcess::start();
    let p = Platform::with(
        Stores {
            redis_url: redis.url(),
            ..Stores::shared()
        },
        |_| {},
    )
    .await;
    // A second admin-svc on the same catalogue that publishes to another
    // Redis: song-svc never hears of its changes, i.e. every one of its
    // events is dropped.
    let deaf = admin_svc::build(admin_config(
        &Stores::shared(),
        &p.database_url,
        &p.ns,
        &p.bucket,
    ))
    .await
    .unwrap();
    let deaf = cadenza_testkit::TestServer::start(deaf.router).await;
    let admin = mint(&TokenSpec::admin());
    let album = p.create_album(&admin, "Original").await;
    let id = album.json["album"]["id"].as_str().unwrap().to_owned();
    cache_live(&p, Duration::from_secs(15)).await;
    assert_eq!(song_album_name(&p, &id).await.as_deref(), Some("Original"));

    rename_album(&p, &deaf, &admin, &id, "Renamed").await;
    for _ in 0..3 {
        assert_eq!(
            song_album_name(&p, &id).await.as_deref(),
            Some("Original"),
            "stale: the event was dropped"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let killed = cadenza_testkit::events::kill_pubsub_clients(&redis.url())
        .await
        .unwrap();
    assert!(killed >= 1, "song-svc's subscriptions were killed");
    let (_, t) = timed(
        Duration::from_secs(15),
        "a fresh read after the reconnect",
        || async { (song_album_name(&p, &id).await.as_deref() == Some("Renamed")).then_some(()) },
    )
    .await;
    println!("fresh {t:?} after CLIENT KILL TYPE pubsub");
    let all = p.call(&p.song, Req::get("/api/song/album")).await;
    assert_eq!(all.json["albums"][0]["name"], "Renamed");
    p.remove_bucket().await;
}
