//! Properties: no input panics, amounts survive every way of writing them,
//! and text around a credit line never changes its amount — it can only
//! take the credit away.

use paycue::parsers::{Bank, HUMO_BOT_ID, Kind, NBU_BOT_ID, UZCARD_BOT_ID, parse};
use proptest::prelude::*;

/// Characters that matter to the parsers, to reach their corners faster
/// than uniform Unicode does.
const ALPHABET: &str = "➕➖+-💰💵💸💳🏦📍🕓🕐ℹ✅❌⚠🎉🟢🔴🔹\u{FE0F}\u{200D}\u{00A0}\u{202F}*:;.,' \n0123456789UZSKDтТ₸HUMOCARDПополнениеOTMENAKaspi[]_";

fn noisy_text(max: usize) -> impl Strategy<Value = String> {
    let chars: Vec<char> = ALPHABET.chars().collect();
    prop::collection::vec(prop::sample::select(chars), 0..max).prop_map(|v| v.into_iter().collect())
}

fn any_sender() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![
        Just(None),
        Just(Some(HUMO_BOT_ID)),
        Just(Some(UZCARD_BOT_ID)),
        Just(Some(NBU_BOT_ID)),
        any::<i64>().prop_map(Some),
    ]
}

fn any_hint() -> impl Strategy<Value = Option<Bank>> {
    prop_oneof![
        Just(None),
        Just(Some(Bank::Humo)),
        Just(Some(Bank::Uzcard)),
        Just(Some(Bank::Nbu)),
        Just(Some(Bank::Kaspi)),
        Just(Some(Bank::Other)),
    ]
}

/// `minor` written with `group` between thousands and `mark` before the
/// two decimals, as a bank would.
fn written(minor: i64, group: &str, mark: &str) -> String {
    let digits = (minor / 100).to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(group);
        }
        out.push(d);
    }
    format!("{out}{mark}{:02}", minor % 100)
}

/// Lines a real credit message carries besides its amount.
fn benign_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z0-9 >]{0,20}".prop_map(|m| format!("📍 {m}")),
        (1i64..100_000_000_000).prop_map(|b| format!("💰 {} UZS", written(b, ".", ","))),
        (0i64..1_000_000).prop_map(|c| format!("⚠️ Комиссия: {} UZS", written(c, ".", ","))),
        (0u32..24, 0u32..60).prop_map(|(h, m)| format!("🕓 {h:02}:{m:02} 02.10.2025")),
        Just("💳 HUMOCARD *7466".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn no_input_panics(sender in any_sender(), hint in any_hint(), text in "\\PC{0,200}") {
        let _ = parse(sender, hint, &text);
    }

    #[test]
    fn no_noisy_input_panics(sender in any_sender(), hint in any_hint(), text in noisy_text(160)) {
        let _ = parse(sender, hint, &text);
    }

    #[test]
    fn any_amount_reads_back_exactly(
        minor in 1i64..100_000_000_000_000,
        style in 0usize..4,
    ) {
        let (group, mark) = [(".", ","), (" ", "."), ("\u{202F}", ","), ("'", ".")][style];
        let text = format!("🎉 Пополнение\n➕ {} UZS\n💳 HUMOCARD *7466", written(minor, group, mark));
        let n = parse(Some(HUMO_BOT_ID), None, &text);
        prop_assert_eq!(n.kind, Kind::Credit);
        prop_assert_eq!(n.amount.map(|a| a.minor()), Some(minor));
    }

    /// Whatever surrounds a credit line, a credit answer carries that line's
    /// amount: text can take a credit away, never change its amount.
    #[test]
    fn surrounding_text_never_changes_the_amount(
        before in noisy_text(80),
        after in noisy_text(80),
        minor in 1i64..10_000_000_000,
    ) {
        let line = format!("➕ {} UZS", written(minor, ".", ","));
        let text = format!("{before}\n🎉 Пополнение\n{line}\n💳 HUMOCARD *7466\n{after}");
        let n = parse(Some(HUMO_BOT_ID), None, &text);
        if n.kind == Kind::Credit {
            prop_assert_eq!(n.amount.map(|a| a.minor()), Some(minor));
        }
    }

    /// The lines a real message carries (merchant digits, balances,
    /// commissions, times) in any order keep the credit and its amount.
    #[test]
    fn balances_commissions_and_merchants_keep_the_credit(
        lines in prop::collection::vec(benign_line(), 0..6),
        minor in 1i64..10_000_000_000,
    ) {
        let mut text = format!("🎉 Пополнение\n➕ {} UZS", written(minor, ".", ","));
        for l in &lines {
            text.push('\n');
            text.push_str(l);
        }
        let n = parse(Some(HUMO_BOT_ID), None, &text);
        prop_assert_eq!(n.kind, Kind::Credit, "{}", text);
        prop_assert_eq!(n.amount.map(|a| a.minor()), Some(minor));
    }
}
