//! The mailer against the real local emulators: moto's SQS and SES v2, and
//! Redis. moto's state is shared with every other test on the machine, so
//! each test uses its own queue and its own recipients, and reads moto's sent
//! mail filtered by recipient.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use cadenza_aws::aws_config::SdkConfig;
use cadenza_testkit::{eventually, fresh_namespace, infra, unique_name};
use mailer::handler::{Mailer, Outcome};
use mailer::inbox::{self, SentMail};
use mailer::ledger::{Claim, DynamoLedger, SentLedger, DEFAULT_CLAIM_TTL};
use mailer::poller::Poller;
use mailer::ses::SesSender;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ------------------------------------------------------------------ helpers

/// Log lines of this test binary, for asserting on them.
fn captured_logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        let writer = move || LogWriter(logs);
        tracing_subscriber::fmt()
            .with_env_filter("mailer=debug")
            .with_ansi(false)
            .with_writer(writer)
            .try_init()
            .ok();
        logs
    })
}

struct LogWriter(&'static Mutex<Vec<u8>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        std::io::stderr().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn sdk() -> SdkConfig {
    infra(); // exports the emulators' credentials first
    captured_logs();
    cadenza_aws::sdk_config().await
}

async fn ses_client(sdk: &SdkConfig, endpoint: &str) -> aws_sdk_sesv2::Client {
    let conf = aws_sdk_sesv2::config::Builder::from(sdk)
        .endpoint_url(endpoint)
        .build();
    let client = aws_sdk_sesv2::Client::from_conf(conf);
    // moto's SES refuses senders without an identity; creating it again is harmless.
    let _ = client
        .create_email_identity()
        .email_identity(&infra().ses_from)
        .send()
        .await;
    client
}

fn sqs_client(sdk: &SdkConfig) -> aws_sdk_sqs::Client {
    let conf = aws_sdk_sqs::config::Builder::from(sdk)
        .endpoint_url(&infra().aws_endpoint)
        .build();
    aws_sdk_sqs::Client::from_conf(conf)
}

/// A fresh queue whose messages come back 1 s after a failed attempt.
async fn fresh_queue(sqs: &aws_sdk_sqs::Client) -> String {
    sqs.create_queue()
        .queue_name(unique_name("mailer-t-"))
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("queue url")
}

