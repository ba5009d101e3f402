//! The HTTP API shops call. Routes, request parsing and the JSON views; all
//! decisions are the engine's. Every answer uses the Go paycue's envelope
//! `{"status": bool, "data": ...}` with a real status code.
//!
//! This file holds the router, the shared helpers (the success envelope, the
//! list limit) and the small handlers (credits, health, metrics); the
//! transaction handlers are in `transactions`, settling by hand in
//! `manual`, the JSON views in `views`.
//! `tests/openapi.rs` reads the `.route(..)` calls below as text, so routes
//! stay written here, one `.route("path", method(handler))` each.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::engine::Engine;
use crate::model::CreditOutcome;

pub mod auth;
mod body;
pub mod error;
mod manual;
pub mod openapi;
pub mod peer;
pub mod server;
mod stall;
pub mod timeout;
mod transactions;
pub mod views;

pub use error::ApiError;
pub use views::tx_view;

use transactions::{cancel, create, create_compat, list, redeliver, show};
use views::credit_view;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY: usize = 16 * 1024;

/// The API. Every route here has the whole-request time limit
/// (`timeout::request_timeout`); a route that must stay open longer (a live
/// status stream) is merged into the returned router after that layer, e.g.
/// `http::router(engine).merge(pay::router(engine))`, and is then bounded
/// only by the connection-level limits of `server`.
pub fn router(engine: Arc<Engine>) -> Router {
    let request_limit = engine.config.http_request_timeout;
    let api = Router::new()
        .route("/create/transaction/", post(create_compat))
        .route("/create/transaction", post(create_compat))
        .route("/transactions", post(create).get(list))
        .route("/transactions/{id}", get(show))
        .route("/transactions/{id}/cancel", post(cancel))
        .route("/transactions/{id}/redeliver", post(redeliver))
        .route("/transactions/{id}/confirm", post(manual::confirm))
        .route("/credits", get(credits))
        .route("/credits/{id}/assign", post(manual::assign))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(
            engine.clone(),
            auth::require_key,
        ));
    Router::new()
        .route("/health", get(health))
        .route("/health/", get(health))
        .route("/openapi.json", get(openapi::document))
        .merge(api)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route",
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(
            request_limit,
            timeout::request_timeout,
        ))
        .with_state(engine)
}

fn ok(status: StatusCode, data: Value) -> Response {
    (status, Json(json!({"status": true, "data": data}))).into_response()
}

const MAX_LIST: usize = 500;

fn limit_of(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=MAX_LIST).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("limit must be from 1 to {MAX_LIST}"),
        )),
    }
}

#[derive(Deserialize)]
struct CreditQuery {
    outcome: Option<String>,
    limit: Option<usize>,
}

async fn credits(
    State(engine): State<Arc<Engine>>,
    q: Result<Query<CreditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q?;
    let outcomes: &[CreditOutcome] = match q.outcome.as_deref() {
        // Both when left out; an empty value is refused like any value the
        // API description does not list.
        None => &[CreditOutcome::Unmatched, CreditOutcome::Late],
        Some("unmatched") => &[CreditOutcome::Unmatched],
        Some("late") => &[CreditOutcome::Late],
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "outcome must be unmatched or late (or left out for both)",
            ));
        }
    };
    let limit = limit_of(q.limit)?;
    let mut all = Vec::new();
    for outcome in outcomes {
        all.extend(engine.store.list_credits(*outcome, limit).await?);
    }
    all.sort_by_key(|c| std::cmp::Reverse(c.received_at));
    all.truncate(limit);
    Ok(ok(
        StatusCode::OK,
        Value::Array(all.iter().map(credit_view).collect()),
    ))
}

async fn health(State(engine): State<Arc<Engine>>) -> Response {
    match engine.store.ping().await {
        Ok(()) => ok(
            StatusCode::OK,
            json!({"ok": true, "store": "ok", "caught_up": engine.is_caught_up()}),
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Prometheus scrape. Behind the API key like the rest of the API: it shows
/// business volume and card digits (see the README's Metrics section).
async fn metrics(State(engine): State<Arc<Engine>>) -> Response {
    let config = &engine.config;
    let keys = if config.cards.is_empty() {
        vec![crate::allocation::IMPLICIT_CARD.to_string()]
    } else {
        config.card_keys()
    };
    // "Up" means paycue can write (as /health): a Redis that answers reads
    // but refuses writes is down for paycue's purposes.
    let held = match engine.store.ping().await {
        Ok(()) => engine.store.held_counts(&keys).await.ok(),
        Err(_) => None,
    };
    engine
        .metrics
        .set_amounts(&config.card_keys(), config.limit, held.as_deref());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            crate::metrics::CONTENT_TYPE,
        )],
        engine.metrics.render(),
    )
        .into_response()
}
