//! Serving the router on a listener so that no client can hold the daemon:
//! the accept loop takes a permit before each accept (tokio-rs/mini-redis's
//! model), so at most `max_connections` are open and the file descriptors
//! the webhook workers, Redis and Telegram need are never taken by clients;
//! hyper's HTTP/1 connection closes one whose request headers do not arrive
//! within `header_timeout`, which also ends idle keep-alive connections (the
//! wait for the next request's headers is the same timer); a write of an
//! answer that makes no progress for `write_stall` closes the connection (a
//! client that stopped reading, see `stall`). The whole-request limit is a
//! layer of the router (see `timeout`).
//!
//! Shutdown: stop accepting, ask every connection to finish its request in
//! flight and close, and after `grace` drop whatever is still open (a
//! long-lived stream, a client that never reads). What must stay true: the
//! shutdown is bounded whatever the clients do.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// File descriptors kept for everything but API clients: the listener,
/// Redis (and its reconnect), Telegram's connections, session and log
/// files, the runtime's own; plus two per webhook worker (added in
/// `connection_cap`).
pub const RESERVED_FDS: u64 = 64;

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    /// How long a write of an answer may make no progress before the
    /// connection is closed (a client that stopped reading; see `stall`).
    pub write_stall: Duration,
    /// How long shutdown waits for open connections before dropping them.
    pub grace: Duration,
}

/// `wanted` lowered so that clients never take the descriptors paycue needs
/// itself. Raises the soft file limit up to the hard one first if that is
/// what it takes (as Go's runtime does); logs when the cap had to come down.
pub fn connection_cap(wanted: usize, workers: usize) -> usize {
    let reserve = RESERVED_FDS + 2 * workers as u64;
    let needed = wanted as u64 + reserve;
    let Some(limit) = raise_nofile(needed) else {
        return wanted;
    };
    if limit >= needed {
        return wanted;
    }
    let cap = limit.saturating_sub(reserve).max(1) as usize;
    tracing::warn!(
        wanted,
        cap,
        file_limit = limit,
        "the file limit (LimitNOFILE) leaves room for fewer API connections than HTTP_MAX_CONNECTIONS; raise LimitNOFILE"
    );
    cap
}

/// The soft RLIMIT_NOFILE after trying to raise it to `needed` (never past
/// the hard limit). None where it cannot be read.
fn raise_nofile(needed: u64) -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read or write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < needed as libc::rlim_t {
            let raised = libc::rlimit {
                rlim_cur: (needed as libc::rlim_t).min(lim.rlim_max),
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
    Some(lim.rlim_cur as u64)
}

/// Serves `router` until `stop` turns true, then shuts down within `grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut conns = JoinSet::new();
    loop {
        // Finished connections leave the set here, so it stays small.
        while conns.try_join_next().is_some() {}
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stopped(&mut stop) => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors or a connection reset before it was
                    // taken: wait a little rather than spin.
                    tracing::warn!(error = %e, "cannot accept an API connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stopped(&mut stop) => break,
        };
        let _ = stream.set_nodelay(true);
        // Set once a request of this connection reaches the router: before
        // that, there is nothing in flight to finish at shutdown.
        let served = Arc::new(AtomicBool::new(false));
        // The client's address, for the audit list of manual actions
        // (`http::peer`).
        let peer = stream.peer_addr().ok();
        let service = {
            let (router, served) = (router.clone(), served.clone());
            tower::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                served.store(true, Ordering::Relaxed);
                if let Some(peer) = peer {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                }
                router.clone().oneshot(req)
            })
        };
        let stream = super::stall::StallLimit::new(stream, limits.write_stall);
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let mut stop = stop.clone();
        conns.spawn(async move {
            let _permit = permit;
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stopped(&mut stop) => {
                    // Finish the request in flight, then close (hyper closes
                    // an idle keep-alive connection at once). A connection
                    // still sending its first request's headers is dropped.
                    if served.load(Ordering::Relaxed) {
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                    }
                }
            }
        });
    }
    drop(listener);
    let drained = tokio::time::timeout(limits.grace, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = conns.len(),
            "connections still open after the shutdown grace; closing them"
        );
        conns.shutdown().await;
    }
    Ok(())
}

/// Resolves once `stop` is true (the guard `wait_for` returns is not held).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