async fn queue_depth(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> (u64, u64) {
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .unwrap_or_default();
    let get = |k: QueueAttributeName| attrs.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0);
    (
        get(QueueAttributeName::ApproximateNumberOfMessages),
        get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

fn recipient() -> String {
    format!("{}@example.com", unique_name("listener-"))
}

fn job(kind: &str, to: &str, link: &str) -> Value {
    json!({
        "version": 1,
        "id": uuid::Uuid::new_v4().to_string(),
        "kind": kind,
        "to": to,
        "data": {"link": link, "expiresAt": "2026-11-30T10:00:00Z"},
        "createdAt": "2026-11-29T10:00:00Z"
    })
}

fn verify_link() -> String {
    format!(
        "http://localhost:5173/verify-email?token={}",
        unique_name("tok")
    )
}

fn record(message_id: &str, body: &str) -> SqsMessage {
    let mut r = SqsMessage::default();
    r.message_id = Some(message_id.to_owned());
    r.receipt_handle = Some(format!("rh-{message_id}"));
    r.body = Some(body.to_owned());
    r.event_source = Some("aws:sqs".into());
    r
}

fn event(records: Vec<SqsMessage>) -> SqsEvent {
    let mut e = SqsEvent::default();
    e.records = records;
    e
}

async fn ledger(ns_override: Option<cadenza_platform::redis::Namespace>) -> SentLedger {
    let client = cadenza_platform::redis::client(&infra().redis_url).unwrap();
    let conn = cadenza_platform::redis::manager(&client)
        .await
        .expect("Redis is up");
    SentLedger::new(
        conn,
        ns_override.unwrap_or_else(fresh_namespace),
        DEFAULT_CLAIM_TTL,
    )
}

async fn mailer(sdk: &SdkConfig, ses_endpoint: &str, ledger: Option<SentLedger>) -> Mailer {
    mailer_with(sdk, ses_endpoint, ledger).await
}

async fn mailer_with<L: Into<mailer::ledger::Ledger>>(
    sdk: &SdkConfig,
    ses_endpoint: &str,
    ledger: Option<L>,
) -> Mailer {
    let ses = SesSender::new(
        ses_client(sdk, ses_endpoint).await,
        infra().ses_from.clone(),
    );
    Mailer::new(ses, ledger, None)
}

async fn mail_to(address: &str) -> Vec<SentMail> {
    inbox::fetch(&infra().aws_endpoint)
        .await
        .expect("moto data.json")
        .into_iter()
        .filter(|m| m.is_to(address))
        .collect()
}

async fn redis_get(key: &str) -> (Option<String>, i64) {
    let client = cadenza_platform::redis::client(&infra().redis_url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let value: Option<String> = redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap();
    let ttl: i64 = redis::cmd("TTL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap();
    (value, ttl)
}

/// A transparent TCP relay to moto that keeps a copy of every request, so a
/// test can read the exact `SendEmail` payload (moto itself keeps only the
/// HTML part of a Simple message).
struct RecordingRelay {
    addr: SocketAddr,
    /// The client → moto bytes of each connection.
    requests: Arc<Mutex<Vec<ConnectionBytes>>>,
}

type ConnectionBytes = Arc<Mutex<Vec<u8>>>;

impl RecordingRelay {
    async fn start(upstream_url: &str) -> Self {
        let upstream = upstream_url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests: Arc<Mutex<Vec<ConnectionBytes>>> = Arc::default();
        let all = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let seen = Arc::new(Mutex::new(Vec::new()));
                all.lock().unwrap().push(seen.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.split();
                    let (mut sr, mut sw) = server.split();
                    let up = async {
                        let mut buf = [0u8; 16 * 1024];
                        loop {
                            match cr.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    seen.lock().unwrap().extend_from_slice(&buf[..n]);
                                    if sw.write_all(&buf[..n]).await.is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        let _ = sw.shutdown().await;
                    };
                    let down = async {
                        let _ = tokio::io::copy(&mut sr, &mut cw).await;
                        let _ = cw.shutdown().await;
                    };
                    tokio::join!(up, down);
                });
            }
        });
        Self { addr, requests }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every JSON request body seen so far.
    fn json_bodies(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for conn in self.requests.lock().unwrap().iter() {
            let bytes = conn.lock().unwrap().clone();
            let mut rest = &bytes[..];
            while let Some(i) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
                rest = &rest[i + 4..];
                let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<Value>();
                if let Some(Ok(v)) = values.next() {
                    out.push(v);
                }
            }
        }
        out
    }

    /// The SendEmail payloads addressed to `to`.
    fn send_email_requests(&self, to: &str) -> Vec<Value> {
        self.json_bodies()
            .into_iter()
            .filter(|v| v["Destination"]["ToAddresses"] == json!([to]))
            .collect()
    }
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn a_job_on_the_queue_is_sent_with_its_link_in_both_parts_and_deleted() {
    let sdk = sdk().await;
    let relay = RecordingRelay::start(&infra().aws_endpoint).await;
    let mailer = mailer(&sdk, &relay.url(), Some(ledger(None).await)).await;
    let sqs = sqs_client(&sdk);
    let queue = fresh_queue(&sqs).await;
    let to = recipient();
    let link = verify_link();
    sqs.send_message()
        .queue_url(&queue)
        .message_body(job("verify_email", &to, &link).to_string())
        .send()
        .await
        .unwrap();

    let poller = Poller::new(sqs.clone(), &queue).with_wait(Duration::from_secs(1));
    let report = poller.poll_once(&mailer).await.unwrap();
    assert_eq!((report.received, report.deleted, report.failed), (1, 1, 0));

    let sent = mail_to(&to).await;
    assert_eq!(sent.len(), 1, "exactly one email to {to}");
    assert_eq!(sent[0].subject, "Confirm your email address for Cadenza");
    assert_eq!(sent[0].from, infra().ses_from);
    assert!(
        sent[0].body.contains(&format!("href=\"{link}\"")),
        "{}",
        sent[0].body
    );
    assert_eq!(sent[0].first_link().as_deref(), Some(link.as_str()));

    // What went over the wire: Simple content with both parts.
    let requests = relay.send_email_requests(&to);
    assert_eq!(requests.len(), 1, "one SendEmail call");
    let simple = &requests[0]["Content"]["Simple"];
    assert_eq!(
        simple["Subject"]["Data"],
        "Confirm your email address for Cadenza"
    );
    let text = simple["Body"]["Text"]["Data"].as_str().unwrap();
    let html = simple["Body"]["Html"]["Data"].as_str().unwrap();
    assert!(text.contains(&format!("\n{link}\n")), "text part:\n{text}");
    assert!(
        html.contains(&format!("href=\"{link}\"")),
        "html part:\n{html}"
    );
    assert_eq!(requests[0]["FromEmailAddress"], json!(infra().ses_from));

    assert_eq!(
        queue_depth(&sqs, &queue).await,
        (0, 0),
        "the handled message is deleted"
    );
}

#[tokio::test]
async fn one_failing_send_in_a_batch_of_three_is_the_only_batch_item_failure() {
    let sdk = sdk().await;
    let ledger = ledger(None).await;
    let mailer = mailer(&sdk, &infra().aws_endpoint, Some(ledger.clone())).await;
    let (ok1, ok2) = (recipient(), recipient());
    // RFC 5321 allows an `@` inside a quoted local part, so the mailer's
    // address check accepts this; moto's SES (Python's parseaddr + split on
    // "@") rejects it with InvalidParameterValue "Missing domain".
    let rejected = format!("\"{}@x\"@example.com", unique_name("rejected-"));
    let jobs = [
        job("verify_email", &ok1, &verify_link()),
        job("password_reset", &rejected, &verify_link()),
        job("account_exists", &ok2, &verify_link()),
    ];
    let ids: Vec<String> = (0..3)
        .map(|i| format!("msg-{i}-{}", unique_name("")))
        .collect();
    let records = ids
        .iter()
        .zip(&jobs)
        .map(|(id, j)| record(id, &j.to_string()))
        .collect();

    let response = mailer.handle(event(records)).await;
    let failures: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failures, [ids[1].as_str()]);

    assert_eq!(mail_to(&ok1).await.len(), 1);
    assert_eq!(mail_to(&ok2).await.len(), 1);
    assert!(mail_to(&rejected).await.is_empty());
    assert_eq!(
        mail_to(&ok2).await[0].subject,
        "You already have a Cadenza account"
    );

    // Sent jobs are marked for 4 days; the failed one's claim is released so
    // that the redelivery can send at once.
    for (j, want) in [
        (&jobs[0], Some("sent")),
        (&jobs[1], None),
        (&jobs[2], Some("sent")),
    ] {
        let (value, ttl) = redis_get(&ledger.key(j["id"].as_str().unwrap())).await;
        assert_eq!(value.as_deref(), want);
        if want.is_some() {
            assert!(ttl > 3 * 24 * 3600, "ttl {ttl}");
        }
    }
}

#[tokio::test]
async fn the_poller_deletes_all_but_the_failed_message_which_is_redelivered() {
    let sdk = sdk().await;
    let mailer = mailer(&sdk, &infra().aws_endpoint, Some(ledger(None).await)).await;
    let sqs = sqs_client(&sdk);
    let queue = fresh_queue(&sqs).await;
    let (ok1, ok2) = (recipient(), recipient());
    let marker = unique_name("rejected-");
    let rejected = format!("\"{marker}@x\"@example.com");
    for to in [&ok1, &rejected, &ok2] {
        sqs.send_message()
            .queue_url(&queue)
            .message_body(job("verify_email", to, &verify_link()).to_string())
            .send()
            .await
            .unwrap();
    }
    let poller = Poller::new(sqs.clone(), &queue).with_wait(Duration::from_secs(1));
    let mut total = mailer::poller::PollReport::default();
    while total.received < 3 {
        let r = poller.poll_once(&mailer).await.unwrap();
        total.received += r.received;
        total.deleted += r.deleted;
        total.failed += r.failed;
    }
    assert_eq!((total.received, total.deleted, total.failed), (3, 2, 1));
    assert_eq!(mail_to(&ok1).await.len(), 1);
    assert_eq!(mail_to(&ok2).await.len(), 1);

    // The failed one comes back after the visibility timeout, counted.
    let redelivered = eventually(
        Duration::from_secs(10),
        "the failed message to reappear",
        || {
            let sqs = sqs.clone();
            let queue = queue.clone();
            async move {
                let out = sqs
                    .receive_message()
                    .queue_url(&queue)
                    .message_system_attribute_names(
                        aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
                    )
                    .wait_time_seconds(1)
                    .send()
                    .await
                    .ok()?;
                out.messages.unwrap_or_default().into_iter().next()
            }
        },
    )
    .await;
    assert!(redelivered.body().unwrap().contains(&marker));
    let count = redelivered
        .attributes()
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
        })
        .cloned();
    assert_eq!(count.as_deref(), Some("2"));
}

