use std::time::Duration;

use admin_svc::Config;
use anyhow::Context;
use cadenza_platform::{config, shutdown, telemetry};
use clap::{Parser, Subcommand};

const NAME: &str = "admin-svc";

#[derive(Parser)]
#[command(name = NAME, about = "Cadenza catalogue administration API", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending catalogue migrations to DATABASE_URL and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(NAME);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => {
            let url = config::or_exit(NAME, admin_svc::config::database_url());
            let pool = admin_svc::app::connect_db(&url).await?;
            cadenza_catalog::migrate(&pool)
                .await
                .context("applying migrations")?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Serve => {
            let config = config::or_exit(NAME, Config::from_env());
            let port = config.port;
            let app = admin_svc::build(config).await?;
            let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
                .await
                .with_context(|| format!("binding port {port}"))?;
            tracing::info!(port, "admin-svc listening");
            shutdown::serve(
                listener,
                app.router,
                shutdown::signal(),
                Duration::from_secs(20),
            )
            .await?;
            Ok(())
        }
    }
}
