//! Album and song lifecycles against real PostgreSQL, SeaweedFS and moto's
//! CloudFront.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_cloudfront::types::{
    DefaultCacheBehavior, DistributionConfig, Origin, Origins, S3OriginConfig, ViewerProtocolPolicy,
};
use cadenza_testkit::{eventually, infra};
use common::{assert_problem, World};
use serde_json::{json, Value};

async fn cloudfront() -> aws_sdk_cloudfront::Client {
    let endpoint = &infra().aws_endpoint; // first: it exports the emulators' credentials and region
    let sdk = cadenza_aws::sdk_config().await;
    let conf = aws_sdk_cloudfront::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_cloudfront::Client::from_conf(conf)
}

async fn create_distribution(cf: &aws_sdk_cloudfront::Client) -> String {
    let origin = Origin::builder()
        .id("media")
        .domain_name("cadenza-media.s3.amazonaws.com")
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .unwrap();
    let config = DistributionConfig::builder()
        .caller_reference(uuid::Uuid::new_v4().to_string())
        .comment("admin-svc test")
        .enabled(true)
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .unwrap(),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("media")
                .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let out = cf
        .create_distribution()
        .distribution_config(config)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", aws_sdk_cloudfront::error::DisplayErrorContext(&e)));
    out.distribution().unwrap().id().to_owned()
}

