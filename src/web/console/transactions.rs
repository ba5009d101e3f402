//! Transactions: the list (newest first, filtered, `PAGE` rows a page, by
//! `Engine::transactions`), one
//! transaction with its webhook events and every delivery attempt, the
//! redeliver button (`Engine::redeliver`, as `POST /transactions/{id}/redeliver`)
//! and, for a pending or expired one, Mark paid (`settle::confirm`).
//! The shop's metadata is shown as JSON text, escaped like everything else.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::filter::{self, Status, Typed};
use super::guard::{Posted, Seller};
use super::render::{self, Nav};
use super::{ConsoleState, format};
use crate::model::{Event, Transaction};

/// Rows per page; the next page is a link.
pub const PAGE: usize = 100;

pub(super) struct Row {
    pub id: String,
    pub created: String,
    pub status: &'static str,
    pub amount: String,
    pub card: String,
    pub metadata: String,
}

pub(super) struct ListView {
    pub typed: Typed,
    pub statuses: [&'static str; 4],
    pub errors: Vec<String>,
    pub rows: Vec<Row>,
    /// The next page (older transactions), with the same filters.
    pub older: Option<String>,
}

pub(super) struct AttemptView {
    pub at: String,
    pub code: String,
    pub error: String,
    pub duration_ms: i64,
}

pub(super) struct EventView {
    pub id: String,
    pub action: &'static str,
    pub created: String,
    pub delivery: &'static str,
    pub manual: bool,
    pub next: String,
    pub attempts: Vec<AttemptView>,
}

pub(super) struct DetailView {
    pub id: String,
    pub status: &'static str,
    pub amount: String,
    pub requested: String,
    pub card: String,
    pub created: String,
    pub expires: String,
    pub ended: String,
    pub metadata: String,
    pub paid_by: String,
    pub late_credits: Vec<String>,
    pub reversed: String,
    /// "by console at …" when settled by hand.
    pub manual: String,
    pub events: Vec<EventView>,
    pub can_redeliver: bool,
    /// Pending or expired: it can still be marked paid.
    pub can_confirm: bool,
    pub done: Option<&'static str>,
}

/// Compact JSON, cut to `max` characters for a table cell.
fn short_json(v: Option<&serde_json::Value>, max: usize) -> String {
    let Some(v) = v else { return String::new() };
    let text = format::visible(&v.to_string());
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push('…');
    cut
}

fn row(tx: &Transaction, state: &ConsoleState) -> Row {
    let tz = &state.engine.config.tz;
    Row {
        id: tx.id.clone(),
        created: format::time(tx.created_at, tz),
        status: filter::status_name(tx),
        amount: format::money(tx.amount, &tx.currency),
        card: format::card4(tx.card.as_deref()),
        metadata: short_json(tx.metadata.as_ref(), 120),
    }
}

pub(super) async fn list(
    State(state): State<Arc<ConsoleState>>,
    Seller(session): Seller,
    RawQuery(query): RawQuery,
) -> Response {
    let nav = Nav {
        csrf: session.csrf,
        active: "transactions",
    };
    let tz = &state.engine.config.tz;
    let (typed, filter, errors) = filter::parse(query.as_deref(), tz);
    let mut view = ListView {
        typed,
        statuses: Status::ALL,
        errors,
        rows: Vec::new(),
        older: None,
    };
    // The "Older" link's cursor: a number we wrote; anything else is a
    // damaged or tampered link, said rather than read as "the newest".
    let cursor = match filter::param(query.as_deref(), "before")
        .as_deref()
        .map(str::trim)
    {
        None | Some("") => None,
        Some(c) => match c.parse::<crate::listing::Cursor>() {
            Ok(n) => Some(n),
            Err(_) => {
                view.errors.push(
                    "Older transactions: this link is damaged; open Transactions again.".into(),
                );
                None
            }
        },
    };
    if !view.errors.is_empty() {
        return render::list(StatusCode::BAD_REQUEST, &nav, &view);
    }
    // The listing walks the store newest first from the cursor (at most
    // `listing::MAX_SCAN` transactions per page); expired and cancelled are
    // one stored status, told apart here.
    let page = match state
        .engine
        .transactions(&filter.listing(), cursor, PAGE)
        .await
    {
        Ok(p) => p,
        Err(e) => return render::store_down(&e),
    };
    view.rows = page
        .transactions
        .iter()
        .filter(|tx| filter.matches(tx))
        .map(|tx| row(tx, &state))
        .collect();
    view.older = page.next.map(|next| filter::link(&view.typed, next));
    render::list(StatusCode::OK, &nav, &view)
}

fn valid_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok_and(|u| u.hyphenated().to_string() == id)
}

