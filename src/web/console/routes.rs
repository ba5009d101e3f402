//! The small handlers: the overview page, and where stray paths go.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use super::guard::Seller;
use super::render::{self, Nav};
use super::{ConsoleState, overview};

pub(super) async fn overview(
    State(state): State<Arc<ConsoleState>>,
    Seller(session): Seller,
) -> Response {
    let nav = Nav {
        csrf: session.csrf,
        active: "overview",
    };
    match overview::build(&state.engine).await {
        Ok(v) => render::overview(&nav, &v),
        Err(e) => render::store_down(&e),
    }
}

pub(super) async fn to_overview() -> Response {
    Redirect::to("/console").into_response()
}

/// Unknown console paths: without a session they go to the login form like
/// every other path, so a visitor learns nothing about what exists.
pub(super) async fn not_found(_: Seller) -> Response {
    render::not_found()
}
