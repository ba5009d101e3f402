//! Wiring: the HTTP server, the webhook workers and the expiry sweep, all
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
    let mut stop_http = stop_rx.clone();
    let server =
        axum::serve(listener, crate::http::router(engine)).with_graceful_shutdown(async move {
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
    result
}

/// Resolves on Ctrl-C or SIGTERM (what systemd sends).
pub async fn shutdown_signal() {
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
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
