//! Tracing setup, for every binary:
//!
//! - logs: `RUST_LOG` filters, `LOG_FORMAT=json` for production (one JSON
//!   object per line) or `pretty` for people. A JSON line written inside a
//!   traced span carries that trace's id as `trace_id` ([`trace_id`]).
//! - traces: OpenTelemetry, exported as OTLP/HTTP protobuf when
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
//!   is set, and off otherwise, with the standard variables:
//!   `OTEL_SERVICE_NAME` (default: the binary's name), `OTEL_RESOURCE_ATTRIBUTES`,
//!   `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER` / `_ARG` (default
//!   `parentbased_always_on`), `OTEL_BSP_*`, `OTEL_SDK_DISABLED`.
//!   W3C trace context (`traceparent`) goes in and out through
//!   [`propagation`]: HTTP requests, the catalogue events' envelope and the
//!   email jobs' SQS attribute.

mod otlp;
pub mod propagation;
pub mod trace_id;

use std::sync::OnceLock;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Keeps the trace exporter alive; dropping it exports what is buffered.
/// Hold it in `main` for the life of the process.
#[must_use = "dropping the guard at once shuts the trace exporter down"]
pub struct Telemetry {
    tracing: bool,
}

impl Telemetry {
    /// Whether spans are exported (an OTLP endpoint is configured).
    pub fn exports_traces(&self) -> bool {
        self.tracing
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        // Only the guard whose `init` installed the exporter shuts it down.
        if !self.tracing {
            return;
        }
        if let Some(p) = PROVIDER.get() {
            if let Err(e) = p.shutdown() {
                eprintln!("telemetry: trace export shut down with an error: {e}");
            }
        }
    }
}

/// Whether this process exports traces (set once by [`init`]).
pub fn tracing_enabled() -> bool {
    PROVIDER.get().is_some()
}

/// Exports every finished span now. The Lambda runtime freezes the process
/// between invocations, so the mailer calls this after each batch. The
/// flush blocks a thread of the blocking pool, not a runtime worker (the
/// export itself runs on the runtime).
pub async fn flush() {
    if let Some(p) = PROVIDER.get() {
        let p = p.clone();
        // A collector that does not answer must not hold the caller (a
        // Lambda batch) for the exporter's whole timeout and retries.
        let flushed = tokio::time::timeout(
            FLUSH_BUDGET,
            tokio::task::spawn_blocking(move || p.force_flush()),
        )
        .await;
        match flushed {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "trace export flush failed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "trace export flush panicked"),
            Err(_) => {
                tracing::warn!(budget = ?FLUSH_BUDGET, "trace export flush took too long; spans may be lost")
            }
        }
    }
}

/// The longest [`flush`] waits.
pub const FLUSH_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

static TRUST_TRACEPARENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether an HTTP request's `traceparent` header is joined
/// (`TRUST_TRACEPARENT=true`: every request comes through a gateway that
/// sets or replaces it). Otherwise any client could pick the trace id,
/// force sampling with the sampled flag, or splice requests into a trace of
/// its choosing: the header is then only a link on a trace of our own.
pub fn trust_traceparent() -> bool {
    TRUST_TRACEPARENT.load(std::sync::atomic::Ordering::Relaxed)
}

/// Sets what [`trust_traceparent`] answers (from the environment by
/// [`init`]; tests set it directly).
pub fn set_trust_traceparent(trust: bool) {
    TRUST_TRACEPARENT.store(trust, std::sync::atomic::Ordering::Relaxed);
}

pub fn init(service: &'static str) -> Telemetry {
    set_trust_traceparent(
        std::env::var("TRUST_TRACEPARENT").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true")),
    );
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(
            "info,tower_http=info,aws_config=warn,aws_smithy_runtime=warn,mongodb=warn,sqlx=warn",
        )
    });
    let json = std::env::var("LOG_FORMAT")
        .map(|v| v.eq_ignore_ascii_case("json"))
        .unwrap_or(false);
    let (otel, otel_error) = match otlp::settings_from_env() {
        Ok(Some(settings)) => match otlp::provider(service, &settings) {
            Ok(provider) => (Some(provider), None),
            Err(e) => (None, Some(e)),
        },
        Ok(None) => (None, None),
        Err(e) => (None, Some(e)),
    };
    let otel_layer = otel.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(service))
            .with_error_records_to_exceptions(true)
    });
    let fmt_layer = if json {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .map_event_format(trace_id::WithTraceId)
            .boxed()
    } else {
        fmt::layer().compact().boxed()
    };
    // `try_init` so that tests which build several apps in one process can call it freely.
    // One global filter: a span that no directive enables is never created,
    // for the logs and the traces alike.
    let result = tracing_subscriber::registry()
        .with(filter)
        .with(trace_id::TraceIdLayer)
        .with(otel_layer)
        .with(fmt_layer)
        .try_init();
    let installed = result.is_ok();
    if installed {
        if let Some(provider) = otel {
            opentelemetry::global::set_text_map_propagator(
                opentelemetry_sdk::propagation::TraceContextPropagator::new(),
            );
            let _ = PROVIDER.set(provider);
        }
        tracing::info!(
            service,
            version = env!("CARGO_PKG_VERSION"),
            traces = if tracing_enabled() { "otlp" } else { "off" },
            "telemetry initialised"
        );
        if let Some(e) = otel_error {
            tracing::warn!(error = %e, "trace export is off: its configuration is invalid");
        }
    }
    Telemetry {
        tracing: installed && tracing_enabled(),
    }
}
