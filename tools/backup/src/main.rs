use std::path::PathBuf;
use std::time::Instant;

use aws_sdk_s3::config::RequestChecksumCalculation;
use cadenza_backup::{media, Part, Stores, ALL_PARTS};
use cadenza_platform::config::{self, ConfigError};
use clap::{Parser, Subcommand};

const NAME: &str = "cadenza-backup";

/// Backs up and restores Cadenza's stores (see tools/backup/README.md).
///
/// The stores come from the same variables the services read:
/// DATABASE_URL (catalogue), MONGODB_URI and MONGODB_DB (accounts),
/// S3_BUCKET, S3_FORCE_PATH_STYLE and AWS_ENDPOINT_URL_S3 (media).
#[derive(Parser)]
#[command(name = NAME, version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a backup into a new directory.
    Create {
        /// The new backup's directory.
        #[arg(long, required_unless_present = "into", conflicts_with = "into")]
        out: Option<PathBuf>,
        /// Make the backup in PARENT/<UTC time, YYYYMMDDTHHMMSSZ>.
        #[arg(long, value_name = "PARENT")]
        into: Option<PathBuf>,
        /// The stores to back up (default: all three).
        #[arg(long = "part", value_enum)]
        parts: Vec<Part>,
        /// Then copy it to s3://BUCKET/PREFIX/<its name>/ (the manifest last).
        #[arg(long, value_name = "S3_URL")]
        upload_to: Option<String>,
    },
    /// Download a backup that `create --upload-to` made, into a new directory.
    Fetch {
        /// s3://BUCKET/PREFIX/<backup name>
        url: String,
        #[arg(long)]
        to: PathBuf,
    },
    /// Check a backup against its manifest; change nothing.
    Verify { dir: PathBuf },
    /// Replace the stores' contents with a backup's, after verifying it.
    Restore {
        #[arg(long)]
        from: PathBuf,
        /// The stores to restore (default: every one the backup holds).
        #[arg(long = "part", value_enum)]
        parts: Vec<Part>,
        /// Required: restoring overwrites what the stores hold now.
        #[arg(long)]
        yes: bool,
    },
}

/// The stores `parts` need, from the services' variables.
async fn stores(parts: &[Part]) -> Result<Stores, ConfigError> {
    let mut s = Stores::default();
    if parts.contains(&Part::Postgres) {
        s.database_url = Some(config::require("DATABASE_URL")?);
    }
    if parts.contains(&Part::Mongo) {
        s.mongo = Some((
            config::require("MONGODB_URI")?,
            config::var("MONGODB_DB")?.unwrap_or_else(|| "cadenza".into()),
        ));
    }
    if parts.contains(&Part::Media) {
        let name = config::require("S3_BUCKET")?;
        s.media = Some(open_bucket(&name, RequestChecksumCalculation::WhenRequired).await?);
    }
    Ok(s)
}

/// A bucket with the media bucket's client settings (`S3_FORCE_PATH_STYLE`,
/// `AWS_ENDPOINT_URL_S3`). The backup bucket takes `WhenSupported`: Object
/// Lock wants a checksum on every PUT.
async fn open_bucket(
    name: &str,
    checksums: RequestChecksumCalculation,
) -> Result<media::Bucket, ConfigError> {
    let path_style = config::flag("S3_FORCE_PATH_STYLE", false)?;
    let sdk = cadenza_aws::sdk_config().await;
    Ok(media::Bucket::new(&sdk, name, path_style, checksums))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = cadenza_platform::telemetry::init(NAME);
    let t = Instant::now();
    let summary = match cli.command {
        Command::Create {
            out,
            into,
            parts,
            upload_to,
        } => {
            let parts = if parts.is_empty() {
                ALL_PARTS.to_vec()
            } else {
                parts
            };
            let out = match (out, into) {
                (Some(out), _) => out,
                (None, Some(parent)) => {
                    parent.join(chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string())
                }
                (None, None) => unreachable!("clap requires one"),
            };
            // The upload's settings are checked before the backup is taken.
            let remote = match upload_to.as_deref() {
                Some(url) => {
                    let (bucket, prefix) = cadenza_backup::remote::parse_url(url)?;
                    Some((
                        config::or_exit(
                            NAME,
                            open_bucket(&bucket, RequestChecksumCalculation::WhenSupported).await,
                        ),
                        prefix,
                    ))
                }
                None => None,
            };
            let s = config::or_exit(NAME, stores(&parts).await);
            let m = cadenza_backup::create(&s, &parts, &out).await?;
            let mut sum = summary("created", &m, &out, t);
            if let Some((b, prefix)) = remote {
                sum["uploadedTo"] = cadenza_backup::remote::upload(&b, &prefix, &out)
                    .await?
                    .into();
                sum["seconds"] = t.elapsed().as_secs_f64().into();
            }
            sum
        }
        Command::Fetch { url, to } => {
            let (bucket, prefix) = cadenza_backup::remote::parse_url(&url)?;
            let b = config::or_exit(
                NAME,
                open_bucket(&bucket, RequestChecksumCalculation::WhenSupported).await,
            );
            let m = cadenza_backup::remote::fetch(&b, &prefix, &to).await?;
            m.verify(&to)?;
            summary("fetched", &m, &to, t)
        }
        Command::Verify { dir } => {
            let m = cadenza_backup::Manifest::read(&dir)?;
            m.verify(&dir)?;
            summary("verified", &m, &dir, t)
        }
        Command::Restore { from, parts, yes } => {
            let m = cadenza_backup::Manifest::read(&from)?;
            let parts = if parts.is_empty() { m.parts() } else { parts };
            if !yes {
                anyhow::bail!(
                    "restoring {parts:?} replaces what those stores hold now; run again with --yes"
                );
            }
            let s = config::or_exit(NAME, stores(&parts).await);
            let m = cadenza_backup::restore(&s, &parts, &from).await?;
            summary("restored", &m, &from, t)
        }
    };
    println!("{summary}");
    Ok(())
}

fn summary(
    action: &str,
    m: &cadenza_backup::Manifest,
    dir: &std::path::Path,
    t: Instant,
) -> serde_json::Value {
    serde_json::json!({
        "action": action,
        "dir": dir,
        "startedAt": m.started_at,
        "finishedAt": m.finished_at,
        "parts": m.parts().iter().map(|p| format!("{p:?}").to_lowercase()).collect::<Vec<_>>(),
        "files": m.files.len(),
        "bytes": m.files.values().map(|f| f.bytes).sum::<u64>(),
        "documents": m.mongo.as_ref().map(|s| s.collections.iter().map(|c| c.documents).sum::<u64>()),
        "objects": m.media.as_ref().map(|s| s.objects),
        "seconds": t.elapsed().as_secs_f64(),
    })
}
