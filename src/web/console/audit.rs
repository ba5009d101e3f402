//! The audit list: every manual action (a credit assigned, a transaction
//! marked paid), newest first, with who (`console`, `api`, `cli@user`),
//! from where and the webhook event it queued (`Engine::audit`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;

use super::guard::Seller;
use super::render::{self, Nav};
use super::{ConsoleState, format};
use crate::manual::AuditAction;

/// Entries shown at most.
pub const PAGE: usize = 200;

pub(super) struct EntryView {
    pub at: String,
    pub action: &'static str,
    pub transaction_id: String,
    pub credit_id: String,
    pub event_id: String,
    pub by: String,
    pub from: String,
}

pub(super) async fn list(
    State(state): State<Arc<ConsoleState>>,
    Seller(session): Seller,
) -> Response {
    let entries = match state.engine.audit(PAGE).await {
        Ok(e) => e,
        Err(e) => return render::store_down(&e),
    };
    let tz = state.engine.config.tz.clone();
    let rows: Vec<EntryView> = entries
        .iter()
        .map(|e| EntryView {
            at: format::time(e.at, &tz),
            action: match e.action {
                AuditAction::Confirm => "marked paid",
                AuditAction::Assign => "credit assigned",
            },
            transaction_id: e.transaction_id.clone(),
            credit_id: e.credit_id.clone().unwrap_or_default(),
            event_id: e.event_id.clone(),
            by: e.by.clone(),
            from: e.from.clone(),
        })
        .collect();
    let nav = Nav {
        csrf: session.csrf,
        active: "audit",
    };
    render::audit(&nav, &rows)
}
