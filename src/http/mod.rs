//! The HTTP API shops call. Routes, request parsing and the JSON views; all
//! decisions are the engine's. Every answer uses the Go paycue's envelope
//! `{"status": bool, "data": ...}` with a real status code.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Digest;

use crate::engine::{CreateError, CreateRequest, Engine};
use crate::model::{CreditOutcome, CreditRecord, Event, Transaction, TxStatus, rfc3339};
use crate::money::Money;
use crate::store::CancelOutcome;
use crate::store::CreateOutcome;

pub mod auth;
pub mod error;
pub mod openapi;

pub use error::ApiError;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY: usize = 16 * 1024;

pub fn router(engine: Arc<Engine>) -> Router {
    let api = Router::new()
        .route("/create/transaction/", post(create_compat))
        .route("/create/transaction", post(create_compat))
        .route("/transactions", post(create).get(list))
        .route("/transactions/{id}", get(show))
        .route("/transactions/{id}/cancel", post(cancel))
        .route("/transactions/{id}/redeliver", post(redeliver))
        .route("/credits", get(credits))
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
        .with_state(engine)
}

fn ok(status: StatusCode, data: Value) -> Response {
    (status, Json(json!({"status": true, "data": data}))).into_response()
}

#[derive(Deserialize)]
struct CreateBody {
    amount: Money,
    #[serde(default)]
    metadata: Option<serde_json::Map<String, Value>>,
}

async fn create_compat(
    state: State<Arc<Engine>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    create_with(state, headers, body, StatusCode::OK).await
}

async fn create(
    state: State<Arc<Engine>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    create_with(state, headers, body, StatusCode::CREATED).await
}

/// `created`: the status for a new transaction (200 on the Go route, which
/// older shops may check for; 201 on `/transactions`). The body is read from
/// its raw bytes so the amount's digits never pass through a float.
async fn create_with(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    created: StatusCode,
) -> Result<Response, ApiError> {
    let bytes = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let is_json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON with Content-Type: application/json",
        ));
    }
    let parsed: CreateBody = serde_json::from_slice(&bytes).map_err(|e| {
        let status = if e.is_data() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::new(status, format!("invalid request body: {e}"))
    })?;
    let idempotency = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let key = v
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 255)
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "Idempotency-Key must be 1 to 255 visible ASCII characters",
                    )
                })?;
            // serde_json maps keep keys sorted, so the same JSON in any key
            // order has the same fingerprint.
            let canonical = serde_json::from_slice::<Value>(&bytes)
                .map(|v| v.to_string())
                .unwrap_or_default();
            let fingerprint = format!("{:x}", sha2::Sha256::digest(canonical.as_bytes()));
            Some((key.to_string(), fingerprint))
        }
    };
    let req = CreateRequest {
        amount: parsed.amount,
        metadata: parsed.metadata.map(Value::Object),
        idempotency,
    };
    match engine.create(req).await {
        Ok(CreateOutcome::Created(tx)) => Ok(ok(created, tx_view(&tx))),
        Ok(CreateOutcome::Replayed(tx)) => Ok(ok(StatusCode::OK, tx_view(&tx))),
        Ok(CreateOutcome::IdempotencyConflict) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "this Idempotency-Key was used with a different request body",
        )),
        Ok(CreateOutcome::NoFreeAmount) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "no free amount near {} {}: all {} offsets on every card are held by pending or recently ended transactions; raise LIMIT, add CARDS, or retry later",
                parsed.amount, engine.config.currency, engine.config.limit
            ),
        )),
        Err(CreateError::TooLarge(max)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("amount is too large (the maximum is {max})"),
        )),
        Err(CreateError::Store(e)) => Err(e.into()),
    }
}

pub fn tx_view(tx: &Transaction) -> Value {
    json!({
        "transaction_id": tx.id,
        "amount": tx.amount,
        "requested_amount": tx.requested_amount,
        "card": tx.card,
        "currency": tx.currency,
        "status": tx.status.as_str(),
        "created_at": rfc3339(tx.created_at),
        "expires_at": rfc3339(tx.expires_at),
        "ended_at": tx.ended_at.map(rfc3339),
        "cancel_reason": tx.cancel_reason,
        "metadata": tx.metadata,
        "paid_by": tx.paid_by,
        "late_credits": tx.late_credits,
    })
}

