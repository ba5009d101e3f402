//! Cleaning a message before any parser reads it. Real texts arrive with
//! no-break and narrow spaces, several apostrophe look-alikes, optional emoji
//! variation selectors, Telethon markdown markers and, when a seller copies a
//! message from Telegram Desktop, a `Sender, [date time]` header line. All of
//! that is folded here once, so every bank parser sees one plain form and no
//! parser has to repeat the tolerance rules.

use std::sync::LazyLock;

use regex::Regex;

/// A message after cleaning.
#[derive(Debug, Clone)]
pub struct Message {
    /// The cleaned text (copy header removed).
    pub text: String,
    /// `text` in lower case, for keyword checks.
    pub lower: String,
    /// The sender name of a Telegram Desktop copy header, lower case.
    pub copied_from: Option<String>,
}

impl Message {
    pub fn new(raw: &str) -> Message {
        let folded = strip_markdown(&fold_chars(raw));
        let (copied_from, body) = split_copy_header(&folded);
        let text = body.trim().to_string();
        let lower = text.to_lowercase();
        Message {
            text,
            lower,
            copied_from,
        }
    }
}

/// Maps look-alike characters onto one form: every space variant to a plain
/// space, every apostrophe variant to `'`, the minus sign to `-`; drops
/// invisible characters (variation selectors, zero-width spaces, direction
/// marks). The zero-width joiner stays: it is part of emoji sequences.
pub fn fold_chars(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                out.push('\n');
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            '\t' | '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
                out.push(' ')
            }
            '\u{2028}' | '\u{2029}' | '\u{0085}' => out.push('\n'),
            '\u{2018}' | '\u{2019}' | '\u{02BB}' | '\u{02BC}' | '\u{02B9}' | '`' | '\u{00B4}'
            | '\u{2032}' => out.push('\''),
            '\u{2212}' | '\u{2013}' => out.push('-'),
            '\u{FE0E}' | '\u{FE0F}' | '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{2060}'
            | '\u{FEFF}' | '\u{00AD}' => {}
            _ => out.push(c),
        }
    }
    out
}

/// Removes Telethon markdown markers (`**bold**`, `__italic__`, `~~strike~~`)
/// while keeping the stars of card masks (`*7466`, `***5982`,
/// `532154**1744`). What must stay true: a run of stars between two digits,
/// a single star, three stars, or two stars right before exactly four digits
/// is a mask and is kept; two stars elsewhere are a marker; a longer run not
/// between digits carries a marker on top of a mask and loses two stars.
fn strip_markdown(text: &str) -> String {
    if !text.contains("**") && !text.contains("__") && !text.contains("~~") {
        return text.to_string();
    }
    let text = text.replace("__", "").replace("~~", "");
    // Stars and digits are ASCII, so cutting at star runs keeps UTF-8 whole.
    let bytes = text.as_bytes();
    let digit_at = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_digit);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'*' {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i] == b'*' {
            i += 1;
        }
        let run = i - start;
        let digit_before = start > 0 && digit_at(start - 1);
        let four_digits_after = (i..i + 4).all(digit_at) && !digit_at(i + 4);
        let keep = if digit_before && digit_at(i) {
            run
        } else {
            match run {
                1 | 3 => run,
                2 if four_digits_after => run,
                2 => 0,
                _ => run - 2,
            }
        };
        out.push_str(&text[copied..start]);
        out.push_str(&text[start..start + keep]);
        copied = i;
    }
    out.push_str(&text[copied..]);
    out
}

/// Splits off a Telegram Desktop copy header: `HUMO Card, [14.04.2025 12:01]`
/// on the first line (or glued to the message when line breaks were lost),
/// the older `[14.04.2025 12:01] HUMO Card:` prefix, or a bare `HUMO Card:`
/// line. Returns the sender name it names, in lower case.
fn split_copy_header(text: &str) -> (Option<String>, &str) {
    static STAMP: &str =
        r"\d{1,2}[./]\d{1,2}[./]\d{2,4},?\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[APap][Mm])?";
    static NAME_FIRST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(
            r"^\s*([^\n\[\]]{{1,64}}?),?\s*\[{STAMP}\][ \t]*\n?"
        ))
        .expect("static regex")
    });
    static STAMP_FIRST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(r"^\s*\[{STAMP}\]\s*([^\n:]{{1,64}}):[ \t]*\n?")).expect("static regex")
    });
    // A sender-name line alone (`HUMO Card:`, `CardXabar`): only names of
    // bank senders, so a Kaspi `Пополнение:` label is never taken for one.
    static NAME_LINE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^\s*([\p{L} .]{0,30}(?:card|bank|bot|xabar|humo|nbu|kaspi)[\p{L} .]{0,30}):?[ \t]*\n")
            .expect("static regex")
    });
    for re in [&*NAME_FIRST, &*STAMP_FIRST, &*NAME_LINE] {
        if let Some(c) = re.captures(text) {
            let name = c.get(1).map(|m| m.as_str().trim().to_lowercase());
            let end = c.get(0).map_or(0, |m| m.end());
            return (name, &text[end..]);
        }
    }
    (None, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_spaces_apostrophes_and_selectors() {
        let m = Message::new("ℹ\u{FE0F} To\u{2018}ldirish\u{00A0}1\u{202F}000\u{2009}UZS\r\n");
        assert_eq!(m.text, "ℹ To'ldirish 1 000 UZS");
        assert_eq!(
            Message::new("Toʻldirish To`ldirish").text,
            "To'ldirish To'ldirish"
        );
    }

    #[test]
    fn strips_markdown_but_keeps_card_masks() {
        let m = Message::new("**🎉 Пополнение**\n➕ **2.200,00** UZS\n💳 __HUMOCARD *7466__");
        assert_eq!(m.text, "🎉 Пополнение\n➕ 2.200,00 UZS\n💳 HUMOCARD *7466");
        assert_eq!(Message::new("**💳 ***5982**").text, "💳 ***5982");
        assert_eq!(
            Message::new("💳 532154**1744 **x**").text,
            "💳 532154**1744 x"
        );
        assert_eq!(Message::new("💳 *****5982**").text, "💳 ***5982");
        assert_eq!(Message::new("💳 **5982 **b**").text, "💳 **5982 b");
    }

    #[test]
    fn removes_copy_headers_and_remembers_the_sender() {
        let m = Message::new("HUMO Card, [14.04.2025 12:01]\n💸 Оплата");
        assert_eq!(m.text, "💸 Оплата");
        assert_eq!(m.copied_from.as_deref(), Some("humo card"));
        let m = Message::new("[14.04.25 23:11] CardXabar: 🔴 Pokupka");
        assert_eq!(m.text, "🔴 Pokupka");
        assert_eq!(m.copied_from.as_deref(), Some("cardxabar"));
        let m = Message::new("HUMO Card:\n💸 To'lov");
        assert_eq!(m.text, "💸 To'lov");
        let m = Message::new("CardXabar\n🟢 Konversiya");
        assert_eq!(
            (m.text.as_str(), m.copied_from.as_deref()),
            ("🟢 Konversiya", Some("cardxabar"))
        );
        // A Kaspi operation line is not a copy header, nor is a label.
        assert_eq!(Message::new("Пополнение: 100 Т\nX").copied_from, None);
        assert_eq!(Message::new("Пополнение:\n100 Т").copied_from, None);
    }
}
