//! Credits that matched nothing, and late ones (money for an order that had
//! already ended), newest first, at most `PAGE` of each, with what the bank
//! said. Each lists the transactions it could pay (pending or expired ones
//! in the same currency whose amount, or asked price, is the credit's), each
//! with an Assign button, and a form for any other transaction id
//! (`settle::assign`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;

use super::guard::Seller;
use super::render::{self, Nav};
use super::{ConsoleState, filter, format};
use crate::model::{CreditOutcome, CreditRecord, Transaction, TxStatus};

/// Credits of each kind shown at most.
pub const PAGE: usize = 100;
/// Transactions searched for candidates at most.
pub const SCAN: usize = 2000;
/// Candidates shown per credit at most.
pub const CANDIDATES: usize = 3;

pub(super) struct Candidate {
    pub id: String,
    pub label: String,
}

pub(super) struct CreditView {
    pub id: String,
    pub received: String,
    pub bank: String,
    pub amount: String,
    pub card: String,
    pub reason: String,
    pub transaction_id: String,
    /// What the bank's message said (empty for credits stored before
    /// paycue kept the text).
    pub text: String,
    pub candidates: Vec<Candidate>,
}

pub(super) struct CreditsView {
    pub unmatched: Vec<CreditView>,
    pub late: Vec<CreditView>,
}

fn could_pay(c: &CreditRecord, tx: &Transaction) -> bool {
    let open = match tx.status {
        TxStatus::Pending => true,
        TxStatus::Cancelled => filter::status_name(tx) == "expired",
        TxStatus::Confirmed => false,
    };
    open && c.currency.as_deref().is_none_or(|cur| cur == tx.currency)
        && (tx.amount == c.amount || tx.requested_amount == c.amount)
}

fn view(c: &CreditRecord, txs: &[Transaction], state: &ConsoleState) -> CreditView {
    let tz = &state.engine.config.tz;
    let currency = c
        .currency
        .as_deref()
        .unwrap_or(&state.engine.config.currency);
    let candidates = txs
        .iter()
        .filter(|tx| could_pay(c, tx))
        .take(CANDIDATES)
        .map(|tx| Candidate {
            id: tx.id.clone(),
            label: format!(
                "{} · {} · {}",
                filter::status_name(tx),
                format::time(tx.created_at, tz),
                tx.metadata
                    .as_ref()
                    .map(|m| format::visible(&m.to_string().chars().take(60).collect::<String>()))
                    .unwrap_or_default()
            ),
        })
        .collect();
    CreditView {
        id: c.id.clone(),
        received: format::time(c.received_at, tz),
        bank: c.bank.clone(),
        amount: format::money(c.amount, currency),
        card: c.card_last4.clone().unwrap_or_default(),
        reason: c.reason.clone().unwrap_or_default(),
        transaction_id: c.transaction_id.clone().unwrap_or_default(),
        text: format::visible(c.text.as_deref().unwrap_or_default()),
        candidates,
    }
}

pub(super) async fn list(
    State(state): State<Arc<ConsoleState>>,
    Seller(session): Seller,
) -> Response {
    let store = &state.engine.store;
    let read = async {
        let unmatched = store.list_credits(CreditOutcome::Unmatched, PAGE).await?;
        let late = store.list_credits(CreditOutcome::Late, PAGE).await?;
        let txs = store.list(None, SCAN).await?;
        Ok::<_, crate::store::StoreError>((unmatched, late, txs))
    };
    let (unmatched, late, txs) = match read.await {
        Ok(r) => r,
        Err(e) => return render::store_down(&e),
    };
    let v = CreditsView {
        unmatched: unmatched.iter().map(|c| view(c, &txs, &state)).collect(),
        late: late.iter().map(|c| view(c, &txs, &state)).collect(),
    };
    let nav = Nav {
        csrf: session.csrf,
        active: "credits",
    };
    render::credits(&nav, &v)
}
