//! Presigned uploads to the real SeaweedFS, and the HEAD checks on create.

mod common;

use common::{assert_problem, World};
use serde_json::{json, Value};

async fn upload_url(w: &World, body: Value) -> reqwest::Response {
    w.post("/upload-url", body).send().await.unwrap()
}

#[tokio::test]
async fn upload_then_create_album_and_song_then_they_list() {
    let w = World::new().await;
    let resp = upload_url(
        &w,
        json!({"type": "thumbnail", "contentType": "image/webp", "size": 5}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let key = body["fileKey"].as_str().unwrap();
    assert!(
        key.starts_with("thumbnails/") && key.ends_with(".webp"),
        "{key}"
    );
    assert_eq!(body["headers"]["Content-Type"], "image/webp");
    assert_eq!(body["headers"]["Content-Length"], "5");
    let url = body["presignedURL"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/{}/thumbnails/", common::s3_url(), w.bucket)),
        "{url}"
    );
    assert!(url.contains("X-Amz-Expires=300"), "{url}");
    let expires: chrono::DateTime<chrono::Utc> =
        body["expiresAt"].as_str().unwrap().parse().unwrap();
    let left = (expires - chrono::Utc::now()).num_seconds();
    assert!((290..=300).contains(&left), "{left}");

    let album = w.create_album("Kind of Blue").await;
    let song = w
        .create_song(album["id"].as_str().unwrap(), "So What", json!({}))
        .await;
    assert_eq!(song["contentType"], "audio/mpeg");
    assert_eq!(song["size"], 2048);
    assert_eq!(song["trackNumber"], 1);
    assert_eq!(song["duration"], 321.5);

    let albums: Value = w.get("/album").send().await.unwrap().json().await.unwrap();
    assert_eq!(albums["albums"].as_array().unwrap().len(), 1);
    assert_eq!(albums["albums"][0]["name"], "Kind of Blue");
    assert_eq!(albums["albums"][0]["thumbnailKey"], album["thumbnailKey"]);
    assert_eq!(
        albums["albums"][0]["thumbnailUrl"],
        format!(
            "{}/{}",
            common::CDN_BASE,
            album["thumbnailKey"].as_str().unwrap()
        )
    );
    let songs: Value = w.get("/song").send().await.unwrap().json().await.unwrap();
    assert_eq!(songs["songs"][0]["id"], song["id"]);
    assert_eq!(songs["songs"][0]["audioKey"], song["audioKey"]);
    let keys = w.bucket_keys().await;
    assert_eq!(keys.len(), 2, "{keys:?}");
}

#[tokio::test]
async fn the_store_refuses_a_put_with_another_type_or_length() {
    let w = World::new().await;
    let body: Value = upload_url(
        &w,
        json!({"type": "song", "contentType": "audio/flac", "size": 10}),
    )
    .await
    .json()
    .await
    .unwrap();
    let url = body["presignedURL"].as_str().unwrap();
    let http = reqwest::Client::new();

    let wrong_type = http
        .put(url)
        .header("Content-Type", "audio/mpeg")
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 403);
    let wrong_length = http
        .put(url)
        .header("Content-Type", "audio/flac")
        .body(vec![1u8; 11])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_length.status(), 403);
    assert!(w.bucket_keys().await.is_empty());

    let right = http
        .put(url)
        .header("Content-Type", "audio/flac")
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert_eq!(
        w.bucket_keys().await,
        vec![body["fileKey"].as_str().unwrap().to_owned()]
    );
}

