//! Settling by hand from the console: **Assign** a credit that matched
//! nothing (or came late) to a pending or expired transaction, and **Mark
//! paid** a transaction without a credit. Both call the engine
//! (`Engine::assign_credit`, `Engine::confirm_by_hand`), which confirms the
//! transaction, queues the `confirm` webhook marked manual and writes the
//! audit entry in one atomic step, at most once per credit and per
//! transaction; here only the form is read and a refusal explained.
//! Marking paid needs a ticked box (`sure`): a mis-tap on a phone must not
//! tell the shop an order was paid. Assigning a credit whose amount is
//! neither the order's amount to pay nor its price (an id pasted from the
//! wrong order) first shows both amounts and an **Assign anyway** button
//! (`amount_ok`): a small credit must not pay a large order by a slip.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::guard::Posted;
use super::render::Nav;
use super::{ConsoleState, format, render};
use crate::manual::{Actor, ManualError};

fn valid_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok_and(|u| u.hyphenated().to_string() == id)
}

/// A refusal as a page: what was wrong, nothing changed.
fn refused(e: ManualError) -> Response {
    let status = match &e {
        ManualError::Store(store) => return render::store_down(store),
        ManualError::NoTransaction | ManualError::NoCredit => StatusCode::NOT_FOUND,
        ManualError::AlreadyConfirmed(_)
        | ManualError::CancelledByShop(_)
        | ManualError::CreditTaken(_) => StatusCode::CONFLICT,
        ManualError::NotACredit | ManualError::Currency { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    };
    render::notice(status, "Not settled", &format!("Nothing was changed: {e}."))
}

/// What the amount check shows before an assignment of another sum.
pub(super) struct AmountView {
    pub credit_id: String,
    pub tx_id: String,
    /// The credit's amount.
    pub credit: String,
    /// The order's amount to pay (and its price when that differs).
    pub order: String,
}

/// None when the credit's amount is the order's (or either is missing:
/// the engine then says why); else the page asking to confirm.
async fn amount_check(
    state: &ConsoleState,
    credit_id: &str,
    tx_id: &str,
    posted: &Posted,
) -> Option<Response> {
    let store = &state.engine.store;
    let (credit, tx) = match (store.credit(credit_id).await, store.get(tx_id).await) {
        (Ok(Some(c)), Ok(Some(tx))) => (c, tx),
        (Err(e), _) | (_, Err(e)) => return Some(render::store_down(&e)),
        _ => return None,
    };
    if credit.amount == tx.amount || credit.amount == tx.requested_amount {
        return None;
    }
    let currency = credit.currency.as_deref().unwrap_or(&tx.currency);
    let mut order = format::money(tx.amount, &tx.currency);
    if tx.requested_amount != tx.amount {
        order.push_str(&format!(
            " (price {})",
            format::money(tx.requested_amount, &tx.currency)
        ));
    }
    let nav = Nav {
        csrf: posted.session.csrf.clone(),
        active: "credits",
    };
    let v = AmountView {
        credit_id: credit_id.to_string(),
        tx_id: tx_id.to_string(),
        credit: format::money(credit.amount, currency),
        order,
    };
    Some(render::amount_differs(&nav, &v))
}

fn settled(tx_id: &str, done: &str) -> Response {
    Redirect::to(&format!("/console/transactions/{tx_id}?done={done}")).into_response()
}

/// `POST /console/credits/{id}/assign` with `transaction` (its id).
pub(super) async fn assign(
    State(state): State<Arc<ConsoleState>>,
    Path(credit_id): Path<String>,
    posted: Posted,
) -> Response {
    if !valid_id(&credit_id) {
        return render::not_found();
    }
    let tx_id = posted.field("transaction").to_ascii_lowercase();
    if !valid_id(&tx_id) {
        return render::notice(
            StatusCode::BAD_REQUEST,
            "Not settled",
            "Nothing was changed: write the transaction's id (copy it from its page), or pick one of the orders listed under the credit.",
        );
    }
    if posted.field("amount_ok") != "yes"
        && let Some(ask) = amount_check(&state, &credit_id, &tx_id, &posted).await
    {
        return ask;
    }
    match state
        .engine
        .assign_credit(&credit_id, &tx_id, &Actor::console(&posted.from))
        .await
    {
        Ok(s) => settled(&s.transaction.id, "assigned"),
        Err(e) => refused(e),
    }
}

/// `POST /console/transactions/{id}/confirm` with `sure`.
pub(super) async fn confirm(
    State(state): State<Arc<ConsoleState>>,
    Path(tx_id): Path<String>,
    posted: Posted,
) -> Response {
    if !valid_id(&tx_id) {
        return render::not_found();
    }
    if posted.field("sure") != "yes" {
        return render::notice(
            StatusCode::BAD_REQUEST,
            "Not settled",
            "Nothing was changed: tick the box that says the money arrived another way.",
        );
    }
    match state
        .engine
        .confirm_by_hand(&tx_id, &Actor::console(&posted.from))
        .await
    {
        Ok(s) => settled(&s.transaction.id, "confirmed"),
        Err(e) => refused(e),
    }
}
