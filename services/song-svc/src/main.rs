use std::time::Duration;

use anyhow::Context;
use cadenza_platform::{config, shutdown, telemetry};
use song_svc::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = telemetry::init("song-svc");
    let config = config::or_exit("song-svc", Config::from_env());
    let port = config.port;
    let router = song_svc::build(config).await.context("starting song-svc")?;
    let listener =
        tokio::net::TcpListener::bind((config::or_exit("song-svc", config::bind_addr()), port))
            .await
            .with_context(|| format!("binding port {port}"))?;
    tracing::info!(port, "song-svc listening");
    shutdown::serve(
        listener,
        router,
        shutdown::signal(),
        Duration::from_secs(20),
    )
    .await?;
    Ok(())
}
