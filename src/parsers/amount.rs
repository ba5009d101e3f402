//! Reading an amount and its currency out of bank text, exactly. Banks write
//! `2.200,00`, `13 870 000.00`, `6'924.46`, `8000т`, `100 ₸`: any of space,
//! `.`, `,`, `'` may group thousands and `.` or `,` may mark decimals. The
//! rule that decides (what must stay true): a `.`/`,` followed by one or two
//! final digits is the decimal mark, by three it groups; groups are exactly
//! three digits with one separator kind, different from the decimal mark.
//! Anything else is not an amount, and the caller answers `unknown`.

use crate::money::Money;

/// An amount with its ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount {
    pub money: Money,
    pub currency: &'static str,
}

/// ISO codes accepted when written out; a whitelist so that `22 POS` or a
/// merchant abbreviation is never read as an amount.
const ISO_CODES: &[&str] = &[
    "UZS", "USD", "EUR", "RUB", "KZT", "GBP", "CNY", "TRY", "AED", "KGS", "TJS", "JPY", "CHF",
    "BYN", "UAH", "KRW",
];

/// Currency signs and words, matched case-sensitively after the number. Each
/// must not be followed by a lower-case letter (`so'mgacha`, `тысяч`).
const SIGNS: &[(&str, &str)] = &[
    ("₸", "KZT"),
    ("тенге", "KZT"),
    ("тг", "KZT"),
    ("т", "KZT"),
    ("Т", "KZT"),
    ("so'm", "UZS"),
    ("сўм", "UZS"),
    ("сум", "UZS"),
    ("$", "USD"),
    ("€", "EUR"),
    ("₽", "RUB"),
    ("руб", "RUB"),
    ("£", "GBP"),
    ("¥", "CNY"),
];

/// Reads `NUMBER [space] CURRENCY` at the start of `s` (leading spaces
/// allowed). Returns the amount and the rest of `s` after the currency.
pub fn read(s: &str) -> Option<(Amount, &str)> {
    let s = s.trim_start();
    let (number, rest) = read_number(s)?;
    let (currency, rest) = read_currency(rest)?;
    Some((
        Amount {
            money: number,
            currency,
        },
        rest,
    ))
}

/// The whole of `s` is one amount (surrounding spaces allowed).
pub fn exact(s: &str) -> Option<Amount> {
    match read(s) {
        Some((amount, rest)) if rest.trim().is_empty() => Some(amount),
        _ => None,
    }
}

/// The first amount in free text whose number starts a word (the `2` of
/// `HUMO2 100 UZS` is not a digit of the amount). After a number that is not
/// an amount, the next space-separated number is tried (`19:22 100300.00
/// UZS`); tokens are capped at [`MAX_TOKEN`], so this stays linear.
pub fn find(s: &str) -> Option<Amount> {
    find_at(s).map(|(_, amount, _)| amount)
}

/// [`find`], with where the amount starts and the text after its currency.
pub fn find_at(s: &str) -> Option<(usize, Amount, &str)> {
    let mut prev: Option<char> = None;
    for (i, c) in s.char_indices() {
        let starts_word = !prev.is_some_and(|p| p.is_alphanumeric() || p == '.' || p == ',');
        prev = Some(c);
        if c.is_ascii_digit()
            && starts_word
            && let Some((amount, rest)) = read(&s[i..])
        {
            return Some((i, amount, rest));
        }
    }
    None
}

/// No amount is written with more characters than this (14 digits, their
/// group separators and two decimals fit well below).
const MAX_TOKEN: usize = 32;

/// The longest run of digits and single separators at the start of `s`,
/// interpreted by the module rule. `None` when it is not a valid amount or is
/// zero.
pub fn read_number(s: &str) -> Option<(Money, &str)> {
    let end = token_len(s);
    if end == 0 {
        return None;
    }
    let token = &s[..end];
    let money = interpret(token)?;
    Some((money, &s[end..]))
}

/// The length of the run of digits and single separators at the start of
/// `s` (0 when `s` does not start with a digit), at most about
/// [`MAX_TOKEN`]: a longer run is no amount, and the currency check after it
/// then fails.
fn token_len(s: &str) -> usize {
    let bytes = &s.as_bytes()[..s.len().min(MAX_TOKEN)];
    if !bytes.first().is_some_and(u8::is_ascii_digit) {
        return 0;
    }
    let mut end = 1;
    while end < bytes.len() {
        let b = bytes[end];
        if b.is_ascii_digit() {
            end += 1;
        } else if matches!(b, b' ' | b'.' | b',' | b'\'')
            && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
        {
            end += 2;
        } else {
            break;
        }
    }
    end
}