#[tokio::test]
async fn the_same_job_delivered_twice_is_sent_once() {
    let sdk = sdk().await;
    let ledger = ledger(None).await;
    let mailer = mailer(&sdk, &infra().aws_endpoint, Some(ledger.clone())).await;
    let to = recipient();
    let body = job("password_reset", &to, &verify_link()).to_string();

    let first = mailer.process(&record("first", &body)).await;
    assert!(matches!(first, Outcome::Sent { .. }), "{first:?}");
    // SQS redelivers the same body under a new receipt (and, if the producer
    // retried, even a new messageId).
    let response = mailer.handle(event(vec![record("second", &body)])).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        mailer.process(&record("third", &body)).await,
        Outcome::Duplicate
    );

    assert_eq!(mail_to(&to).await.len(), 1, "one email for one job id");
}

#[tokio::test]
async fn a_job_claimed_by_another_worker_is_retried_not_sent() {
    let sdk = sdk().await;
    let ledger = ledger(None).await;
    let mailer = mailer(&sdk, &infra().aws_endpoint, Some(ledger.clone())).await;
    let to = recipient();
    let j = job("verify_email", &to, &verify_link());
    let id = j["id"].as_str().unwrap();
    let other = ledger.claim(id, "another-worker").await.unwrap();
    assert!(matches!(other, Claim::Acquired(_)));

    let response = mailer
        .handle(event(vec![record("m1", &j.to_string())]))
        .await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier, "m1");
    assert!(mail_to(&to).await.is_empty());

    // The other worker fails and releases: the redelivery sends.
    let Claim::Acquired(token) = other else {
        unreachable!()
    };
    ledger.release(&token).await.unwrap();
    assert!(matches!(
        mailer.process(&record("m1", &j.to_string())).await,
        Outcome::Sent { .. }
    ));
    assert_eq!(mail_to(&to).await.len(), 1);
}