#[tokio::test]
async fn upload_url_validates_type_content_type_and_size() {
    let w = World::new().await;
    let cases = [
        (
            json!({"type": "video", "contentType": "audio/mpeg", "size": 1}),
            "type",
        ),
        (
            json!({"type": "song", "contentType": "image/png", "size": 1}),
            "contentType",
        ),
        (
            json!({"type": "thumbnail", "contentType": "image/svg+xml", "size": 1}),
            "contentType",
        ),
        (
            json!({"type": "thumbnail", "contentType": "image/png", "size": 10 * 1024 * 1024 + 1}),
            "size",
        ),
        (
            json!({"type": "song", "contentType": "audio/mpeg", "size": 500i64 * 1024 * 1024 + 1}),
            "size",
        ),
        (
            json!({"type": "song", "contentType": "audio/mpeg", "size": 0}),
            "size",
        ),
        (json!({"type": "song", "size": 0}), "size"),
        (json!({"contentType": "audio/mpeg"}), "type"),
        (
            json!({"type": "thumbnail", "contentType": "audio/mpeg"}),
            "contentType",
        ),
        (
            json!({"type": "song", "contentType": "audio/mpeg", "size": "big"}),
            "size",
        ),
    ];
    for (body, field) in cases {
        assert_problem(upload_url(&w, body).await, 422, field).await;
    }
    // the caps themselves are allowed, and aliases map to the canonical extension
    let ok: Value = upload_url(
        &w,
        json!({"type": "song", "contentType": "audio/x-wav", "size": 500i64 * 1024 * 1024}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(ok["fileKey"].as_str().unwrap().ends_with(".wav"));
}

#[tokio::test]
async fn create_refuses_missing_empty_oversized_or_mistyped_objects() {
    let w = World::new().await;
    let album = w.create_album("A").await;
    let album_id = album["id"].as_str().unwrap();
    let song = |key: &str| json!({"title": "t", "artist": "a", "audioKey": key, "duration": 1, "albumId": album_id});

    // never uploaded
    let missing = format!("songs/{}.mp3", uuid::Uuid::new_v4());
    let body = assert_problem(
        w.post("/song", song(&missing)).send().await.unwrap(),
        422,
        "audioKey",
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("no uploaded object"),
        "{body}"
    );

    // put behind our back: empty, and of a type other than the key says
    let put = |key: String, ct: &'static str, bytes: Vec<u8>| {
        let s3 = w.s3.clone();
        let bucket = w.bucket.clone();
        async move {
            s3.put_object()
                .bucket(bucket)
                .key(&key)
                .content_type(ct)
                .body(bytes.into())
                .send()
                .await
                .unwrap();
            key
        }
    };
    let empty = put(
        format!("songs/{}.mp3", uuid::Uuid::new_v4()),
        "audio/mpeg",
        vec![],
    )
    .await;
    let body = assert_problem(
        w.post("/song", song(&empty)).send().await.unwrap(),
        422,
        "audioKey",
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("empty"),
        "{body}"
    );
    let mistyped = put(
        format!("songs/{}.mp3", uuid::Uuid::new_v4()),
        "audio/ogg",
        vec![1; 8],
    )
    .await;
    assert_problem(
        w.post("/song", song(&mistyped)).send().await.unwrap(),
        422,
        "audioKey",
    )
    .await;

    // a cover one byte over the cap
    let big = put(
        format!("thumbnails/{}.jpg", uuid::Uuid::new_v4()),
        "image/jpeg",
        vec![0; 10 * 1024 * 1024 + 1],
    )
    .await;
    let body = assert_problem(
        w.post(
            "/album",
            json!({"name": "n", "artist": "a", "thumbnailKey": big}),
        )
        .send()
        .await
        .unwrap(),
        422,
        "thumbnailKey",
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("larger"),
        "{body}"
    );
    assert!(
        !w.bucket_keys().await.contains(&big),
        "an oversized object no row uses is deleted"
    );

    // the wrong prefix: a cover as audio, audio as a cover
    let cover = w.cover().await;
    assert_problem(
        w.post("/song", song(&cover)).send().await.unwrap(),
        422,
        "audioKey",
    )
    .await;
    let audio = w.audio().await;
    assert_problem(
        w.post(
            "/album",
            json!({"name": "n", "artist": "a", "thumbnailKey": audio}),
        )
        .send()
        .await
        .unwrap(),
        422,
        "thumbnailKey",
    )
    .await;
    assert_problem(w.post("/song", json!({"title": "t", "artist": "a", "audioKey": audio, "duration": 1, "albumId": album_id, "imageUrl": audio})).send().await.unwrap(), 422, "imageUrl").await;
    assert_problem(
        w.post("/song", song("songs/../thumbnails/x.jpg"))
            .send()
            .await
            .unwrap(),
        422,
        "audioKey",
    )
    .await;

    // nothing was created
    let songs: Value = w.get("/song").send().await.unwrap().json().await.unwrap();
    assert_eq!(songs["songs"].as_array().unwrap().len(), 0);
    let albums: Value = w.get("/album").send().await.unwrap().json().await.unwrap();
    assert_eq!(albums["albums"].as_array().unwrap().len(), 1);
}

/// The seed's dashboard: `{type}` alone, then a PUT carrying only
/// `Content-Type: file.type`. The URL signs the type's default and no length.
#[tokio::test]
async fn the_seed_type_only_request_signs_the_default_type_and_no_length() {
    let w = World::new().await;
    for (kind, default, ext) in [
        ("thumbnail", "image/jpeg", ".jpg"),
        ("song", "audio/mpeg", ".mp3"),
    ] {
        let resp = upload_url(&w, json!({"type": kind})).await;
        assert_eq!(resp.status(), 200, "{kind}");
        let body: Value = resp.json().await.unwrap();
        let key = body["fileKey"].as_str().unwrap().to_owned();
        assert!(key.ends_with(ext), "{key}");
        assert_eq!(body["headers"]["Content-Type"], default);
        assert!(body["headers"].get("Content-Length").is_none(), "{body}");
        let url = body["presignedURL"].as_str().unwrap();
        let http = reqwest::Client::new();
        // Another type is refused, as it was by the seed's signed URL.
        let other = if kind == "song" {
            "audio/ogg"
        } else {
            "image/png"
        };
        let wrong = http
            .put(url)
            .header("Content-Type", other)
            .body(vec![1u8; 9])
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 403, "{kind}");
        // Any length goes through: only the type is signed.
        for len in [9usize, 33] {
            let put = http
                .put(url)
                .header("Content-Type", default)
                .body(vec![1u8; len])
                .send()
                .await
                .unwrap();
            assert_eq!(put.status(), 200, "{kind} {len}");
        }
        assert!(w.bucket_keys().await.contains(&key));
    }
    // A `contentType` without `size` is signed as given.
    let body: Value = upload_url(&w, json!({"type": "thumbnail", "contentType": "image/png"}))
        .await
        .json()
        .await
        .unwrap();
    assert!(body["fileKey"].as_str().unwrap().ends_with(".png"));
    assert_eq!(body["headers"]["Content-Type"], "image/png");
}

