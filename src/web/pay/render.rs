//! Turning a view into an HTTP answer: the askama templates, the embedded
//! CSS and JavaScript (inlined, so the page is one request on 3G), and the
//! headers that make the page safe to expose: a strict Content-Security-
//! Policy allowing only these exact inline blocks (by SHA-256), `noindex`,
//! no caching, no referrer, no framing.

use std::sync::LazyLock;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::Digest;

use super::lang::Strings;
use super::view::PageView;

pub const CSS: &str = include_str!("assets/pay.css");
pub const JS: &str = include_str!("assets/pay.js");

#[derive(Template)]
#[template(path = "pay.html")]
struct PageTemplate<'a> {
    v: &'a PageView,
    css: &'static str,
    js: &'static str,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundTemplate {
    lang: &'static str,
    s: &'static Strings,
    css: &'static str,
}

fn sha256(text: &str) -> String {
    let digest = sha2::Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Nothing loads from anywhere but these two inline blocks and this origin's
/// status endpoint; the QR code is inline SVG.
static CSP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src data:; connect-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        sha256(JS),
        sha256(CSS)
    )
});

fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    let Ok(body) = body else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "page could not be rendered",
        )
            .into_response();
    };
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(csp) = HeaderValue::from_str(&CSP) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    secure(h);
    resp
}

/// Headers every `/pay/` answer carries, JSON included.
pub fn secure(h: &mut axum::http::HeaderMap) {
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, max-age=0"),
    );
    h.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

pub fn page(v: &PageView) -> Response {
    let t = PageTemplate {
        v,
        css: CSS,
        js: JS,
    };
    html(StatusCode::OK, t.render())
}

/// A plain page that says only that there is no such payment.
pub fn not_found(lang: super::Lang) -> Response {
    let t = NotFoundTemplate {
        lang: lang.code(),
        s: lang.strings(),
        css: CSS,
    };
    html(StatusCode::NOT_FOUND, t.render())
}