fn event_view(e: &Event, tz: &jiff::tz::TimeZone) -> EventView {
    EventView {
        id: e.id.clone(),
        action: e.action.as_str(),
        created: format::time(e.created_at, tz),
        delivery: match e.state {
            crate::model::DeliveryState::Pending => "pending",
            crate::model::DeliveryState::Delivered => "delivered",
            crate::model::DeliveryState::Failed => "failed",
        },
        manual: e.manual.is_some(),
        next: e
            .next_attempt_at
            .map(|at| format::time(at, tz))
            .unwrap_or_default(),
        attempts: e
            .attempts
            .iter()
            .map(|a| AttemptView {
                at: format::time(a.at, tz),
                code: a.status_code.map(|c| c.to_string()).unwrap_or_default(),
                error: a.error.clone().unwrap_or_default(),
                duration_ms: a.duration_ms,
            })
            .collect(),
    }
}

pub(super) async fn detail(
    State(state): State<Arc<ConsoleState>>,
    Seller(session): Seller,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if !valid_id(&id) {
        return render::not_found();
    }
    let store = &state.engine.store;
    let (tx, events) = match (store.get(&id).await, store.events(&id).await) {
        (Ok(Some(tx)), Ok(events)) => (tx, events),
        (Ok(None), _) => return render::not_found(),
        (Err(e), _) | (_, Err(e)) => return render::store_down(&e),
    };
    let tz = &state.engine.config.tz;
    let time = |ms: Option<i64>| ms.map(|at| format::time(at, tz)).unwrap_or_default();
    let view = DetailView {
        id: tx.id.clone(),
        status: filter::status_name(&tx),
        amount: format::money(tx.amount, &tx.currency),
        requested: format::money(tx.requested_amount, &tx.currency),
        card: tx.card.clone().unwrap_or_else(|| "default".into()),
        created: format::time(tx.created_at, tz),
        expires: format::time(tx.expires_at, tz),
        ended: time(tx.ended_at),
        metadata: tx
            .metadata
            .as_ref()
            .and_then(|m| serde_json::to_string_pretty(m).ok())
            .map(|m| format::visible(&m))
            .unwrap_or_default(),
        paid_by: tx.paid_by.clone().unwrap_or_default(),
        late_credits: tx.late_credits.clone(),
        reversed: time(tx.reversed_at),
        manual: tx
            .manual
            .as_ref()
            .map(|m| format!("by {} at {}", m.by, format::time(m.at, tz)))
            .unwrap_or_default(),
        can_redeliver: tx.last_event.is_some(),
        can_confirm: matches!(filter::status_name(&tx), "pending" | "expired"),
        events: events.iter().map(|e| event_view(e, tz)).collect(),
        // A fixed set of notices: nothing from the query is echoed.
        done: match query.as_deref() {
            Some("done=redelivered") => Some("The last webhook was queued again."),
            Some("done=assigned") => {
                Some("The credit was assigned: the order is paid and the shop is being told.")
            }
            Some("done=confirmed") => {
                Some("Marked paid: the order is confirmed and the shop is being told.")
            }
            _ => None,
        },
    };
    let nav = Nav {
        csrf: session.csrf,
        active: "transactions",
    };
    render::detail(&nav, &view)
}

pub(super) async fn redeliver(
    State(state): State<Arc<ConsoleState>>,
    Path(id): Path<String>,
    _: Posted,
) -> Response {
    if !valid_id(&id) {
        return render::not_found();
    }
    match state.engine.store.get(&id).await {
        Ok(Some(_)) => {}
        Ok(None) => return render::not_found(),
        Err(e) => return render::store_down(&e),
    }
    match state.engine.redeliver(&id).await {
        Ok(Some(_)) => {
            tracing::info!(transaction_id = %id, "console: webhook redelivered");
            Redirect::to(&format!("/console/transactions/{id}?done=redelivered")).into_response()
        }
        Ok(None) => render::notice(
            StatusCode::CONFLICT,
            "Nothing to redeliver",
            "This transaction has no webhook event yet (it is still pending).",
        ),
        Err(e) => render::store_down(&e),
    }
}
