//! Halyk Bank (Kazakhstan) SMS, forwarded by the seller into a watched chat.
//! Halyk has no bot; three SMS forms are read:
//!
//! - bilingual (Kazakh in Latin letters / Russian): `VISA6681 Esepke
//!   alu/Zachislenie. 13950.00 KZT; DESCRIPTION; 15.05.2018 10:34.
//!   Kartadaghy kolzhetimdi soma/Dostupnaya summa po karte: ...`. Only the
//!   header names the direction; the description never does (`otpravlen
//!   perevod` with the description `Postupleniye perevoda` is outgoing).
//! - Way4 (also Kazkommertsbank's, kept by Halyk after the merger):
//!   `2018-09-12 13:14:44 Operaciya po karte Snyatie nalichnyh 15000.00 KZT
//!   ATM 487 400303**7816 Dostupnaya summa: ...`, where a closed list of
//!   operation names decides (`CH Debit`, `CH Payment`, `Perevod na kartu`
//!   do not say which way the money went for this card: `unknown`), and
//!   `Operaciya po kartochke 5**9835 na summu -300.00KZT`, where the sign does.
//! - Russian: `16:54 Пополнение в терминале: 1000.00KZT, карта *7046.
//!   Доступно 1031.00KZT`.
//!
//! Card masks with fewer than 4 digits (`4**744`) name no card.

use std::sync::LazyLock;

use regex::Regex;

use super::text::Message;
use super::{Bank, Kind, Notification, amount, card, plain, vocab, when};

static BILINGUAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)^\s*([A-Za-z]{0,12}\d{4})\s+([^/\n]{3,60})/([^.\n]{3,60})\.\s*(\d.*)$")
        .expect("static regex")
});
static WAY4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)^\s*\d{4}-\d{2}-\d{2}\s+\d{1,2}:\d{2}(?::\d{2})?\s+(.*)$")
        .expect("static regex")
});
static WAY4_SIGNED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)^operaciya\s+po\s+kartochke\s+(\S+)\s+na\s+summu\s+([+-]?)\s*(\d.*)$")
        .expect("static regex")
});
static RUSSIAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?s)^\s*(?:\d{1,2}:\d{2}\s+)?([^:\n\d]{3,60}):\s*(\d.*?),\s*карта\s+(\S+?)\.?\s+Доступно",
    )
    .expect("static regex")
});

/// Bilingual header words, both languages.
const BILINGUAL_IN: &[&str] = &["esepke alu", "zachislen", "tolyktyru", "popolnen"];
const BILINGUAL_OUT: &[&str] = &[
    "esepten shygaru",
    "spisan",
    "audarym",
    "otpravlen",
    "satyp alu",
    "pokupka",
    "oplata",
    "snyatie",
];
/// Way4 operation names: a closed list, anything else is `unknown`.
const WAY4_IN: &[&str] = &[
    "note acceptance",
    "popolnenie",
    "zachislenie",
    "vnesenie",
    "пополнение",
    "зачисление",
];
const WAY4_OUT: &[&str] = &[
    "retail",
    "atm",
    "snyatie",
    "платеж",
    "платёж",
    "oplata",
    "оплата",
    "pokupka",
    "покупка",
    "purchase",
    "spisanie",
];

fn has_any(lower: &str, words: &[&str]) -> bool {
    words.iter().any(|w| lower.contains(w))
}

/// The text is in one of Halyk's SMS forms.
pub fn is_sms(msg: &Message) -> bool {
    read(msg).is_some()
}

pub fn parse(msg: &Message) -> Notification {
    read(msg)
        .or_else(|| plain::notice(Bank::Halyk, msg))
        .unwrap_or_else(|| plain::unrecognised(Bank::Halyk, msg))
}

fn read(msg: &Message) -> Option<Notification> {
    if msg.lower.contains("kartadaghy") {
        return bilingual(msg);
    }
    if msg.text.trim_start().as_bytes().get(4) == Some(&b'-') {
        return way4(msg);
    }
    if msg.lower.contains("карта") && msg.text.contains("Доступно") {
        return russian(msg);
    }
    None
}

/// Top-ups of something other than the card (`Popolnenie mobilnogo`,
/// `Depozitti tolyktyru/Popolnenie depozita`): the card pays them, so their
/// "top-up" word is no credit to the card.
const OTHER_TOP_UPS: &[&str] = &[
    "depozit",
    "депозит",
    "mobil",
    "мобил",
    "telefon",
    "телефон",
    "koshel",
    "кошел",
    "wallet",
];

