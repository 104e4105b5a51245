//! Serving with graceful shutdown: on SIGTERM or Ctrl-C stop accepting,
//! let in-flight requests finish, and give up after a drain deadline so a
//! stuck connection cannot block a rollout.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

/// Resolves on SIGTERM or Ctrl-C.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; draining");
}

/// What every service's `serve` does: binds `BIND_ADDR`:`port` (exit 2
/// naming the variable if it is bad), logs that `service` listens, serves
/// until SIGTERM or Ctrl-C and drains for at most 20 s.
pub async fn run(service: &'static str, port: u16, router: Router) -> std::io::Result<()> {
    run_until(service, port, router, signal(), Duration::from_secs(20)).await
}

/// [`run`] with the caller's own stop signal and drain deadline (a worker
/// that stops its queue loop first).
pub async fn run_until(
    service: &'static str,
    port: u16,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let listener = bind(service, port).await?;
    serve(listener, router, shutdown, drain).await
}

/// Binds `BIND_ADDR`:`port` (exit 2 naming the variable if it is bad) and
/// logs "`service` listening". A worker binds before it takes work, so a
/// port that is taken stops it before it holds a job.
pub async fn bind(service: &'static str, port: u16) -> std::io::Result<TcpListener> {
    let addr = crate::config::or_exit(service, crate::config::bind_addr());
    let listener = TcpListener::bind((addr, port))
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("binding port {port}: {e}")))?;
    tracing::info!(port, "{service} listening");
    Ok(listener)
}

/// Serves `router` until `shutdown` resolves, then drains for at most `drain`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let graceful = async move {
        shutdown.await;
        let _ = tx.send(true);
    };
    let mut deadline_rx = rx.clone();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(graceful);
    let deadline = async move {
        let _ = deadline_rx.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(drain).await;
    };
    tokio::select! {
        result = server => result,
        _ = deadline => {
            tracing::warn!(?drain, "drain deadline passed; closing remaining connections");
            Ok(())
        }
    }
}
