//! The orphan purge racing creates that reuse the same object (issue 14,
//! item 10): real PostgreSQL and SeaweedFS, many concurrent requests.

mod common;

use common::World;
use futures::future::join_all;
use serde_json::{json, Value};

/// Each round: the albums using a cover are deleted while other requests
/// create albums with that cover and repoint an existing album at it. Every
/// answer must be a success or a 422 (the cover was already gone), and once
/// every purge has finished, every object a row references must exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cover_reused_while_its_album_is_deleted_is_never_purged_from_under_the_new_album() {
    const ROUNDS: usize = 6;
    const CREATES: usize = 8;
    let w = World::new().await;
    let bystander = w.create_album("Bystander").await;
    let bystander_id = bystander["id"].as_str().unwrap().to_owned();
    let mut kept = 0;
    let mut refused = 0;
    for round in 0..ROUNDS {
        let first = w.create_album(&format!("Round {round}")).await;
        let cover = first["thumbnailKey"].as_str().unwrap().to_owned();
        let first_id = first["id"].as_str().unwrap().to_owned();

        let delete = async {
            let r = w
                .delete(&format!("/album/{first_id}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        };
        let w = &w;
        let creates = join_all((0..CREATES).map(|i| {
            let body = json!({"name": format!("Reuse {round}.{i}"), "artist": "Nina Simone", "thumbnailKey": &cover});
            async move { w.post("/album", body).send().await.unwrap() }
        }));
        let repoint = async {
            w.patch(
                &format!("/album/{bystander_id}"),
                json!({"thumbnailKey": cover}),
            )
            .send()
            .await
            .unwrap()
        };
        let ((), created, repointed) = tokio::join!(delete, creates, repoint);
        for r in created.into_iter().chain([repointed]) {
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            match status {
                200 | 201 => kept += 1,
                422 => {
                    assert_eq!(body["errors"][0]["field"], "thumbnailKey", "{body}");
                    refused += 1;
                }
                other => panic!("round {round}: {other} {body}"),
            }
        }
        w.state.effects.purges_settled().await;

        // Every object any row references is still in the bucket.
        let referenced: Vec<String> = sqlx::query_scalar(
            "SELECT thumbnail_key FROM albums UNION SELECT audio_key FROM songs \
             UNION SELECT image_key FROM songs WHERE image_key IS NOT NULL",
        )
        .fetch_all(&w.state.db)
        .await
        .unwrap();
        let present = w.bucket_keys().await;
        for key in &referenced {
            assert!(
                present.contains(key),
                "round {round}: {key} is referenced but was purged"
            );
        }
        // And the cover is gone only if nothing references it.
        if !referenced.contains(&cover) {
            assert!(
                !present.contains(&cover),
                "round {round}: unreferenced cover kept"
            );
        }
    }
    eprintln!("{kept} requests kept a cover, {refused} found it purged (422)");
    assert!(kept > 0);
}
