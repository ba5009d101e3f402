//! Finding transactions: the filter behind `GET /transactions`, the
//! console's list, `paycue tx list` and the export. The store hands out
//! transactions newest first in pages (`Store::scan`, by the creation
//! counter); the filter is applied here, the same for every store, so a
//! filter value is only ever compared in Rust and never reaches Redis as a
//! pattern or a key.
//!
//! What must stay true: a page is newest first and a cursor resumes right
//! after the last transaction it returned (a transaction created meanwhile
//! is not shown twice); one call reads at most `MAX_SCAN` transactions, so
//! a search that matches nothing in a large store answers with a cursor to
//! go on rather than reading everything.

use crate::engine::Engine;
use crate::model::{Event, Millis, Transaction, TxStatus};
use crate::money::Money;
use crate::store::StoreError;

/// Transactions read from the store per round trip.
pub const CHUNK: usize = 500;
/// At most this many transactions are read for one page.
pub const MAX_SCAN: usize = 20_000;
/// Creation order (the counter) and creation times of several processes
/// may disagree by clock skew: the walk stops only this far before `from`.
const SKEW_MS: i64 = 10 * 60 * 1000;
/// Longest free-text search.
pub const MAX_TEXT: usize = 200;

/// What to look for; every field left `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TxFilter {
    pub status: Option<TxStatus>,
    /// Created at or after this time.
    pub from: Option<Millis>,
    /// Created before this time.
    pub to: Option<Millis>,
    /// The card as written in `CARDS`, or its last digits.
    pub card: Option<String>,
    /// The amount to pay or the price asked.
    pub amount: Option<Money>,
    /// Text in the metadata (an order id), or the transaction id;
    /// case-insensitive.
    pub text: Option<String>,
}

impl TxFilter {
    pub fn matches(&self, tx: &Transaction) -> bool {
        self.status.is_none_or(|s| tx.status == s)
            && self.from.is_none_or(|from| tx.created_at >= from)
            && self.to.is_none_or(|to| tx.created_at < to)
            && self.card.as_deref().is_none_or(|card| {
                tx.card
                    .as_deref()
                    .is_some_and(|c| c == card || (card.len() >= 4 && c.ends_with(card)))
            })
            && self
                .amount
                .is_none_or(|a| tx.amount == a || tx.requested_amount == a)
            && self
                .text
                .as_deref()
                .is_none_or(|text| text_matches(tx, text))
    }

    /// Whether every transaction after this one (older by the counter) is
    /// before `from`, clock skew allowed for.
    fn past_range(&self, tx: &Transaction) -> bool {
        self.from
            .is_some_and(|from| tx.created_at < from.saturating_sub(SKEW_MS))
    }
}

fn text_matches(tx: &Transaction, text: &str) -> bool {
    let needle = text.to_lowercase();
    if tx.id.eq_ignore_ascii_case(text) {
        return true;
    }
    let Some(meta) = &tx.metadata else {
        return false;
    };
    // Values, not the JSON text: a search for `"` or `:` must not match
    // the syntax.
    fn any(v: &serde_json::Value, needle: &str) -> bool {
        match v {
            serde_json::Value::String(s) => s.to_lowercase().contains(needle),
            serde_json::Value::Number(n) => n.to_string().contains(needle),
            serde_json::Value::Bool(b) => b.to_string() == needle,
            serde_json::Value::Null => false,
            serde_json::Value::Array(items) => items.iter().any(|i| any(i, needle)),
            serde_json::Value::Object(map) => map.values().any(|i| any(i, needle)),
        }
    }
    any(meta, &needle)
}

/// Where a listing resumes: the creation counter of the last transaction
/// shown (opaque to callers; it is a number).
pub type Cursor = u64;

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub transactions: Vec<Transaction>,
    /// Pass back to go on; `None`: nothing more.
    pub next: Option<Cursor>,
}

/// What `Store::scan` returns: up to `count` transactions below the cursor,
/// newest first, each with its counter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scanned {
    pub transactions: Vec<(Cursor, Transaction)>,
    /// Whether the index has more below the last one.
    pub more: bool,
}

impl Engine {
    /// Up to `limit` transactions matching `filter`, newest first, after
    /// `cursor` (a page's `next`).
    pub async fn transactions(
        &self,
        filter: &TxFilter,
        cursor: Option<Cursor>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let mut out = Vec::new();
        let mut before = cursor;
        let mut read = 0;
        loop {
            let chunk = CHUNK.min(MAX_SCAN - read).max(1);
            let scanned = self.store.scan(filter.status, before, chunk).await?;
            read += scanned.transactions.len();
            for (seq, tx) in scanned.transactions {
                before = Some(seq);
                if filter.past_range(&tx) {
                    return Ok(Page {
                        transactions: out,
                        next: None,
                    });
                }
                if filter.matches(&tx) {
                    out.push(tx);
                    if out.len() >= limit {
                        return Ok(Page {
                            transactions: out,
                            next: before,
                        });
                    }
                }
            }
            if !scanned.more {
                return Ok(Page {
                    transactions: out,
                    next: None,
                });
            }
            if read >= MAX_SCAN {
                return Ok(Page {
                    transactions: out,
                    next: before,
                });
            }
        }
    }

