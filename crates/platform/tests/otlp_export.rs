//! Trace export for real: the standard HTTP layers behind `telemetry::init`
//! with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at an OTLP/HTTP receiver on
//! loopback (tools/otlp-sink). One test per binary: `init` installs the
//! process's one subscriber.

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use cadenza_otlp_sink::{Sink, SpanRecord};
use cadenza_platform::http::{standard_layers, HttpSettings};
use cadenza_platform::telemetry::{self, propagation};
use http_body_util::BodyExt;
use tower::ServiceExt;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER: &str = "00f067aa0ba902b7";

async fn handler() -> String {
    let child = tracing::info_span!("child.work", otel.kind = "internal");
    let _g = child.enter();
    propagation::current().unwrap_or_default()
}

async fn get_with(app: &Router, traceparent: Option<&str>) -> String {
    let mut req = Request::get("/work");
    if let Some(tp) = traceparent {
        req = req.header("traceparent", tp);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

async fn spans_of(sink: &Sink, trace_id: &str, want: usize) -> Vec<SpanRecord> {
    for _ in 0..100 {
        telemetry::flush().await;
        let spans = sink.trace(trace_id);
        if spans.len() >= want {
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sink.trace(trace_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_an_otlp_receiver_in_the_callers_trace() {
    let sink = Sink::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = sink.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    // Before init; the one test of this binary, so no other thread reads the
    // environment meanwhile.
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}"));
    std::env::remove_var("OTEL_SERVICE_NAME");
    std::env::set_var("TRUST_TRACEPARENT", "true");
    let guard = telemetry::init("otlp-test");
    assert!(telemetry::trust_traceparent());
    assert!(guard.exports_traces());

    let app = standard_layers(
        Router::new().route("/work", get(handler)),
        &HttpSettings::new("http://localhost"),
    );

    // A caller's traceparent: the request span is its child, the handler's
    // span the request span's, and what the handler would send on names
    // the handler's span in the same trace.
    let sent_on = get_with(&app, Some(&format!("00-{TRACE}-{CALLER}-01"))).await;
    let spans = spans_of(&sink, TRACE, 2).await;
    let server = spans
        .iter()
        .find(|s| s.kind == "server")
        .unwrap_or_else(|| panic!("no server span in {spans:#?}"));
    assert_eq!(server.service, "otlp-test");
    assert_eq!(server.name, "GET");
    assert_eq!(server.parent_span_id, CALLER);
    assert_eq!(server.attributes.get("path"), Some(&"/work".into()));
    assert_eq!(server.attributes.get("status"), Some(&200.into()));
    assert_eq!(server.attributes.get("trace_id"), Some(&TRACE.into()));
    let child = spans
        .iter()
        .find(|s| s.name == "child.work")
        .unwrap_or_else(|| panic!("no child span in {spans:#?}"));
    assert_eq!(child.parent_span_id, server.span_id);
    assert_eq!(sent_on, format!("00-{TRACE}-{}-01", child.span_id));

    // A malformed traceparent is not joined: the request starts a trace of
    // its own, which the answer names.
    let fresh = get_with(&app, Some(&format!("00-{TRACE}-0000000000000000-01"))).await;
    let fresh_trace = propagation::trace_id_of(&fresh).expect("a valid traceparent");
    assert_ne!(fresh_trace, TRACE);
    let spans = spans_of(&sink, &fresh_trace, 2).await;
    let server = spans.iter().find(|s| s.kind == "server").unwrap();
    assert_eq!(server.parent_span_id, "", "a root span");
    assert_eq!(
        sink.trace(TRACE).len(),
        2,
        "nothing more joined the caller's trace"
    );
    drop(guard);
}
