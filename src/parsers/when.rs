//! The operation time a message shows, read in the bank's own time zone.
//! HUMO writes `12:36 02.10.2025`, Uzcard and NBU `16.10.25 17:52`, the HUMO
//! SMS `25-04-04 10:19` (year first) or `01-APR-2025 00:00`. A date that does
//! not exist (`31.02.2025`) gives no time rather than a guess.

use std::sync::LazyLock;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use regex::Regex;

/// The zone the Uzbek banks write their times in.
pub static TASHKENT: LazyLock<Option<TimeZone>> =
    LazyLock::new(|| TimeZone::get("Asia/Tashkent").ok());
/// The zone Kaspi writes its times in.
pub static ALMATY: LazyLock<Option<TimeZone>> = LazyLock::new(|| TimeZone::get("Asia/Almaty").ok());

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The first date-and-time in `text`, as an instant in `zone`.
pub fn find(text: &str, zone: Option<&TimeZone>) -> Option<jiff::Timestamp> {
    let civil = find_civil(text)?;
    civil.to_zoned(zone?.clone()).ok().map(|z| z.timestamp())
}

/// The earliest match of any known layout, as a civil date-time.
fn find_civil(text: &str) -> Option<DateTime> {
    // Every layout has a `HH:MM` time.
    if !text.contains(':') {
        return None;
    }
    // Time first (HUMO): 12:36 02.10.2025
    static TIME_DATE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(\d{1,2}):(\d{2})(?::\d{2})?\s+(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})\b")
            .expect("static regex")
    });
    // Date first (Uzcard, NBU): 16.10.25 17:52, 01.10.2025 07:19, 02.04.25,16:19
    static DATE_TIME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})[,\s]\s*(\d{1,2}):(\d{2})\b")
            .expect("static regex")
    });
    // HUMO SMS: 25-04-04 10:19 (yy-mm-dd) or 01-APR-2025 00:00
    static DASHED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(\d{2})-(\d{2}|[A-Za-z]{3})-(\d{4}|\d{2})\s+(\d{1,2}):(\d{2})\b")
            .expect("static regex")
    });
    // ISO: 2025-04-02 08:37
    static ISO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2})\b").expect("static regex")
    });
    let mut best: Option<(usize, DateTime)> = None;
    let mut consider = |start: usize, dt: Option<DateTime>| {
        if let Some(dt) = dt
            && best.is_none_or(|(s, _)| start < s)
        {
            best = Some((start, dt));
        }
    };
    if let Some(c) = TIME_DATE.captures(text) {
        let n = |i| num(c.get(i).map_or("", |m| m.as_str()));
        consider(c.get(0)?.start(), build(n(5), n(4), n(3), n(1), n(2)));
    }
    if let Some(c) = DATE_TIME.captures(text) {
        let n = |i| num(c.get(i).map_or("", |m| m.as_str()));
        consider(c.get(0)?.start(), build(n(3), n(2), n(1), n(4), n(5)));
    }
    if let Some(c) = ISO.captures(text) {
        let n = |i| num(c.get(i).map_or("", |m| m.as_str()));
        consider(c.get(0)?.start(), build(n(1), n(2), n(3), n(4), n(5)));
    }
    if let Some(c) = DASHED.captures(text) {
        let part = |i| c.get(i).map_or("", |m| m.as_str());
        let n = |i| num(part(i));
        let dt = match month_name(part(2)) {
            // 01-APR-2025: day, month name, year.
            Some(month) => build(n(3), Some(month), n(1), n(4), n(5)),
            // 25-04-04: a two-digit year first, then month and day.
            None if part(3).len() == 2 => build(n(1), n(2), n(3), n(4), n(5)),
            None => None,
        };
        consider(c.get(0)?.start(), dt);
    }
    best.map(|(_, dt)| dt)
}

fn num(s: &str) -> Option<i64> {
    s.parse().ok()
}

fn month_name(s: &str) -> Option<i64> {
    let lower = s.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == lower)
        .map(|i| i as i64 + 1)
}

/// A civil date-time from parts; a two-digit year is 20yy. `None` for a date
/// or time that does not exist.
fn build(
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    hour: Option<i64>,
    minute: Option<i64>,
) -> Option<DateTime> {
    let year = year?;
    let year = if year < 100 { 2000 + year } else { year };
    let small = |v: Option<i64>| v.and_then(|v| i8::try_from(v).ok());
    DateTime::new(
        i16::try_from(year).ok()?,
        small(month)?,
        small(day)?,
        small(hour)?,
        small(minute)?,
        0,
        0,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<String> {
        find(text, TASHKENT.as_ref()).map(|t| t.to_string())
    }

    #[test]
    fn reads_each_layout_in_tashkent_time() {
        assert_eq!(
            at("🕓 12:36 02.10.2025").as_deref(),
            Some("2025-10-02T07:36:00Z")
        );
        assert_eq!(
            at("🕓 16.10.25 17:52").as_deref(),
            Some("2025-10-16T12:52:00Z")
        );
        assert_eq!(
            at("🕓 01.10.2025 07:19").as_deref(),
            Some("2025-10-01T02:19:00Z")
        );
        assert_eq!(
            at("UZ,02.04.25 16:19,karta").as_deref(),
            Some("2025-04-02T11:19:00Z")
        );
        assert_eq!(
            at("; 25-04-04 10:19;").as_deref(),
            Some("2025-04-04T05:19:00Z")
        );
        assert_eq!(
            at("UZS. 01-APR-2025 00:00").as_deref(),
            Some("2025-03-31T19:00:00Z")
        );
        assert_eq!(
            at("SHOP; 2025-04-02 08:37;").as_deref(),
            Some("2025-04-02T03:37:00Z")
        );
    }

    #[test]
    fn almaty_is_its_own_zone() {
        let t = find("10.01.2025 12:00", ALMATY.as_ref()).map(|t| t.to_string());
        assert_eq!(t.as_deref(), Some("2025-01-10T07:00:00Z"));
    }

    #[test]
    fn impossible_dates_give_nothing() {
        assert_eq!(at("🕓 12:36 31.02.2025"), None);
        assert_eq!(at("🕓 25:61 01.02.2025"), None);
        assert_eq!(at("no time here 12:30"), None);
    }
}
