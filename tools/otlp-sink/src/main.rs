//! `otlp-sink`: serves [`cadenza_otlp_sink::Sink`] on `OTLP_SINK_ADDR`
//! (default 127.0.0.1:54318). Point a service at it with
//! `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:54318`. Do not set that
//! variable for the sink itself: it would send its own spans to itself.

use anyhow::Context;
use cadenza_platform::{config, shutdown, telemetry};

const NAME: &str = "otlp-sink";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = telemetry::init(NAME);
    let addr: std::net::SocketAddr = config::or_exit(
        NAME,
        config::parse_or("OTLP_SINK_ADDR", ([127, 0, 0, 1], 54318).into()),
    );
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(%addr, "OTLP/HTTP traces on POST /v1/traces; read them on GET /traces/{{trace_id}}");
    let app = cadenza_otlp_sink::Sink::new()
        .router()
        .layer(axum::extract::DefaultBodyLimit::max(
            cadenza_otlp_sink::MAX_BODY,
        ));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown::signal())
        .await
        .context("serving")
}
