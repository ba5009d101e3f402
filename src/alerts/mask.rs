//! Masking of what an alert repeats from outside: the bank's text (one
//! line, no control or bidi characters; every number of 12+ digits, any
//! script's digits, to its last four; cut to `TEXT_MAX`) and the shop's
//! order id (card numbers, told by length and the Luhn check, to their last
//! four). What must stay true: no full card
//! number reaches the seller's chat, and no input makes masking panic.

use super::decide::TEXT_MAX;

/// The bank's text as an alert quotes it: every number of 12 or more
/// digits (a full card number, an account; groups split by spaces,
/// no-break spaces or dashes count as one; any script's digits, as `\d`
/// matches them) cut to its last four, one line without bidi controls, at
/// most `TEXT_MAX` characters.
pub fn mask_text(text: &str) -> String {
    static LONG: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\d(?:[ \u{a0}\u{2009}\u{202f}-]?\d){11,}").ok()
    });
    // Masked line by line (a line break never joins two numbers into one),
    // then made one line.
    let plain: String = text.chars().filter(|c| !reorders(*c)).collect();
    let masked = match LONG.as_ref() {
        Some(re) => re
            .replace_all(&plain, |c: &regex::Captures| {
                // The digits as matched (not only ASCII ones: a match of
                // Arabic-Indic digits has no ASCII digit at all).
                let digits: Vec<char> = c[0].chars().filter(|ch| ch.is_numeric()).collect();
                let last4: String = digits[digits.len().saturating_sub(4)..].iter().collect();
                format!("****{last4}")
            })
            .into_owned(),
        None => plain,
    };
    let flat = one_line(&masked);
    if flat.chars().count() > TEXT_MAX {
        let cut: String = flat.chars().take(TEXT_MAX).collect();
        return format!("{cut}…");
    }
    flat
}

/// The bidi controls that reorder the characters after them.
fn reorders(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The text as one line: line breaks and every other control character
/// become a space (runs of spaces one), so a payer's words inside the
/// bank's text (a transfer's comment) cannot forge lines of the alert.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
            ' '
        } else {
            c
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.trim_end().to_string()
}

/// Masks card numbers in a shop's text to their last four: 13 to 19
/// digits (groups split by spaces or dashes count as one) that pass the
/// Luhn check, as every card number does. Unlike the bank's text (where
/// every 12+ digit number goes), a long order id that is no card stays
/// whole: the seller needs it.
pub fn mask_cards(text: &str) -> String {
    static CARD: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\d(?:[ \u{a0}\u{2009}\u{202f}-]?\d){12,}").ok()
    });
    let Some(re) = CARD.as_ref() else {
        return text.to_string();
    };
    re.replace_all(text, |c: &regex::Captures| {
        let digits: Vec<char> = c[0].chars().filter(|ch| ch.is_numeric()).collect();
        if (13..=19).contains(&digits.len()) && luhn(&digits) {
            let last4: String = digits[digits.len().saturating_sub(4)..].iter().collect();
            format!("****{last4}")
        } else {
            c[0].to_string()
        }
    })
    .into_owned()
}

/// The Luhn check; digits of another script count as card digits too.
fn luhn(digits: &[char]) -> bool {
    let mut sum = 0u32;
    for (i, ch) in digits.iter().rev().enumerate() {
        let Some(d) = ch.to_digit(10) else {
            return true;
        };
        sum += if i % 2 == 1 {
            let x = d * 2;
            x / 10 + x % 10
        } else {
            d
        };
    }
    sum.is_multiple_of(10)
}