/// Applies the grouping/decimal rule to a token of digits and separators.
fn interpret(token: &str) -> Option<Money> {
    let (int_part, frac) = match token.rfind(['.', ',', ' ', '\'']) {
        Some(p) => {
            let mark = token.as_bytes()[p];
            let tail = &token[p + 1..];
            if matches!(mark, b'.' | b',') && (1..=2).contains(&tail.len()) {
                (&token[..p], Some((mark, tail)))
            } else {
                (token, None)
            }
        }
        None => (token, None),
    };
    let digits = ungroup(int_part, frac.map(|(mark, _)| mark))?;
    let decimal = match frac {
        Some((_, tail)) => format!("{digits}.{tail}"),
        None => digits,
    };
    Money::parse_decimal(&decimal).ok()
}

/// Removes group separators after checking them: one separator kind, not the
/// decimal mark, a first group of 1-3 digits, then groups of exactly 3.
fn ungroup(int_part: &str, decimal_mark: Option<u8>) -> Option<String> {
    let mut seps = int_part.bytes().filter(|b| !b.is_ascii_digit());
    let Some(sep) = seps.next() else {
        return Some(int_part.to_string());
    };
    if seps.any(|b| b != sep) || decimal_mark == Some(sep) {
        return None;
    }
    let mut groups = int_part.split(sep as char);
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 {
        return None;
    }
    let mut out = first.to_string();
    for g in groups {
        if g.len() != 3 {
            return None;
        }
        out.push_str(g);
    }
    Some(out)
}

/// Reads a currency after an optional space or two.
pub fn read_currency(s: &str) -> Option<(&'static str, &str)> {
    let t = s
        .strip_prefix("  ")
        .or_else(|| s.strip_prefix(' '))
        .unwrap_or(s);
    for code in ISO_CODES {
        if let Some(rest) = t.strip_prefix(code)
            && !rest.starts_with(|c: char| c.is_ascii_lowercase())
        {
            return Some((code, rest));
        }
    }
    for (sign, code) in SIGNS {
        if let Some(rest) = t.strip_prefix(sign)
            && !rest.starts_with(char::is_lowercase)
        {
            return Some((code, rest));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(s: &str) -> Option<(i64, &'static str)> {
        exact(s).map(|a| (a.money.minor(), a.currency))
    }

    #[test]
    fn reads_every_grouping_style() {
        assert_eq!(minor("2.200,00 UZS"), Some((220_000, "UZS")));
        assert_eq!(minor("13 870 000.00 UZS"), Some((1_387_000_000, "UZS")));
        assert_eq!(minor("6'924.46 UZS"), Some((692_446, "UZS")));
        assert_eq!(minor("1,000.50 USD"), Some((100_050, "USD")));
        assert_eq!(minor("1.000.000 UZS"), Some((100_000_000, "UZS")));
        assert_eq!(minor("941.00 UZS"), Some((94_100, "UZS")));
        assert_eq!(minor("100,5 UZS"), Some((10_050, "UZS")));
        assert_eq!(minor("2.200 UZS"), Some((220_000, "UZS")));
    }

    #[test]
    fn reads_signs_and_glued_currencies() {
        assert_eq!(minor("8000т"), Some((800_000, "KZT")));
        assert_eq!(minor("139 296,44т"), Some((13_929_644, "KZT")));
        assert_eq!(minor("100 ₸"), Some((10_000, "KZT")));
        assert_eq!(minor("100 Т"), Some((10_000, "KZT")));
        assert_eq!(minor("3USD"), Some((300, "USD")));
        assert_eq!(minor("5 000 so'm"), Some((500_000, "UZS")));
        let (a, rest) = read("6000тНа Kaspi").unwrap();
        assert_eq!((a.money.minor(), rest), (600_000, "На Kaspi"));
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        for bad in [
            "2.200.00 UZS",
            "1 00 UZS",
            "1234 567 UZS",
            "1.000,000.00 UZS",
            "0,00 UZS",
            "100 POS",
            "100 mln so'mgacha",
            "100 тысяч",
            "100",
            "1.001 UZS x",
        ] {
            assert_eq!(exact(bad), None, "{bad}");
        }
    }

    #[test]
    fn finds_the_first_amount_in_free_text() {
        let a = find("SREDSTV 8600***4411 30.09.25 19:22  POS purchase 100300.00 UZS").unwrap();
        assert_eq!(a.money.minor(), 10_030_000);
        // Digits glued to a word never join the number after them.
        assert_eq!(find("HUMO2 100 UZS").map(|a| a.money.minor()), Some(10_000));
        assert_eq!(find("Ipoteka 100 mln so'mgacha"), None);
        let after_time = find("30.09.25 19:22 100300.00 UZS").map(|a| a.money.minor());
        assert_eq!(after_time, Some(10_030_000));
        // A run of digits longer than any amount is no amount.
        assert_eq!(exact(&format!("{} UZS", "1".repeat(40))), None);
    }
}