#[tokio::test]
async fn without_redis_a_redelivered_job_is_sent_again() {
    // The documented at-least-once behaviour when REDIS_URL is unset.
    let sdk = sdk().await;
    let mailer = mailer(&sdk, &infra().aws_endpoint, None).await;
    let to = recipient();
    let body = job("password_changed", &to, &verify_link()).to_string();
    for id in ["a", "b"] {
        assert!(mailer
            .handle(event(vec![record(id, &body)]))
            .await
            .batch_item_failures
            .is_empty());
    }
    let sent = mail_to(&to).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].subject, "Your Cadenza password was changed");
}

#[tokio::test]
async fn while_redis_is_down_jobs_are_still_sent() {
    // Documented trade-off: a rare duplicate beats no verification email.
    let mut redis = cadenza_testkit::process::RedisProcess::start();
    let client = cadenza_platform::redis::client(&redis.url()).unwrap();
    let conn = cadenza_platform::redis::manager(&client).await.unwrap();
    let ledger = SentLedger::new(conn, fresh_namespace(), DEFAULT_CLAIM_TTL);
    let sdk = sdk().await;
    let mailer = mailer(&sdk, &infra().aws_endpoint, Some(ledger)).await;
    redis.stop();

    let to = recipient();
    let body = job("verify_email", &to, &verify_link()).to_string();
    let response = mailer.handle(event(vec![record("m1", &body)])).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(mail_to(&to).await.len(), 1);
}

