//! An SQS outage loses no email: the job waits in the MongoDB outbox and
//! the relay delivers it once SQS answers again.

mod common;

use std::time::Duration;

use cadenza_testkit::{infra, process::free_port};
use common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn register_succeeds_while_sqs_is_down_and_the_job_arrives_later() {
    let sqs = sqs().await;
    let queue_url = create_queue(&sqs).await;
    let ns = cadenza_testkit::fresh_namespace();
    let mongo_db = cadenza_testkit::fresh_mongo_db();

    // First instance: SQS endpoint on a closed port.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let down = World::start(
        config(&mongo_db, &ns, &queue_url, &dead),
        sqs.clone(),
        queue_url.clone(),
    )
    .await;
    let t = std::time::Instant::now();
    let r = down.register("patient@example.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "register does not wait for SQS"
    );
    let outbox = down
        .mongo()
        .await
        .collection::<mongodb::bson::Document>("email_outbox");
    let pending = cadenza_testkit::eventually(
        Duration::from_secs(10),
        "a failed delivery attempt",
        || async {
            outbox
                .find_one(
                    mongodb::bson::doc! {"status": "pending", "lastError": {"$type": "string"}},
                )
                .await
                .unwrap()
        },
    )
    .await;
    assert!(pending.get_i32("attempts").unwrap() >= 1, "{pending}");
    assert_eq!(pending.get_str("kind").unwrap(), "verify_email");
    assert!(down.all_jobs().await.is_empty());
    drop(down);

    // SQS is back (a restarted instance with a working endpoint): the relay
    // picks up the leftover job.
    let up = World::start(
        config(&mongo_db, &ns, &queue_url, &infra().aws_endpoint),
        sqs,
        queue_url,
    )
    .await;
    let job = up.job("verify_email", "patient@example.com").await;
    let token = link_token(&job, "/verify-email");
    let r = up
        .post(
            "/api/user/verify-email",
            serde_json::json!({"token": token}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "the delayed link still works");
    let sent = outbox
        .find_one(mongodb::bson::doc! {"_id": job["id"].as_str().unwrap()})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sent.get_str("status").unwrap(), "sent");
    // Sent exactly once.
    cadenza_testkit::assert_quiet_for(Duration::from_millis(600), "second send", || async {
        let jobs = up.all_jobs().await;
        (!jobs.is_empty()).then(|| format!("{jobs:?}"))
    })
    .await;
}
