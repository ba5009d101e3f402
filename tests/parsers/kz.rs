//! Kazakh bank SMS (Halyk, Forte, Qazkom) from `fixtures/kz-sms.jsonl` (a
//! copy of the shared corpus), the Uzcard SMS in Uzbek, and the Kaspi text
//! with two credit lines. Every corpus line is checked field by field; the
//! lines marked `unknown` must stay unknown.

use paycue::parsers::{Bank, HUMO_BOT_ID, Kind, UZCARD_BOT_ID, parse};
use serde_json::Value;

fn kz_corpus() -> Vec<Value> {
    include_str!("../fixtures/kz-sms.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("fixture line is JSON"))
        .collect()
}

/// The bank paycue names: the corpus says `other-kz` for Forte and for
/// Kazkommertsbank, whose SMS form Halyk kept after the 2018-2019 merger.
fn expected_bank(v: &Value) -> Bank {
    let note = v["note"].as_str().unwrap_or("");
    match v["bank"].as_str() {
        Some("halyk") => Bank::Halyk,
        _ if note.contains("ForteBank") => Bank::Forte,
        _ => Bank::Halyk,
    }
}

fn check_kz(what: &str, parse_one: impl Fn(&Value, &str) -> paycue::parsers::Notification) {
    let lines = kz_corpus();
    assert!(lines.len() >= 21, "the fixture lost lines");
    let mut failures = Vec::new();
    for v in &lines {
        let text = v["text"].as_str().expect("text");
        let got = parse_one(v, text);
        let mut diffs = crate::differences(v, &got)
            .into_iter()
            .filter(|d| !d.starts_with("bank:"))
            .collect::<Vec<_>>();
        if got.bank != expected_bank(v) {
            diffs.push(format!(
                "bank: expected {:?}, got {:?}",
                expected_bank(v),
                got.bank
            ));
        }
        if !diffs.is_empty() {
            failures.push(format!("{} ({what}): {}", v["id"], diffs.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_kz_corpus_line_gives_its_expected_result() {
    check_kz("as stored", |_, text| parse(None, None, text));
}

#[test]
fn kz_lines_parse_the_same_in_a_chat_named_for_the_bank() {
    check_kz("with hint", |v, text| {
        parse(None, Some(expected_bank(v)), text)
    });
}

#[test]
fn a_three_digit_mask_never_names_a_card() {
    for text in [
        "2018-11-12 22:41:04 Operaciya po karte Popolnenie 5000.00 KZT P2P HB3 INNER 3D K**041 Dostupnaya summa:164664.56 KZT",
        "2018-02-26 12:23:59 Provedena operaciya Note Acceptance 5000.00 KZT ATM 2398 DOM SVYAZI 3**031 Dostupnaya summa:687938.00 KZT",
    ] {
        let n = parse(None, None, text);
        assert_eq!(n.kind, Kind::Credit, "{text}");
        assert_eq!(n.card, None, "{text}");
    }
}

#[test]
fn signed_way4_amounts_give_the_direction() {
    let plus = "2018-07-24 01:24:28  Operaciya po kartochke 5**9835 na summu +83371.00KZT. Ostatok : 95083.35. Opisanie: Zarplata";
    let n = parse(None, None, plus);
    assert_eq!((n.kind, n.card.as_deref()), (Kind::Credit, Some("9835")));
    assert_eq!(n.amount.map(|a| a.minor()), Some(8_337_100));
    let none = plus.replace('+', "");
    assert_eq!(
        parse(None, None, &none).kind,
        Kind::Unknown,
        "no sign, no word"
    );
}

/// A Kazakh SMS from a known bot is another bank's text: never its credit.
#[test]
fn a_kz_credit_from_a_known_bot_is_not_a_credit() {
    for v in kz_corpus().iter().filter(|v| v["kind"] == "credit") {
        let text = v["text"].as_str().expect("text");
        assert_ne!(
            parse(Some(HUMO_BOT_ID), None, text).kind,
            Kind::Credit,
            "{text}"
        );
    }
}

const UZ_CREDIT: &str = "Kartaga o'tkazma: BEEPUL P2P, UZ,21.09.26 08:40,karta ***0365. Miqdor:80000.00 UZS Qoldiq:89205.15 UZS";

#[test]
fn uzcard_sms_in_uzbek() {
    for sender in [None, Some(UZCARD_BOT_ID)] {
        let n = parse(sender, None, UZ_CREDIT);
        assert_eq!(n.bank, Bank::Uzcard);
        assert_eq!(n.kind, Kind::Credit, "{sender:?}");
        assert_eq!(n.amount.map(|a| a.minor()), Some(8_000_000));
        assert_eq!(n.currency.as_deref(), Some("UZS"));
        assert_eq!(n.card.as_deref(), Some("0365"));
    }
    let debit = "To'lov: YANDEX GO, UZ,21.09.26 09:10,karta ***0365. Miqdor:23000.00 UZS Qoldiq:66205.15 UZS";
    assert_eq!(parse(None, None, debit).kind, Kind::Debit);
    let out = "Kartadan o'tkazma: CLICK P2P, UZ,21.09.26 09:10,karta ***0365. Miqdor:23000.00 UZS Qoldiq:66205.15 UZS";
    assert_eq!(parse(None, None, out).kind, Kind::Debit);
    let reversal = format!("BEKOR QILINDI: {UZ_CREDIT}");
    assert_eq!(parse(None, None, &reversal).kind, Kind::Reversal);
    let reversal = format!("BEKOR QILINDI: {debit}");
    assert_eq!(parse(None, None, &reversal).kind, Kind::Reversal);
}

/// Issue 14 item 6: two credit lines in one Kaspi text name two amounts;
/// like two signed amounts in a bot message, that is never a credit.
#[test]
fn two_operation_amounts_in_one_kaspi_text_are_not_a_credit() {
    let text = "Пополнение: 5 000т\nВ Kaspi Терминале\nПополнение: 7 000т\nДоступно: 20 000т";
    for hint in [None, Some(Bank::Kaspi)] {
        let n = parse(None, hint, text);
        assert_eq!(n.bank, Bank::Kaspi);
        assert_eq!(n.kind, Kind::Unknown, "{hint:?}");
        assert_eq!(n.amount, None);
    }
    let glued = "Пополнение: 5 000тПополнение: 7 000тДоступно: 20 000т";
    assert_eq!(parse(None, None, glued).kind, Kind::Unknown);
}
