//! What real texts do to bank messages, one rule per test: each mangles the
//! corpus (or a known credit) the way copies and clients do and expects the
//! very same answer.

use paycue::parsers::{HUMO_BOT_ID, Kind, UZCARD_BOT_ID, parse};

use super::check_corpus;

/// (kind, amount, currency, card) of a HUMO bot message.
fn humo(text: &str) -> (Kind, Option<String>, Option<String>, Option<String>) {
    let n = parse(Some(HUMO_BOT_ID), None, text);
    (
        n.kind,
        n.amount.map(|a| a.to_decimal_string()),
        n.currency,
        n.card,
    )
}

fn credit(amount: &str, card: &str) -> (Kind, Option<String>, Option<String>, Option<String>) {
    (
        Kind::Credit,
        Some(amount.into()),
        Some("UZS".into()),
        Some(card.into()),
    )
}

#[test]
fn lost_line_breaks() {
    check_corpus("no line breaks", |s, t| {
        parse(s.sender_id, None, &t.replace('\n', ""))
    });
    check_corpus("line breaks as spaces", |s, t| {
        parse(s.sender_id, None, &t.replace('\n', " "))
    });
}

#[test]
fn trailing_spaces_and_windows_line_ends() {
    check_corpus("trailing spaces", |s, t| {
        parse(s.sender_id, None, &t.replace('\n', "  \r\n"))
    });
}

#[test]
fn emoji_with_or_without_variation_selector() {
    check_corpus("no U+FE0F", |s, t| {
        parse(s.sender_id, None, &t.replace('\u{FE0F}', ""))
    });
    check_corpus("U+FE0F after every emoji", |s, t| {
        let with: String = t
            .replace('\u{FE0F}', "")
            .chars()
            .flat_map(|c| {
                let emoji = ('\u{1F300}'..='\u{1FAFF}').contains(&c)
                    || ('\u{2190}'..='\u{27BF}').contains(&c)
                    || c == 'ℹ';
                std::iter::once(c).chain(emoji.then_some('\u{FE0F}'))
            })
            .collect();
        parse(s.sender_id, None, &with)
    });
}

#[test]
fn telethon_markdown_markers() {
    check_corpus("bold lines", |s, t| {
        let bold: Vec<String> = t
            .lines()
            .map(|l| {
                if l.trim().is_empty() {
                    l.to_string()
                } else {
                    format!("**{l}**")
                }
            })
            .collect();
        parse(s.sender_id, None, &bold.join("\n"))
    });
    check_corpus("italic lines", |s, t| {
        let italic: Vec<String> = t.lines().map(|l| format!("__{l}__")).collect();
        parse(s.sender_id, None, &italic.join("\n"))
    });
    assert_eq!(
        humo("🎉 **Пополнение**\n➕ **2.200,00** UZS\n💳 HUMOCARD *7466"),
        credit("2200.00", "7466")
    );
}

#[test]
fn telegram_desktop_copy_header() {
    check_corpus("copy header", |s, t| {
        let name = match s.bank {
            paycue::parsers::Bank::Uzcard => "CardXabar",
            paycue::parsers::Bank::Nbu => "NBU Card",
            paycue::parsers::Bank::Kaspi => "Kaspi.kz",
            paycue::parsers::Bank::Other => "Ipoteka Bank",
            paycue::parsers::Bank::Humo => "HUMO Card",
            paycue::parsers::Bank::Halyk => "Halyk Bank",
            paycue::parsers::Bank::Forte => "ForteBank",
        };
        let copied = if t.contains(", [") {
            t.to_string()
        } else {
            format!("{name}, [14.04.2025 12:01]\n{t}")
        };
        parse(s.sender_id, None, &copied)
    });
    let glued = "HUMO Card, [14.04.2025 12:01]🎉 Пополнение➕ 2.200,00 UZS💳 HUMOCARD *7466";
    assert_eq!(humo(glued), credit("2200.00", "7466"));
    let prefixed = "[14.04.25 12:01] HUMO Card: 🎉 Пополнение\n➕ 2.200,00 UZS\n💳 HUMOCARD *7466";
    assert_eq!(humo(prefixed), credit("2200.00", "7466"));
    // A bare sender-name line counts as a copy header too.
    let named = "CardXabar\n🟢 Perevod na kartu\n➕ 50 000.00 UZS\n💳 ***6909";
    let n = parse(Some(UZCARD_BOT_ID), None, named);
    assert_eq!((n.kind, n.card.as_deref()), (Kind::Credit, Some("6909")));
    assert_ne!(humo(named).0, Kind::Credit);
}

#[test]
fn group_separators_of_every_kind() {
    for sep in [" ", "\u{00A0}", "\u{202F}", "\u{2009}", "'", "’", "."] {
        let text = format!("🎉 Пополнение\n➕ 1{sep}234{sep}567,89 UZS\n💳 HUMOCARD *7466");
        assert_eq!(
            humo(&text),
            credit("1234567.89", "7466"),
            "separator {sep:?}"
        );
    }
    for sep in [" ", "\u{00A0}", "\u{202F}", ","] {
        let text = format!("🎉 Пополнение\n➕ 1{sep}234{sep}567.89 UZS\n💳 HUMOCARD *7466");
        assert_eq!(
            humo(&text),
            credit("1234567.89", "7466"),
            "separator {sep:?}"
        );
    }
}

#[test]
fn dot_or_comma_as_decimal_mark_and_missing_decimals() {
    for (shown, exact) in [
        ("2.200,00", "2200.00"),
        ("2,200.00", "2200.00"),
        ("2200,5", "2200.50"),
        ("2200.05", "2200.05"),
        ("2.200", "2200.00"),
        ("2,200", "2200.00"),
        ("2200", "2200.00"),
    ] {
        let text = format!("🎉 Пополнение\n➕ {shown} UZS\n💳 HUMOCARD *7466");
        assert_eq!(humo(&text), credit(exact, "7466"), "{shown}");
    }
    let kaspi = parse(None, None, "Пополнение: 8000т\nС Kaspi Депозита");
    assert_eq!(kaspi.amount.map(|a| a.minor()), Some(800_000));
}

#[test]
fn apostrophe_look_alikes_in_toldirish() {
    for apostrophe in ["'", "’", "‘", "ʻ", "`", "ʼ"] {
        let text = format!("🎉 To{apostrophe}ldirish\n➕ 6.000,00 UZS\n💳 HUMOCARD *4042");
        assert_eq!(humo(&text), credit("6000.00", "4042"), "{apostrophe:?}");
        // Without the emoji header the word alone opens the message.
        let bare = format!("To{apostrophe}ldirish\n➕ 6.000,00 UZS\n💳 HUMOCARD *4042");
        assert_eq!(humo(&bare), credit("6000.00", "4042"), "{apostrophe:?}");
    }
}

#[test]
fn ascii_signs_and_other_card_and_clock_emoji() {
    let text = "💸 To'ldirish\n+ 33.000,00 UZS\n🏦 HUMOCARD *2747\n🕐 20:16 27.07.2026";
    assert_eq!(humo(text), credit("33000.00", "2747"));
    let debit = parse(
        Some(UZCARD_BOT_ID),
        None,
        "🔴 Pokupka\n- 132 000.00 UZS\n💳 ***5982",
    );
    assert_eq!(debit.kind, Kind::Debit);
    assert_eq!(debit.amount.map(|a| a.minor()), Some(13_200_000));
}
