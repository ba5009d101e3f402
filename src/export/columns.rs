//! The export's columns and cells: fixed transaction columns, then one
//! column per metadata key (`metadata.<key>`, keys sorted), then
//! `metadata_other` for what did not get a column.

use std::collections::BTreeSet;

use crate::engine::Engine;
use crate::listing::TxFilter;
use crate::model::{Millis, Transaction};
use crate::money::Money;
use crate::store::StoreError;

/// Metadata keys that get a column of their own; the rest go, as JSON,
/// into `metadata_other`.
pub const MAX_META_COLUMNS: usize = 200;
/// Longest metadata key kept as a column name.
const MAX_KEY: usize = 100;

/// The fixed columns, in order.
pub const FIXED: [&str; 15] = [
    "transaction_id",
    "status",
    "created_at",
    "expires_at",
    "ended_at",
    "amount",
    "requested_amount",
    "currency",
    "card",
    "cancel_reason",
    "paid_by",
    "manual_by",
    "manual_at",
    "late_credits",
    "reversed_at",
];

/// One cell's value, before a writer gives it its form.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Money(Money),
    Time(Millis),
}

/// The first pass: the metadata keys of every matching transaction.
pub async fn metadata_keys(engine: &Engine, filter: &TxFilter) -> Result<Vec<String>, StoreError> {
    let mut keys = BTreeSet::new();
    engine
        .each_transaction(filter, |tx| {
            if let Some(serde_json::Value::Object(map)) = &tx.metadata {
                for k in map.keys() {
                    if keys.len() >= MAX_META_COLUMNS {
                        break;
                    }
                    if k.chars().count() <= MAX_KEY && !k.trim().is_empty() {
                        keys.insert(k.clone());
                    }
                }
            }
            Ok(())
        })
        .await?;
    Ok(keys.into_iter().collect())
}

pub fn header(keys: &[String]) -> Vec<String> {
    let mut out: Vec<String> = FIXED.iter().map(|s| s.to_string()).collect();
    out.extend(keys.iter().map(|k| format!("metadata.{k}")));
    out.push("metadata_other".into());
    out
}

fn text(s: Option<&str>) -> Cell {
    match s {
        Some(s) if !s.is_empty() => Cell::Text(s.to_string()),
        _ => Cell::Empty,
    }
}

fn value_text(v: &serde_json::Value) -> Cell {
    match v {
        serde_json::Value::Null => Cell::Empty,
        serde_json::Value::String(s) => text(Some(s)),
        other => Cell::Text(other.to_string()),
    }
}

/// The cells of one transaction, in header order.
pub fn row(tx: &Transaction, keys: &[String]) -> Vec<Cell> {
    let time = |t: Option<Millis>| t.map(Cell::Time).unwrap_or(Cell::Empty);
    let mut out = vec![
        Cell::Text(tx.id.clone()),
        Cell::Text(tx.status.as_str().into()),
        Cell::Time(tx.created_at),
        Cell::Time(tx.expires_at),
        time(tx.ended_at),
        Cell::Money(tx.amount),
        Cell::Money(tx.requested_amount),
        Cell::Text(tx.currency.clone()),
        text(tx.card.as_deref()),
        text(tx.cancel_reason.map(|r| match r {
            crate::model::CancelReason::Expired => "expired",
            crate::model::CancelReason::Api => "api",
        })),
        text(tx.paid_by.as_deref()),
        text(tx.manual.as_ref().map(|m| m.by.as_str())),
        time(tx.manual.as_ref().map(|m| m.at)),
        text(Some(&tx.late_credits.join(" "))),
        time(tx.reversed_at),
    ];
    let meta = match &tx.metadata {
        Some(serde_json::Value::Object(map)) => Some(map),
        _ => None,
    };
    for k in keys {
        out.push(
            meta.and_then(|m| m.get(k))
                .map(value_text)
                .unwrap_or(Cell::Empty),
        );
    }
    let other: serde_json::Map<String, serde_json::Value> = meta
        .map(|m| {
            m.iter()
                .filter(|(k, _)| keys.binary_search(k).is_err())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    out.push(if other.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(serde_json::Value::Object(other).to_string())
    });
    out
}

/// `2026-12-03 18:05:00` in `tz`.
pub fn local_time(ms: Millis, tz: &jiff::tz::TimeZone) -> Option<jiff::civil::DateTime> {
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_zoned(tz.clone()).datetime())
}
