//! Trace ids in JSON log lines, with trace export off (this binary never
//! calls `telemetry::init`): a span joined to a caller's `traceparent`
//! gives its trace id (and the request id) to every line written in it or
//! in spans opened inside it, and passes that `traceparent` on unchanged.

use std::io::Write;
use std::sync::{Arc, Mutex};

use cadenza_platform::telemetry::propagation;
use cadenza_platform::telemetry::trace_id::{TraceIdLayer, WithTraceId};
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Lines {
    type Writer = Lines;
    fn make_writer(&'a self) -> Lines {
        self.clone()
    }
}

impl Lines {
    fn json(&self) -> Vec<Value> {
        let raw = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        raw.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn span(name: &'static str) -> tracing::Span {
    tracing::info_span!(
        "request",
        name,
        request_id = %format!("req-{name}"),
        trace_id = tracing::field::Empty,
        remote_traceparent = tracing::field::Empty
    )
}

#[test]
fn every_line_in_a_joined_span_and_its_children_carries_the_trace_id() {
    let lines = Lines::default();
    let subscriber = tracing_subscriber::registry().with(TraceIdLayer).with(
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .map_event_format(WithTraceId)
            .with_writer(lines.clone()),
    );
    tracing::subscriber::with_default(subscriber, || {
        let joined = span("joined");
        propagation::join(&joined, Some(TP));
        {
            let _r = joined.enter();
            tracing::info!("in the request");
            let db = tracing::info_span!("db.query", db.system = "postgresql");
            let _d = db.enter();
            tracing::info!(rows = 3, "in a child span");
            // What a message sent from here carries: the caller's context.
            assert_eq!(propagation::current().as_deref(), Some(TP));
        }
        let bad = span("malformed");
        propagation::join(&bad, Some("00-4bf92f3577b34da6a3ce929d0e0e4736-zz-01"));
        {
            let _b = bad.enter();
            tracing::info!("in a span with a malformed traceparent");
            assert_eq!(propagation::current(), None);
        }
        tracing::info!("outside any span");
    });
    let got = lines.json();
    assert_eq!(got.len(), 4, "{got:#?}");
    assert_eq!(got[0]["trace_id"], TRACE);
    assert_eq!(got[0]["message"], "in the request");
    assert_eq!(got[1]["trace_id"], TRACE);
    assert_eq!(got[1]["rows"], 3, "the event's own fields stay");
    assert_eq!(got[1]["span"]["name"], "db.query");
    // The request's id too, also under a span of its own (a store call).
    assert_eq!(got[0]["request_id"], "req-joined");
    assert_eq!(got[1]["request_id"], "req-joined");
    assert_eq!(got[2]["request_id"], "req-malformed");
    assert!(got[2].get("trace_id").is_none(), "{}", got[2]);
    assert!(got[3].get("trace_id").is_none(), "{}", got[3]);
}
