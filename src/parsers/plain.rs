//! Messages outside the emoji layout and the SMS forms: one-line notices such
//! as the Uzcard decline `NEDOSTATOCHNO SREDSTV 8600***4411 30.09.25 19:22
//! POS purchase 100300.00 UZS`, and the answer for text no parser knows.

use super::text::Message;
use super::{Bank, Kind, Notification, amount, card, vocab, when};

/// A one-line notice: its decline, reversal or notice word gives the kind,
/// and it reports what it shows. `None` when it names no such word (a plain
/// line is never taken as a credit).
pub fn notice(bank: Bank, msg: &Message) -> Option<Notification> {
    if is_advert(msg) {
        return None;
    }
    let kind = vocab::vetoed_kind(None, &msg.lower)?;
    let amount = amount::find(&msg.text);
    Some(Notification {
        format: None,
        bank,
        kind,
        currency: amount.as_ref().map(|a| a.currency.to_string()),
        amount: amount.map(|a| a.money),
        card: card::find_card(&msg.text).map(|c| c.last4),
        at: when::find(&msg.text, bank.zone()),
        refund: kind == Kind::Reversal && vocab::says_outgoing(&msg.lower),
    })
}

/// Text no parser recognised: `info` when it shows no amount at all or is an
/// advert (a greeting, a promotion, a service note), otherwise `unknown`.
pub fn unrecognised(bank: Bank, msg: &Message) -> Notification {
    let kind = if is_advert(msg) || amount::find(&msg.text).is_none() {
        Kind::Info
    } else {
        Kind::Unknown
    };
    Notification {
        kind,
        ..Notification::unknown(bank)
    }
}

/// A link marks an advert or a service note: its numbers are never amounts.
fn is_advert(msg: &Message) -> bool {
    ["http://", "https://", "t.me/", "www."]
        .iter()
        .any(|w| msg.lower.contains(w))
}
