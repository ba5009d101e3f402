//! The transaction filters, read from the query string: `status` (pending,
//! confirmed, expired, cancelled), `from` and `to` (days, `2026-12-03`, in
//! the seller's time zone, both included), `card` (the last digits), `amount`
//! (exact: what the buyer paid or what the shop asked) and `q` (free text in
//! the metadata, such as an order id, or a transaction id). An empty field is
//! no filter. A value that does not parse is reported back on the page and
//! nothing is listed, never guessed; values are bounded in length.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::model::{CancelReason, Millis, Transaction, TxStatus};
use crate::money::Money;

/// Longest free text searched for.
pub const MAX_TEXT: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Pending,
    Confirmed,
    Expired,
    Cancelled,
}

impl Status {
    pub const ALL: [&'static str; 4] = ["pending", "confirmed", "expired", "cancelled"];

    fn parse(s: &str) -> Option<Status> {
        match s {
            "pending" => Some(Status::Pending),
            "confirmed" => Some(Status::Confirmed),
            "expired" => Some(Status::Expired),
            "cancelled" => Some(Status::Cancelled),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Confirmed => "confirmed",
            Status::Expired => "expired",
            Status::Cancelled => "cancelled",
        }
    }

    /// What the store can list by (expired is a kind of cancelled).
    pub fn stored(self) -> TxStatus {
        match self {
            Status::Pending => TxStatus::Pending,
            Status::Confirmed => TxStatus::Confirmed,
            Status::Expired | Status::Cancelled => TxStatus::Cancelled,
        }
    }
}

/// The status as the console names it: an expired order apart from one
/// cancelled by the shop.
pub(super) fn status_name(tx: &Transaction) -> &'static str {
    match (tx.status, tx.cancel_reason) {
        (TxStatus::Pending, _) => "pending",
        (TxStatus::Confirmed, _) => "confirmed",
        (TxStatus::Cancelled, Some(CancelReason::Expired)) => "expired",
        (TxStatus::Cancelled, _) => "cancelled",
    }
}

/// The filter's fields as typed, to show them again in the form.
#[derive(Debug, Clone, Default)]
pub(super) struct Typed {
    pub status: String,
    pub from: String,
    pub to: String,
    pub card: String,
    pub amount: String,
    pub q: String,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Filter {
    pub status: Option<Status>,
    /// [from, to) in Unix ms.
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    pub card: Option<String>,
    pub amount: Option<Money>,
    /// Lower-cased.
    pub text: Option<String>,
}

fn clip(s: &str, n: usize) -> String {
    s.trim().chars().take(n).collect()
}

/// Reads the query; errors name the field and what was wrong.
pub(super) fn parse(query: Option<&str>, tz: &TimeZone) -> (Typed, Filter, Vec<String>) {
    let mut typed = Typed::default();
    if let Some(q) = query
        && let Ok(url) = reqwest::Url::parse(&format!("http://x/?{q}"))
    {
        for (k, v) in url.query_pairs() {
            let slot = match k.as_ref() {
                "status" => &mut typed.status,
                "from" => &mut typed.from,
                "to" => &mut typed.to,
                "card" => &mut typed.card,
                "amount" => &mut typed.amount,
                "q" => &mut typed.q,
                _ => continue,
            };
            if slot.is_empty() {
                *slot = clip(&v, MAX_TEXT + 1);
            }
        }
    }
    let mut errors = Vec::new();
    let mut f = Filter::default();
    if !typed.status.is_empty() && typed.status != "all" {
        f.status = Status::parse(&typed.status);
        if f.status.is_none() {
            errors.push("Status: choose one from the list.".into());
        }
    }
    let day = |text: &str, name: &str, errors: &mut Vec<String>| -> Option<Date> {
        if text.is_empty() {
            return None;
        }
        let d = text.parse::<Date>().ok();
        if d.is_none() {
            errors.push(format!("{name}: write a day as 2026-12-03."));
        }
        d
    };
    let start = |d: Date| {
        d.to_zoned(tz.clone())
            .ok()
            .map(|z| z.timestamp().as_millisecond())
    };
    f.from = day(&typed.from, "From", &mut errors).and_then(start);
    f.to = day(&typed.to, "To", &mut errors)
        .and_then(|d| d.tomorrow().ok())
        .and_then(start);
    if !typed.card.is_empty() {
        let digits: String = typed.card.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() < 4 || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            errors.push("Card: write its last 4 digits, such as 7466.".into());
        } else {
            f.card = Some(digits);
        }
    }
    if !typed.amount.is_empty() {
        let plain: String = typed
            .amount
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
            .collect();
        match Money::parse_decimal(&plain.replace(',', ".")) {
            Ok(m) => f.amount = Some(m),
            Err(e) => errors.push(format!("Amount: {e}.")),
        }
    }
    if typed.q.chars().count() > MAX_TEXT {
        errors.push(format!("Search: at most {MAX_TEXT} characters."));
    } else if !typed.q.is_empty() {
        f.text = Some(typed.q.to_lowercase());
    }
    (typed, f, errors)
}

