//! Where a request came from, for the audit list of manual actions: the
//! TCP peer (`server` puts it in each request) and, when a reverse proxy
//! forwarded it, the `X-Forwarded-For` it claims. The forwarded part is
//! recorded as a claim only (any client can send the header); nothing is
//! decided on it.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The client's address as text: `1.2.3.4:5678`, or
/// `127.0.0.1:5678 for 1.2.3.4` behind a proxy; `unknown` without a peer.
pub struct Peer(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Peer, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.to_string())
            .unwrap_or_else(|| "unknown".into());
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().chars().take(45).collect::<String>())
            .filter(|v| !v.is_empty());
        Ok(Peer(match forwarded {
            Some(f) => format!("{peer} for {f}"),
            None => peer,
        }))
    }
}
