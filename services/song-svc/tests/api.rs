//! The public read API: shapes (seed-compatible, no audio keys), ordering,
//! pagination, errors, search, OpenAPI and docs.

mod common;

use common::*;
use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

#[tokio::test]
async fn catalogue_shapes_order_and_no_audio_keys() {
    let w = World::new().await;
    let older = insert_album(&w.db.pool, "A Night at the Opera", "Queen").await;
    let newer = insert_album(&w.db.pool, "Abbey Road", "The Beatles").await;
    let (s3, k3) = song(&w.db.pool, older, "Love of My Life", 3).await;
    let (s1, k1) = song(&w.db.pool, older, "Death on Two Legs", 1).await;
    let (s2, k2) = insert_song(
        &w.db.pool,
        NewSong {
            album: older,
            title: "Lazing on a Sunday Afternoon",
            artist: "Queen",
            track: 2,
            duration: 67.5,
            audio_key: None,
        },
    )
    .await;
    sqlx::query("UPDATE songs SET image_key = 'thumbnails/own.png' WHERE id = $1")
        .bind(s2)
        .execute(&w.db.pool)
        .await
        .unwrap();
    let audio_keys = [k1, k2, k3];

    let mut raw = String::new();
    let mut fetch = async |path: &str| -> Value {
        let resp = w.get(path).await;
        assert_eq!(resp.status(), 200, "{path}");
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let text = resp.text().await.unwrap();
        raw.push_str(&text);
        serde_json::from_str(&text).unwrap()
    };

    let albums = fetch("/album").await;
    let list = albums["albums"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], newer.to_string(), "newest first");
    assert_eq!(list[1]["name"], "A Night at the Opera");
    let thumb = list[1]["thumbnailUrl"].as_str().unwrap();
    assert!(
        thumb.starts_with("https://cdn.cadenza.test/thumbnails/"),
        "{thumb}"
    );
    let mut keys: Vec<&str> = list[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "albumGainDb",
            "artist",
            "createdAt",
            "id",
            "name",
            "thumbnailKey",
            "thumbnailUrl"
        ]
    );
    let key = list[1]["thumbnailKey"].as_str().unwrap();
    assert!(
        key.starts_with("thumbnails/"),
        "a key, as in the seed: {key}"
    );
    assert_eq!(thumb, format!("https://cdn.cadenza.test/{key}"));

    let detail = fetch(&format!("/album/{older}")).await;
    assert_eq!(detail["album"]["id"], older.to_string());
    assert_eq!(detail["album"]["thumbnailUrl"], thumb);
    let songs = detail["songs"].as_array().unwrap();
    let ids: Vec<&str> = songs.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [s1.to_string(), s2.to_string(), s3.to_string()],
        "by track number"
    );
    let mut keys: Vec<&str> = songs[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "albumGainDb",
            "albumId",
            "artist",
            "createdAt",
            "duration",
            "id",
            "imageSrc",
            "imageUrl",
            "title",
            "trackGainDb",
            "trackNumber"
        ]
    );
    assert_eq!(songs[1]["duration"], 67.5);
    assert_eq!(songs[1]["trackNumber"], 2);
    assert_eq!(
        songs[1]["imageUrl"], "thumbnails/own.png",
        "a key, as in the seed"
    );
    assert_eq!(
        songs[1]["imageSrc"],
        "https://cdn.cadenza.test/thumbnails/own.png"
    );
    assert!(songs[0]["imageUrl"].is_null(), "null, as in the seed");
    assert_eq!(songs[0]["imageSrc"], thumb, "falls back to the album cover");

    let all = fetch("/").await;
    let all = all.as_array().expect("a bare array, as in the seed");
    assert_eq!(all.len(), 3);
    let order: Vec<&str> = all.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(
        order,
        [s2.to_string(), s1.to_string(), s3.to_string()],
        "newest first, as in the seed"
    );
    let also = fetch("").await;
    assert_eq!(also.as_array().unwrap().len(), 3);

    let one = fetch(&format!("/{s2}")).await;
    assert_eq!(one["title"], "Lazing on a Sunday Afternoon");
    assert_eq!(one["albumId"], older.to_string());

    // Twice more, now from the cache.
    fetch("/").await;
    fetch(&format!("/album/{older}")).await;
    let search = fetch("/search?q=queen").await;
    assert!(!search["songs"].as_array().unwrap().is_empty());

    for key in &audio_keys {
        assert!(!raw.contains(key.as_str()), "audio key {key} leaked");
    }
    assert!(!raw.contains("audioKey") && !raw.contains("audio_key"));
}