fn event_view(e: &Event) -> Value {
    let attempts: Vec<Value> = e
        .attempts
        .iter()
        .map(|a| json!({"at": rfc3339(a.at), "status_code": a.status_code, "error": a.error, "duration_ms": a.duration_ms}))
        .collect();
    json!({
        "event_id": e.id,
        "action": e.action.as_str(),
        "created_at": rfc3339(e.created_at),
        "delivery": e.state,
        "next_attempt_at": e.next_attempt_at.map(rfc3339),
        "attempts": attempts,
    })
}

fn credit_view(c: &CreditRecord) -> Value {
    json!({
        "credit_id": c.id,
        "outcome": c.outcome,
        "transaction_id": c.transaction_id,
        "reason": c.reason,
        "bank": c.bank,
        "amount": c.amount,
        "currency": c.currency,
        "card_last4": c.card_last4,
        "sender_id": c.sender_id,
        "chat_id": c.chat_id,
        "message_id": c.message_id,
        "date": rfc3339(c.date),
        "received_at": rfc3339(c.received_at),
    })
}

fn check_id(id: &str) -> Result<(), ApiError> {
    match uuid::Uuid::parse_str(id) {
        Ok(_) => Ok(()),
        Err(_) => Err(ApiError::not_found("transaction")),
    }
}

async fn show(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_id(&id)?;
    let tx = engine
        .store
        .get(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("transaction"))?;
    let events: Vec<Value> = engine
        .store
        .events(&id)
        .await?
        .iter()
        .map(event_view)
        .collect();
    let mut view = tx_view(&tx);
    view["events"] = Value::Array(events);
    Ok(ok(StatusCode::OK, view))
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    limit: Option<usize>,
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

async fn list(
    State(engine): State<Arc<Engine>>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q?;
    let status = match q.status.as_deref() {
        None | Some("") | Some("all") => None,
        Some(s) => Some(TxStatus::parse(s).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "status must be pending, confirmed or cancelled",
            )
        })?),
    };
    let txs = engine.store.list(status, limit_of(q.limit)?).await?;
    Ok(ok(
        StatusCode::OK,
        Value::Array(txs.iter().map(tx_view).collect()),
    ))
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
        None | Some("") => &[CreditOutcome::Unmatched, CreditOutcome::Late],
        Some("unmatched") => &[CreditOutcome::Unmatched],
        Some("late") => &[CreditOutcome::Late],
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "outcome must be unmatched or late",
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

async fn cancel(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_id(&id)?;
    match engine.cancel(&id).await? {
        CancelOutcome::Cancelled(tx) => Ok(ok(StatusCode::OK, tx_view(&tx))),
        CancelOutcome::NotFound => Err(ApiError::not_found("transaction")),
        CancelOutcome::NotPending(tx) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("transaction is already {}", tx.status.as_str()),
        )),
    }
}

async fn redeliver(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_id(&id)?;
    if engine.store.get(&id).await?.is_none() {
        return Err(ApiError::not_found("transaction"));
    }
    match engine
        .store
        .redeliver(&id, crate::model::now_millis())
        .await?
    {
        Some(event_id) => {
            engine.outbox.notify_waiters();
            Ok(ok(StatusCode::ACCEPTED, json!({"event_id": event_id})))
        }
        None => Err(ApiError::new(
            StatusCode::CONFLICT,
            "transaction has no webhook event yet (it is still pending)",
        )),
    }
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
    let held = engine.store.held_counts().await.ok();
    let config = &engine.config;
    engine
        .metrics
        .set_amounts(&config.cards, config.limit, held.as_deref());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            crate::metrics::CONTENT_TYPE,
        )],
        engine.metrics.render(),
    )
        .into_response()
}
