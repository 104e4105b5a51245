//! An OTLP/HTTP trace receiver for development and tests.
//!
//! `POST /v1/traces` takes what an OpenTelemetry SDK exports
//! (`application/x-protobuf`, optionally gzip) and keeps the spans in
//! memory, the newest [`MAX_SPANS`]. `GET /traces/{trace_id}` answers one
//! trace's spans as JSON, oldest first; `GET /traces` the newest traces.
//! It is what `./dev up` points the services at, and what
//! `dev.d/test/74-traces.sh` reads to check a trace end to end. It is not
//! a tracing backend: use a collector and Tempo or Jaeger in production.

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use prost::Message;
use serde::Serialize;

/// Spans kept; older ones are forgotten first.
pub const MAX_SPANS: usize = 50_000;
/// Largest request accepted (decompressed), like a collector's default.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// One received span, flattened for reading.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SpanRecord {
    pub service: String,
    pub name: String,
    /// `server`, `client`, `producer`, `consumer`, `internal` or `unspecified`.
    pub kind: &'static str,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    pub start_unix_nano: u64,
    pub end_unix_nano: u64,
    /// `unset`, `ok` or `error`.
    pub status: &'static str,
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// Linked spans, as `<trace id>-<span id>`.
    pub links: Vec<String>,
}

#[derive(Clone, Default)]
pub struct Sink {
    spans: Arc<Mutex<VecDeque<SpanRecord>>>,
}

impl Sink {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every kept span of `trace_id`, in arrival order.
    pub fn trace(&self, trace_id: &str) -> Vec<SpanRecord> {
        let spans = self.spans.lock().expect("sink lock");
        spans
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect()
    }

    pub fn len(&self) -> usize {
        self.spans.lock().expect("sink lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn keep(&self, new: Vec<SpanRecord>) {
        let mut spans = self.spans.lock().expect("sink lock");
        for s in new {
            if spans.len() == MAX_SPANS {
                spans.pop_front();
            }
            spans.push_back(s);
        }
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/traces", post(export))
            .route("/traces", get(recent))
            .route("/traces/{trace_id}", get(trace))
            .route("/healthz", get(|| async { "ok" }))
            .with_state(self.clone())
    }
}

fn text(v: &AnyValue) -> serde_json::Value {
    match &v.value {
        Some(any_value::Value::StringValue(s)) => s.clone().into(),
        Some(any_value::Value::BoolValue(b)) => (*b).into(),
        Some(any_value::Value::IntValue(i)) => (*i).into(),
        Some(any_value::Value::DoubleValue(d)) => (*d).into(),
        Some(any_value::Value::ArrayValue(a)) => a.values.iter().map(text).collect(),
        Some(other) => format!("{other:?}").into(),
        None => serde_json::Value::Null,
    }
}

fn attributes(kvs: &[KeyValue]) -> BTreeMap<String, serde_json::Value> {
    kvs.iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map_or(serde_json::Value::Null, text),
            )
        })
        .collect()
}

fn kind(k: i32) -> &'static str {
    match k {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "unspecified",
    }
}

fn status(code: i32) -> &'static str {
    match code {
        1 => "ok",
        2 => "error",
        _ => "unset",
    }
}

/// The spans of one export request.
pub fn flatten(req: &ExportTraceServiceRequest) -> Vec<SpanRecord> {
    let mut out = Vec::new();
    for rs in &req.resource_spans {
        let resource = rs
            .resource
            .as_ref()
            .map(|r| attributes(&r.attributes))
            .unwrap_or_default();
        let service = resource
            .get("service.name")
            .and_then(|v| v.as_str())
            .unwrap_or("unknown_service")
            .to_owned();
        for ss in &rs.scope_spans {
            for s in &ss.spans {
                out.push(SpanRecord {
                    service: service.clone(),
                    name: s.name.clone(),
                    kind: kind(s.kind),
                    trace_id: hex::encode(&s.trace_id),
                    span_id: hex::encode(&s.span_id),
                    parent_span_id: hex::encode(&s.parent_span_id),
                    start_unix_nano: s.start_time_unix_nano,
                    end_unix_nano: s.end_time_unix_nano,
                    status: status(s.status.as_ref().map_or(0, |st| st.code)),
                    attributes: attributes(&s.attributes),
                    links: s
                        .links
                        .iter()
                        .map(|l| {
                            format!("{}-{}", hex::encode(&l.trace_id), hex::encode(&l.span_id))
                        })
                        .collect(),
                });
            }
        }
    }
    out
}

fn refuse(code: StatusCode, why: &str) -> Response {
    (code, why.to_owned()).into_response()
}

async fn export(State(sink): State<Sink>, headers: HeaderMap, body: Bytes) -> Response {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype.starts_with("application/x-protobuf") {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "only application/x-protobuf (OTLP/HTTP binary) is accepted",
        );
    }
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let raw = if gzip {
        let mut out = Vec::new();
        let read = flate2::read::GzDecoder::new(&body[..])
            .take(MAX_BODY as u64 + 1)
            .read_to_end(&mut out);
        if read.is_err() || out.len() > MAX_BODY {
            return refuse(StatusCode::BAD_REQUEST, "bad or oversized gzip body");
        }
        Bytes::from(out)
    } else {
        body
    };
    let req = match ExportTraceServiceRequest::decode(raw) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &format!("not an OTLP export: {e}")),
    };
    sink.keep(flatten(&req));
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
        .into_response()
}

async fn trace(State(sink): State<Sink>, Path(trace_id): Path<String>) -> Json<Vec<SpanRecord>> {
    Json(sink.trace(&trace_id.to_ascii_lowercase()))
}

#[derive(Serialize)]
struct TraceSummary {
    trace_id: String,
    spans: usize,
    services: Vec<String>,
    root: Option<String>,
}

/// The newest 50 traces, newest first.
async fn recent(State(sink): State<Sink>) -> Json<Vec<TraceSummary>> {
    let spans = sink.spans.lock().expect("sink lock");
    let mut order: Vec<String> = Vec::new();
    let mut by: BTreeMap<String, TraceSummary> = BTreeMap::new();
    for s in spans.iter().rev() {
        let t = by.entry(s.trace_id.clone()).or_insert_with(|| {
            order.push(s.trace_id.clone());
            TraceSummary {
                trace_id: s.trace_id.clone(),
                spans: 0,
                services: Vec::new(),
                root: None,
            }
        });
        t.spans += 1;
        if !t.services.contains(&s.service) {
            t.services.push(s.service.clone());
        }
        if s.parent_span_id.is_empty() {
            t.root = Some(format!("{} {}", s.service, s.name));
        }
    }
    Json(
        order
            .into_iter()
            .take(50)
            .filter_map(|id| by.remove(&id))
            .collect(),
    )
}
