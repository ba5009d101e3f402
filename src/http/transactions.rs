//! The transaction handlers: create (the Go route `/create/transaction` and
//! `POST /transactions`), show, list, cancel and redeliver. They parse and
//! check the request and turn the engine's or store's answer into a status
//! and a JSON view; every decision is the engine's. What must stay true: the
//! create body is read from raw bytes so an amount never passes through a
//! float, and a malformed id answers 404 like an unknown one.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Digest;

use super::body::json_body;
use super::views::{event_view, tx_view};
use super::{ApiError, limit_of, ok};
use crate::engine::{CreateError, CreateRequest, Engine};
use crate::model::TxStatus;
use crate::money::Money;
use crate::store::CancelOutcome;
use crate::store::CreateOutcome;

#[derive(Deserialize)]
struct CreateBody {
    amount: Money,
    #[serde(default)]
    metadata: Option<serde_json::Map<String, Value>>,
    /// Where the payment page sends the buyer after paying (checked against
    /// PAY_RETURN_ORIGINS).
    #[serde(default)]
    return_url: Option<String>,
}

pub(super) async fn create_compat(
    state: State<Arc<Engine>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    create_with(state, headers, body, StatusCode::OK).await
}

pub(super) async fn create(
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
    let (bytes, parsed): (_, CreateBody) = json_body(&headers, body, "invalid request body")?;
    let return_url = match parsed.return_url.as_deref() {
        None => None,
        Some(r) => Some(
            engine
                .config
                .pay
                .check_return_url(r)
                .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?,
        ),
    };
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
    // The buyer's page, when PUBLIC_URL says where it is reached.
    let view = |tx: &crate::model::Transaction| {
        let mut view = tx_view(tx);
        if let Some(url) = engine.config.pay.payment_url(&tx.id, return_url.as_ref()) {
            view["payment_url"] = Value::String(url);
        }
        view
    };
    match engine.create(req).await {
        Ok(CreateOutcome::Created(tx)) => Ok(ok(created, view(&tx))),
        Ok(CreateOutcome::Replayed(tx)) => Ok(ok(StatusCode::OK, view(&tx))),
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
        Err(CreateError::Store(e)) => Err(unsure_create(e)),
    }
}

/// A store failure during a create cannot tell whether the transaction was
/// written (Redis may have run the script and the answer been lost): the
/// shop is told so, and how to find out safely.
fn unsure_create(e: crate::store::StoreError) -> ApiError {
    let mut err = ApiError::from(e);
    if err.status == StatusCode::SERVICE_UNAVAILABLE {
        err.detail = format!(
            "{}. The transaction may have been created: retry with the same Idempotency-Key to get it (a retry without one may reserve a second amount)",
            err.detail
        );
    }
    err
}

fn check_id(id: &str) -> Result<(), ApiError> {
    match uuid::Uuid::parse_str(id) {
        Ok(_) => Ok(()),
        Err(_) => Err(ApiError::not_found("transaction")),
    }
}

pub(super) async fn show(
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
pub(super) struct ListQuery {
    status: Option<String>,
    limit: Option<usize>,
    from: Option<String>,
    to: Option<String>,
    card: Option<String>,
    amount: Option<String>,
    q: Option<String>,
    /// `X-Next-Cursor` of the previous page.
    cursor: Option<u64>,
}

pub(super) async fn list(
    State(engine): State<Arc<Engine>>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q?;
    let status = match q.status.as_deref() {
        // Leave `status` out (or say `all`) for every status; an empty value
        // is refused like any value the API description does not list.
        None | Some("all") => None,
        Some(s) => Some(TxStatus::parse(s).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "status must be pending, confirmed, cancelled or all (or left out)",
            )
        })?),
    };
    let filter = crate::listing::FilterQuery {
        status: None,
        from: q.from,
        to: q.to,
        card: q.card,
        amount: q.amount,
        q: q.q,
    }
    .parse(&engine.config.tz)
    .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let filter = crate::listing::TxFilter { status, ..filter };
    let page = engine
        .transactions(&filter, q.cursor, limit_of(q.limit)?)
        .await?;
    let mut resp = ok(
        StatusCode::OK,
        Value::Array(page.transactions.iter().map(tx_view).collect()),
    );
    // The next page: pass it back as `cursor` (absent: nothing more).
    if let Some(next) = page.next {
        resp.headers_mut()
            .insert("x-next-cursor", axum::http::HeaderValue::from(next));
    }
    Ok(resp)
}

pub(super) async fn cancel(
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

pub(super) async fn redeliver(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_id(&id)?;
    if engine.store.get(&id).await?.is_none() {
        return Err(ApiError::not_found("transaction"));
    }
    match engine.redeliver(&id).await? {
        Some(event_id) => Ok(ok(StatusCode::ACCEPTED, json!({"event_id": event_id}))),
        None => Err(ApiError::new(
            StatusCode::CONFLICT,
            "transaction has no webhook event yet (it is still pending)",
        )),
    }
}
