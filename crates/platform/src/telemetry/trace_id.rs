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

/// The trace a span belongs to, and the `traceparent` it was joined to from
/// outside (what an outgoing message carries when trace export is off).
#[derive(Debug, Clone)]
pub struct TraceOf {
    pub trace_id: Arc<str>,
    pub remote_parent: Option<Arc<str>>,
}

/// Fields a span records that this layer reads.
pub const REMOTE_PARENT_FIELD: &str = "remote_traceparent";

#[derive(Default)]
struct Found {
    trace_id: Option<String>,
    remote_parent: Option<String>,
}

impl Visit for Found {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            FIELD if !value.is_empty() => self.trace_id = Some(value.to_owned()),
            REMOTE_PARENT_FIELD if !value.is_empty() => self.remote_parent = Some(value.to_owned()),
            _ => {}
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == FIELD || field.name() == REMOTE_PARENT_FIELD {
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
        let old = ext.remove::<TraceOf>();
        let trace_id = match (found.trace_id, &old) {
            (Some(t), _) => Arc::from(t),
            (None, Some(old)) => old.trace_id.clone(),
            (None, None) => return,
        };
        let remote_parent = found
            .remote_parent
            .map(Arc::from)
            .or_else(|| old.and_then(|o| o.remote_parent));
        ext.insert(TraceOf {
            trace_id,
            remote_parent,
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
        if attrs.fields().field(FIELD).is_some() {
            let mut found = Found::default();
            attrs.record(&mut found);
            Self::store(found, id, &ctx);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut found = Found::default();
        values.record(&mut found);
        if found.trace_id.is_some() || found.remote_parent.is_some() {
            Self::store(found, id, &ctx);
        }
    }
}

/// The trace a span (or its nearest traced ancestor) belongs to.
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
            .lookup_current()
            .and_then(|s| s.extensions().get::<TraceOf>().map(|t| t.trace_id.clone()));
        let Some(trace_id) = trace else {
            return self.0.format_event(ctx, writer, event);
        };
        let mut line = String::with_capacity(256);
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        // The JSON format writes one object and a newline.
        match line.trim_end().strip_suffix('}') {
            Some(head) if trace_id.bytes().all(|b| b.is_ascii_hexdigit()) => {
                let tail = &line[head.len() + 1..];
                writer.write_str(head)?;
                write!(writer, ",\"{FIELD}\":\"{trace_id}\"}}")?;
                writer.write_str(tail)
            }
            _ => writer.write_str(&line),
        }
    }
}
