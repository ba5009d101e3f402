//! The seller's console, `/console`: every payment, the credits that matched
//! nothing, settling the odd ones by hand, export for the accountant. Server-
//! rendered HTML that works on a phone, with no script at all (the CSP says
//! `script-src 'none'`), behind a password of its own (`CONSOLE_PASSWORD`).
//! Without that password every `/console` path answers 404.
//!
//! A room of its own over the engine, like `web::pay`: `session` (the login
//! cookie, server-side sessions, CSRF tokens), `login` (the password check and
//! its rate limits), `guard` (what every request and every POST must show),
//! `render` (templates, the embedded CSS, security headers), `overview` (the
//! figures of today and the last 7 days), `filter` (reading the transaction
//! filters leniently but strictly), `transactions` (list, detail, redeliver),
//! `credits` (money that matched nothing, and late money), `export` (the
//! CSV and XLSX download of what the Transactions filter selects), `settle` (assign
//! a credit, mark paid: the engine's `manual` functions), `audit` (the list
//! of manual actions),
//! `format` (money and times for people).
//!
//! What must stay true: no page and no action without a live session; no
//! POST without the session's CSRF token and a same-origin Origin (when the
//! browser sends one); everything shown from the shop (metadata) or the bank
//! (message text) is escaped by the templates; every list is bounded.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::engine::Engine;

mod audit;
mod credits;
mod export;
mod filter;
mod format;
mod guard;
mod login;
mod overview;
mod render;
mod routes;
mod session;
mod settle;
mod transactions;

pub use login::{GLOBAL_FAILURES, IP_FAILURES, WINDOW};

/// What the console's handlers share.
pub struct ConsoleState {
    pub engine: Arc<Engine>,
}

/// The console's routes, or none at all when `CONSOLE_PASSWORD` is unset
/// (then `/console` falls through to the API's 404).
pub fn router(engine: Arc<Engine>) -> Router {
    if !engine.config.console.enabled() {
        return Router::new();
    }
    let request_limit = engine.config.http_request_timeout;
    let state = Arc::new(ConsoleState { engine });
    let pages = Router::new()
        .route("/console", get(routes::overview))
        .route("/console/", get(routes::to_overview))
        .route("/console/login", get(login::form).post(login::submit))
        .route("/console/logout", post(login::logout))
        .route("/console/transactions", get(transactions::list))
        .route("/console/transactions/{id}", get(transactions::detail))
        .route(
            "/console/transactions/{id}/redeliver",
            post(transactions::redeliver),
        )
        .route("/console/transactions/{id}/confirm", post(settle::confirm))
        .route("/console/credits", get(credits::list))
        .route("/console/credits/{id}/assign", post(settle::assign))
        .route("/console/audit", get(audit::list))
        .route(
            "/console/{*rest}",
            get(routes::not_found).post(routes::not_found),
        )
        .layer(axum::extract::DefaultBodyLimit::max(crate::http::MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            request_limit,
            crate::http::timeout::request_timeout,
        ));
    // The download is merged after the time limit: writing a large export
    // takes longer than a page (the server's connection limits still apply).
    pages
        .merge(Router::new().route("/console/export", get(export::download)))
        .layer(axum::middleware::map_response(render::secured))
        .with_state(state)
}
