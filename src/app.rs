//! Wiring: the HTTP server, the webhook workers, the expiry and retention sweeps, all
//! stopped by one shutdown signal. Message sources run beside it (see `cli`).

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::engine::Engine;
use crate::http::server;
use crate::webhook::worker;

/// How long shutdown waits for API connections: a request in flight ends
/// within HTTP_REQUEST_TIMEOUT (answered or 408), plus a second to send it.
pub fn shutdown_grace(config: &Config) -> std::time::Duration {
    config.http_request_timeout + std::time::Duration::from_secs(1)
}

/// Serves the API on `listener` and runs the webhook workers and the expiry
/// sweep until `shutdown` resolves. On shutdown the server stops accepting,
/// in-flight requests finish (connections still open after `shutdown_grace`
/// are dropped), and workers finish the attempt they are on (an event whose
/// attempt is cut short is retried after its lease, never lost).
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let workers = tokio::spawn(worker::run_pool(engine.clone(), stop_rx.clone()));
    let expiry = tokio::spawn(engine.clone().run_expiry(stop_rx.clone()));
    let retention = tokio::spawn(crate::retention::run(engine.clone(), stop_rx.clone()));
    let config = &engine.config;
    let limits = server::Limits {
        max_connections: server::connection_cap(config.http_max_connections, config.workers),
        header_timeout: config.http_header_timeout,
        // A client has as long to take a piece of its answer as to send its
        // request.
        write_stall: config.http_request_timeout,
        grace: shutdown_grace(config),
    };
    // The payment page has a router of its own, merged after the API's
    // whole-request timeout layer: its long-poll bounds itself (see
    // `web::pay`); the connection cap, header timeout and bounded shutdown
    // of `server` still apply to it.
    let app = crate::http::router(engine.clone())
        .merge(crate::web::pay::router(engine.clone(), stop_rx.clone()))
        .merge(crate::web::console::router(engine.clone()));
    let server = server::serve(listener, app, limits, stop_rx.clone());
    let trigger = tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let result = server.await;
    trigger.abort();
    let _ = workers.await;
    let _ = expiry.await;
    let _ = retention.await;
    result
}

/// Resolves on Ctrl-C or SIGTERM (what systemd sends). The handlers are
/// installed when this is called, not when the future is first polled, so a
/// signal that arrives right after start-up is never lost to the default
/// action (which would kill the process without a clean shutdown).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (int, term) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! { _ = wait(int) => {}, _ = wait(term) => {} }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}
