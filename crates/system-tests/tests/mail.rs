//! The mail path end to end, with SES down: user-svc's job goes through SQS
//! to the mailer's handler, whose SES (a private moto) is stopped; the record
//! is reported for retry, and sent exactly once after SES comes back, with a
//! link that user-svc accepts.

mod common;

use std::time::{Duration, Instant};

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use cadenza_testkit::process::MotoProcess;
use cadenza_testkit::{eventually, infra};
use common::*;
use mailer::handler::Mailer;
use mailer::ledger::{SentLedger, DEFAULT_CLAIM_TTL};
use mailer::ses::SesSender;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn ses_sender(endpoint: &str) -> SesSender {
    let sdk = cadenza_aws::sdk_config().await;
    let conf = aws_sdk_sesv2::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .build();
    SesSender::new(
        aws_sdk_sesv2::Client::from_conf(conf),
        infra().ses_from.clone(),
    )
}

async fn create_identity(endpoint: &str) {
    let sdk = cadenza_aws::sdk_config().await;
    let conf = aws_sdk_sesv2::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sesv2::Client::from_conf(conf)
        .create_email_identity()
        .email_identity(&infra().ses_from)
        .send()
        .await
        .expect("moto SES identity");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_down_the_job_is_retried_and_sent_once_when_ses_is_back() {
    let mut ses = MotoProcess::start();
    create_identity(&ses.endpoint()).await;
    let p = Platform::start().await;
    let email = "mailbox@example.com";
    assert_eq!(p.register(email).await.status, StatusCode::CREATED);

    // The raw SQS message, as Lambda's event-source mapping would pass it.
    let message = eventually(Duration::from_secs(15), "the job on SQS", || async {
        let out = p
            .sqs
            .receive_message()
            .queue_url(&p.queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .ok()?;
        out.messages().iter().find_map(|m| {
            let body: Value = serde_json::from_str(m.body()?).ok()?;
            (body["to"] == email).then(|| {
                (
                    m.message_id().unwrap().to_owned(),
                    m.body().unwrap().to_owned(),
                )
            })
        })
    })
    .await;
    let mut record = SqsMessage::default();
    record.message_id = Some(message.0.clone());
    record.body = Some(message.1.clone());
    record.event_source = Some("aws:sqs".into());
    let mut event = SqsEvent::default();
    event.records = vec![record];

    let client = cadenza_platform::redis::client(&infra().redis_url).unwrap();
    let ledger = SentLedger::new(
        cadenza_platform::redis::manager(&client).await.unwrap(),
        cadenza_testkit::fresh_namespace(),
        DEFAULT_CLAIM_TTL,
    );
    // PUBLIC_BASE_URL set: the mailer refuses links elsewhere, so this also
    // checks that user-svc's links are on the public origin.
    let mailer = Mailer::new(
        ses_sender(&ses.endpoint()).await,
        Some(ledger),
        Some(PUBLIC_BASE_URL.into()),
    );

    ses.stop();
    let t = Instant::now();
    let response = mailer.handle(event.clone()).await;
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    println!(
        "SES down: the handler reported the record for retry in {:?}",
        t.elapsed()
    );
    assert_eq!(
        failed,
        vec![message.0.clone()],
        "the record is retried, not dropped"
    );

    ses.restart();
    create_identity(&ses.endpoint()).await;
    let response = mailer.handle(event.clone()).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "sent once SES is back"
    );
    // A redelivery (SQS is at-least-once) sends nothing more.
    let response = mailer.handle(event).await;
    assert!(response.batch_item_failures.is_empty());
    let mails: Vec<_> = mailer::inbox::fetch(&ses.endpoint())
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.is_to(email))
        .collect();
    assert_eq!(mails.len(), 1, "sent exactly once");
    let link = mails[0].first_link().expect("a link in the mail");
    let token = link
        .strip_prefix(&format!("{PUBLIC_BASE_URL}/verify-email?token="))
        .unwrap_or_else(|| panic!("verify link {link}"));
    let r = p
        .post_user("/api/user/verify-email", json!({"token": token}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the mailed link verifies: {}",
        r.text
    );
    p.remove_bucket().await;
}
