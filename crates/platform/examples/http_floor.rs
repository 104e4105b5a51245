//! The per-request floor of the standard HTTP stack (issue 16): serves a
//! constant JSON body at `/floor` under the first N of
//! [`cadenza_platform::http::LAYERS`], so `bench/http-floor.sh` can price
//! each layer. Not a service; built only by the benchmark.
//!
//!     http_floor <layers 0..=8> <port>

use std::time::Duration;

use axum::http::header;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use cadenza_platform::http::{layers_up_to, HttpSettings, LAYERS};
use cadenza_platform::{metrics, shutdown, telemetry};

/// About the size of a cached album detail's head; the body is not the point.
const BODY: &[u8] =
    br#"{"album":{"id":"00000000-0000-0000-0000-000000000000","name":"Floor"},"songs":[]}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = || -> ! {
        eprintln!("usage: http_floor <layers 0..={}> <port>", LAYERS.len());
        std::process::exit(2)
    };
    let layers: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| usage());
    let port: u16 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| usage());
    if layers > LAYERS.len() {
        usage();
    }
    let _telemetry = telemetry::init("http-floor");
    metrics::init("http-floor", env!("CARGO_PKG_VERSION"));
    let router = Router::new().route(
        "/floor",
        get(|| async {
            (
                [(header::CONTENT_TYPE, "application/json")],
                Bytes::from_static(BODY),
            )
        }),
    );
    let router = layers_up_to(router, &HttpSettings::new("http://127.0.0.1:8080"), layers);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::warn!(layers = ?&LAYERS[..layers], port, "http_floor listening");
    shutdown::serve(listener, router, shutdown::signal(), Duration::from_secs(1)).await
}
