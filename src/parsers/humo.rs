//! HUMO: @HUMOcardbot (id 856254490) and the HUMO SMS sellers forward.
//!
//! The bot writes `🎉 Пополнение` / `🎉 To'ldirish` (credit), `💸 Оплата`,
//! `💸 To'lov`, `💸 Операция`, `🏧 Снятие наличных` (debit), `❌ Отмена
//! операций карты` (reversal), `ℹ️ Счет по карте изменен` (notice), a `🔹`
//! balance reply, and sometimes no header at all; amounts as `2.200,00 UZS`,
//! cards as `HUMOCARD *7466`, times as `12:36 02.10.2025` (Tashkent). The SMS
//! forms are `HUMOCARD *6659: popolnenie 1500000.00 UZS; MERCHANT; 26-03-20
//! 02:39; Dostupno: ...` and `Schet po karte HUMOCARD *6921 izmenen na summu
//! 2052200.14 UZS. 01-APR-2025 00:00`.

use std::sync::LazyLock;

use regex::Regex;

use super::layout::BotMessage;
use super::text::Message;
use super::{Bank, Kind, Notification, amount, card, plain, vocab, when};

/// `HUMOCARD *6659: popolnenie 1500000.00 UZS; ...`
static SMS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)\bHUMO-?CARD\s*\*(\d{4})\s*:\s*([^\d;:]{0,60}?)\s*(\d.*)$")
        .expect("static regex")
});
/// `Schet po karte HUMOCARD *6921 izmenen na summu 2052200.14 UZS.`
static ACCOUNT_CHANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?is)\b(?:schet|сч[её]т)\s+(?:po|по)\s+(?:karte|карте)\s+(.{0,60}?)\s*(?:izmenen|изменен)\s+(?:na\s+summu|на\s+сумму)\s*(\d.*)$",
    )
    .expect("static regex")
});

// Each form's regex runs only when a word it needs is there: most messages
// are bot layouts, and the literal check is far cheaper than the search.
fn may_be_sms(msg: &Message) -> bool {
    msg.lower.contains("humo")
}
fn may_be_account_change(msg: &Message) -> bool {
    msg.lower.contains("summu") || msg.lower.contains("сумму")
}

pub fn is_sms(msg: &Message) -> bool {
    (may_be_sms(msg) && SMS.is_match(&msg.text))
        || (may_be_account_change(msg) && ACCOUNT_CHANGE.is_match(&msg.text))
}

/// `bot` is the message's emoji layout, when it has one.
pub fn parse(msg: &Message, bot: Option<&BotMessage>) -> Notification {
    if let Some(note) = sms(msg).or_else(|| account_change(msg)) {
        return note;
    }
    if let Some(bot) = bot {
        return bot.notification(Bank::Humo, msg);
    }
    plain::notice(Bank::Humo, msg).unwrap_or_else(|| plain::unrecognised(Bank::Humo, msg))
}

/// The SMS form: the words between the card and the amount name the
/// operation; `operacija` is the outgoing P2P leg, as in the bot.
fn sms(msg: &Message) -> Option<Notification> {
    if !may_be_sms(msg) {
        return None;
    }
    let c = SMS.captures(&msg.text)?;
    let op = c.get(2).map_or("", |m| m.as_str()).to_lowercase();
    let (amount, rest) = amount::read(c.get(3)?.as_str())?;
    let kind = match vocab::vetoed_kind(None, &op) {
        Some(kind) => kind,
        None => {
            let p2p_out = ["operac", "операц", "operats"]
                .iter()
                .any(|w| op.contains(w));
            match (
                vocab::says_incoming(&op),
                vocab::says_outgoing(&op) || p2p_out,
            ) {
                (true, false) if vocab::credit_is_safe(&msg.lower) => Kind::Credit,
                (false, true) => Kind::Debit,
                _ => Kind::Unknown,
            }
        }
    };
    Some(Notification {
        format: None,
        bank: Bank::Humo,
        kind,
        amount: Some(amount.money),
        currency: Some(amount.currency.to_string()),
        card: Some(c[1].to_string()),
        at: when::find(rest, Bank::Humo.zone()),
        refund: kind == Kind::Reversal && vocab::says_outgoing(&op),
    })
}

/// `Schet po karte ... izmenen na summu X`: a change whose direction the
/// text does not state, so a notice.
fn account_change(msg: &Message) -> Option<Notification> {
    if !may_be_account_change(msg) {
        return None;
    }
    let c = ACCOUNT_CHANGE.captures(&msg.text)?;
    let (amount, rest) = amount::read(c.get(2)?.as_str())?;
    Some(Notification {
        format: None,
        bank: Bank::Humo,
        kind: Kind::Info,
        amount: Some(amount.money),
        currency: Some(amount.currency.to_string()),
        card: card::find_card(c.get(1)?.as_str()).map(|c| c.last4),
        at: when::find(rest, Bank::Humo.zone()),
        refund: false,
    })
}
