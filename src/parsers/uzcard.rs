//! Uzcard: @CardXabarBot (id 915326936) and the Uzcard SMS sellers forward.
//!
//! The bot writes `🟢 Popolnenie scheta` / `🟢 Perevod na kartu` (credit),
//! `🟢 OTMENA Pokupka` (reversal, with ➕), `🔴 Pokupka`, `🔴 E-Com oplata`,
//! `🔴 Platezh` (debit), `ℹ️` notices, and one-line declines such as
//! `NEDOSTATOCHNO SREDSTV 8600***4411 30.09.25 19:22  POS purchase 100300.00
//! UZS`; amounts as `13 870 000.00 UZS`, cards as `***5982`, times as
//! `16.10.25 17:52` (Tashkent). The SMS form is `Popolnenie scheta: MERCHANT,
//! 02.04.25 16:19,karta ***5982. summa:2319680.00 UZS balans:...` (Uzbek:
//! `To'lov: ... Miqdor:495000.00 UZS Qoldiq:...`).

use std::sync::LazyLock;

use regex::Regex;

use super::card;
use super::layout::BotMessage;
use super::text::Message;
use super::{Bank, Kind, Notification, amount, plain, vocab, when};

/// `OPERATION: MERCHANT,DATE,karta ***NNNN. summa:AMOUNT`
static SMS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?is)^\s*([^:\n]{2,60}):\s*(.*?)(?:karta|карта)\s*((?:\d{4,6})?\s?\*+\s?\d{4})\.?\s*(?:summa|miqdor|сумма)\s*:\s*(\d.*)$",
    )
    .expect("static regex")
});

/// The SMS form needs `karta`; the literal check spares the regex search
/// for every other message.
fn may_be_sms(msg: &Message) -> bool {
    msg.lower.contains("karta") || msg.lower.contains("карта")
}

pub fn is_sms(msg: &Message) -> bool {
    may_be_sms(msg) && SMS.is_match(&msg.text)
}

/// `bot` is the message's emoji layout, when it has one.
pub fn parse(msg: &Message, bot: Option<&BotMessage>) -> Notification {
    if let Some(note) = sms(msg) {
        return note;
    }
    if let Some(bot) = bot {
        return bot.notification(Bank::Uzcard, msg);
    }
    plain::notice(Bank::Uzcard, msg).unwrap_or_else(|| plain::unrecognised(Bank::Uzcard, msg))
}

/// The SMS form has no sign: the operation name before the first colon is
/// the only direction, so a credit needs a known incoming name.
fn sms(msg: &Message) -> Option<Notification> {
    if !may_be_sms(msg) {
        return None;
    }
    let c = SMS.captures(&msg.text)?;
    let op = c[1].to_lowercase();
    let (amount, _) = amount::read(c.get(4)?.as_str())?;
    let kind = match vocab::vetoed_kind(None, &op) {
        Some(kind) => kind,
        None => match (vocab::says_incoming(&op), vocab::says_outgoing(&op)) {
            (true, false) if vocab::credit_is_safe(&msg.lower) => Kind::Credit,
            (false, true) => Kind::Debit,
            _ => Kind::Unknown,
        },
    };
    Some(Notification {
        format: None,
        bank: Bank::Uzcard,
        kind,
        amount: Some(amount.money),
        currency: Some(amount.currency.to_string()),
        card: card::find_card(&c[3]).map(|c| c.last4),
        at: when::find(c.get(2)?.as_str(), Bank::Uzcard.zone()),
        refund: kind == Kind::Reversal && vocab::says_outgoing(&op),
    })
}
