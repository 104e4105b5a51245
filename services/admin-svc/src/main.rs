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
    /// Move to trash/ the uploads admin-svc issued (upload ledger) that no
    /// album or song references once older than a grace period, then delete
    /// trash older than TRASH_RETENTION_DAYS. Objects not in the ledger are
    /// never touched (reported as foreign).
    Sweep {
        /// Only ledger entries and objects at least this many hours old.
        #[arg(long, default_value_t = 24)]
        older_than_hours: u64,
        /// Report what would be trashed; move and delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete for good the trash older than TRASH_RETENTION_DAYS (default 7).
    PurgeTrash,
    /// Copy trashed objects back to their original keys.
    RestoreTrash {
        /// The original key (e.g. songs/<uuid>.mp3).
        #[arg(required_unless_present = "all_since", conflicts_with = "all_since")]
        key: Option<String>,
        /// Restore everything trashed at or after this RFC 3339 time.
        #[arg(long)]
        all_since: Option<chrono::DateTime<chrono::Utc>>,
        /// List the trash as JSON, restore nothing.
        #[arg(long)]
        list: bool,
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

/// What the sweep, trash and import commands need: config, database, bucket.
async fn sweep_deps() -> anyhow::Result<(
    admin_svc::config::SweepConfig,
    sqlx::PgPool,
    admin_svc::objects::MediaStore,
)> {
    let cfg = config::or_exit(NAME, admin_svc::config::SweepConfig::from_env());
    let pool = admin_svc::app::connect_db(&cfg.database_url).await?;
    let sdk = cadenza_aws::sdk_config().await;
    let media = admin_svc::objects::MediaStore::from_sweep_config(&sdk, &cfg);
    Ok((cfg, pool, media))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = telemetry::init(NAME);
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
            let (cfg, pool, media) = sweep_deps().await?;
            let grace = Duration::from_secs(older_than_hours.saturating_mul(3600));
            let report = admin_svc::sweep::sweep(&pool, &media, grace, dry_run).await?;
            let purge = if dry_run {
                admin_svc::trash::PurgeReport::default()
            } else {
                let locks = admin_svc::orphans::KeyLocks::new(pool.clone());
                admin_svc::trash::purge(&pool, &locks, &media, cfg.trash_retention).await?
            };
            println!(
                "{}",
                serde_json::json!({
                    "scanned": report.scanned,
                    "orphaned": report.orphaned,
                    "foreign": report.foreign,
                    "trashed": report.trashed,
                    "failed": report.failed,
                    "trashPurged": purge.purged.len(),
                    "trashPurgeFailed": purge.failed,
                    "dryRun": dry_run,
                })
            );
            if !report.failed.is_empty() || !purge.failed.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::PurgeTrash => {
            let (cfg, pool, media) = sweep_deps().await?;
            let locks = admin_svc::orphans::KeyLocks::new(pool.clone());
            let report =
                admin_svc::trash::purge(&pool, &locks, &media, cfg.trash_retention).await?;
            println!("{}", serde_json::to_string(&report)?);
            if !report.failed.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::RestoreTrash {
            key,
            all_since,
            list,
        } => {
            let (_, pool, media) = sweep_deps().await?;
            if list {
                let entries = admin_svc::trash::list(&pool).await?;
                println!("{}", serde_json::to_string_pretty(&entries)?);
                return Ok(());
            }
            let locks = admin_svc::orphans::KeyLocks::new(pool.clone());
            let report = match (key, all_since) {
                (Some(key), _) => {
                    let mut report = admin_svc::trash::RestoreReport::default();
                    match admin_svc::trash::restore(&locks, &media, &key).await {
                        Ok(true) => report.restored.push(key),
                        Ok(false) => anyhow::bail!("{key} is not in the trash"),
                        Err(e) => {
                            tracing::error!(key, error = %e, "restore failed");
                            report.failed.push(key);
                        }
                    }
                    report
                }
                (None, Some(since)) => {
                    admin_svc::trash::restore_since(&pool, &locks, &media, since).await?
                }
                (None, None) => anyhow::bail!("give a KEY or --all-since"),
            };
            println!("{}", serde_json::to_string(&report)?);
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
            let (_, target, media) = sweep_deps().await?;
            cadenza_catalog::migrate(&target)
                .await
                .context("applying migrations")?;
            let seed = admin_svc::app::connect_db(&from_database_url.into())
                .await
                .context("connecting to the seed database")?;
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
            shutdown::run(NAME, port, app.router).await?;
            Ok(())
        }
    }
}
