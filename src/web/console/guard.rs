//! What every console request must show. A page (GET) needs a live session,
//! else it is sent to the login form. An action (POST) needs, in this order:
//! a same-origin request (`Sec-Fetch-Site` and `Origin`, when the browser
//! sends them), a live session, and the session's CSRF token in the form.
//! Either failure is a 403 page and nothing happens.
//!
//! The client's address (for the login rate limit) is the TCP peer; only
//! from a loopback peer (a reverse proxy on the same machine) is the last
//! `X-Forwarded-For` address taken instead, the one the proxy itself added.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::ConsoleState;
use super::render;
use super::session::{self, Session};

/// A page request with a live session.
pub(super) struct Seller(pub Session);

impl FromRequestParts<Arc<ConsoleState>> for Seller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ConsoleState>,
    ) -> Result<Self, Self::Rejection> {
        match session::load(&state.engine, &parts.headers).await {
            Ok(Some(s)) => Ok(Seller(s)),
            Ok(None) => Err(Redirect::to("/console/login").into_response()),
            Err(e) => Err(render::store_down(&e)),
        }
    }
}

/// An action: same origin, live session, right CSRF token; with its form
/// and the client's address (for the audit list).
pub(super) struct Posted {
    pub session: Session,
    pub form: HashMap<String, String>,
    pub from: String,
}

impl Posted {
    /// A form field, trimmed; empty when missing.
    pub fn field(&self, name: &str) -> &str {
        self.form.get(name).map(|v| v.trim()).unwrap_or("")
    }
}

impl FromRequest<Arc<ConsoleState>> for Posted {
    type Rejection = Response;

    async fn from_request(
        req: Request,
        state: &Arc<ConsoleState>,
    ) -> Result<Self, Self::Rejection> {
        if !same_origin(req.headers(), state.engine.config.pay.public_url.as_ref()) {
            return Err(forbidden());
        }
        let from = client_ip(req.headers(), peer(req.extensions()))
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "unknown".into());
        let session = match session::load(&state.engine, req.headers()).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(render::session_ended()),
            Err(e) => return Err(render::store_down(&e)),
        };
        let form = read_form(req, state).await?;
        let given = form.get("csrf").map(String::as_str).unwrap_or("");
        if !session.csrf_ok(given) {
            tracing::warn!("console: an action without the session's CSRF token was refused");
            return Err(forbidden());
        }
        Ok(Posted {
            session,
            form,
            from,
        })
    }
}

/// The urlencoded body as a map (a repeated field keeps its first value).
pub(super) async fn read_form(
    req: Request,
    state: &Arc<ConsoleState>,
) -> Result<HashMap<String, String>, Response> {
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        render::notice(e.status(), "Request refused", "The form could not be read.")
    })?;
    let mut form = HashMap::new();
    for (k, v) in form_pairs(&bytes) {
        form.entry(k).or_insert(v);
    }
    Ok(form)
}

fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    match reqwest::Url::parse(&format!("http://x/?{text}")) {
        Ok(url) => url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

pub(super) fn forbidden() -> Response {
    render::notice(
        StatusCode::FORBIDDEN,
        "Action refused",
        "This form was not sent from a console page of this session (it may be old, or come from another site). Open the page again and retry.",
    )
}

/// Whether a POST comes from a page of this site. `Sec-Fetch-Site` (sent by
/// current browsers) must say same-origin; an `Origin` must name this host
/// (as the `Host` header says, e.g. `localhost:10800` through an SSH tunnel)
/// or the public HTTPS address (`PUBLIC_URL`). A request with neither header
/// (an old browser, or a script that is not a browser) still needs the CSRF
/// token, which another site cannot read.
pub(super) fn same_origin(headers: &HeaderMap, public_url: Option<&reqwest::Url>) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(origin) = text(header::ORIGIN.as_str()) else {
        return true;
    };
    let Ok(url) = reqwest::Url::parse(origin) else {
        return false; // "null" (a sandboxed frame, a file) and garbage
    };
    if public_url.is_some_and(|p| p.origin() == url.origin()) {
        return true;
    }
    let Some(host) = text(header::HOST.as_str()) else {
        return false;
    };
    let origin_host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => return false,
    };
    origin_host.eq_ignore_ascii_case(host.trim())
}

/// The client's address as the rate limit counts it.
pub(super) fn client_ip(headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
    let peer = peer.map(|p| p.ip());
    if peer.is_some_and(|p| p.is_loopback())
        && let Some(last) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
        && let Ok(ip) = last.trim().parse::<IpAddr>()
    {
        return Some(ip);
    }
    peer
}

/// The TCP peer, as the server recorded it.
pub(super) fn peer(parts_ext: &axum::http::Extensions) -> Option<SocketAddr> {
    parts_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_counts_only_from_loopback_and_only_its_last_address() {
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9")]);
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "198.51.100.4:5000".parse().unwrap();
        assert_eq!(
            client_ip(&h, Some(local)),
            Some("203.0.113.9".parse().unwrap()),
            "the proxy's own entry, not what the client wrote before it"
        );
        assert_eq!(
            client_ip(&h, Some(remote)),
            Some(remote.ip()),
            "a client that is not the local proxy cannot choose its address"
        );
        let garbage = headers(&[("x-forwarded-for", "<script>")]);
        assert_eq!(client_ip(&garbage, Some(local)), Some(local.ip()));
    }

    #[test]
    fn origins_of_other_sites_are_refused() {
        let public: reqwest::Url = "https://pay.shop.example".parse().unwrap();
        let ok = |pairs: &[(&'static str, &str)]| same_origin(&headers(pairs), Some(&public));
        assert!(ok(&[
            ("host", "localhost:10800"),
            ("origin", "http://localhost:10800")
        ]));
        assert!(ok(&[
            ("host", "127.0.0.1:10800"),
            ("origin", "https://pay.shop.example")
        ]));
        assert!(
            ok(&[("host", "localhost:10800")]),
            "no Origin: the token decides"
        );
        assert!(!ok(&[
            ("host", "localhost:10800"),
            ("origin", "http://localhost:10801")
        ]));
        assert!(!ok(&[
            ("host", "localhost:10800"),
            ("origin", "https://evil.example")
        ]));
        assert!(!ok(&[("host", "localhost:10800"), ("origin", "null")]));
        assert!(!ok(&[
            ("host", "localhost:10800"),
            ("sec-fetch-site", "cross-site")
        ]));
        assert!(!ok(&[
            ("host", "localhost:10800"),
            ("sec-fetch-site", "same-site")
        ]));
        assert!(ok(&[
            ("host", "localhost:10800"),
            ("sec-fetch-site", "same-origin")
        ]));
    }
}