/// Without a signed length the cap holds at create and PATCH: the HEAD
/// check answers 422 naming the field and deletes the oversized upload.
#[tokio::test]
async fn oversized_seed_uploads_are_refused_and_deleted_at_create_and_patch() {
    let w = World::new().await;
    let seed_upload = |bytes: usize| {
        let w = &w;
        async move {
            let body: Value = upload_url(w, json!({"type": "thumbnail"}))
                .await
                .json()
                .await
                .unwrap();
            let put = reqwest::Client::new()
                .put(body["presignedURL"].as_str().unwrap())
                .header("Content-Type", "image/jpeg")
                .body(vec![0u8; bytes])
                .send()
                .await
                .unwrap();
            assert_eq!(put.status(), 200);
            body["fileKey"].as_str().unwrap().to_owned()
        }
    };
    let over = 10 * 1024 * 1024 + 1;

    let big = seed_upload(over).await;
    assert!(w.bucket_keys().await.contains(&big));
    assert_problem(
        w.post(
            "/album",
            json!({"name": "n", "artist": "a", "thumbnailKey": big}),
        )
        .send()
        .await
        .unwrap(),
        422,
        "thumbnailKey",
    )
    .await;
    assert!(!w.bucket_keys().await.contains(&big), "deleted at create");

    let fits = seed_upload(1024).await;
    let resp = w
        .post(
            "/album",
            json!({"name": "n", "artist": "a", "thumbnailKey": fits}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let album: Value = resp.json().await.unwrap();
    let id = album["album"]["id"].as_str().unwrap().to_owned();

    let big = seed_upload(over).await;
    assert_problem(
        w.patch(&format!("/album/{id}"), json!({"thumbnailKey": big}))
            .send()
            .await
            .unwrap(),
        422,
        "thumbnailKey",
    )
    .await;
    assert!(!w.bucket_keys().await.contains(&big), "deleted at PATCH");
    let song_art = seed_upload(over).await;
    let audio = w.audio().await;
    assert_problem(
        w.post("/song", json!({"title": "t", "artist": "a", "audioKey": audio, "duration": 1, "albumId": id, "imageUrl": song_art}))
            .send()
            .await
            .unwrap(),
        422,
        "imageUrl",
    )
    .await;
    assert!(!w.bucket_keys().await.contains(&song_art));

    // An object a row already uses (an imported seed cover may exceed
    // today's cap) is refused for the new row but never deleted.
    let imported = seed_upload(over).await;
    sqlx::query("UPDATE albums SET thumbnail_key = $1 WHERE id = $2::uuid")
        .bind(&imported)
        .bind(&id)
        .execute(&w.state.db)
        .await
        .unwrap();
    assert_problem(
        w.post(
            "/album",
            json!({"name": "m", "artist": "a", "thumbnailKey": imported}),
        )
        .send()
        .await
        .unwrap(),
        422,
        "thumbnailKey",
    )
    .await;
    assert!(w.bucket_keys().await.contains(&imported), "still in use");
}
