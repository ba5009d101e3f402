//! Numbers, cards and times as a buyer reads them: amounts grouped the local
//! way (`20 001 so‘m`, `20,001 UZS`), cards in groups of four, the deadline
//! as a wall-clock time in the seller's zone. Pure functions over exact
//! `Money` (integer minor units): no float ever formats a price.

use super::lang::{Lang, Strings};
use crate::money::{Money, SCALE};

/// `20001` -> `20 001` (with the language's separators; `,50` kept when
/// the amount has minor units).
pub fn number(m: Money, s: &Strings) -> String {
    let minor = m.minor().unsigned_abs();
    let (major, cents) = (minor / SCALE as u64, minor % SCALE as u64);
    let digits = major.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push_str(s.group);
        }
        out.push(c);
    }
    if cents != 0 {
        out.push_str(&format!("{}{cents:02}", s.decimal));
    }
    out
}

/// The amount with its currency, as one unbreakable run of text.
pub fn money(m: Money, currency: &str, lang: Lang) -> String {
    format!(
        "{}\u{a0}{}",
        number(m, lang.strings()),
        currency_name(currency, lang)
    )
}

/// What to paste into a bank app: digits only, no group separators.
pub fn money_plain(m: Money, lang: Lang) -> String {
    let minor = m.minor().unsigned_abs();
    let (major, cents) = (minor / SCALE as u64, minor % SCALE as u64);
    if cents == 0 {
        major.to_string()
    } else {
        format!("{major}{}{cents:02}", lang.strings().decimal)
    }
}

pub fn currency_name(code: &str, lang: Lang) -> &str {
    match (code, lang) {
        ("UZS", Lang::Uz) => "so‘m",
        ("UZS", Lang::Ru | Lang::Kk) => "сум",
        ("KZT", _) => "₸",
        ("RUB", Lang::Ru | Lang::Kk) => "₽",
        _ => code,
    }
}

/// `8600123412347466` -> `8600 1234 1234 7466`; masked digits stay masked.
pub fn card(card: &str) -> String {
    let chars: Vec<char> = card.chars().filter(|c| !c.is_whitespace()).collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\u{a0}")
}

/// The card's digits when it is written in full (a masked card cannot be
/// pasted into a bank app, so it gets no copy button).
pub fn card_plain(card: &str) -> Option<String> {
    let digits: String = card.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() >= 12 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// `29:59`, or `1:05:00` past an hour.
pub fn countdown(seconds: i64) -> String {
    let s = seconds.max(0);
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{sec:02}")
    } else {
        format!("{m:02}:{sec:02}")
    }
}

/// (`14:42`, `UTC+5`): the deadline on the seller's clock, and the zone.
pub fn deadline(ms: i64, tz: &jiff::tz::TimeZone) -> (String, String) {
    let Ok(ts) = jiff::Timestamp::from_millisecond(ms) else {
        return (String::new(), String::new());
    };
    let zoned = ts.to_zoned(tz.clone());
    let secs = zoned.offset().seconds();
    let (sign, secs) = if secs < 0 { ('-', -secs) } else { ('+', secs) };
    let zone = match (secs / 3600, (secs % 3600) / 60) {
        (0, 0) => "UTC".to_string(),
        (h, 0) => format!("UTC{sign}{h}"),
        (h, m) => format!("UTC{sign}{h}:{m:02}"),
    };
    (zoned.strftime("%H:%M").to_string(), zone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_per_language() {
        let m = Money::from_minor(2_000_150);
        assert_eq!(money(m, "UZS", Lang::Uz), "20\u{a0}001,50\u{a0}so‘m");
        assert_eq!(money(m, "UZS", Lang::En), "20,001.50\u{a0}UZS");
        assert_eq!(
            money(Money::from_major(1_000_000), "KZT", Lang::Kk),
            "1\u{a0}000\u{a0}000\u{a0}₸"
        );
        assert_eq!(money_plain(m, Lang::Ru), "20001,50");
        assert_eq!(money_plain(Money::from_major(7), Lang::En), "7");
    }

    #[test]
    fn cards_and_times() {
        assert_eq!(
            card("8600123412347466"),
            "8600\u{a0}1234\u{a0}1234\u{a0}7466"
        );
        assert_eq!(card("9860****4428"), "9860\u{a0}****\u{a0}4428");
        assert_eq!(card_plain("9860****4428"), None);
        assert_eq!(
            card_plain("8600123412347466").as_deref(),
            Some("8600123412347466")
        );
        assert_eq!(countdown(1799), "29:59");
        assert_eq!(countdown(-5), "00:00");
        assert_eq!(countdown(3900), "1:05:00");
        let tz = jiff::tz::TimeZone::get("Asia/Tashkent").unwrap();
        // 2026-01-01T09:42:00Z is 14:42 in Tashkent.
        assert_eq!(
            deadline(1_767_260_520_000, &tz),
            ("14:42".into(), "UTC+5".into())
        );
    }
}
