//! Trace ids in log lines.
//!
//! A span declares `trace_id = tracing::field::Empty` and records it once it
//! knows it ([`super::propagation::join`]); [`TraceIdLayer`] keeps that id
//! on the span and hands it to every span opened inside it, and
//! [`WithTraceId`] adds it as `"trace_id"` to each JSON line written in any
//! of them. With trace export off the id is still the caller's (an incoming
//! `traceparent`), so logs of one request can be joined across services.

use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The field a span records its trace id in.
pub const FIELD: &str = "trace_id";

/// The trace a span belongs to, the `traceparent` it was joined to from
/// outside (what an outgoing message carries when trace export is off), and
/// the id of the request it serves.
#[derive(Debug, Clone, Default)]
pub struct TraceOf {
    pub trace_id: Option<Arc<str>>,
    pub remote_parent: Option<Arc<str>>,
    pub request_id: Option<Arc<str>>,
}

/// Fields a span records that this layer reads.
pub const REMOTE_PARENT_FIELD: &str = "remote_traceparent";
pub const REQUEST_ID_FIELD: &str = "request_id";

#[derive(Default)]
struct Found {
    trace_id: Option<String>,
    remote_parent: Option<String>,
    request_id: Option<String>,
}

impl Found {
    fn any(&self) -> bool {
        self.trace_id.is_some() || self.remote_parent.is_some() || self.request_id.is_some()
    }
}

impl Visit for Found {
    fn record_str(&mut self, field: &Field, value: &str) {
        if value.is_empty() {
            return;
        }
        match field.name() {
            FIELD => self.trace_id = Some(value.to_owned()),
            REMOTE_PARENT_FIELD => self.remote_parent = Some(value.to_owned()),
            REQUEST_ID_FIELD if value != "-" => self.request_id = Some(value.to_owned()),
            _ => {}
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if matches!(field.name(), FIELD | REMOTE_PARENT_FIELD | REQUEST_ID_FIELD) {
            let s = format!("{value:?}");
            self.record_str(field, s.trim_matches('"'));
        }
    }
}

pub struct TraceIdLayer;

impl TraceIdLayer {
    fn store<S>(found: Found, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        let old = ext.remove::<TraceOf>().unwrap_or_default();
        ext.insert(TraceOf {
            trace_id: found.trace_id.map(Arc::from).or(old.trace_id),
            remote_parent: found.remote_parent.map(Arc::from).or(old.remote_parent),
            request_id: found.request_id.map(Arc::from).or(old.request_id),
        });
    }
}

impl<S> Layer<S> for TraceIdLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        // Inherited from the parent; the span's own fields win.
        let inherited = span
            .parent()
            .and_then(|p| p.extensions().get::<TraceOf>().cloned());
        if let Some(t) = inherited {
            span.extensions_mut().insert(t);
        }
        drop(span);
        let fields = attrs.fields();
        if fields.field(FIELD).is_some() || fields.field(REQUEST_ID_FIELD).is_some() {
            let mut found = Found::default();
            attrs.record(&mut found);
            if found.any() {
                Self::store(found, id, &ctx);
            }
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut found = Found::default();
        values.record(&mut found);
        if found.any() {
            Self::store(found, id, &ctx);
        }
    }
}

/// What [`TraceIdLayer`] knows of a span (its own fields or its ancestors').
pub fn trace_of(span: &tracing::Span) -> Option<TraceOf> {
    let mut out = None;
    span.with_subscriber(|(id, dispatch)| {
        if let Some(registry) = dispatch.downcast_ref::<tracing_subscriber::Registry>() {
            if let Some(s) = registry.span(id) {
                out = s.extensions().get::<TraceOf>().cloned();
            }
        }
    });
    out
}

/// Wraps the JSON event format: the line gets `"trace_id"` of the span it
/// was written in, at the top level.
pub struct WithTraceId<F>(pub F);

impl<S, N, F> FormatEvent<S, N> for WithTraceId<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let trace = ctx
            .parent_span()
            .and_then(|s| s.extensions().get::<TraceOf>().cloned());
        let Some(TraceOf {
            trace_id,
            request_id,
            ..
        }) = trace.filter(|t| t.trace_id.is_some() || t.request_id.is_some())
        else {
            return self.0.format_event(ctx, writer, event);
        };
        let mut line = String::with_capacity(256);
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        // Ids we wrote ourselves (hex, or a request id the request-id layer
        // made or checked), so no escaping is needed; anything else is
        // left out rather than risk a broken line.
        let plain = |v: &str| {
            v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        };
        // The JSON format writes one object and a newline.
        match line.trim_end().strip_suffix('}') {
            Some(head) => {
                let tail = &line[head.len() + 1..];
                writer.write_str(head)?;
                if let Some(t) = trace_id.filter(|t| plain(t)) {
                    write!(writer, ",\"{FIELD}\":\"{t}\"")?;
                }
                if let Some(r) = request_id.filter(|r| plain(r)) {
                    write!(writer, ",\"{REQUEST_ID_FIELD}\":\"{r}\"")?;
                }
                writer.write_str("}")?;
                writer.write_str(tail)
            }
            _ => writer.write_str(&line),
        }
    }
}