#[tokio::test]
async fn missing_and_malformed_ids_are_problems() {
    let w = World::new().await;
    for path in [
        format!("/album/{}", Uuid::new_v4()),
        format!("/{}", Uuid::new_v4()),
    ] {
        let resp = w.get(&path).await;
        assert_eq!(resp.status(), 404, "{path}");
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["message"], body["detail"]);
    }
    for path in ["/album/not-a-uuid", "/not-a-uuid"] {
        let resp = w.get(path).await;
        assert_eq!(resp.status(), 400, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], "id", "{body}");
    }
}

#[tokio::test]
async fn lists_page_with_keyset_cursors() {
    let w = World::new().await;
    let album = insert_album(&w.db.pool, "Paged", "P").await;
    let mut ids = Vec::new();
    for i in 1..=5 {
        ids.push(
            song(&w.db.pool, album, &format!("Track {i}"), i)
                .await
                .0
                .to_string(),
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/?limit=2&cursor={c}"),
            None => "/?limit=2".into(),
        };
        let page = w.json(&path).await;
        for s in page["songs"].as_array().unwrap() {
            seen.push(s["id"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids, "pages walk newest first, like the full list");

    for _ in 0..2 {
        insert_album(&w.db.pool, "More", "M").await;
    }
    let page = w.json("/album?limit=2").await;
    assert_eq!(page["albums"].as_array().unwrap().len(), 2);
    let next = page["nextCursor"].as_str().unwrap().to_owned();
    let rest = w.json(&format!("/album?limit=2&cursor={next}")).await;
    assert_eq!(rest["albums"].as_array().unwrap().len(), 1);
    assert_eq!(rest["albums"][0]["id"], album.to_string());
    assert!(rest["nextCursor"].is_null());

    for (path, field) in [
        ("/?limit=0", "limit"),
        ("/?limit=101", "limit"),
        ("/?cursor=garbage", "cursor"),
        ("/album?limit=1000", "limit"),
    ] {
        let resp = w.get(path).await;
        assert_eq!(resp.status(), 422, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], field, "{path}");
    }
    let resp = w.get("/?limit=abc").await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn search_is_ranked_and_typo_tolerant() {
    let w = World::new().await;
    let opera = insert_album(&w.db.pool, "A Night at the Opera", "Queen").await;
    let other = insert_album(&w.db.pool, "Thriller", "Michael Jackson").await;
    let add = |album, title: &'static str, artist: &'static str, track| {
        let pool = w.db.pool.clone();
        async move {
            insert_song(
                &pool,
                NewSong {
                    album,
                    title,
                    artist,
                    track,
                    duration: 300.0,
                    audio_key: None,
                },
            )
            .await
            .0
        }
    };
    let bohemian = add(opera, "Bohemian Rhapsody", "Queen", 11).await;
    add(opera, "You're My Best Friend", "Queen", 4).await;
    add(other, "Billie Jean", "Michael Jackson", 6).await;
    add(other, "Beat It", "Michael Jackson", 5).await;

    let r = w.json("/search?q=bohemian%20rapsody").await;
    assert_eq!(r["songs"][0]["id"], bohemian.to_string(), "{r}");
    assert_eq!(r["songs"][0]["title"], "Bohemian Rhapsody");

    let r = w.json("/search?q=BILLIE").await;
    assert_eq!(r["songs"][0]["title"], "Billie Jean");

    // Album names and artists are searched too.
    let r = w.json("/search?q=opera").await;
    assert_eq!(r["albums"][0]["id"], opera.to_string());
    assert!(r["songs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == bohemian.to_string()));
    let r = w.json("/search?q=michael%20jackson").await;
    assert_eq!(r["albums"][0]["id"], other.to_string());
    assert_eq!(r["songs"].as_array().unwrap().len(), 2);
    let r = w.json("/search?q=thrillr").await;
    assert_eq!(r["albums"][0]["name"], "Thriller");

    // Unrelated queries find nothing; LIKE metacharacters are literal.
    let r = w.json("/search?q=zzzzqqq").await;
    assert!(r["songs"].as_array().unwrap().is_empty());
    assert!(r["albums"].as_array().unwrap().is_empty());
    let r = w.json("/search?q=%25").await;
    assert!(r["songs"].as_array().unwrap().is_empty(), "{r}");

    let r = w.json("/search?q=queen&limit=1").await;
    assert_eq!(r["songs"].as_array().unwrap().len(), 1);

    let resp = w.get("/search").await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "q");
    for path in [
        "/search?q=".to_string(),
        "/search?q=%20%20".to_string(),
        format!("/search?q={}", "a".repeat(101)),
        "/search?q=a&limit=0".to_string(),
        "/search?q=a%00b".to_string(),
    ] {
        let resp = w.get(&path).await;
        assert_eq!(resp.status(), 422, "{path}");
    }
    let ok = w.get(&format!("/search?q={}", "é".repeat(100))).await;
    assert_eq!(ok.status(), 200, "100 characters, 200 bytes");
}

#[tokio::test]
async fn openapi_document_and_docs_page() {
    let w = World::new().await;
    let doc = w.json("/openapi.json").await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/api/song/album",
        "/api/song/album/{id}",
        "/api/song/",
        "/api/song/{id}",
        "/api/song/search",
        "/api/song/stream/{id}",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["SongView"]["properties"]["imageUrl"].is_object());
    assert!(doc["components"]["schemas"]["SongView"]["properties"]["imageSrc"].is_object());
    assert!(doc["components"]["schemas"]["AlbumView"]["properties"]["thumbnailKey"].is_object());
    assert!(doc["components"]["schemas"]["SongView"]["properties"]
        .get("audioKey")
        .is_none());
    let docs = w.get("/docs").await;
    assert_eq!(docs.status(), 200);
    let csp = docs.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(csp, cadenza_platform::docs::DOCS_CSP);
    let page = docs.text().await.unwrap();
    assert!(
        page.contains("openapi.json") && !page.contains("://"),
        "{page}"
    );
    assert_eq!(w.get("/docs/app.css").await.status(), 200);
    // The API itself keeps the strict policy.
    let api = w.get("/album").await;
    assert_eq!(
        api.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    // Probes live outside the prefix; Redis is not a readiness dependency.
    let ready = w.http.get(w.server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[test]
fn config_names_the_missing_variable() {
    // This test binary sets no other variables.
    for k in [
        "CLOUDFRONT_KEY_PAIR_ID",
        "CLOUDFRONT_PRIVATE_KEY",
        "DATABASE_URL",
    ] {
        std::env::remove_var(k);
    }
    let err = song_svc::Config::from_env().unwrap_err();
    assert_eq!(err.var, "CLOUDFRONT_KEY_PAIR_ID");
    std::env::set_var("CLOUDFRONT_KEY_PAIR_ID", "K2JCJMDEHXQW5F");
    std::env::set_var(
        "CLOUDFRONT_PRIVATE_KEY",
        "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----",
    );
    let err = song_svc::Config::from_env().unwrap_err();
    assert_eq!(err.var, "CLOUDFRONT_PRIVATE_KEY");
    std::env::set_var(
        "CLOUDFRONT_PRIVATE_KEY",
        cadenza_testkit::keys::CLOUDFRONT_PRIVATE_PKCS1_PEM,
    );
    let err = song_svc::Config::from_env().unwrap_err();
    assert_eq!(err.var, "DATABASE_URL");
}

#[tokio::test]
async fn not_ready_until_the_catalogue_schema_exists() {
    let db = cadenza_testkit::fresh_database().await;
    let ns = cadenza_testkit::fresh_namespace();
    let redis = cadenza_testkit::infra().redis_url.clone();
    let app = song_svc::build_app(config(&db.url, &redis, &ns, "https://cdn.cadenza.test"))
        .await
        .expect("build song-svc");
    let server = cadenza_testkit::TestServer::start(app.router).await;
    let http = reqwest::Client::new();

    let resp = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "postgres");

    cadenza_catalog::migrate(&db.pool).await.unwrap();
    let resp = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

/// The attack: `?q=a` (no login needed) used to run `LIKE '%a%'` and eight
/// similarity functions over every row. Short queries now match word
/// prefixes through the full-text indexes only.
#[tokio::test]
async fn one_and_two_character_searches_match_word_prefixes_only() {
    let w = World::new().await;
    let album = insert_album(&w.db.pool, "Abbey Road", "The Beatles").await;
    let (something, _) = song(&w.db.pool, album, "Something", 2).await;
    let (come, _) = song(&w.db.pool, album, "Come Together", 1).await;
    let titles = |r: &Value| -> Vec<String> {
        r["songs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["title"].as_str().unwrap().to_owned())
            .collect()
    };
    // "so" starts "Something"; it is inside no other word's start.
    let r = w.json("/search?q=so").await;
    assert_eq!(titles(&r), ["Something"], "{r}");
    assert_eq!(r["songs"][0]["id"], something.to_string());
    // "to" is inside "Together" only as a prefix: found; "ge" (inside
    // "Together", starting no word) is not, as a substring match would.
    let r = w.json("/search?q=to").await;
    assert_eq!(titles(&r), ["Come Together"], "{r}");
    assert_eq!(r["songs"][0]["id"], come.to_string());
    assert!(titles(&w.json("/search?q=ge").await).is_empty());
    // Albums and artists by prefix too; punctuation alone finds nothing.
    let r = w.json("/search?q=b").await;
    assert_eq!(r["albums"][0]["name"], "Abbey Road", "{r}");
    let r = w.json("/search?q=%27%5C").await;
    assert!(r["albums"].as_array().unwrap().is_empty(), "{r}");
    // Three characters and more stay typo-tolerant.
    let r = w.json("/search?q=somthing").await;
    assert_eq!(titles(&r), ["Something"], "{r}");
}

/// A search that runs too long (here: blocked behind a lock) is cancelled
/// by PostgreSQL and answered 503 with Retry-After, not held open.
#[tokio::test]
async fn a_search_past_its_time_limit_is_a_503() {
    let w = World::new().await;
    insert_album(&w.db.pool, "Locked Out", "L").await;
    let mut lock = w.db.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE songs IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let resp = w.get("/search?q=locked").await;
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    lock.rollback().await.unwrap();
    assert_eq!(w.get("/search?q=locked").await.status(), 200);
}

/// Popular queries are answered from memory, and any catalogue change
/// makes the next answer fresh.
#[tokio::test]
async fn search_results_are_kept_until_the_catalogue_changes() {
    let w = World::new().await;
    w.cache_live().await;
    let album = insert_album(&w.db.pool, "Kept Results", "K").await;
    w.album_event(ALBUM_CREATED, album).await;
    let count = |r: Value| r["albums"].as_array().unwrap().len();
    cadenza_testkit::eventually(Duration::from_secs(5), "the album", || async {
        (count(w.json("/search?q=kept").await) == 1).then_some(())
    })
    .await;
    // Changed without an event: the kept answer is served.
    let other = insert_album(&w.db.pool, "Kept Again", "K").await;
    assert_eq!(count(w.json("/search?q=kept").await), 1, "kept");
    // The event: fresh.
    w.album_event(ALBUM_CREATED, other).await;
    cadenza_testkit::eventually(Duration::from_secs(5), "a fresh answer", || async {
        (count(w.json("/search?q=kept").await) == 2).then_some(())
    })
    .await;
}

/// The attack (issue 14 item 9): an unauthenticated client scans the table
/// with a stream of fresh queries, spread over the replicas so that no
/// in-process cache absorbs them. The per-address limit lives in Redis, so
/// it holds across replicas and concurrent clients exactly; another
/// address, and queries answered from the search cache, are not affected.
#[tokio::test]
async fn a_scan_of_fresh_queries_from_one_address_is_cut_off_across_replicas() {
    const LIMIT: u32 = 10;
    let tweak = |c: &mut song_svc::Config| {
        // The test client speaks through a "gateway" on loopback.
        c.proxy = cadenza_platform::client_ip::ProxyPolicy::trusting("127.0.0.1/32").unwrap();
        c.search_per_ip = cadenza_platform::ratelimit::Rule::per_minute(LIMIT);
    };
    let a = World::configured(
        &cadenza_testkit::infra().redis_url.clone(),
        "https://cdn.cadenza.test",
        tweak,
    )
    .await;
    let mut cfg = config(&a.db.url, &a.redis_url, &a.ns, "https://cdn.cadenza.test");
    tweak(&mut cfg);
    let b_app = song_svc::build_app(cfg).await.unwrap();
    let b = cadenza_testkit::TestServer::start(b_app.router).await;
    a.cache_live().await;
    let b_cache = b_app.cache.clone();
    cadenza_testkit::eventually(Duration::from_secs(15), "replica b's cache", || {
        let live = b_cache.usable();
        async move { live.then_some(()) }
    })
    .await;
    insert_album(&a.db.pool, "Scanned", "S").await;
    let replicas = [a.url("/search"), b.url("/api/song/search")];
    let search = |replica: usize, q: String, from: &'static str| {
        a.http
            .get(&replicas[replica % 2])
            .query(&[("q", q)])
            .header("x-forwarded-for", from)
            .send()
    };

    // A query kept in each replica's cache before the scan starts.
    for r in 0..2 {
        let resp = search(r, "scanned".into(), "198.51.100.7").await.unwrap();
        assert_eq!(resp.status(), 200);
    }

    // 16 concurrent clients from one address, 3 fresh queries each.
    let attempts: Vec<_> = (0..48)
        .map(|i| search(i, format!("scan{i:02}"), "198.51.100.7"))
        .collect();
    let answers = futures::future::join_all(attempts).await;
    let mut ok = 0;
    let mut limited = 0;
    for resp in answers {
        let resp = resp.unwrap();
        match resp.status().as_u16() {
            200 => ok += 1,
            429 => {
                limited += 1;
                assert!(resp.headers().contains_key("retry-after"));
                assert_eq!(resp.headers()["content-type"], "application/problem+json");
            }
            s => panic!("unexpected {s}"),
        }
    }
    // The two warm-up searches counted too (each a miss on its replica).
    assert_eq!(ok, LIMIT as usize - 2, "fresh searches allowed");
    assert_eq!(limited, 48 - ok, "the rest refused");

    // A kept answer costs nothing and is still served to that address.
    for r in 0..2 {
        let resp = search(r, "scanned".into(), "198.51.100.7").await.unwrap();
        assert_eq!(resp.status(), 200, "cached on replica {r}");
    }
    // Another address searches on.
    let resp = search(1, "fresh".into(), "203.0.113.9").await.unwrap();
    assert_eq!(resp.status(), 200);
}

async fn compressions(w: &World) -> f64 {
    let text = w
        .http
        .get(w.server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("songsvc_body_compressions_total "))
        .map_or(0.0, |v| v.parse().unwrap())
}

/// Issue 16: the full song list (2 400 songs) goes out compressed by
/// `Accept-Encoding`, decodes to exactly the identity body, and is
/// compressed once per cache entry however many clients ask at once.
#[tokio::test]
async fn cached_catalogue_bodies_are_compressed_once_by_accept_encoding() {
    use std::io::Read;
    let w = World::new().await;
    w.cache_live().await;
    let album = insert_album(&w.db.pool, "Compressible", "Various").await;
    sqlx::query(
        "INSERT INTO songs (album_id, title, artist, audio_key, content_type, size_bytes, \
                            duration_seconds, track_number, created_at) \
         SELECT $1, \
                (ARRAY['Love','Night','Blue','Fire','Rain','Gold','Heart','River','Sky','Dream'])[n % 10 + 1] \
                  || ' ' || (ARRAY['Song','Road','Light','Dance','Home','Time','Way','Town'])[n % 8 + 1] \
                  || ' ' || n, \
                'Artist ' || (n % 120), 'songs/' || gen_random_uuid() || '.mp3', 'audio/mpeg', \
                4096 + n, 120 + n % 300, n, clock_timestamp() \
         FROM generate_series(1, 2400) AS n",
    )
    .bind(album)
    .execute(&w.db.pool)
    .await
    .unwrap();

    let get = |coding: Option<&'static str>| {
        let mut req = w.http.get(w.url("/"));
        if let Some(c) = coding {
            req = req.header("accept-encoding", c);
        }
        req.send()
    };
    // The first read fills the cache; this replica's entry answers after it.
    let identity = get(None).await.unwrap().bytes().await.unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&identity)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2400
    );
    let before = compressions(&w).await;
    let answers = futures::future::join_all((0..24).map(|i| {
        get(Some(if i % 2 == 0 {
            "gzip, deflate, br"
        } else {
            "gzip"
        }))
    }))
    .await;
    for (i, resp) in answers.into_iter().enumerate() {
        let resp = resp.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["vary"], "accept-encoding");
        let coding = resp.headers()["content-encoding"]
            .to_str()
            .unwrap()
            .to_owned();
        let body = resp.bytes().await.unwrap();
        let mut plain = Vec::new();
        if i % 2 == 0 {
            assert_eq!(coding, "br");
            brotli::BrotliDecompress(&mut &body[..], &mut plain).unwrap();
            assert!(
                body.len() < 100_000,
                "brotli: {} bytes of {}",
                body.len(),
                identity.len()
            );
        } else {
            assert_eq!(coding, "gzip");
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut plain)
                .unwrap();
            assert!(
                body.len() < identity.len() / 4,
                "gzip: {} of {}",
                body.len(),
                identity.len()
            );
        }
        assert_eq!(plain, identity, "decodes to the identity body");
        if i < 2 {
            eprintln!("{coding}: {} of {} bytes", body.len(), identity.len());
        }
    }
    assert_eq!(compressions(&w).await - before, 1.0, "compressed once");

    // Refused codings and no header: identity, still with Vary.
    for coding in [None, Some("br;q=0, gzip;q=0"), Some("identity")] {
        let resp = get(coding).await.unwrap();
        assert!(
            resp.headers().get("content-encoding").is_none(),
            "{coding:?}"
        );
        assert_eq!(resp.headers()["vary"], "accept-encoding");
        assert_eq!(resp.bytes().await.unwrap(), identity);
    }
    // A change makes a new entry, compressed once more.
    let (new_song, _) = song(&w.db.pool, album, "One More", 2401).await;
    w.song_event(SONG_CREATED, new_song, album).await;
    cadenza_testkit::eventually(Duration::from_secs(5), "a fresh entry", || async {
        let resp = get(Some("br")).await.unwrap();
        (resp.headers().get("content-encoding").is_some() && compressions(&w).await - before == 2.0)
            .then_some(())
    })
    .await;
}

/// Issue 19: a playlist's songs in one call. Order of the ids kept, each id
/// once, unknown ids listed as missing; the GET and POST forms agree; bad
/// lists are 422s naming `ids`; a kept answer is refused once the catalogue
/// changes (a deleted song moves to `missing`).
#[tokio::test]
async fn a_batch_lookup_answers_songs_in_order_and_names_the_missing() {
    let w = World::new().await;
    w.cache_live().await;
    let album = insert_album(&w.db.pool, "Batch", "B").await;
    let (a, _) = song(&w.db.pool, album, "First", 1).await;
    let (b, _) = song(&w.db.pool, album, "Second", 2).await;
    let (c, _) = song(&w.db.pool, album, "Third", 3).await;
    w.album_event(ALBUM_CREATED, album).await;
    let ghost = Uuid::new_v4();
    let ids = |v: &Value, field: &str| -> Vec<String> {
        v[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.get("id").unwrap_or(s).as_str().unwrap().to_owned())
            .collect()
    };
    let query = format!("/songs?ids={c},{ghost},{a},{c}");
    let got = w.json(&query).await;
    assert_eq!(ids(&got, "songs"), vec![c.to_string(), a.to_string()]);
    assert_eq!(ids(&got, "missing"), vec![ghost.to_string()]);
    assert_eq!(got["songs"][0]["title"], "Third");
    assert!(got["songs"][0]["imageSrc"]
        .as_str()
        .unwrap()
        .starts_with("http"));
    let posted: Value = reqwest::Client::new()
        .post(w.url("/songs"))
        .json(&serde_json::json!({"ids": [c, ghost, a, c]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(posted, got, "both forms answer the same");

    for (path, body) in [
        ("/songs?ids=", None),
        ("/songs?ids=not-a-uuid", None),
        ("/songs", Some(serde_json::json!({"ids": []}))),
        (
            "/songs",
            Some(serde_json::json!({"ids": vec![a.to_string(); 501]})),
        ),
        (
            "/songs",
            Some(serde_json::json!({"ids": [a.to_string(), "nope"]})),
        ),
    ] {
        let res = match &body {
            None => w.get(path).await,
            Some(b) => reqwest::Client::new()
                .post(w.url(path))
                .json(b)
                .send()
                .await
                .unwrap(),
        };
        assert_eq!(res.status(), 422, "{path} {body:?}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "ids", "{problem}");
    }

    // Kept until a change; the deletion's event refuses the kept answer.
    sqlx::query("DELETE FROM songs WHERE id = $1")
        .bind(a)
        .execute(&w.db.pool)
        .await
        .unwrap();
    assert_eq!(
        ids(&w.json(&query).await, "songs").len(),
        2,
        "kept until the event"
    );
    w.song_event(SONG_DELETED, a, album).await;
    cadenza_testkit::eventually(Duration::from_secs(5), "the deletion", || async {
        let v = w.json(&query).await;
        (ids(&v, "songs") == vec![c.to_string()]
            && ids(&v, "missing") == vec![ghost.to_string(), a.to_string()])
        .then_some(())
    })
    .await;
    let _ = b;
}

/// Songs the media worker has not passed (docs/media.md) are hidden from
/// listeners everywhere, yet a batch lookup reports them as `unavailable`
/// (kept in playlists), never as `missing` (pruned). A ready song carries
/// its gains and serves its waveform.
#[tokio::test]
async fn only_ready_songs_are_shown_and_the_rest_are_unavailable_not_missing() {
    let w = World::new().await;
    let album = insert_album(&w.db.pool, "Media", "Worker").await;
    let (ready, ready_key) = song(&w.db.pool, album, "Ready Song", 1).await;
    let (busy, _) = song(&w.db.pool, album, "Busy Song", 2).await;
    let (bad, _) = song(&w.db.pool, album, "Bad Song", 3).await;
    sqlx::query("UPDATE songs SET status = 'processing' WHERE id = $1")
        .bind(busy)
        .execute(&w.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE songs SET status = 'rejected', status_reason = 'not audio' WHERE id = $1")
        .bind(bad)
        .execute(&w.db.pool)
        .await
        .unwrap();
    let peaks: Vec<u8> = (0..800).map(|i| (i % 256) as u8).collect();
    sqlx::query(
        "INSERT INTO song_media (song_id, audio_key, status, duration_seconds, peaks, track_gain_db) \
         VALUES ($1, $2, 'ready', 1.0, $3, -4.5)",
    )
    .bind(ready)
    .bind(&ready_key)
    .bind(&peaks)
    .execute(&w.db.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE albums SET gain_db = -2.25 WHERE id = $1")
        .bind(album)
        .execute(&w.db.pool)
        .await
        .unwrap();

    let only_ready = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let detail = w.json(&format!("/album/{album}")).await;
    assert_eq!(only_ready(&detail["songs"]), ["Ready Song"]);
    assert_eq!(detail["songs"][0]["trackGainDb"], -4.5);
    assert_eq!(detail["songs"][0]["albumGainDb"], -2.25);
    assert_eq!(detail["album"]["albumGainDb"], -2.25);
    assert_eq!(only_ready(&w.json("/").await), ["Ready Song"]);
    assert_eq!(
        only_ready(&w.json("/?limit=10").await["songs"]),
        ["Ready Song"]
    );
    assert_eq!(
        only_ready(&w.json("/search?q=song").await["songs"]),
        ["Ready Song"]
    );
    assert_eq!(
        only_ready(&w.json("/search?q=so").await["songs"]),
        ["Ready Song"]
    );
    for hidden in [busy, bad] {
        assert_eq!(w.get(&format!("/{hidden}")).await.status(), 404);
        assert_eq!(w.get(&format!("/{hidden}/waveform")).await.status(), 404);
    }

    let ghost = Uuid::new_v4();
    // Twice: the second answer comes from the per-song memo.
    for _ in 0..2 {
        let batch = w
            .json(&format!("/songs?ids={busy},{ready},{ghost},{bad}"))
            .await;
        assert_eq!(only_ready(&batch["songs"]), ["Ready Song"]);
        assert_eq!(batch["missing"], serde_json::json!([ghost.to_string()]));
        assert_eq!(
            batch["unavailable"],
            serde_json::json!([busy.to_string(), bad.to_string()])
        );
    }

    let resp = w.get(&format!("/{ready}/waveform")).await;
    assert_eq!(resp.status(), 200);
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    let got: Vec<u64> = body["peaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    assert_eq!(got.len(), 800);
    assert_eq!(got[257], 1);
    let again = w
        .http
        .get(w.url(&format!("/{ready}/waveform")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // Revalidation by a weak validator works too.
    let again = w
        .http
        .get(w.url(&format!("/{ready}/waveform")))
        .header("if-none-match", format!("W/{etag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "a weak validator matches too");
    // New audio, new waveform: once admin-svc's event is heard the old
    // ETag no longer matches, and until the worker has read the new audio
    // there is none.
    w.cache_live().await;
    sqlx::query("UPDATE songs SET audio_key = 'songs/replaced.mp3' WHERE id = $1")
        .bind(ready)
        .execute(&w.db.pool)
        .await
        .unwrap();
    assert_eq!(
        w.get(&format!("/{ready}/waveform")).await.status(),
        200,
        "served from the cache: no PostgreSQL read per request"
    );
    w.song_event(SONG_UPDATED, ready, album).await;
    cadenza_testkit::eventually(Duration::from_secs(5), "the waveform to go", || async {
        (w.get(&format!("/{ready}/waveform")).await.status() == 404).then_some(())
    })
    .await;
}
