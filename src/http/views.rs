//! The JSON views of stored records: a transaction, its webhook events and a
//! bank credit. These are the shapes shops read (and `openapi.json`
//! documents, with closed objects), so a field added, renamed or dropped here
//! is an API change: `tests/openapi.rs` fails until the document agrees.
//! Times are RFC 3339, amounts are exact `Money`.

use serde_json::{Value, json};

use crate::model::{CreditRecord, Event, ManualMark, Transaction, rfc3339};

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
        "reversed_at": tx.reversed_at.map(rfc3339),
        "reversal": tx.reversal,
        "manual": tx.manual.as_ref().map(manual_view),
    })
}

pub fn event_view(e: &Event) -> Value {
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
        "manual": e.manual.as_ref().map(manual_view),
    })
}

fn manual_view(m: &ManualMark) -> Value {
    json!({"by": m.by, "at": rfc3339(m.at)})
}

pub fn credit_view(c: &CreditRecord) -> Value {
    json!({
        "credit_id": c.id,
        "kind": c.kind,
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
