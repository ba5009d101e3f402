//! Wiring: the HTTP server, the webhook workers, the expiry and retention sweeps, all
//! stopped by one shutdown signal. Message sources run beside it (see `cli`).

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::engine::Engine;
use crate::webhook::worker;

/// Serves the API on `listener` and runs the webhook workers and the expiry
/// sweep until `shutdown` resolves. On shutdown the server stops accepting,
/// in-flight requests finish, and workers finish the attempt they are on (an
/// event whose attempt is cut short is retried after its lease, never lost).
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let workers = tokio::spawn(worker::run_pool(engine.clone(), stop_rx.clone()));
    let expiry = tokio::spawn(engine.clone().run_expiry(stop_rx.clone()));
    let retention = tokio::spawn(crate::retention::run(engine.clone(), stop_rx.clone()));
    let mut stop_http = stop_rx.clone();
    // The payment page has a router of its own: API-wide layers stay off its
    // long-poll, which bounds itself (see `web::pay`).
    let app =
        crate::http::router(engine.clone()).merge(crate::web::pay::router(engine, stop_rx.clone()));
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop_http.wait_for(|s| *s).await;
    });
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
