//! Settling by hand over the API: `POST /transactions/{id}/confirm` (paid
//! without a credit) and `POST /credits/{id}/assign` (paid with a credit
//! that matched nothing or came late). The engine decides
//! (`crate::manual`); here the request is read and its refusal mapped to a
//! status: 404 unknown, 409 already settled or not settleable, 422 a record
//! that cannot pay (a reversal, another currency). A replayed request is
//! refused with 409 and queues nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::body::json_body;
use super::peer::Peer;
use super::views::{credit_view, tx_view};
use super::{ApiError, ok};
use crate::engine::Engine;
use crate::manual::{Actor, ManualError, Settled};

/// Ids are UUIDs: anything else is unknown (404), never a store lookup.
fn known_id(id: &str, what: &str) -> Result<(), ApiError> {
    uuid::Uuid::parse_str(id)
        .map(|_| ())
        .map_err(|_| ApiError::not_found(what))
}

impl From<ManualError> for ApiError {
    fn from(e: ManualError) -> ApiError {
        let status = match &e {
            ManualError::Store(_) => None,
            ManualError::NoTransaction | ManualError::NoCredit => Some(StatusCode::NOT_FOUND),
            ManualError::AlreadyConfirmed(_)
            | ManualError::CancelledByShop(_)
            | ManualError::CreditTaken(_) => Some(StatusCode::CONFLICT),
            ManualError::NotACredit | ManualError::Currency { .. } => {
                Some(StatusCode::UNPROCESSABLE_ENTITY)
            }
        };
        match (status, e) {
            (_, ManualError::Store(store)) => ApiError::from(store),
            (status, e) => ApiError::new(
                status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                e.to_string(),
            ),
        }
    }
}

fn settled_view(s: &Settled) -> Value {
    let mut view = tx_view(&s.transaction);
    view["credit"] = s.credit.as_ref().map(credit_view).unwrap_or(Value::Null);
    view
}

pub(super) async fn confirm(
    State(engine): State<Arc<Engine>>,
    Peer(from): Peer,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    known_id(&id, "transaction")?;
    let settled = engine.confirm_by_hand(&id, &Actor::api(from)).await?;
    Ok(ok(StatusCode::OK, settled_view(&settled)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    transaction_id: String,
}

pub(super) async fn assign(
    State(engine): State<Arc<Engine>>,
    Peer(from): Peer,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // JSON only: a browser cannot send it cross-site without a preflight,
    // so a page elsewhere cannot ride a cached Basic login to assign money.
    let (_, parsed): (_, AssignBody) =
        json_body(&headers, body, "send {\"transaction_id\": \"...\"}")?;
    known_id(&id, "credit")?;
    known_id(&parsed.transaction_id, "transaction")?;
    let settled = engine
        .assign_credit(&id, &parsed.transaction_id, &Actor::api(from))
        .await?;
    Ok(ok(StatusCode::OK, settled_view(&settled)))
}