    /// Calls `each` for every transaction matching `filter`, newest first,
    /// reading the store a chunk at a time (the export: nothing but the
    /// current chunk is held).
    pub async fn each_transaction(
        &self,
        filter: &TxFilter,
        mut each: impl FnMut(&Transaction) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError> {
        let mut before = None;
        let mut n = 0;
        loop {
            let scanned = self.store.scan(filter.status, before, CHUNK).await?;
            for (seq, tx) in &scanned.transactions {
                before = Some(*seq);
                if filter.past_range(tx) {
                    return Ok(n);
                }
                if filter.matches(tx) {
                    each(tx)?;
                    n += 1;
                }
            }
            if !scanned.more {
                return Ok(n);
            }
        }
    }

    /// A transaction with its webhook events and every delivery attempt.
    pub async fn transaction_detail(
        &self,
        id: &str,
    ) -> Result<Option<(Transaction, Vec<Event>)>, StoreError> {
        let Some(tx) = self.store.get(id).await? else {
            return Ok(None);
        };
        let events = self.store.events(id).await?;
        Ok(Some((tx, events)))
    }
}

/// A filter as people write it (query string, command line): every field
/// text, checked by [`FilterQuery::parse`].
#[derive(Debug, Clone, Default, serde::Deserialize, clap::Args)]
pub struct FilterQuery {
    /// pending, confirmed, cancelled (or all).
    #[arg(long)]
    pub status: Option<String>,
    /// Created at or after: a date (`2026-12-01`, the start of that day in
    /// `TZ`), a local time (`2026-12-01 09:30`) or an RFC 3339 time.
    #[arg(long)]
    pub from: Option<String>,
    /// Created before; a date includes that whole day.
    #[arg(long)]
    pub to: Option<String>,
    /// The card as in CARDS, or its last 4 digits.
    #[arg(long)]
    pub card: Option<String>,
    /// The amount to pay or the price asked (`20001` or `150.25`).
    #[arg(long)]
    pub amount: Option<String>,
    /// Text in the metadata (an order id) or a transaction id.
    #[arg(long = "search")]
    pub q: Option<String>,
}

/// Why a filter was refused: names the field and says what it takes.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{field}: {problem}")]
pub struct FilterError {
    pub field: &'static str,
    pub problem: String,
}

fn refuse(field: &'static str, problem: impl Into<String>) -> FilterError {
    FilterError {
        field,
        problem: problem.into(),
    }
}

/// A present, non-blank value.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl FilterQuery {
    pub fn parse(&self, tz: &jiff::tz::TimeZone) -> Result<TxFilter, FilterError> {
        let status = match self.status.as_deref().map(str::trim) {
            None | Some("all") => None,
            Some(s) => Some(TxStatus::parse(s).ok_or_else(|| {
                refuse(
                    "status",
                    "must be pending, confirmed, cancelled or all (or left out)",
                )
            })?),
        };
        let from = given(&self.from)
            .map(|t| time_bound(t, tz, false).map_err(|e| refuse("from", e)))
            .transpose()?;
        let to = given(&self.to)
            .map(|t| time_bound(t, tz, true).map_err(|e| refuse("to", e)))
            .transpose()?;
        let card = given(&self.card).map(str::to_string);
        if card.as_ref().is_some_and(|c| c.chars().count() > 64) {
            return Err(refuse("card", "is longer than 64 characters"));
        }
        let amount = given(&self.amount)
            .map(|a| {
                Money::parse_decimal(a)
                    .map_err(|_| refuse("amount", "must be a number such as 20001 or 150.25"))
            })
            .transpose()?;
        let text = given(&self.q).map(str::to_string);
        if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT) {
            return Err(refuse(
                "search",
                format!("is longer than {MAX_TEXT} characters"),
            ));
        }
        Ok(TxFilter {
            status,
            from,
            to,
            card,
            amount,
            text,
        })
    }
}

