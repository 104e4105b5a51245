use std::time::Duration;

use anyhow::Context;
use cadenza_auth::Role;
use cadenza_platform::{config, shutdown, telemetry};
use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use user_svc::domain::{PasswordHasher, PasswordPolicy};
use user_svc::store::Store;
use user_svc::{Config, Email};

#[derive(Parser)]
#[command(name = "user-svc", about = "Cadenza accounts service", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Administer admin accounts.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Administer user accounts.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Copy the users and favourites of a spotify-microservices deployment
    /// (Prisma on MongoDB) into MONGODB_URI / MONGODB_DB, keeping ids and
    /// bcrypt hashes. Safe to run again: existing ids are left alone.
    ImportSeed {
        /// The seed's MongoDB URI (read only).
        #[arg(long)]
        from_mongodb_uri: String,
        /// The seed's database name.
        #[arg(long)]
        from_db: String,
        /// Report what would be imported, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Create a verified admin, or promote an existing user to admin.
    Create {
        #[arg(long)]
        email: String,
        /// Needed only to create a new account; a random one is printed otherwise.
        #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create a verified listener account unless it already exists.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, env = "USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = telemetry::init("user-svc");
    if let Some(Command::ImportSeed {
        from_mongodb_uri,
        from_db,
        dry_run,
    }) = &cli.command
    {
        // Needs only the target database, not the service's whole config.
        let uri = config::or_exit("user-svc", config::require("MONGODB_URI"));
        let db = config::or_exit("user-svc", config::var("MONGODB_DB"))
            .unwrap_or_else(|| "cadenza".into());
        let target = Store::connect(&uri, &db).await?;
        let seed = user_svc::import::seed_database(from_mongodb_uri, from_db).await?;
        let report = user_svc::import::import_seed(&seed, &target, *dry_run).await?;
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let config = config::or_exit("user-svc", Config::from_env());
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Admin {
            action: AdminAction::Create { email, password },
        } => create_account(&config, &email, password, Role::Admin).await,
        Command::User {
            action: UserAction::Create { email, password },
        } => create_account(&config, &email, Some(password), Role::User).await,
        Command::ImportSeed { .. } => unreachable!("handled above"),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let port = config.port;
    let app = user_svc::build(config).await.context("starting user-svc")?;
    shutdown::run("user-svc", port, app.router.clone()).await?;
    // Mails a request decided to send after its reply went out.
    let pending = &app.state.after_reply;
    pending.close();
    if tokio::time::timeout(Duration::from_secs(10), pending.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            tasks = pending.len(),
            "stopping with work after reply unfinished"
        );
    }
    Ok(())
}

async fn create_account(
    config: &Config,
    raw_email: &str,
    password: Option<String>,
    role: Role,
) -> anyhow::Result<()> {
    let email = Email::parse(raw_email).map_err(|e| anyhow::anyhow!("--email {e}"))?;
    let store = Store::connect(config.mongodb_uri.expose_secret(), &config.mongodb_db).await?;
    store.ensure_indexes().await?;
    let hasher = PasswordHasher::new().await?;
    let existing = store.user_by_email(email.as_str()).await?;
    let mut generated = None;
    let hash = match (&existing, password) {
        (Some(_), _) => None,
        (None, Some(p)) => {
            PasswordPolicy::check(&p, &[email.as_str()])
                .map_err(|e| anyhow::anyhow!("--password {e}"))?;
            Some(hasher.hash(&p).await.map_err(problem_error)?)
        }
        (None, None) => {
            let p = user_svc::tokens::random_token();
            let h = hasher.hash(&p).await.map_err(problem_error)?;
            generated = Some(p);
            Some(h)
        }
    };
    match role {
        Role::Admin => {
            let created = store
                .upsert_admin(email.as_str(), hash)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if created {
                println!("created admin {email}");
                if let Some(p) = generated {
                    println!("generated password: {p}");
                }
            } else {
                println!("{email} exists; it is now a verified admin");
            }
        }
        Role::User => match hash {
            Some(hash) => {
                store
                    .ensure_user(email.as_str(), hash, Role::User)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("created user {email}");
            }
            None => println!("{email} already exists; left unchanged"),
        },
    }
    Ok(())
}

/// A `Problem` met outside a request (a CLI command): its cause is only
/// logged when a response is built, so it goes into the error here.
fn problem_error(p: cadenza_platform::Problem) -> anyhow::Error {
    match p.cause() {
        Some(cause) => anyhow::anyhow!("{p}: {cause}"),
        None => anyhow::anyhow!("{p}"),
    }
}
