//! Turning views into HTTP answers: the askama templates (which escape
//! everything unless told otherwise, and nothing here is told otherwise
//! except the embedded CSS), and the headers every console answer carries: a
//! CSP with no script at all and only this exact stylesheet (by SHA-256),
//! forms posting only to this site, no framing, no caching, no referrer
//! to other sites.

use std::sync::LazyLock;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::Digest;

use super::audit::EntryView;
use super::credits::CreditsView;
use super::overview::OverviewView;
use super::settle::AmountView;
use super::transactions::{DetailView, ListView};
use crate::store::StoreError;

pub const CSS: &str = include_str!("assets/console.css");

/// The header of every page behind the login: the sections and the logout
/// form (which needs the session's CSRF token).
pub(super) struct Nav {
    pub csrf: String,
    pub active: &'static str,
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginTemplate<'a> {
    css: &'static str,
    csrf: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewTemplate<'a> {
    css: &'static str,
    nav: &'a Nav,
    v: &'a OverviewView,
}

#[derive(Template)]
#[template(path = "console/transactions.html")]
struct ListTemplate<'a> {
    css: &'static str,
    nav: &'a Nav,
    v: &'a ListView,
}

#[derive(Template)]
#[template(path = "console/transaction.html")]
struct DetailTemplate<'a> {
    css: &'static str,
    nav: &'a Nav,
    v: &'a DetailView,
}

#[derive(Template)]
#[template(path = "console/credits.html")]
struct CreditsTemplate<'a> {
    css: &'static str,
    nav: &'a Nav,
    v: &'a CreditsView,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditTemplate<'a> {
    css: &'static str,
    nav: &'a Nav,
    rows: &'a [EntryView],
}

#[derive(Template)]
#[template(path = "console/amount.html")]
struct AmountTemplate<'a> {
    css: &'static str,
    nav: &'a Nav,
    v: &'a AmountView,
}

#[derive(Template)]
#[template(path = "console/notice.html")]
struct NoticeTemplate<'a> {
    css: &'static str,
    title: &'a str,
    text: &'a str,
}

fn sha256(text: &str) -> String {
    let digest = sha2::Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

static CSP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; script-src 'none'; style-src {}; img-src data:; \
         form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        sha256(CSS)
    )
});

fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    match body {
        Ok(body) => {
            let mut resp = (status, body).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "console page could not be rendered");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "page could not be rendered",
            )
                .into_response()
        }
    }
}

/// Every console answer (pages, redirects, errors) goes through this.
pub(super) async fn secured(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    crate::web::pay::secure(h);
    // Not `no-referrer` as on the payment page: with it, browsers send
    // `Origin: null` on the console's own form posts, and the Origin check
    // needs the real one. Other sites still get no referrer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if let Ok(csp) = HeaderValue::from_str(&CSP) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    resp
}

pub(super) fn login(status: StatusCode, csrf: &str, error: Option<&str>) -> Response {
    html(
        status,
        LoginTemplate {
            css: CSS,
            csrf,
            error,
        }
        .render(),
    )
}

pub(super) fn overview(nav: &Nav, v: &OverviewView) -> Response {
    html(
        StatusCode::OK,
        OverviewTemplate { css: CSS, nav, v }.render(),
    )
}

pub(super) fn list(status: StatusCode, nav: &Nav, v: &ListView) -> Response {
    html(status, ListTemplate { css: CSS, nav, v }.render())
}

pub(super) fn detail(nav: &Nav, v: &DetailView) -> Response {
    html(StatusCode::OK, DetailTemplate { css: CSS, nav, v }.render())
}

pub(super) fn credits(nav: &Nav, v: &CreditsView) -> Response {
    html(
        StatusCode::OK,
        CreditsTemplate { css: CSS, nav, v }.render(),
    )
}

pub(super) fn audit(nav: &Nav, rows: &[EntryView]) -> Response {
    html(
        StatusCode::OK,
        AuditTemplate {
            css: CSS,
            nav,
            rows,
        }
        .render(),
    )
}

/// An assignment held back: the credit's amount is not the order's.
pub(super) fn amount_differs(nav: &Nav, v: &AmountView) -> Response {
    html(
        StatusCode::CONFLICT,
        AmountTemplate { css: CSS, nav, v }.render(),
    )
}

pub(super) fn notice(status: StatusCode, title: &str, text: &str) -> Response {
    html(
        status,
        NoticeTemplate {
            css: CSS,
            title,
            text,
        }
        .render(),
    )
}

pub(super) fn not_found() -> Response {
    notice(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such page or record in the console.",
    )
}

/// A POST whose session ended (idle, logged out elsewhere).
pub(super) fn session_ended() -> Response {
    notice(
        StatusCode::FORBIDDEN,
        "Session ended",
        "Your console session has ended. Log in again; nothing was changed.",
    )
}

pub(super) fn store_down(e: &StoreError) -> Response {
    tracing::warn!(error = %e, "console: store unavailable");
    let mut resp = notice(
        StatusCode::SERVICE_UNAVAILABLE,
        "Storage unavailable",
        "paycue cannot reach its storage (Redis) right now. Nothing was changed; try again in a few seconds.",
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    resp
}
