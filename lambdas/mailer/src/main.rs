use std::time::Duration;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use cadenza_aws::aws_config::SdkConfig;
use cadenza_platform::config::{self, ConfigError};
use clap::{Parser, Subcommand};
use lambda_runtime::{service_fn, LambdaEvent};

use mailer::{inbox, poller::Poller, Config, Mailer};

const NAME: &str = "mailer";

/// Cadenza mailer: SQS email jobs → SES v2.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve Lambda invocations (the default; needs AWS_LAMBDA_RUNTIME_API).
    Lambda,
    /// Development: long-poll SQS_EMAIL_QUEUE_URL and handle batches like
    /// Lambda's event-source mapping would.
    Poll {
        /// Handle at most one batch, then exit.
        #[arg(long)]
        once: bool,
        /// Long-poll wait per receive, in seconds (0-20).
        #[arg(long, default_value_t = 20)]
        wait_secs: u64,
        /// Messages per batch (1-10).
        #[arg(long, default_value_t = 10)]
        batch_size: i32,
    },
    /// Development: list the newest emails the local SES emulator (moto) accepted.
    Inbox {
        /// Only emails to this address.
        #[arg(long)]
        to: Option<String>,
        /// How many to show.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// The emulator's base URL.
        #[arg(long, env = "AWS_ENDPOINT_URL_SESV2")]
        endpoint: String,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let telemetry = cadenza_platform::telemetry::init(NAME);
    let result = match cli.command.unwrap_or(Command::Lambda) {
        Command::Lambda => run_lambda().await,
        Command::Poll {
            once,
            wait_secs,
            batch_size,
        } => run_poller(once, wait_secs, batch_size).await,
        Command::Inbox {
            to,
            limit,
            endpoint,
        } => show_inbox(&endpoint, to.as_deref(), limit).await,
    };
    drop(telemetry);
    if let Err(e) = result {
        eprintln!("{NAME}: {e:#}");
        std::process::exit(1);
    }
}

/// Config, clients and connections, once per process (cold start).
async fn start() -> anyhow::Result<(Mailer, SdkConfig)> {
    let config = config::or_exit(NAME, Config::from_env());
    let sdk = cadenza_aws::sdk_config().await;
    let mailer = mailer::build(&config, &sdk).await?;
    Ok((mailer, sdk))
}

async fn run_lambda() -> anyhow::Result<()> {
    // lambda_runtime panics without its variables; say what is wrong instead.
    config::or_exit(
        NAME,
        config::require("AWS_LAMBDA_RUNTIME_API").map_err(|_| {
            ConfigError::new(
                "AWS_LAMBDA_RUNTIME_API",
                "not set: outside Lambda, run `mailer poll` (see `mailer --help`)",
            )
        }),
    );
    // No scrape on Lambda: each batch's counts go out as a CloudWatch EMF line.
    let mailer: &'static Mailer = Box::leak(Box::new(start().await?.0.with_emf()));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, lambda_runtime::Error>(mailer.handle(event.payload).await)
    }))
    .await
    .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
}

async fn run_poller(once: bool, wait_secs: u64, batch_size: i32) -> anyhow::Result<()> {
    let queue_url = config::or_exit(NAME, config::require("SQS_EMAIL_QUEUE_URL"));
    let metrics_addr: std::net::SocketAddr = config::or_exit(
        NAME,
        config::parse_or("METRICS_ADDR", ([127, 0, 0, 1], 9105).into()),
    );
    let (mailer, sdk) = start().await?;
    // /metrics (and /healthz) for Prometheus, as the services have.
    cadenza_platform::metrics::init(NAME, env!("CARGO_PKG_VERSION"));
    mailer::telemetry::register();
    let listener = tokio::net::TcpListener::bind(metrics_addr)
        .await
        .map_err(|e| anyhow::anyhow!("METRICS_ADDR {metrics_addr}: {e}"))?;
    tracing::info!(%metrics_addr, "metrics on /metrics");
    tokio::spawn(async move {
        let app = cadenza_platform::health::routes(cadenza_platform::health::Readiness::new());
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    });
    let poller = Poller::new(aws_sdk_sqs::Client::new(&sdk), queue_url)
        .with_wait(Duration::from_secs(wait_secs))
        .with_batch_size(batch_size);
    if once {
        let report = poller
            .poll_once(&mailer)
            .await
            .map_err(anyhow::Error::msg)?;
        tracing::info!(?report, "one batch handled");
        return Ok(());
    }
    poller
        .run(&mailer, cadenza_platform::shutdown::signal())
        .await;
    Ok(())
}

async fn show_inbox(endpoint: &str, to: Option<&str>, limit: usize) -> anyhow::Result<()> {
    let mails = inbox::fetch(endpoint).await?;
    let shown = inbox::latest(&mails, to, limit);
    if shown.is_empty() {
        println!(
            "no emails{}",
            to.map(|t| format!(" to {t}")).unwrap_or_default()
        );
        return Ok(());
    }
    for m in shown {
        let to: Vec<&str> = m.recipients().collect();
        println!("to:      {}", to.join(", "));
        println!("subject: {}", m.subject);
        println!("link:    {}", m.first_link().unwrap_or_else(|| "-".into()));
        println!();
    }
    Ok(())
}
