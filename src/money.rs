//! Exact money: an amount is a count of minor units (tiyin, tiyn, cents) in an
//! `i64`. Every currency paycue handles (UZS, KZT, USD, RUB, EUR) has two decimal
//! places, so one `Money` is always "major * 100 + minor". Floats never appear:
//! JSON input is read from the raw number text, JSON output is written as text.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// Minor units in one major unit.
pub const SCALE: i64 = 100;

/// The largest amount paycue accepts: 10^13 major units, far above any card
/// transfer, and far below `i64::MAX` so offsets and sums never overflow.
pub const MAX_MAJOR: i64 = 10_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount must be a number like 20000 or 20000.50")]
    NotANumber,
    #[error("amount must be greater than zero")]
    NotPositive,
    #[error("amount has more than 2 decimal places")]
    TooPrecise,
    #[error("amount is too large (the maximum is {MAX_MAJOR})")]
    TooLarge,
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_minor(minor: i64) -> Money {
        Money(minor)
    }

    pub const fn from_major(major: i64) -> Money {
        Money(major * SCALE)
    }

    pub const fn minor(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// Parses a plain decimal string such as `20000`, `20000.5` or `20000.50`
    /// (a leading `-` is read so that the error says "not positive"). Exponents,
    /// group separators and more than two decimals are refused, never rounded.
    pub fn parse_decimal(text: &str) -> Result<Money, MoneyError> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (digits, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int_part) || frac_part.is_some_and(|f| !all_digits(f)) {
            return Err(MoneyError::NotANumber);
        }
        let frac = frac_part.unwrap_or("");
        let significant = frac.trim_end_matches('0');
        if significant.len() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        let int_trimmed = int_part.trim_start_matches('0');
        if int_trimmed.len() > 14 {
            return Err(MoneyError::TooLarge);
        }
        let major: i64 = if int_trimmed.is_empty() {
            0
        } else {
            int_trimmed.parse().map_err(|_| MoneyError::TooLarge)?
        };
        let mut minor_digits = significant.to_string();
        while minor_digits.len() < 2 {
            minor_digits.push('0');
        }
        let minor: i64 = minor_digits.parse().map_err(|_| MoneyError::NotANumber)?;
        let total = major * SCALE + minor;
        if negative || total == 0 {
            return Err(MoneyError::NotPositive);
        }
        if major >= MAX_MAJOR {
            return Err(MoneyError::TooLarge);
        }
        Ok(Money(total))
    }

    /// `20001.00`: always two decimals (the `paycue parse` and webhook text form).
    pub fn to_decimal_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / SCALE as u64, abs % SCALE as u64)
    }

    /// The JSON number text: `20001` for whole amounts (what the Go paycue sent,
    /// so shops that read an integer keep working), `20001.5` style otherwise.
    pub fn to_json_number(self) -> String {
        if self.0 % SCALE == 0 {
            (self.0 / SCALE).to_string()
        } else {
            self.to_decimal_string()
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

/// Serialized as a JSON number written from exact text (no float round trip).
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw =
            RawValue::from_string(self.to_json_number()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// Accepts a JSON number only (a string is a wrong type, as in the Go paycue);
/// the raw number text is parsed exactly.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let raw: Box<RawValue> = Deserialize::deserialize(deserializer)?;
        let text = raw.get().trim();
        if !text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            return Err(serde::de::Error::custom(MoneyError::NotANumber));
        }
        Money::parse_decimal(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(
            Money::parse_decimal("20000"),
            Ok(Money::from_minor(2_000_000))
        );
        assert_eq!(
            Money::parse_decimal("20000.5"),
            Ok(Money::from_minor(2_000_050))
        );
        assert_eq!(Money::parse_decimal("0.01"), Ok(Money::from_minor(1)));
        assert_eq!(Money::parse_decimal("1.100"), Ok(Money::from_minor(110)));
        assert_eq!(
            Money::parse_decimal("0.1").map(Money::to_json_number),
            Ok("0.10".into())
        );
    }

    #[test]
    fn refuses_bad_amounts() {
        assert_eq!(Money::parse_decimal("0"), Err(MoneyError::NotPositive));
        assert_eq!(Money::parse_decimal("-5"), Err(MoneyError::NotPositive));
        assert_eq!(Money::parse_decimal("1.001"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse_decimal("1e5"), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse_decimal("1,5"), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse_decimal(""), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse_decimal("."), Err(MoneyError::NotANumber));
        assert_eq!(
            Money::parse_decimal("99999999999999999999"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            Money::parse_decimal("10000000000000"),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn json_round_trip_is_exact() {
        let m: Money = serde_json::from_str("20001.07").unwrap();
        assert_eq!(m.minor(), 2_000_107);
        assert_eq!(serde_json::to_string(&m).unwrap(), "20001.07");
        let whole: Money = serde_json::from_str("20001").unwrap();
        assert_eq!(serde_json::to_string(&whole).unwrap(), "20001");
        assert!(serde_json::from_str::<Money>("true").is_err());
        assert!(serde_json::from_str::<Money>("\"20001\"").is_err());
        assert!(serde_json::from_str::<Money>("2e4").is_err());
    }
}
