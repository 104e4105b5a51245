use anyhow::Context;
use cadenza_platform::{config, shutdown, telemetry};
use song_svc::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = telemetry::init("song-svc");
    let config = config::or_exit("song-svc", Config::from_env());
    let port = config.port;
    let router = song_svc::build(config).await.context("starting song-svc")?;
    shutdown::run("song-svc", port, router).await?;
    Ok(())
}
