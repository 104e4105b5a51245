//! W3C trace context (`traceparent`) in and out.
//!
//! A span that may continue a trace from elsewhere declares
//! `trace_id = Empty, remote_traceparent = Empty` (`tracing::field::Empty`) and
//! calls [`join`] with the `traceparent` it was given (an HTTP header, the
//! catalogue event's envelope, the email job's SQS attribute). Whatever it
//! sends on carries [`traceparent`] of the span it is sent from.
//!
//! With trace export on, these are OpenTelemetry contexts: the span becomes
//! a child of the remote one, and what goes out names the current span.
//! With it off, the remote `traceparent` passes through unchanged, so the
//! trace id still joins the log lines of every hop.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::trace_id::{trace_of, FIELD, REMOTE_PARENT_FIELD};

/// The header, envelope field and SQS message attribute name.
pub const TRACEPARENT: &str = "traceparent";

/// W3C Trace Context level 1, strictly: `version-traceid-parentid-flags`,
/// lowercase hex of exactly 2-32-16-2 digits, version not `ff` (version
/// `00` has nothing after the flags), ids not all zeros. The SDK's parser
/// alone accepts, for one, a 31-digit trace id.
fn well_formed(tp: &str) -> bool {
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let mut parts = tp.split('-');
    let (Some(v), Some(t), Some(p), Some(f)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let rest = parts.next();
    hex(v, 2)
        && v != "ff"
        && (v != "00" || rest.is_none())
        && hex(t, 32)
        && hex(p, 16)
        && hex(f, 2)
        && t.bytes().any(|b| b != b'0')
        && p.bytes().any(|b| b != b'0')
}

/// The remote context of a `traceparent` value, if it is a valid one.
fn extract(traceparent: &str) -> Option<opentelemetry::Context> {
    if !well_formed(traceparent) {
        return None;
    }
    let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    let cx = TraceContextPropagator::new().extract(&carrier);
    cx.span().span_context().is_valid().then_some(cx)
}

/// The trace id (32 lowercase hex digits) of a valid `traceparent`.
pub fn trace_id_of(traceparent: &str) -> Option<String> {
    extract(traceparent).map(|cx| cx.span().span_context().trace_id().to_string())
}

/// Makes `span` continue the trace of `traceparent` (when valid) and records
/// its trace id. Without a valid `traceparent` it starts a trace of its own
/// when traces are exported, and has no trace id otherwise.
pub fn join(span: &tracing::Span, traceparent: Option<&str>) {
    let remote = traceparent.and_then(|t| extract(t).map(|cx| (t, cx)));
    if super::tracing_enabled() {
        if let Some((_, cx)) = &remote {
            let _ = span.set_parent(cx.clone());
        }
        let cx = span.context();
        let otel_span = cx.span();
        let sc = otel_span.span_context();
        if sc.is_valid() {
            span.record(FIELD, sc.trace_id().to_string());
        }
    } else if let Some((t, cx)) = remote {
        span.record(FIELD, cx.span().span_context().trace_id().to_string());
        span.record(REMOTE_PARENT_FIELD, t);
    }
}

/// Starts a trace of our own for `span` (when traces are exported), with the
/// untrusted `traceparent` as a link, not a parent: a client cannot choose
/// our trace ids, our sampling or the trace our spans land in.
pub fn join_as_link(span: &tracing::Span, traceparent: Option<&str>) {
    join(span, None);
    if super::tracing_enabled() {
        if let Some(cx) = traceparent.and_then(extract) {
            span.add_link(cx.span().span_context().clone());
        }
    }
}

/// The `traceparent` to send from `span`: the span itself when traces are
/// exported; else the `traceparent` it (or an ancestor) joined, if any.
pub fn traceparent(span: &tracing::Span) -> Option<String> {
    if super::tracing_enabled() {
        let cx = span.context();
        if !cx.span().span_context().is_valid() {
            return None;
        }
        let mut carrier = HashMap::new();
        TraceContextPropagator::new().inject_context(&cx, &mut carrier);
        carrier.remove(TRACEPARENT)
    } else {
        trace_of(span).and_then(|t| t.remote_parent.map(|p| p.to_string()))
    }
}

/// The `traceparent` of the current span (see [`traceparent`]).
pub fn current() -> Option<String> {
    traceparent(&tracing::Span::current())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_gives_its_trace_id_and_a_malformed_one_none() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            trace_id_of(tp).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        for bad in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nx: y",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        ] {
            assert_eq!(trace_id_of(bad), None, "{bad:?} accepted");
        }
    }
}