/// A time bound: an RFC 3339 time, a local date-time or a date in `tz`. A
/// date as an upper bound (`end`) means the end of that day.
pub fn time_bound(text: &str, tz: &jiff::tz::TimeZone, end: bool) -> Result<Millis, String> {
    let text = text.trim();
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let local = |dt: jiff::civil::DateTime| {
        dt.to_zoned(tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|e| e.to_string())
    };
    // A bare date first (a date-time parser would read it as midnight,
    // and an upper bound must then include the whole day).
    if let (false, Ok(d)) = (text.contains(':'), text.parse::<jiff::civil::Date>()) {
        let day = if end {
            d.tomorrow().map_err(|e| e.to_string())?
        } else {
            d
        };
        return local(day.to_datetime(jiff::civil::Time::midnight()));
    }
    if let Ok(dt) = text.replacen(' ', "T", 1).parse::<jiff::civil::DateTime>() {
        return local(dt);
    }
    Err(format!(
        "'{}' is not a date or time; write 2026-12-01, 2026-12-01 09:30 or 2026-12-01T04:30:00Z",
        text.chars().take(40).collect::<String>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(card: Option<&str>, meta: serde_json::Value) -> Transaction {
        Transaction {
            id: "4fcd604a-0000-4000-8000-000000000001".into(),
            status: TxStatus::Pending,
            amount: Money::from_minor(2_000_100),
            requested_amount: Money::from_minor(2_000_000),
            card: card.map(str::to_string),
            currency: "UZS".into(),
            created_at: 1_000,
            expires_at: 2_000,
            ended_at: None,
            cancel_reason: None,
            metadata: Some(meta),
            paid_by: None,
            late_credits: Vec::new(),
            last_event: None,
            reversed_at: None,
            reversal: None,
            manual: None,
        }
    }

    #[test]
    fn each_field_filters() {
        let t = tx(
            Some("9860****7466"),
            serde_json::json!({"order": "A-1001", "n": 5}),
        );
        let f = |f: TxFilter| f.matches(&t);
        assert!(f(TxFilter::default()));
        assert!(f(TxFilter {
            card: Some("7466".into()),
            ..Default::default()
        }));
        assert!(!f(TxFilter {
            card: Some("466".into()),
            ..Default::default()
        }));
        assert!(!f(TxFilter {
            card: Some("1111".into()),
            ..Default::default()
        }));
        assert!(f(TxFilter {
            amount: Some(Money::from_major(20000)),
            ..Default::default()
        }));
        assert!(f(TxFilter {
            amount: Some(Money::from_major(20001)),
            ..Default::default()
        }));
        assert!(!f(TxFilter {
            amount: Some(Money::from_major(20002)),
            ..Default::default()
        }));
        assert!(f(TxFilter {
            text: Some("a-1001".into()),
            ..Default::default()
        }));
        assert!(
            !f(TxFilter {
                text: Some("order".into()),
                ..Default::default()
            }),
            "keys are not values"
        );
        assert!(
            !f(TxFilter {
                text: Some("\"".into()),
                ..Default::default()
            }),
            "JSON syntax is not text"
        );
        assert!(f(TxFilter {
            from: Some(1_000),
            to: Some(1_001),
            ..Default::default()
        }));
        assert!(!f(TxFilter {
            from: Some(1_001),
            ..Default::default()
        }));
        assert!(!f(TxFilter {
            to: Some(1_000),
            ..Default::default()
        }));
        assert!(!f(TxFilter {
            status: Some(TxStatus::Confirmed),
            ..Default::default()
        }));
    }

    #[test]
    fn bounds_are_read_in_the_sellers_zone() {
        let tz = jiff::tz::TimeZone::get("Asia/Tashkent").unwrap();
        let at = |s: &str, end| time_bound(s, &tz, end).unwrap();
        // Tashkent is UTC+5.
        assert_eq!(at("2026-12-01", false), at("2026-11-30T19:00:00Z", false));
        assert_eq!(at("2026-12-01", true), at("2026-12-01T19:00:00Z", false));
        assert_eq!(
            at("2026-12-01 09:30", false),
            at("2026-12-01T04:30:00Z", false)
        );
        assert!(
            time_bound("yesterday", &tz, false)
                .unwrap_err()
                .contains("2026-12-01")
        );
        assert!(time_bound("2026-13-01", &tz, false).is_err());
    }

    #[test]
    fn hostile_filters_are_refused_by_name() {
        let tz = jiff::tz::TimeZone::UTC;
        let q = |f: FilterQuery| f.parse(&tz).map_err(|e| e.field);
        assert_eq!(
            q(FilterQuery {
                status: Some("paid".into()),
                ..Default::default()
            }),
            Err("status")
        );
        assert_eq!(
            q(FilterQuery {
                amount: Some("1e9".into()),
                ..Default::default()
            }),
            Err("amount")
        );
        assert_eq!(
            q(FilterQuery {
                q: Some("x".repeat(201)),
                ..Default::default()
            }),
            Err("search")
        );
        assert_eq!(
            q(FilterQuery {
                from: Some("'; DROP".into()),
                ..Default::default()
            }),
            Err("from")
        );
        let ok = q(FilterQuery {
            q: Some("*".into()),
            card: Some(" ".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((ok.text.as_deref(), ok.card), (Some("*"), None));
    }
}
