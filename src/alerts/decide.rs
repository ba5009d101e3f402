//! The alert rules, pure: what to alert, when, under which key (the key is
//! what makes an alert once), and how due alerts are grouped into messages.
//! Every function takes the time as an argument, so the tests drive them
//! with a fake clock.
//!
//! What must stay true:
//! - a key names the change of state it is about (the credit, the event, the
//!   moment the endpoint started failing, the last message before a silence,
//!   the day), never the time of deciding: deciding again, in this process
//!   after a restart or in another one, gives the same key;
//! - "working again" and "messages again" follow only an alert that was
//!   queued: a short failure or pause the seller never heard of stays silent;
//! - alerts of a kind that floods (credits, given-up events) are held back
//!   until their kind has been quiet for `SETTLE` (at most `MAX_WAIT`), then
//!   go as one message; a clock that went back never holds an alert longer.

use std::time::Duration;

pub use super::mask::{mask_cards, mask_text};
use super::{Alert, CreditView, Queued};
use crate::config::{AlertKind, AlertSettings};
use crate::model::{CreditRecord, Millis, Transaction};
use crate::store::ApplyOutcome;

/// A flooding kind is sent once it has been quiet this long...
pub const SETTLE_MS: i64 = 10_000;
/// ...or once its oldest alert has waited this long.
pub const MAX_WAIT_MS: i64 = 60_000;
/// A held-back alert is looked at again this soon (or when it is ready, if
/// sooner): the next look must see the whole kind, the held alerts with the
/// ones queued since, or it would judge an old part of a flood quiet.
pub const RECHECK_MS: i64 = 1_000;
/// A daily summary more than this late (paycue was down at the time) is
/// not sent: the next one comes tomorrow.
pub const DAILY_LATE_MS: i64 = 12 * 3600 * 1000;
/// The bank's text in an alert is cut to this many characters.
pub const TEXT_MAX: usize = 400;

fn queued(key: String, alert: Alert, now: Millis) -> Queued {
    Queued {
        key,
        alert,
        queued_at: now,
    }
}

/// The alert for an applied credit or reversal, if the seller wants it.
/// `text` is the bank's message (None when rebuilt from the store).
pub fn applied(
    outcome: &ApplyOutcome,
    text: Option<&str>,
    settings: &AlertSettings,
    now: Millis,
) -> Option<Queued> {
    let (kind, key, alert) = match outcome {
        ApplyOutcome::Unmatched { credit } => (
            // A reversal that matched no payment is no money to assign.
            if credit.kind == crate::model::CreditKind::Reversal {
                return None;
            } else {
                AlertKind::Unmatched
            },
            format!("unmatched:{}", credit.id),
            Alert::Unmatched {
                credit: view(credit, text),
                reason: credit.reason.clone().unwrap_or_else(|| "unknown".into()),
            },
        ),
        ApplyOutcome::Late {
            transaction,
            credit,
        } => (
            AlertKind::Late,
            format!("late:{}", credit.id),
            Alert::Late {
                credit: view(credit, text),
                transaction_id: transaction.id.clone(),
                order: order_of(transaction.metadata.as_ref()),
                due: transaction.expires_at,
            },
        ),
        ApplyOutcome::Reversed {
            transaction,
            credit,
        } => (
            AlertKind::Reversal,
            format!("reversal:{}", credit.id),
            Alert::Reversal {
                credit: view(credit, text),
                transaction_id: transaction.id.clone(),
                order: order_of(transaction.metadata.as_ref()),
                paid_at: paid_at(transaction),
            },
        ),
        ApplyOutcome::Confirmed { .. } | ApplyOutcome::Duplicate => return None,
    };
    settings.wants(kind).then(|| queued(key, alert, now))
}

fn paid_at(tx: &Transaction) -> Option<Millis> {
    tx.ended_at
}

/// A credit as alerts show it: last four digits, the text masked and cut.
/// `text` is the message at hand; without it (an alert rebuilt from the
/// store, e.g. by the catch-up after a restart or a missed event) the text
/// kept with the credit is shown, so the seller always sees the bank's words.
pub fn view(credit: &CreditRecord, text: Option<&str>) -> CreditView {
    CreditView {
        id: credit.id.clone(),
        amount: credit.amount,
        currency: credit.currency.clone(),
        card_last4: credit.card_last4.clone(),
        bank: credit.bank.clone(),
        date: credit.date,
        text: text.or(credit.text.as_deref()).map(mask_text),
    }
}

