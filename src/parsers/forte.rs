//! ForteBank (Kazakhstan) SMS, forwarded by the seller into a watched chat.
//! Three credit forms are read; any other Forte text is not understood:
//!
//! - `Postupilo 201073 KZT na schet #06334, ostatok 206 869.00 KZT. ...`
//!   (money into an account: no card);
//! - `Vnesenie nalichnih 15 000.00 KZT adres ATM ..., karta ***9166, ...`
//!   (cash paid in at an ATM);
//! - `06.01.2020 14:18. Na kartu ***9166 sdelan perevod 2 000.00 RUB s karti
//!   ***8335. Ostatok ...` (a transfer: the card is the one paid *to*, never
//!   the sender's).

use std::sync::LazyLock;

use regex::Regex;

use super::text::Message;
use super::{Bank, Kind, Notification, amount, card, plain, vocab, when};

static POSTUPILO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)^\s*postupilo\s+(\d.*)$").expect("static regex"));
static VNESENIE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)^\s*vnesenie\s+nalichn\w*\s+(\d.*)$").expect("static regex")
});
static TRANSFER_IN: LazyLock<Regex> = LazyLock::new(|| {
    // Anchored at the start (after the bank's own date and time): the
    // sentence inside another text (`Vy otpravili: Na kartu ...`) is no
    // transfer to this card.
    Regex::new(
        r"(?is)^\s*(?:\d{2}\.\d{2}\.\d{4}\s+\d{1,2}:\d{2}\.?\s*)?na\s+kartu\s+(\S+)\s+sdelan\s+perevod\s+(\d.*)$",
    )
    .expect("static regex")
});
static KARTA: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bkarta\s+(\S+)").expect("static regex"));

/// The text is in one of Forte's SMS forms.
pub fn is_sms(msg: &Message) -> bool {
    read(msg).is_some()
}

pub fn parse(msg: &Message) -> Notification {
    read(msg)
        .or_else(|| plain::notice(Bank::Forte, msg))
        .unwrap_or_else(|| plain::unrecognised(Bank::Forte, msg))
}

fn read(msg: &Message) -> Option<Notification> {
    let (a, card) = if msg.lower.contains("postupilo") {
        let (a, after) = amount::read(POSTUPILO.captures(&msg.text)?.get(1)?.as_str())?;
        let after = after.trim_start().to_lowercase();
        if !after.starts_with("na schet") {
            return None;
        }
        (a, None)
    } else if msg.lower.contains("vnesenie") {
        let (a, after) = amount::read(VNESENIE.captures(&msg.text)?.get(1)?.as_str())?;
        let card = KARTA.captures(after).and_then(|c| card::mask_last4(&c[1]));
        (a, card)
    } else if msg.lower.contains("sdelan perevod") {
        let c = TRANSFER_IN.captures(&msg.text)?;
        let (a, after) = amount::read(&c[2])?;
        if !after.trim_start().to_lowercase().starts_with("s kart") {
            return None;
        }
        (a, card::mask_last4(&c[1]))
    } else {
        return None;
    };
    // Every form is incoming: only a veto word anywhere takes the credit away.
    let kind = match vocab::declined_or_reversed(&msg.lower) {
        Some(kind) => kind,
        None if vocab::credit_is_safe(&msg.lower) => Kind::Credit,
        None => Kind::Unknown,
    };
    Some(Notification {
        format: None,
        bank: Bank::Forte,
        kind,
        amount: Some(a.money),
        currency: Some(a.currency.to_string()),
        card,
        at: when::find(&msg.text, Bank::Forte.zone()),
        refund: kind == Kind::Reversal && vocab::says_outgoing(&msg.lower),
    })
}
