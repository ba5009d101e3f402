//! Money and times as the seller reads them: `20 001 UZS` (grouped with
//! non-breaking spaces, `.50` kept when there are minor units), wall-clock
//! times in the seller's time zone, and text from the shop or the bank with
//! its direction controls made visible. Pure functions over exact `Money`.

use jiff::tz::TimeZone;

use crate::model::Millis;
use crate::money::{Money, SCALE};

/// `2000150` minor -> `20 001.50`.
pub(super) fn number(m: Money) -> String {
    let minor = m.minor().unsigned_abs();
    let (major, cents) = (minor / SCALE as u64, minor % SCALE as u64);
    let digits = major.to_string();
    let mut out = String::new();
    if m.minor() < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    if cents != 0 {
        out.push_str(&format!(".{cents:02}"));
    }
    out
}

pub(super) fn money(m: Money, currency: &str) -> String {
    format!("{}\u{a0}{currency}", number(m))
}

/// `2026-12-03 14:05:09` in `tz`.
pub(super) fn time(ms: Millis, tz: &TimeZone) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        Err(_) => "?".into(),
    }
}

/// Text from outside (the shop's metadata, the bank's message) with every
/// Unicode direction control (RLO, LRI, RLM...) shown as `[U+202E]`: HTML
/// escaping leaves them in, and one of them reorders what follows on the
/// screen (an order id reading as another, the Assign button beside it).
pub(super) fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        {
            out.push_str(&format!("[U+{:04X}]", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The last four digits of a configured card (`humo:8600…7466` -> `7466`).
pub(super) fn card4(card: Option<&str>) -> String {
    card.and_then(crate::config::card_last4)
        .unwrap_or_else(|| "default".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_controls_are_shown_not_obeyed() {
        assert_eq!(visible("A-\u{202e}1001"), "A-[U+202E]1001");
        assert_eq!(visible("\u{2067}x\u{2069}"), "[U+2067]x[U+2069]");
        assert_eq!(visible("Заказ №5 ✓"), "Заказ №5 ✓");
    }

    #[test]
    fn amounts_are_grouped_and_exact() {
        assert_eq!(number(Money::from_minor(2_000_100)), "20\u{a0}001");
        assert_eq!(number(Money::from_minor(2_000_150)), "20\u{a0}001.50");
        assert_eq!(number(Money::from_minor(5)), "0.05");
        assert_eq!(
            money(Money::from_major(13_870_000), "UZS"),
            "13\u{a0}870\u{a0}000\u{a0}UZS"
        );
    }
}
