//! Tracing setup: `RUST_LOG` filters, `LOG_FORMAT=json` for production
//! (one JSON object per line) or `pretty` for people.

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

pub fn init(service: &'static str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(
            "info,tower_http=info,aws_config=warn,aws_smithy_runtime=warn,mongodb=warn,sqlx=warn",
        )
    });
    let json = std::env::var("LOG_FORMAT")
        .map(|v| v.eq_ignore_ascii_case("json"))
        .unwrap_or(false);
    let registry = tracing_subscriber::registry().with(filter);
    // `try_init` so that tests which build several apps in one process can call it freely.
    let result = if json {
        registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init()
    } else {
        registry.with(fmt::layer().compact()).try_init()
    };
    if result.is_ok() {
        tracing::info!(
            service,
            version = env!("CARGO_PKG_VERSION"),
            "telemetry initialised"
        );
    }
}
