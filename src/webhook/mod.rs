//! Webhooks: the JSON body of an event and its Standard Webhooks signature.
//! The body is built only from the stored event, transaction and credit; of
//! the transaction only fields that never change are read, and its status
//! and cancel reason as of the event (`Event::tx_status`), so every retry
//! sends the same bytes under the same `webhook-id`.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::model::{CancelReason, Delivery, TxStatus, rfc3339};

pub mod worker;

/// The JSON body of a delivery.
pub fn body(d: &Delivery) -> String {
    let tx = &d.transaction;
    let credit = d.credit.as_ref().map(|c| {
        json!({
            "id": c.id,
            "bank": c.bank,
            "amount": c.amount,
            "currency": c.currency,
            "card_last4": c.card_last4,
            "sender_id": c.sender_id,
            "message_id": c.message_id,
            "date": rfc3339(c.date),
        })
    });
    json!({
        "action": d.event.action.as_str(),
        "amount": tx.amount,
        "transaction_id": tx.id,
        "event_id": d.event.id,
        "requested_amount": tx.requested_amount,
        "currency": tx.currency,
        "card": tx.card,
        "status": status_of(d).0.as_str(),
        "metadata": tx.metadata,
        "created_at": rfc3339(tx.created_at),
        "expires_at": rfc3339(tx.expires_at),
        "occurred_at": rfc3339(d.event.created_at),
        "credit": credit,
        "paid_in_time": paid_in_time(d),
        // A `confirm` the seller gave by hand (console, API or CLI): who
        // and when; false and null for everything paycue matched itself.
        "manual": d.event.manual.is_some(),
        "manual_by": d.event.manual.as_ref().map(|m| m.by.clone()),
        "manual_at": d.event.manual.as_ref().map(|m| rfc3339(m.at)),
    })
    .to_string()
}

/// True for a `late` event whose payment the bank dated before the
/// transaction's deadline, while the transaction was cancelled by expiry: the
/// buyer paid in time and paycue read the bank's message too late (the bank
/// sent it late). The shop should honour such a payment.
pub fn paid_in_time(d: &Delivery) -> bool {
    let tx = &d.transaction;
    d.event.action == crate::model::Action::Late
        && status_of(d).1 == Some(crate::model::CancelReason::Expired)
        && d.credit.as_ref().is_some_and(|c| c.date <= tx.expires_at)
}

/// The transaction's status and cancel reason as of the event (as of now
/// for events stored before events kept them).
fn status_of(d: &Delivery) -> (TxStatus, Option<CancelReason>) {
    match d.event.tx_status {
        Some(status) => (status, d.event.tx_cancel_reason),
        None => (d.transaction.status, d.transaction.cancel_reason),
    }
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` (Standard Webhooks).
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length; new_from_slice cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 accepts any key length"),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// Checks a `webhook-signature` header value (space-separated list of
/// `v1,<sig>`) in constant time. What a shop's receiver does; used by tests
/// and `paycue demo`.
pub fn verify(key: &[u8], id: &str, timestamp: i64, body: &str, header: &str) -> bool {
    use subtle::ConstantTimeEq;
    let expected = sign(key, id, timestamp, body);
    header
        .split(' ')
        .any(|sig| sig.as_bytes().ct_eq(expected.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from the Standard Webhooks specification.
    #[test]
    fn matches_standard_webhooks_reference_vector() {
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        let body = r#"{"test": 2432232314}"#;
        let sig = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
            &format!("v1,bad {sig}")
        ));
        assert!(!verify(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265331,
            body,
            &sig
        ));
    }
}
