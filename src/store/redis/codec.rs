//! How records are laid out in Redis and read back. Each record is a Redis
//! hash of plain strings written by the Lua scripts (amounts as integer minor
//! units, times as Unix milliseconds), so nothing passes through Lua's
//! floating-point numbers or its JSON encoder. Reading is strict: a field
//! paycue did not write the way it expects is `StoreError::Corrupt`, never a
//! guess.

use std::collections::HashMap;

use redis::Value;

use super::StoreError;
use crate::model::{
    Action, Attempt, CancelReason, CreditKind, CreditOutcome, CreditRecord, DeliveryState, Event,
    ManualMark, Transaction, TxStatus,
};
use crate::money::Money;

/// Field names and values of one Redis hash.
pub struct Fields(HashMap<String, String>);

fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

/// A bulk or simple string reply.
pub fn string(v: Value) -> Result<String, StoreError> {
    match v {
        Value::BulkString(b) => String::from_utf8(b).map_err(|_| corrupt("non-UTF-8 string")),
        Value::SimpleString(s) => Ok(s),
        Value::Int(n) => Ok(n.to_string()),
        other => Err(corrupt(format!("expected a string, got {other:?}"))),
    }
}

/// An array reply (a Lua table); nil reads as empty.
pub fn array(v: Value) -> Result<Vec<Value>, StoreError> {
    match v {
        Value::Array(items) | Value::Set(items) => Ok(items),
        Value::Nil => Ok(Vec::new()),
        other => Err(corrupt(format!("expected an array, got {other:?}"))),
    }
}

pub fn strings(v: Value) -> Result<Vec<String>, StoreError> {
    array(v)?.into_iter().map(string).collect()
}

impl Fields {
    /// From a flat HGETALL reply: field, value, field, value, ...
    pub fn from_value(v: Value) -> Result<Fields, StoreError> {
        let flat = strings(v)?;
        if flat.len() % 2 != 0 {
            return Err(corrupt("odd-length hash reply"));
        }
        let mut map = HashMap::with_capacity(flat.len() / 2);
        let mut it = flat.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            map.insert(k, v);
        }
        Ok(Fields(map))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A field, with the empty string read as absent.
    fn opt(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    fn req(&self, name: &str) -> Result<&str, StoreError> {
        self.opt(name)
            .ok_or_else(|| corrupt(format!("record lacks field '{name}'")))
    }

    fn int(&self, name: &str) -> Result<i64, StoreError> {
        let v = self.req(name)?;
        v.parse()
            .map_err(|_| corrupt(format!("field '{name}' is not an integer: {v}")))
    }

    fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.opt(name) {
            None => Ok(None),
            Some(_) => self.int(name).map(Some),
        }
    }

    fn money(&self, name: &str) -> Result<Money, StoreError> {
        self.int(name).map(Money::from_minor)
    }

    fn owned(&self, name: &str) -> Option<String> {
        self.opt(name).map(str::to_string)
    }
}