/// The path sets of every invalidation of the distribution.
async fn invalidated_paths(
    cf: &aws_sdk_cloudfront::Client,
    distribution: &str,
) -> Vec<BTreeSet<String>> {
    let list = cf
        .list_invalidations()
        .distribution_id(distribution)
        .send()
        .await
        .unwrap();
    let mut all = vec![];
    for summary in list
        .invalidation_list()
        .map(|l| l.items())
        .unwrap_or_default()
    {
        let inv = cf
            .get_invalidation()
            .distribution_id(distribution)
            .id(summary.id())
            .send()
            .await
            .unwrap();
        let paths = inv
            .invalidation()
            .and_then(|i| i.invalidation_batch())
            .and_then(|b| b.paths())
            .map(|p| p.items().iter().cloned().collect())
            .unwrap_or_default();
        all.push(paths);
    }
    all
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

#[tokio::test]
async fn deleting_an_album_deletes_its_songs_and_all_their_objects_and_invalidates_them() {
    let cf = cloudfront().await;
    let distribution = create_distribution(&cf).await;
    let w = World::with_distribution(Some(distribution.clone())).await;

    let album = w.create_album("Doomed").await;
    let id = s(&album["id"]);
    let artwork = w.cover().await;
    let one = w.create_song(id, "One", json!({"imageUrl": artwork})).await;
    // artwork shared with the album cover is deleted once, with the album
    let two = w
        .create_song(id, "Two", json!({"imageUrl": album["thumbnailKey"]}))
        .await;
    let keeper = w.create_album("Keeper").await;
    let kept_song = w.create_song(s(&keeper["id"]), "Stays", json!({})).await;

    let resp = w.delete(&format!("/album/{id}")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(s(&body["message"]).contains("2 song"), "{body}");

    assert_problem(
        w.get(&format!("/album/{id}/song")).send().await.unwrap(),
        404,
        "",
    )
    .await;
    let songs: Value = w.get("/song").send().await.unwrap().json().await.unwrap();
    let ids: Vec<&str> = songs["songs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| s(&x["id"]))
        .collect();
    assert_eq!(ids, vec![s(&kept_song["id"])]);

    let mut survivors = vec![
        s(&keeper["thumbnailKey"]).to_owned(),
        s(&kept_song["audioKey"]).to_owned(),
    ];
    survivors.sort();
    eventually(Duration::from_secs(10), "objects deleted", || async {
        (w.bucket_keys().await == survivors).then_some(())
    })
    .await;

    let expected: BTreeSet<String> = [
        s(&album["thumbnailKey"]),
        s(&one["audioKey"]),
        s(&two["audioKey"]),
        artwork.as_str(),
    ]
    .iter()
    .map(|k| format!("/{k}"))
    .collect();
    let found = eventually(
        Duration::from_secs(10),
        "a CloudFront invalidation",
        || async {
            let all = invalidated_paths(&cf, &distribution).await;
            (!all.is_empty()).then_some(all)
        },
    )
    .await;
    assert_eq!(found, vec![expected]);

    // a second delete is a clean 404
    assert_problem(
        w.delete(&format!("/album/{id}")).send().await.unwrap(),
        404,
        "",
    )
    .await;
}

#[tokio::test]
async fn album_patch_changes_fields_and_replaces_the_cover() {
    let w = World::new().await;
    let album = w.create_album("Draft").await;
    let id = s(&album["id"]);
    let old_cover = s(&album["thumbnailKey"]).to_owned();

    let resp = w
        .patch(&format!("/album/{id}"), json!({"name": "  Final  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(updated["album"]["name"], "Final");
    assert_eq!(updated["album"]["artist"], album["artist"]);
    assert_eq!(updated["album"]["createdAt"], album["createdAt"]);
    assert_ne!(updated["album"]["updatedAt"], album["updatedAt"]);

    let new_cover = w.cover().await;
    let resp = w
        .patch(&format!("/album/{id}"), json!({"thumbnailKey": new_cover}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    eventually(Duration::from_secs(10), "old cover deleted", || async {
        (w.bucket_keys().await == vec![new_cover.clone()]).then_some(())
    })
    .await;
    assert_ne!(new_cover, old_cover);

    assert_problem(
        w.patch(&format!("/album/{id}"), json!({}))
            .send()
            .await
            .unwrap(),
        422,
        "body",
    )
    .await;
    assert_problem(
        w.patch(&format!("/album/{id}"), json!({"nmae": "typo"}))
            .send()
            .await
            .unwrap(),
        422,
        "nmae",
    )
    .await;
    assert_problem(
        w.patch(&format!("/album/{id}"), json!({"thumbnailKey": old_cover}))
            .send()
            .await
            .unwrap(),
        422,
        "thumbnailKey",
    )
    .await;
    let missing = uuid::Uuid::new_v4();
    assert_problem(
        w.patch(&format!("/album/{missing}"), json!({"name": "x"}))
            .send()
            .await
            .unwrap(),
        404,
        "",
    )
    .await;
}

#[tokio::test]
async fn songs_get_track_numbers_are_ordered_moved_edited_and_deleted() {
    let w = World::new().await;
    let album = w.create_album("Tracks").await;
    let id = s(&album["id"]);
    let first = w.create_song(id, "First", json!({})).await;
    let fifth = w.create_song(id, "Fifth", json!({"trackNumber": 5})).await;
    let sixth = w.create_song(id, "Sixth", json!({})).await;
    let second = w
        .create_song(
            id,
            "Second",
            json!({"trackNumber": 2, "imageUrl": album["thumbnailKey"]}),
        )
        .await;
    assert_eq!(first["trackNumber"], 1);
    assert_eq!(sixth["trackNumber"], 6, "next after the highest");
    assert_eq!(second["imageUrl"], album["thumbnailKey"]);

    let listed: Value = w
        .get(&format!("/album/{id}/song"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = listed["songs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| s(&x["title"]))
        .collect();
    assert_eq!(titles, ["First", "Second", "Fifth", "Sixth"]);

    let resp = w
        .patch(
            &format!("/song/{}", s(&fifth["id"])),
            json!({"title": "Third", "trackNumber": 3, "duration": 12.25}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let edited: Value = resp.json().await.unwrap();
    assert_eq!(edited["song"]["title"], "Third");
    assert_eq!(edited["song"]["trackNumber"], 3);
    assert_eq!(edited["song"]["duration"], 12.25);
    assert_eq!(edited["song"]["audioKey"], fifth["audioKey"]);

    // replace the audio: the old object goes, the new type and size are stored
    let new_audio = w.upload("song", "audio/ogg", vec![3u8; 99]).await;
    let resp = w
        .patch(
            &format!("/song/{}", s(&first["id"])),
            json!({"audioKey": new_audio}),
        )
        .send()
        .await
        .unwrap();
    let replaced: Value = resp.json().await.unwrap();
    assert_eq!(replaced["song"]["contentType"], "audio/ogg");
    assert_eq!(replaced["song"]["size"], 99);
    let old_audio = s(&first["audioKey"]).to_owned();
    eventually(Duration::from_secs(10), "old audio deleted", || async {
        (!w.bucket_keys().await.contains(&old_audio)).then_some(())
    })
    .await;

    // audio keys are unique across songs
    assert_problem(
        w.patch(
            &format!("/song/{}", s(&sixth["id"])),
            json!({"audioKey": new_audio}),
        )
        .send()
        .await
        .unwrap(),
        422,
        "audioKey",
    )
    .await;

    // move to another album: next free number there; clearing artwork keeps the shared cover
    let other = w.create_album("Other").await;
    let resp = w
        .patch(
            &format!("/song/{}", s(&second["id"])),
            json!({"albumId": other["id"], "imageUrl": null}),
        )
        .send()
        .await
        .unwrap();
    let moved: Value = resp.json().await.unwrap();
    assert_eq!(moved["song"]["albumId"], other["id"]);
    assert_eq!(moved["song"]["trackNumber"], 1);
    assert_eq!(moved["song"]["imageUrl"], Value::Null);
    assert_problem(
        w.patch(
            &format!("/song/{}", s(&second["id"])),
            json!({"albumId": uuid::Uuid::new_v4()}),
        )
        .send()
        .await
        .unwrap(),
        422,
        "albumId",
    )
    .await;

    // delete a song: its audio goes, the album cover stays
    let resp = w
        .delete(&format!("/song/{}", s(&sixth["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let audio = s(&sixth["audioKey"]).to_owned();
    eventually(Duration::from_secs(10), "song audio deleted", || async {
        (!w.bucket_keys().await.contains(&audio)).then_some(())
    })
    .await;
    let keys = w.bucket_keys().await;
    assert!(
        keys.contains(&s(&album["thumbnailKey"]).to_owned()),
        "{keys:?}"
    );
    assert_problem(
        w.delete(&format!("/song/{}", s(&sixth["id"])))
            .send()
            .await
            .unwrap(),
        404,
        "",
    )
    .await;

    let listed: Value = w
        .get(&format!("/album/{id}/song"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = listed["songs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| s(&x["title"]))
        .collect();
    assert_eq!(titles, ["First", "Third"]);
}

#[tokio::test]
async fn lists_paginate_with_opaque_cursors() {
    let w = World::new().await;
    let a = w.create_album("a").await;
    let b = w.create_album("b").await;
    let c = w.create_album("c").await;

    let page: Value = w
        .get("/album?limit=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = page["albums"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| s(&x["name"]))
        .collect();
    assert_eq!(names, ["c", "b"]);
    let cursor = s(&page["nextCursor"]).to_owned();
    let page: Value = w
        .get(&format!("/album?limit=2&cursor={cursor}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = page["albums"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| s(&x["name"]))
        .collect();
    assert_eq!(names, ["a"]);
    assert!(page.get("nextCursor").is_none(), "{page}");
    let all: Value = w.get("/album").send().await.unwrap().json().await.unwrap();
    assert!(all.get("nextCursor").is_none());
    assert_eq!(all["albums"].as_array().unwrap().len(), 3);
    let _ = (a, b, c);

    let x = w
        .create_song(s(&page["albums"][0]["id"]), "x", json!({}))
        .await;
    let y = w
        .create_song(s(&page["albums"][0]["id"]), "y", json!({}))
        .await;
    let page: Value = w
        .get("/song?limit=1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["songs"][0]["id"], y["id"],
        "newest first, as in the seed"
    );
    let next: Value = w
        .get(&format!("/song?limit=1&cursor={}", s(&page["nextCursor"])))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["songs"][0]["id"], x["id"]);

    assert_problem(w.get("/album?limit=0").send().await.unwrap(), 422, "limit").await;
    // Not a number at all: unreadable (400), as in song-svc's lists.
    assert_problem(
        w.get("/album?limit=many").send().await.unwrap(),
        400,
        "limit",
    )
    .await;
    assert_problem(
        w.get("/song?cursor=bogus").send().await.unwrap(),
        422,
        "cursor",
    )
    .await;
}

#[tokio::test]
async fn concurrent_creates_get_distinct_track_numbers_until_the_album_is_full() {
    let w = World::new().await;
    let album = w.create_album("Busy").await;
    let id = s(&album["id"]).to_owned();
    let mut keys = vec![];
    for _ in 0..6 {
        keys.push(w.audio().await);
    }
    let creates = keys.iter().map(|key| {
        w.post(
            "/song",
            json!({"title": "t", "artist": "a", "audioKey": key, "duration": 1, "albumId": id}),
        )
        .send()
    });
    let mut numbers: Vec<i64> = vec![];
    for resp in futures::future::join_all(creates).await {
        let resp = resp.unwrap();
        assert_eq!(resp.status(), 201);
        let body: Value = resp.json().await.unwrap();
        numbers.push(body["song"]["trackNumber"].as_i64().unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);

    w.create_song(&id, "Last", json!({"trackNumber": 999}))
        .await;
    let audio = w.audio().await;
    let resp = w
        .post(
            "/song",
            json!({"title": "t", "artist": "a", "audioKey": audio, "duration": 1, "albumId": id}),
        )
        .send()
        .await
        .unwrap();
    assert_problem(resp, 422, "trackNumber").await;
}
