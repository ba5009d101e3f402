//! The buyer's payment page, `/pay/{id}`: public (no API key), server-
//! rendered, in Uzbek, Russian, Kazakh or English, with live status by
//! long-poll (`/pay/{id}/status?wait=`), a countdown from the server's
//! seconds-left, and nothing loaded from any other site.
//!
//! A room of its own over the engine: `routes` wires requests to `view`
//! (the view model) and `render` (templates and security headers); `live`
//! holds the long-poll; `lang` and `i18n/` the strings; `format` the
//! numbers and times. It reads transactions through `Store::get` only and
//! never shows the shop's metadata.
//!
//! Its router is separate from the API's so that layers meant for the API
//! (such as a whole-request timeout) can leave the long-poll alone; the
//! long-poll bounds itself (`live::MAX_WAIT`, `live::MAX_WAITERS`).

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio::sync::watch;

use crate::engine::Engine;

pub(crate) mod format;
mod i18n;
mod lang;
mod live;
mod qr;
mod render;
mod routes;
mod view;

pub use lang::Lang;
pub use live::{MAX_WAIT, MAX_WAITERS, POLL_FALLBACK_MS};
pub use render::secure;

/// What the page handlers share.
pub struct PayState {
    pub engine: Arc<Engine>,
    waiters: live::Waiters,
}

/// `/pay/{id}` and `/pay/{id}/status`; anything else under `/pay/` is the
/// plain 404 page. `stop` ends waiting status requests at shutdown.
pub fn router(engine: Arc<Engine>, stop: watch::Receiver<bool>) -> Router {
    let state = Arc::new(PayState {
        engine,
        waiters: live::Waiters::new(stop),
    });
    Router::new()
        .route("/pay", get(routes::not_found))
        .route("/pay/", get(routes::not_found))
        .route("/pay/{id}", get(routes::page))
        .route("/pay/{id}/status", get(routes::status))
        .route("/pay/{id}/{*rest}", get(routes::not_found))
        // On the router, not in each handler: errors (a JSON 404, a 405, a
        // store failure) must not be cached or indexed either.
        .layer(axum::middleware::map_response(render::secured))
        .with_state(state)
}