pub fn transaction(f: &Fields) -> Result<Transaction, StoreError> {
    let status = f.req("status")?;
    let metadata = match f.opt("metadata") {
        None => None,
        Some(text) => Some(
            serde_json::from_str(text)
                .map_err(|e| corrupt(format!("metadata is not JSON: {e}")))?,
        ),
    };
    Ok(Transaction {
        id: f.req("id")?.to_string(),
        status: TxStatus::parse(status).ok_or_else(|| corrupt(format!("status {status}")))?,
        amount: f.money("amount")?,
        requested_amount: f.money("requested_amount")?,
        card: f.owned("card"),
        currency: f.req("currency")?.to_string(),
        created_at: f.int("created_at")?,
        expires_at: f.int("expires_at")?,
        ended_at: f.opt_int("ended_at")?,
        cancel_reason: cancel_reason(f.opt("cancel_reason"))?,
        metadata,
        paid_by: f.owned("paid_by"),
        late_credits: f
            .opt("late_credits")
            .map(|s| s.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        last_event: f.owned("last_event"),
        reversed_at: f.opt_int("reversed_at")?,
        reversal: f.owned("reversal"),
        manual: manual(f)?,
    })
}

pub fn credit(f: &Fields) -> Result<CreditRecord, StoreError> {
    let outcome = match f.req("outcome")? {
        "confirmed" => CreditOutcome::Confirmed,
        "late" => CreditOutcome::Late,
        "unmatched" => CreditOutcome::Unmatched,
        "reversed" => CreditOutcome::Reversed,
        other => return Err(corrupt(format!("credit outcome {other}"))),
    };
    // Records written before reversals existed have no kind: credits.
    let kind = match f.opt("kind") {
        None | Some("credit") => CreditKind::Credit,
        Some("reversal") => CreditKind::Reversal,
        Some(other) => return Err(corrupt(format!("credit kind {other}"))),
    };
    Ok(CreditRecord {
        id: f.req("id")?.to_string(),
        kind,
        outcome,
        transaction_id: f.owned("transaction_id"),
        reason: f.owned("reason"),
        bank: f.req("bank")?.to_string(),
        amount: f.money("amount")?,
        currency: f.owned("currency"),
        card_last4: f.owned("card_last4"),
        sender_id: f.int("sender_id")?,
        chat_id: f.int("chat_id")?,
        message_id: f.int("message_id")?,
        date: f.int("date")?,
        received_at: f.int("received_at")?,
        text: f.owned("text"),
    })
}

/// The fields of a credit record that do not depend on what it matched (the
/// script adds `outcome`, `transaction_id` and `reason`).
pub fn credit_fields(c: &super::IncomingCredit) -> Vec<(&'static str, String)> {
    vec![
        ("id", c.credit_id.clone()),
        ("bank", c.bank.clone()),
        ("amount", c.amount.minor().to_string()),
        ("currency", c.currency.clone().unwrap_or_default()),
        ("card_last4", c.card_last4.clone().unwrap_or_default()),
        ("sender_id", c.sender_id.to_string()),
        ("chat_id", c.chat_id.to_string()),
        ("message_id", c.message_id.to_string()),
        ("date", c.date.to_string()),
        ("received_at", c.received_at.to_string()),
        ("text", c.text.clone()),
    ]
}

pub fn event(f: &Fields, attempts: Vec<String>) -> Result<Event, StoreError> {
    let action = f.req("action")?;
    let state = match f.req("state")? {
        "pending" => DeliveryState::Pending,
        "delivered" => DeliveryState::Delivered,
        "failed" => DeliveryState::Failed,
        other => return Err(corrupt(format!("delivery state {other}"))),
    };
    let attempts = attempts
        .iter()
        .map(|a| serde_json::from_str::<Attempt>(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| corrupt(format!("attempt record: {e}")))?;
    Ok(Event {
        id: f.req("id")?.to_string(),
        transaction_id: f.req("transaction_id")?.to_string(),
        action: Action::parse(action).ok_or_else(|| corrupt(format!("action {action}")))?,
        credit_id: f.owned("credit_id"),
        created_at: f.int("created_at")?,
        state,
        attempts,
        next_attempt_at: f.opt_int("next_attempt_at")?,
        manual: manual(f)?,
        tx_status: match f.opt("tx_status") {
            None => None,
            Some(s) => Some(TxStatus::parse(s).ok_or_else(|| corrupt(format!("status {s}")))?),
        },
        tx_cancel_reason: cancel_reason(f.opt("tx_cancel_reason"))?,
    })
}

fn cancel_reason(field: Option<&str>) -> Result<Option<CancelReason>, StoreError> {
    match field {
        None => Ok(None),
        Some("expired") => Ok(Some(CancelReason::Expired)),
        Some("api") => Ok(Some(CancelReason::Api)),
        Some(other) => Err(corrupt(format!("cancel reason {other}"))),
    }
}

/// `manual_by` and `manual_at` of a record settled by hand (both or neither).
fn manual(f: &Fields) -> Result<Option<ManualMark>, StoreError> {
    match f.owned("manual_by") {
        None => Ok(None),
        Some(by) => Ok(Some(ManualMark {
            by,
            at: f.int("manual_at")?,
        })),
    }
}

/// The hold of one (card, amount) slot (its key is `paycue:hold:<this>`).
pub fn hold_field(card: &str, amount: Money) -> String {
    format!("{card}|{}", amount.minor())
}