/// The shop's order id from a transaction's metadata: `order_id`, `orderId`,
/// `order` or `id`, as text, with any card number in it masked
/// (`mask_cards`); else None (the metadata is the shop's, and may hold more
/// than an alert should repeat).
pub fn order_of(metadata: Option<&serde_json::Value>) -> Option<String> {
    let obj = metadata?.as_object()?;
    ["order_id", "orderId", "order", "id"]
        .iter()
        .find_map(|k| match obj.get(*k)? {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.chars().take(64).collect()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .map(|o: String| mask_cards(&o))
}

/// An event given up after its last retry; `series` counts the attempts
/// before its last redeliver, so an event redelivered and given up again is
/// a new alert (the first series keeps the key it always had).
pub fn gave_up(
    event_id: &str,
    series: usize,
    transaction_id: &str,
    action: &str,
    metadata: Option<&serde_json::Value>,
    settings: &AlertSettings,
    now: Millis,
) -> Option<Queued> {
    settings.wants(AlertKind::Webhook).then(|| {
        queued(
            match series {
                0 => format!("webhook_gave_up:{event_id}"),
                n => format!("webhook_gave_up:{event_id}:{n}"),
            },
            Alert::WebhookGaveUp {
                event_id: event_id.to_string(),
                transaction_id: transaction_id.to_string(),
                action: action.to_string(),
                order: order_of(metadata),
            },
            now,
        )
    })
}

fn down_key(since: Millis) -> String {
    format!("webhook_down:{since}")
}

/// The endpoint has failed since `since` (no success after): one alert
/// once that has lasted `webhook_after`.
pub fn webhook_down(
    since: Option<Millis>,
    settings: &AlertSettings,
    now: Millis,
) -> Option<Queued> {
    let since = since?;
    let after = settings.webhook_after.as_millis() as i64;
    (settings.wants(AlertKind::Webhook) && now - since >= after)
        .then(|| queued(down_key(since), Alert::WebhookDown { since }, now))
}

/// The key whose claim says the seller heard the endpoint was down.
pub fn webhook_down_key(since: Millis) -> String {
    down_key(since)
}

/// A success after failures since `since`: "working again", only if the
/// seller was told it was down (`down_alerted`).
pub fn webhook_up(since: Millis, down_alerted: bool, now: Millis) -> Option<Queued> {
    down_alerted.then(|| {
        queued(
            format!("webhook_up:{since}"),
            Alert::WebhookUp { since, at: now },
            now,
        )
    })
}

fn silence_key(since: Millis) -> String {
    format!("silence:{since}")
}

/// No watched message since `last`: one alert once that has lasted
/// `ALERT_SILENCE`. Only while every source is caught up: a source that is
/// reconnecting has not read what may be waiting for it.
pub fn silence(
    last: Option<Millis>,
    caught_up: bool,
    settings: &AlertSettings,
    now: Millis,
) -> Option<Queued> {
    let (Some(last), Some(limit)) = (last, settings.silence) else {
        return None;
    };
    let quiet = now - last >= limit.as_millis() as i64;
    (caught_up && quiet && settings.wants(AlertKind::Silence))
        .then(|| queued(silence_key(last), Alert::Silence { since: last }, now))
}

/// The key whose claim says the seller heard about a silence since `last`.
pub fn silence_alert_key(last: Millis) -> String {
    silence_key(last)
}

/// A message came at `at` after silence since `before`: "messages again",
/// only if the silence was alerted.
pub fn silence_over(before: Millis, alerted: bool, at: Millis, now: Millis) -> Option<Queued> {
    alerted.then(|| {
        queued(
            format!("silence_over:{before}"),
            Alert::SilenceOver { since: before, at },
            now,
        )
    })
}

/// The daily summary due at `now`, if any: the latest `ALERT_DAILY_AT` (in
/// `TZ`) at or before `now`, when it is after `started` (alerts were running
/// then) and less than `DAILY_LATE_MS` ago. Answers the end of its day.
pub fn daily_due(settings: &AlertSettings, started: Millis, now: Millis) -> Option<Millis> {
    if !settings.wants(AlertKind::Daily) {
        return None;
    }
    let now_ts = jiff::Timestamp::from_millisecond(now).ok()?;
    let local = now_ts.to_zoned(settings.timezone.clone());
    let today = local.date().to_datetime(settings.daily_at);
    let mut at = today.to_zoned(settings.timezone.clone()).ok()?;
    if at.timestamp() > now_ts {
        let yesterday = local
            .date()
            .yesterday()
            .ok()?
            .to_datetime(settings.daily_at);
        at = yesterday.to_zoned(settings.timezone.clone()).ok()?;
    }
    let until = at.timestamp().as_millisecond();
    (until > started && now - until < DAILY_LATE_MS).then_some(until)
}

/// The key of the daily summary ending at `until`: its local date in `TZ`,
/// so a summary is once a day even when `TZ` or `ALERT_DAILY_AT` changes
/// after it went (the moment `until` would move, the date does not).
pub fn daily_key(settings: &AlertSettings, until: Millis) -> String {
    match jiff::Timestamp::from_millisecond(until) {
        Ok(t) => format!("daily:{}", t.to_zoned(settings.timezone.clone()).date()),
        Err(_) => format!("daily:{until}"),
    }
}

/// One message to send: the alerts it covers (one, or many of a kind).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub label: &'static str,
    pub alerts: Vec<(String, Queued)>,
}

/// What to do with the alerts taken from the queue.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Plan {
    pub send: Vec<Message>,
    /// Alerts held back (their kind is still arriving), and when to look again.
    pub later: Vec<(String, Millis)>,
}

