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
    /// Delete media objects no album or song references (uploads never
    /// used, leftovers of failed purges), once older than a grace period.
    Sweep {
        /// Only objects last modified at least this many hours ago.
        #[arg(long, default_value_t = 24)]
        older_than_hours: u64,
        /// Report what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Copy the catalogue of a spotify-microservices deployment (its
    /// PostgreSQL tables "album" and "song") into DATABASE_URL, keeping ids,
    /// keys and timestamps. Safe to run again: existing ids are left alone.
    ImportSeed {
        /// The seed's PostgreSQL URL (read only).
        #[arg(long)]
        from_database_url: String,
        /// Report what would be imported, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Skip rows whose S3 objects are missing (default: import and report).
        #[arg(long)]
        skip_missing_objects: bool,
    },
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
        Command::Sweep {
            older_than_hours,
            dry_run,
        } => {
            let cfg = config::or_exit(NAME, admin_svc::config::SweepConfig::from_env());
            let pool = admin_svc::app::connect_db(&cfg.database_url).await?;
            let sdk = cadenza_aws::sdk_config().await;
            let media = admin_svc::storage::MediaStore::new(
                &sdk,
                &cfg.s3_bucket,
                cfg.s3_endpoint.as_deref(),
                None,
                cfg.s3_force_path_style,
            );
            let grace = Duration::from_secs(older_than_hours.saturating_mul(3600));
            let report = admin_svc::sweep::sweep(&pool, &media, grace, dry_run).await?;
            println!(
                "{}",
                serde_json::json!({
                    "scanned": report.scanned,
                    "orphans": report.orphans,
                    "failed": report.failed,
                    "dryRun": dry_run,
                })
            );
            if !report.failed.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::ImportSeed {
            from_database_url,
            dry_run,
            skip_missing_objects,
        } => {
            let cfg = config::or_exit(NAME, admin_svc::config::SweepConfig::from_env());
            let target = admin_svc::app::connect_db(&cfg.database_url).await?;
            cadenza_catalog::migrate(&target)
                .await
                .context("applying migrations")?;
            let seed = admin_svc::app::connect_db(&from_database_url)
                .await
                .context("connecting to the seed database")?;
            let sdk = cadenza_aws::sdk_config().await;
            let media = admin_svc::storage::MediaStore::new(
                &sdk,
                &cfg.s3_bucket,
                cfg.s3_endpoint.as_deref(),
                None,
                cfg.s3_force_path_style,
            );
            let report = admin_svc::import::import_seed(
                &seed,
                &target,
                &media,
                admin_svc::import::ImportOptions {
                    dry_run,
                    skip_missing_objects,
                },
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Serve => {
            let config = config::or_exit(NAME, Config::from_env());
            let port = config.port;
            let app = admin_svc::build(config).await?;
            let listener =
                tokio::net::TcpListener::bind((config::or_exit(NAME, config::bind_addr()), port))
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