/// The first value of query parameter `name`.
pub(super) fn param(query: Option<&str>, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(&format!("http://x/?{}", query?)).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The list's address with these filters, from cursor `before` on.
pub(super) fn link(typed: &Typed, before: crate::listing::Cursor) -> String {
    let Ok(mut url) = reqwest::Url::parse("http://x/console/transactions") else {
        return "/console/transactions".into();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in [
            ("status", &typed.status),
            ("from", &typed.from),
            ("to", &typed.to),
            ("card", &typed.card),
            ("amount", &typed.amount),
            ("q", &typed.q),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        q.append_pair("before", &before.to_string());
    }
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

impl Filter {
    /// The same filter for `Engine::transactions` and the export; expired
    /// and cancelled are one stored status, which [`Filter::matches`] tells
    /// apart.
    pub fn listing(&self) -> crate::listing::TxFilter {
        crate::listing::TxFilter {
            status: self.status.map(Status::stored),
            from: self.from,
            to: self.to,
            card: self.card.clone(),
            amount: self.amount,
            text: self.text.clone(),
        }
    }

    pub fn matches(&self, tx: &Transaction) -> bool {
        if let Some(s) = self.status
            && status_name(tx) != s.as_str()
        {
            return false;
        }
        if self.from.is_some_and(|from| tx.created_at < from)
            || self.to.is_some_and(|to| tx.created_at >= to)
        {
            return false;
        }
        if let Some(card) = &self.card
            && !tx
                .card
                .as_deref()
                .is_some_and(|c| c.ends_with(card.as_str()))
        {
            return false;
        }
        if let Some(a) = self.amount
            && tx.amount != a
            && tx.requested_amount != a
        {
            return false;
        }
        if let Some(text) = &self.text {
            let meta = tx
                .metadata
                .as_ref()
                .map(|m| m.to_string().to_lowercase())
                .unwrap_or_default();
            if !meta.contains(text.as_str()) && !tx.id.contains(text.as_str()) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> TimeZone {
        TimeZone::get("Asia/Tashkent").unwrap()
    }

    #[test]
    fn hostile_values_are_reported_not_guessed() {
        let (_, _, errors) = parse(
            Some("status=<script>&from=2026-13-45&to=yesterday&card=12ab&amount=1e9"),
            &tz(),
        );
        assert_eq!(errors.len(), 5, "{errors:?}");
        let long = "x".repeat(5000);
        let (typed, _, errors) = parse(Some(&format!("q={long}")), &tz());
        assert_eq!(errors.len(), 1);
        assert!(typed.q.len() <= MAX_TEXT + 1, "the echo is bounded too");
    }

    #[test]
    fn empty_fields_filter_nothing_and_amounts_read_like_people_write_them() {
        let (_, f, errors) = parse(Some("status=&from=&to=&card=&amount=&q="), &tz());
        assert!(errors.is_empty());
        assert!(f.status.is_none() && f.from.is_none() && f.amount.is_none() && f.text.is_none());
        let (_, f, errors) = parse(Some("amount=20+001,50&card=+7466"), &tz());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(f.amount, Some(Money::from_minor(2_000_150)));
        assert_eq!(f.card.as_deref(), Some("7466"));
    }

    #[test]
    fn days_are_whole_local_days() {
        let (_, f, _) = parse(Some("from=2026-12-03&to=2026-12-03"), &tz());
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        assert_eq!(f.from, Some(at("2026-12-02T19:00:00Z")));
        assert_eq!(f.to, Some(at("2026-12-03T19:00:00Z")));
    }
}