/// A kind from operation words: a veto first, then one direction only.
fn kind_of(op: &str, incoming: bool, outgoing: bool, msg: &Message) -> Kind {
    let incoming = incoming && !has_any(op, OTHER_TOP_UPS);
    match vocab::vetoed_kind(None, op) {
        Some(kind) => kind,
        None => match (incoming, outgoing) {
            (true, false) if vocab::credit_is_safe(&msg.lower) => Kind::Credit,
            (false, true) => Kind::Debit,
            _ => Kind::Unknown,
        },
    }
}

fn note(kind: Kind, a: amount::Amount, card: Option<String>, msg: &Message) -> Notification {
    Notification {
        format: None,
        bank: Bank::Halyk,
        kind,
        amount: Some(a.money),
        currency: Some(a.currency.to_string()),
        card,
        at: when::find(&msg.text, Bank::Halyk.zone()),
        refund: kind == Kind::Reversal && vocab::says_outgoing(&msg.lower),
    }
}

fn bilingual(msg: &Message) -> Option<Notification> {
    let c = BILINGUAL.captures(&msg.text)?;
    let (a, after) = amount::read(&c[4])?;
    if !after.trim_start().starts_with([';', '.']) {
        return None;
    }
    let header = format!("{} {}", &c[2], &c[3]).to_lowercase();
    let kind = match kind_of(
        &header,
        has_any(&header, BILINGUAL_IN),
        has_any(&header, BILINGUAL_OUT),
        msg,
    ) {
        // The description (`; Cashback za pokupki;`) says what came in.
        Kind::Credit if vocab::says_income(&description(after)) => Kind::Info,
        kind => kind,
    };
    Some(note(kind, a, card::mask_last4(&c[1]), msg))
}

/// The bilingual form's description: the text after the amount up to its
/// available-balance line.
fn description(after: &str) -> String {
    let lower = after.to_lowercase();
    match lower.find("kartadaghy") {
        Some(end) => lower[..end].to_string(),
        None => lower,
    }
}

fn way4(msg: &Message) -> Option<Notification> {
    let body = WAY4.captures(&msg.text)?.get(1)?.as_str();
    if let Some(c) = WAY4_SIGNED.captures(body) {
        let (a, after) = amount::read(&c[3])?;
        // The sign gives the direction, and the description after the
        // amount may veto it as for a bot's signed line: a cashback or
        // interest is the bank's money (`info`), an `Oplata` with `+` is
        // not understood.
        let after = after.to_lowercase();
        let kind = match (vocab::declined_or_reversed(&msg.lower), &c[2]) {
            (Some(kind), _) => kind,
            (None, "+") => match vocab::signed_kind(None, &after, vocab::Sign::In) {
                Kind::Credit if !vocab::credit_is_safe(&msg.lower) => Kind::Unknown,
                kind => kind,
            },
            (None, "-") => vocab::signed_kind(None, &after, vocab::Sign::Out),
            _ => Kind::Unknown,
        };
        return Some(note(kind, a, card::mask_last4(&c[1]), msg));
    }
    let lower = body.to_lowercase();
    let skip = ["operaciya po karte", "provedena operaciya"]
        .iter()
        .find(|p| lower.starts_with(*p))
        .map_or(0, |p| p.len());
    let body = &body[skip..];
    let (start, a, after) = amount::find_at(body)?;
    let op = body[..start].trim().to_lowercase();
    // The part before the balance holds the description and the card mask.
    let after_lower = after.to_lowercase();
    let end = ["dostupnaya summa", "ostatok"]
        .iter()
        .filter_map(|w| after_lower.find(w))
        .min()?;
    if op.is_empty() || op.contains(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let kind = kind_of(&op, has_any(&op, WAY4_IN), has_any(&op, WAY4_OUT), msg);
    let card = card::last_mask(&after[..end]).flatten();
    Some(note(kind, a, card, msg))
}

fn russian(msg: &Message) -> Option<Notification> {
    let c = RUSSIAN.captures(&msg.text)?;
    let a = amount::exact(&c[2])?;
    let op = c[1].to_lowercase();
    // `Перевод на карту` names where the money went, not whose card it is:
    // in the payer's SMS it is outgoing (so the Way4 `Perevod na kartu` is
    // unknown too). Only a word that says "in" makes a credit.
    let kind = kind_of(
        &op,
        vocab::says_incoming(&op) && !op.contains("перевод на карт"),
        vocab::says_outgoing(&op),
        msg,
    );
    Some(note(kind, a, card::mask_last4(&c[3]), msg))
}