/// Kinds that can flood: many of them go as one message.
fn floods(label: &str) -> bool {
    matches!(label, "unmatched" | "late" | "reversal" | "webhook_gave_up")
}

/// Groups taken alerts into messages, oldest first.
pub fn plan(mut taken: Vec<(String, Queued)>, now: Millis) -> Plan {
    taken.sort_by(|a, b| a.1.queued_at.cmp(&b.1.queued_at).then(a.0.cmp(&b.0)));
    let mut plan = Plan::default();
    let mut groups: Vec<Message> = Vec::new();
    for (id, q) in taken {
        let label = q.alert.label();
        if floods(label) {
            match groups.iter_mut().find(|g| g.label == label) {
                Some(g) => g.alerts.push((id, q)),
                None => groups.push(Message {
                    label,
                    alerts: vec![(id, q)],
                }),
            }
        } else {
            plan.send.push(Message {
                label,
                alerts: vec![(id, q)],
            });
        }
    }
    for g in groups {
        let oldest = g
            .alerts
            .iter()
            .map(|(_, q)| q.queued_at)
            .min()
            .unwrap_or(now);
        let newest = g
            .alerts
            .iter()
            .map(|(_, q)| q.queued_at)
            .max()
            .unwrap_or(now);
        let clock_went_back = now < newest;
        if clock_went_back || now - newest >= SETTLE_MS || now - oldest >= MAX_WAIT_MS {
            plan.send.push(g);
        } else {
            let at = (newest + SETTLE_MS)
                .min(oldest + MAX_WAIT_MS)
                .min(now + RECHECK_MS);
            plan.later
                .extend(g.alerts.into_iter().map(|(id, _)| (id, at)));
        }
    }
    plan.send.sort_by_key(|m| {
        m.alerts
            .iter()
            .map(|(_, q)| q.queued_at)
            .min()
            .unwrap_or(now)
    });
    plan
}

/// Delay before sending again after a failed send (`failures` in a row):
/// 5 s doubling to 5 minutes. Telegram's own wait wins when it names one.
pub fn retry_delay(failures: u32, asked: Option<Duration>) -> Duration {
    let backoff = Duration::from_secs(5)
        .saturating_mul(1u32 << failures.min(6))
        .min(Duration::from_secs(300));
    asked.map_or(backoff, |a| a.max(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests;
