//! The overview's figures: for today and the last 7 days (today and the six
//! days before it, from midnight in the seller's time zone), the paid count
//! and sum per card, pending, expired, late and unmatched credits, and
//! webhook events whose retries ran out; the state of the message source and
//! of the store's persistence.
//!
//! Transactions count by when they were created (as the transaction filters
//! do), credits by when they arrived. The store has no index by time, so the
//! newest `SCAN` transactions and credits are read (and `EVENT_SCAN`
//! transactions' webhook events); a shop busier than that in 7 days sees the
//! figures marked "at least".

use std::collections::BTreeMap;

use jiff::tz::TimeZone;

use super::format;
use crate::engine::Engine;
use crate::model::{CancelReason, CreditOutcome, DeliveryState, Millis, TxStatus, now_millis};
use crate::money::Money;
use crate::store::StoreError;

/// Transactions (and credits of each kind) read at most.
pub const SCAN: usize = 5000;
/// Transactions whose webhook events are read at most.
pub const EVENT_SCAN: usize = 500;

/// One figure, today and over 7 days.
pub(super) struct Row {
    pub id: &'static str,
    pub label: &'static str,
    pub today: u64,
    pub week: u64,
}

/// What one card took.
pub(super) struct Paid {
    pub card: String,
    pub today: u64,
    pub today_sum: String,
    pub week: u64,
    pub week_sum: String,
}

pub(super) struct OverviewView {
    pub paid: Vec<Paid>,
    pub rows: Vec<Row>,
    /// The scan limit was reached: figures are lower bounds.
    pub capped: bool,
    pub now: String,
    pub timezone: String,
    pub connected: bool,
    pub caught_up: bool,
    pub last_message: String,
    pub persistence: &'static str,
    pub durable: bool,
}

/// Midnight today in `tz`, as Unix ms, and midnight six days before.
fn windows(now: Millis, tz: &TimeZone) -> (Millis, Millis) {
    let day = 86_400_000;
    let Ok(ts) = jiff::Timestamp::from_millisecond(now) else {
        return (now - day, now - 7 * day);
    };
    let zoned = ts.to_zoned(tz.clone());
    let today = zoned
        .start_of_day()
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(now - day);
    let week = zoned
        .start_of_day()
        .ok()
        .and_then(|z| z.checked_sub(jiff::Span::new().days(6)).ok())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(today - 6 * day);
    (today, week)
}

#[derive(Default)]
struct Tally {
    today: u64,
    week: u64,
}

impl Tally {
    fn add(&mut self, at: Millis, today: Millis) {
        self.week += 1;
        if at >= today {
            self.today += 1;
        }
    }
}

pub(super) async fn build(engine: &Engine) -> Result<OverviewView, StoreError> {
    let tz = &engine.config.tz;
    let now = now_millis();
    let (today, week) = windows(now, tz);
    let store = &engine.store;
    let currency = &engine.config.currency;

    let txs = store.list(None, SCAN).await?;
    let mut capped = txs.len() == SCAN && txs.last().is_some_and(|t| t.created_at >= week);
    let recent: Vec<_> = txs.into_iter().filter(|t| t.created_at >= week).collect();

    let mut paid: BTreeMap<String, (Tally, Money, Money)> = BTreeMap::new();
    for card in &engine.config.cards {
        paid.entry(format::card4(Some(&card.card))).or_default();
    }
    let (mut pending, mut expired) = (Tally::default(), Tally::default());
    for tx in &recent {
        match tx.status {
            TxStatus::Confirmed => {
                let entry = paid.entry(format::card4(tx.card.as_deref())).or_default();
                entry.0.add(tx.created_at, today);
                entry.2 = entry.2.checked_add(tx.amount).unwrap_or(entry.2);
                if tx.created_at >= today {
                    entry.1 = entry.1.checked_add(tx.amount).unwrap_or(entry.1);
                }
            }
            TxStatus::Pending => pending.add(tx.created_at, today),
            TxStatus::Cancelled if tx.cancel_reason == Some(CancelReason::Expired) => {
                expired.add(tx.created_at, today)
            }
            TxStatus::Cancelled => {}
        }
    }

    let credits = |outcome| async move {
        let list = store.list_credits(outcome, SCAN).await?;
        let full = list.len() == SCAN && list.last().is_some_and(|c| c.received_at >= week);
        let mut t = Tally::default();
        for c in list.iter().filter(|c| c.received_at >= week) {
            t.add(c.received_at, today);
        }
        Ok::<_, StoreError>((t, full))
    };
    let (late, late_full) = credits(CreditOutcome::Late).await?;
    let (unmatched, unmatched_full) = credits(CreditOutcome::Unmatched).await?;

    let mut failed = Tally::default();
    let with_events: Vec<_> = recent.iter().filter(|t| t.last_event.is_some()).collect();
    for tx in with_events.iter().take(EVENT_SCAN) {
        for e in store.events(&tx.id).await? {
            if e.state == DeliveryState::Failed && e.created_at >= week {
                failed.add(e.created_at, today);
            }
        }
    }
    capped |= late_full || unmatched_full || with_events.len() > EVENT_SCAN;

    let persistence = store.persistence().await?;
    let row = |id, label, t: Tally| Row {
        id,
        label,
        today: t.today,
        week: t.week,
    };
    Ok(OverviewView {
        paid: paid
            .into_iter()
            .map(|(card, (t, today_sum, week_sum))| Paid {
                card,
                today: t.today,
                today_sum: format::money(today_sum, currency),
                week: t.week,
                week_sum: format::money(week_sum, currency),
            })
            .collect(),
        rows: vec![
            row("pending", "Pending now", pending),
            row("expired", "Expired unpaid", expired),
            row("late", "Late payments", late),
            row("unmatched", "Credits that matched nothing", unmatched),
            row(
                "webhook-failed",
                "Webhooks failed (retries used up)",
                failed,
            ),
        ],
        capped,
        now: format::time(now, tz),
        timezone: tz.iana_name().unwrap_or("local").to_string(),
        connected: engine.is_connected(),
        caught_up: engine.is_caught_up(),
        last_message: engine
            .last_message_at()
            .map(|at| format::time(at, tz))
            .unwrap_or_else(|| "none since paycue started".into()),
        persistence: persistence.as_str(),
        durable: persistence.durable(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_starts_at_local_midnight_and_the_week_six_days_before() {
        let tz = TimeZone::get("Asia/Tashkent").unwrap();
        // 2026-12-03 01:30 in Tashkent (UTC+5) is 2026-12-02 20:30 UTC.
        let now = "2026-12-02T20:30:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        let (today, week) = windows(now, &tz);
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        assert_eq!(today, at("2026-12-02T19:00:00Z"));
        assert_eq!(week, at("2026-11-26T19:00:00Z"));
    }
}
