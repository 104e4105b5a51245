use anyhow::Context;
use cadenza_platform::{config, shutdown, telemetry};
use dev_edge::EdgeConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = telemetry::init("dev-edge");
    let config = config::or_exit("dev-edge", EdgeConfig::from_env());
    let s3 = dev_edge::s3_client().await;
    let router = dev_edge::router(s3, &config);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
        .await
        .with_context(|| format!("binding port {}", config.port))?;
    tracing::info!(port = config.port, bucket = %config.bucket, "dev-edge listening");
    shutdown::serve(
        listener,
        router,
        shutdown::signal(),
        std::time::Duration::from_secs(5),
    )
    .await?;
    Ok(())
}
