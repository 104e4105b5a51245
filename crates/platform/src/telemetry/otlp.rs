//! The OTLP/HTTP trace exporter: the SDK's batch processor and protobuf
//! encoding, sent with the workspace's reqwest client on the process's own
//! tokio runtime.

use std::time::Duration;

use opentelemetry::trace::{Link, SpanKind, TraceContextExt, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{
    Sampler, SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample,
};
use opentelemetry_sdk::Resource;

/// What the environment asks of the trace exporter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `OTEL_SERVICE_NAME`, when set (it wins over the binary's name).
    pub service_name: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `Ok(None)` when traces are off: no OTLP endpoint, `OTEL_SDK_DISABLED=true`
/// or `OTEL_TRACES_EXPORTER=none`. Only `http/protobuf` is spoken; another
/// `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL` is an error rather than an exporter
/// that silently sends what the collector cannot read.
pub fn settings_from_env() -> Result<Option<Settings>, String> {
    if var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Ok(None);
    }
    match var("OTEL_TRACES_EXPORTER").as_deref() {
        None | Some("otlp") => {}
        Some("none") => return Ok(None),
        Some(other) => {
            return Err(format!(
                "OTEL_TRACES_EXPORTER={other}: only otlp (or none) is supported"
            ))
        }
    }
    if var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none()
        && var("OTEL_EXPORTER_OTLP_ENDPOINT").is_none()
    {
        return Ok(None);
    }
    for name in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        if let Some(p) = var(name) {
            if p != "http/protobuf" {
                return Err(format!(
                    "{name}={p}: only http/protobuf is supported (the collector's port 4318)"
                ));
            }
        }
    }
    Ok(Some(Settings {
        service_name: var("OTEL_SERVICE_NAME"),
    }))
}

pub fn provider(service: &'static str, settings: &Settings) -> Result<SdkTracerProvider, String> {
    let handle = tokio::runtime::Handle::try_current()
        .map_err(|_| "telemetry::init must run inside the tokio runtime".to_owned())?;
    // OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT (ms) bounds each request of our
    // own client too (the SDK applies it only to its built-in clients).
    let timeout = var("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
        .or_else(|| var("OTEL_EXPORTER_OTLP_TIMEOUT"))
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(Duration::from_secs(10), Duration::from_millis);
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(2).min(timeout))
        .build()
        .map_err(|e| format!("OTLP HTTP client: {e}"))?;
    // Endpoint and headers come from the standard OTEL_EXPORTER_OTLP_*
    // variables, read by the builder (compression is not built in).
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_http_client(OnRuntime { client, handle })
        .build()
        .map_err(|e| format!("OTLP exporter: {e}"))?;
    let mut resource = Resource::builder().with_attribute(opentelemetry::KeyValue::new(
        "service.version",
        env!("CARGO_PKG_VERSION"),
    ));
    if settings.service_name.is_none() {
        resource = resource.with_service_name(service);
    }
    Ok(SdkTracerProvider::builder()
        .with_sampler(NoOrphanClients(sampler_from_env()))
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

/// The batch processor exports from its own thread, outside the runtime;
/// each request is spawned onto the runtime and awaited from there.
#[derive(Debug)]
struct OnRuntime {
    client: reqwest::Client,
    handle: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let request = reqwest::Request::try_from(request)?;
        let sent = self.handle.spawn(async move {
            let response = client.execute(request).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        });
        let (status, headers, body) = sent.await??;
        let mut out = Response::builder().status(status).body(body)?;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

/// `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`, as the specification
/// reads them (default `parentbased_always_on`; an unknown value or a bad
/// ratio falls back to it, or to ratio 1.0, as the SDK does).
pub fn sampler_from_env() -> Sampler {
    let ratio = || {
        var("OTEL_TRACES_SAMPLER_ARG")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|r| (0.0..=1.0).contains(r))
            .unwrap_or(1.0)
    };
    match var("OTEL_TRACES_SAMPLER").as_deref() {
        Some("always_on") => Sampler::AlwaysOn,
        Some("always_off") => Sampler::AlwaysOff,
        Some("traceidratio") => Sampler::TraceIdRatioBased(ratio()),
        Some("parentbased_always_off") => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        Some("parentbased_traceidratio") => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio())))
        }
        _ => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
    }
}

/// Drops spans that would fill the tracing backend with one-span traces:
/// client spans that start a trace (a database or Redis call made outside
/// any request, event or job is a background poll: the outbox relay every
/// second, the cache's resync) and untraced probes and scrapes (`/healthz`,
/// `/readyz`, `/metrics`, every few seconds from the kubelet and
/// Prometheus). The same call inside a traced request is a child and kept,
/// as is a probe sent with a `traceparent`; everything else goes to the
/// configured sampler.
#[derive(Debug, Clone)]
struct NoOrphanClients(Sampler);

impl ShouldSample for NoOrphanClients {
    fn should_sample(
        &self,
        parent: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let has_parent = parent.is_some_and(|cx| cx.span().span_context().is_valid());
        let probe = || {
            attributes.iter().any(|kv| {
                kv.key.as_str() == "path"
                    && matches!(
                        kv.value.as_str().as_ref(),
                        "/healthz" | "/readyz" | "/metrics"
                    )
            })
        };
        if !has_parent && (*kind == SpanKind::Client || (*kind == SpanKind::Server && probe())) {
            return SamplingResult {
                decision: SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state: TraceState::default(),
            };
        }
        self.0
            .should_sample(parent, trace_id, name, kind, attributes, links)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags};

    fn decide_at(parent: Option<&Context>, kind: SpanKind, path: &'static str) -> SamplingDecision {
        NoOrphanClients(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
            .should_sample(
                parent,
                TraceId::from(7),
                "x",
                &kind,
                &[KeyValue::new("path", path)],
                &[],
            )
            .decision
    }

    fn decide(parent: Option<&Context>, kind: SpanKind) -> SamplingDecision {
        decide_at(parent, kind, "/api/song/album")
    }

    #[test]
    fn a_root_client_span_is_dropped_and_a_child_one_kept() {
        assert_eq!(decide(None, SpanKind::Client), SamplingDecision::Drop);
        assert_eq!(
            decide(Some(&Context::new()), SpanKind::Client),
            SamplingDecision::Drop
        );
        for kind in [SpanKind::Server, SpanKind::Consumer, SpanKind::Producer] {
            assert_eq!(decide(None, kind), SamplingDecision::RecordAndSample);
        }
        let parent = Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(7),
            SpanId::from(9),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ));
        assert_eq!(
            decide(Some(&parent), SpanKind::Client),
            SamplingDecision::RecordAndSample
        );
        for probe in ["/healthz", "/readyz", "/metrics"] {
            assert_eq!(
                decide_at(None, SpanKind::Server, probe),
                SamplingDecision::Drop
            );
            assert_eq!(
                decide_at(Some(&parent), SpanKind::Server, probe),
                SamplingDecision::RecordAndSample,
                "a probe sent with a traceparent is traced"
            );
        }
    }
}