#[tokio::test]
async fn a_non_json_record_is_dropped_with_a_log_line_and_not_reported() {
    let sdk = sdk().await;
    let mailer = mailer(&sdk, &infra().aws_endpoint, Some(ledger(None).await)).await;
    let message_id = unique_name("garbage-");
    let to = recipient();
    let good = job("verify_email", &to, &verify_link()).to_string();
    let response = mailer
        .handle(event(vec![
            record(&message_id, "{\"type\":\"verify\", this is not json"),
            record("fine", &good),
        ]))
        .await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(mail_to(&to).await.len(), 1, "the rest of the batch is sent");

    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    let line = logs
        .lines()
        .find(|l| l.contains(&message_id))
        .unwrap_or_else(|| panic!("no log line names {message_id}:\n{logs}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("dropping malformed email job"), "{line}");
    assert!(line.contains("body is not a JSON job"), "{line}");

    // Through the poller the message is deleted, not left for redelivery.
    let sqs = sqs_client(&sdk);
    let queue = fresh_queue(&sqs).await;
    sqs.send_message()
        .queue_url(&queue)
        .message_body("<html>not a job</html>")
        .send()
        .await
        .unwrap();
    let poller = Poller::new(sqs.clone(), &queue).with_wait(Duration::from_secs(1));
    let report = poller.poll_once(&mailer).await.unwrap();
    assert_eq!((report.received, report.deleted, report.failed), (1, 1, 0));
    assert_eq!(queue_depth(&sqs, &queue).await, (0, 0));
}

#[tokio::test]
async fn malformed_jobs_are_dropped_not_retried() {
    let sdk = sdk().await;
    let mailer = mailer(&sdk, &infra().aws_endpoint, None).await;
    let to = recipient();
    let mut unknown_version = job("verify_email", &to, &verify_link());
    unknown_version["version"] = json!(2);
    let mut unknown_kind = job("verify_email", &to, &verify_link());
    unknown_kind["kind"] = json!("newsletter");
    let mut no_to = job("verify_email", &to, &verify_link());
    no_to.as_object_mut().unwrap().remove("to");
    let bad_address = job("verify_email", "not-an-address", &verify_link());
    let bodies = [unknown_version, unknown_kind, no_to, bad_address];
    let records = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| record(&format!("m{i}"), &b.to_string()))
        .collect();
    let response = mailer.handle(event(records)).await;
    assert!(response.batch_item_failures.is_empty());
    for b in &bodies {
        assert!(matches!(
            mailer.process(&record("x", &b.to_string())).await,
            Outcome::Dropped(_)
        ));
    }
    assert!(mail_to(&to).await.is_empty());
}

/// A fresh idempotency table, laid out as `infra/mailer.yaml` declares it
/// (key `pk`, string), in a private moto: moto's `data.json` (which the
/// other tests read for SES) cannot be dumped while a table is written.
async fn dynamo_ledger(
    sdk: &SdkConfig,
    endpoint: &str,
    claim_ttl: std::time::Duration,
) -> DynamoLedger {
    let conf = aws_sdk_dynamodb::config::Builder::from(sdk)
        .endpoint_url(endpoint)
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(conf);
    let table = cadenza_testkit::unique_name("mailer-ledger-");
    client
        .create_table()
        .table_name(&table)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create the table in moto");
    DynamoLedger::new(client, table, claim_ttl)
}

/// The Lambda's ledger (issue 18: no Redis in Lambda): 16 workers claim one
/// job at once on real (moto) DynamoDB; exactly one wins. Then: sent means
/// every later delivery is a duplicate; a released claim can be taken; a
/// claim whose holder died expires and can be taken over.
#[tokio::test]
async fn the_dynamodb_ledger_lets_exactly_one_of_many_concurrent_workers_send() {
    let sdk = sdk().await;
    let moto = cadenza_testkit::process::MotoProcess::start();
    let ledger = dynamo_ledger(&sdk, &moto.endpoint(), std::time::Duration::from_secs(1)).await;
    let claims = futures::future::join_all((0..16).map(|i| {
        let ledger = ledger.clone();
        async move { ledger.claim("job-1", &format!("worker-{i}")).await.unwrap() }
    }))
    .await;
    let won: Vec<_> = claims
        .iter()
        .filter_map(|c| match c {
            Claim::Acquired(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(won.len(), 1, "{claims:?}");
    assert_eq!(claims.iter().filter(|c| **c == Claim::InFlight).count(), 15);
    ledger.mark_sent(&won[0]).await.unwrap();
    assert_eq!(
        ledger.claim("job-1", "late").await.unwrap(),
        Claim::AlreadySent
    );

    // Released: the next worker sends at once.
    let Claim::Acquired(first) = ledger.claim("job-2", "a").await.unwrap() else {
        panic!("a fresh job is free")
    };
    assert_eq!(ledger.claim("job-2", "b").await.unwrap(), Claim::InFlight);
    ledger.release(&first).await.unwrap();
    let Claim::Acquired(second) = ledger.claim("job-2", "c").await.unwrap() else {
        panic!("released")
    };
    // Releasing a claim that is no longer ours leaves the new one alone.
    ledger.release(&first).await.unwrap();
    assert_eq!(ledger.claim("job-2", "d").await.unwrap(), Claim::InFlight);
    drop(second);

    // A holder that died: its claim expires (1 s here) and is taken over.
    let Claim::Acquired(_) = ledger.claim("job-3", "dies").await.unwrap() else {
        panic!("free")
    };
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert!(matches!(
        ledger.claim("job-3", "takes-over").await.unwrap(),
        Claim::Acquired(_)
    ));
}

/// Through the whole handler: the same job delivered three times (as SQS
/// may) with the DynamoDB ledger sends one email.
#[tokio::test]
async fn with_the_dynamodb_ledger_a_redelivered_job_is_sent_once() {
    let sdk = sdk().await;
    let moto = cadenza_testkit::process::MotoProcess::start();
    let ledger = dynamo_ledger(&sdk, &moto.endpoint(), mailer::ledger::DEFAULT_CLAIM_TTL).await;
    let mailer = mailer_with(&sdk, &moto.endpoint(), Some(ledger)).await;
    let to = recipient();
    let body = job("verify_email", &to, &verify_link()).to_string();
    assert!(matches!(
        mailer.process(&record("first", &body)).await,
        Outcome::Sent { .. }
    ));
    for id in ["second", "third"] {
        assert_eq!(mailer.process(&record(id, &body)).await, Outcome::Duplicate);
    }
    let sent = inbox::fetch(&moto.endpoint()).await.unwrap();
    assert_eq!(
        sent.iter().filter(|m| m.is_to(&to)).count(),
        1,
        "one email for one job id"
    );
}
