//! The real binary in Lambda mode, driven through the Lambda Runtime API
//! (served here by a minimal stand-in of the runtime's HTTP endpoints), with
//! SES going to moto. Also: start-up refuses bad configuration with one line.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use cadenza_testkit::{eventually, infra, unique_name, TestServer};
use serde_json::{json, Value};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mailer");

#[derive(Default)]
struct Runtime {
    /// Events still to hand out, one per `next` call.
    events: Mutex<Vec<(String, Value)>>,
    /// (request id, "response" | "error", body) as the function posted them.
    posted: Mutex<Vec<(String, &'static str, Value)>>,
}

async fn next(State(rt): State<Arc<Runtime>>) -> (HeaderMap, String) {
    let event = rt.events.lock().unwrap().pop();
    let Some((request_id, event)) = event else {
        // No more work: park the function like the real runtime does.
        std::future::pending::<()>().await;
        unreachable!()
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_str(&request_id).unwrap(),
    );
    let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
    headers.insert(
        "lambda-runtime-deadline-ms",
        HeaderValue::from_str(&deadline.to_string()).unwrap(),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:cadenza-mailer"),
    );
    (headers, event.to_string())
}

async fn respond(
    State(rt): State<Arc<Runtime>>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    rt.posted.lock().unwrap().push((id, "response", value));
    StatusCode::ACCEPTED
}

async fn error(State(rt): State<Arc<Runtime>>, Path(id): Path<String>, body: String) -> StatusCode {
    rt.posted
        .lock()
        .unwrap()
        .push((id, "error", Value::String(body)));
    StatusCode::ACCEPTED
}

async fn init_error(State(rt): State<Arc<Runtime>>, body: String) -> StatusCode {
    rt.posted
        .lock()
        .unwrap()
        .push(("init".into(), "error", Value::String(body)));
    StatusCode::ACCEPTED
}

fn job(to: &str, link: &str) -> String {
    json!({"version":1,"id":uuid::Uuid::new_v4().to_string(),"kind":"verify_email","to":to,
           "data":{"link":link},"createdAt":"2026-11-29T10:00:00Z"})
    .to_string()
}

fn sqs_record(message_id: &str, body: &str) -> Value {
    json!({
        "messageId": message_id,
        "receiptHandle": format!("rh-{message_id}"),
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764410400000"},
        "messageAttributes": {},
        "md5OfBody": "00000000000000000000000000000000",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:cadenza-email",
        "awsRegion": "us-east-1"
    })
}

#[tokio::test]
async fn lambda_mode_reports_exactly_the_failed_record_in_the_runtime_response() {
    let infra = infra();
    let ses = {
        let sdk = cadenza_aws::sdk_config().await;
        let conf = aws_sdk_sesv2::config::Builder::from(&sdk)
            .endpoint_url(&infra.aws_endpoint)
            .build();
        aws_sdk_sesv2::Client::from_conf(conf)
    };
    let _ = ses
        .create_email_identity()
        .email_identity(&infra.ses_from)
        .send()
        .await;

    let good = format!("{}@example.com", unique_name("lambda-"));
    let link = format!(
        "https://cadenza.example/verify-email?token={}",
        unique_name("t")
    );
    // Valid for the mailer, rejected by moto's SES (see tests/pipeline.rs).
    let rejected = format!("\"{}@x\"@example.com", unique_name("lambda-rejected-"));
    let event = json!({"Records": [
        sqs_record("m-good", &job(&good, &link)),
        sqs_record("m-rejected", &job(&rejected, &link)),
        sqs_record("m-garbage", "not json"),
    ]});
    let rt = Arc::new(Runtime::default());
    rt.events.lock().unwrap().push(("req-1".into(), event));
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(respond),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(rt.clone());
    let server = TestServer::start(app).await;

    let mut child = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", server.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "cadenza-mailer")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_ACCESS_KEY_ID",
            std::env::var("AWS_ACCESS_KEY_ID").unwrap(),
        )
        .env(
            "AWS_SECRET_ACCESS_KEY",
            std::env::var("AWS_SECRET_ACCESS_KEY").unwrap(),
        )
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_SESV2", &infra.aws_endpoint)
        .env("SES_FROM_ADDRESS", &infra.ses_from)
        .env("LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the mailer binary");
    let stdout = child.stdout.take().unwrap();

    let posted = eventually(Duration::from_secs(30), "the function's response", || {
        let rt = rt.clone();
        async move { rt.posted.lock().unwrap().first().cloned() }
    })
    .await;
    assert_eq!(
        posted,
        (
            "req-1".to_owned(),
            "response",
            json!({"batchItemFailures": [{"itemIdentifier": "m-rejected"}]})
        )
    );
    let sent = mailer::inbox::fetch(&infra.aws_endpoint).await.unwrap();
    let to_good: Vec<_> = sent.iter().filter(|m| m.is_to(&good)).collect();
    assert_eq!(to_good.len(), 1);
    assert_eq!(to_good[0].first_link().as_deref(), Some(link.as_str()));

    // The batch's counts, as one CloudWatch EMF line on stdout (Lambda has
    // no /metrics to scrape): one sent, one to retry, one dropped.
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let emf = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("\"_aws\"") {
                return serde_json::from_str::<Value>(&line).unwrap();
            }
        }
        panic!("stdout ended without an EMF line");
    })
    .await
    .expect("an EMF line for the batch");
    assert_eq!(
        emf["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "Cadenza/Mailer"
    );
    assert_eq!(
        (
            &emf["Sent"],
            &emf["Retried"],
            &emf["Dropped"],
            &emf["Duplicate"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(0)),
        "{emf}"
    );
}

async fn run_for_output(envs: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("exits promptly")
        .expect("runs")
}

#[tokio::test]
async fn bad_configuration_stops_start_up_with_one_line_naming_the_variable() {
    let out = run_for_output(&[], &[]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("AWS_LAMBDA_RUNTIME_API"), "{err}");

    let out = run_for_output(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")], &[]).await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SES_FROM_ADDRESS") && err.contains("required"),
        "{err}"
    );

    let out = run_for_output(
        &[
            ("SQS_EMAIL_QUEUE_URL", "http://127.0.0.1:9/1/q"),
            ("SES_FROM_ADDRESS", "not an address"),
        ],
        &["poll", "--once"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("mailer: configuration error: SES_FROM_ADDRESS")),
        "{err}"
    );

    let out = run_for_output(&[("SES_FROM_ADDRESS", "no-reply@cadenza.local")], &["poll"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SQS_EMAIL_QUEUE_URL"));
}
