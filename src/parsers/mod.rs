//! Bank notification parsers: text in, [`Notification`] out. Pure functions,
//! no I/O, one file per bank. Conservative by design: when unsure the answer
//! is [`Kind::Unknown`], because a missed credit can be recovered and a false
//! confirmation cannot.
//!
//! The pipeline: [`text`] cleans the message once (spaces, apostrophes,
//! markdown, copy headers); the sender id picks the bank for the known bots,
//! else the caller's hint, else [`detect`] reads it from the text; the bank's
//! parser reads its forms ([`layout`] for the emoji layout the bots share,
//! [`amount`] for exact amounts, [`when`] for times, [`vocab`] for what the
//! words mean). Last, a credit from a sender whose text carries another
//! bank's signature is refused.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::money::Money;

pub mod amount;
pub mod card;
pub mod command;
pub mod detect;
pub mod forte;
pub mod halyk;
pub mod humo;
pub mod kaspi;
pub mod layout;
pub mod nbu;
mod plain;
pub mod text;
pub mod uzcard;
pub mod vocab;
pub mod when;

pub const HUMO_BOT_ID: i64 = 856_254_490;
pub const UZCARD_BOT_ID: i64 = 915_326_936;
pub const NBU_BOT_ID: i64 = 7_028_509_569;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bank {
    Humo,
    Uzcard,
    Nbu,
    Kaspi,
    /// Halyk Bank (Kazakhstan), including the Kazkommertsbank SMS form it
    /// kept after the merger.
    Halyk,
    /// ForteBank (Kazakhstan).
    Forte,
    Other,
}

impl Bank {
    /// Every name `as_str` gives (and `from_hint` reads).
    pub const NAMES: [&'static str; 7] =
        ["humo", "uzcard", "nbu", "kaspi", "halyk", "forte", "other"];

    pub fn as_str(self) -> &'static str {
        match self {
            Bank::Humo => "humo",
            Bank::Uzcard => "uzcard",
            Bank::Nbu => "nbu",
            Bank::Kaspi => "kaspi",
            Bank::Halyk => "halyk",
            Bank::Forte => "forte",
            Bank::Other => "other",
        }
    }

    /// The bank a caller may name for a chat that is not a bank bot
    /// (`humo`, `uzcard`, `nbu`, `kaspi`, `halyk`, `forte`; any case). `other` is accepted
    /// too, as `paycue parse` output and corpus lines carry it, and means
    /// "no bank named": the bank is then read from the text.
    pub fn from_hint(name: &str) -> Option<Bank> {
        match name.trim().to_ascii_lowercase().as_str() {
            "humo" => Some(Bank::Humo),
            "uzcard" => Some(Bank::Uzcard),
            "nbu" => Some(Bank::Nbu),
            "kaspi" => Some(Bank::Kaspi),
            "halyk" => Some(Bank::Halyk),
            "forte" => Some(Bank::Forte),
            "other" => Some(Bank::Other),
            _ => None,
        }
    }

    /// The bank whose bot has this Telegram id.
    pub fn of_bot(sender_id: i64) -> Option<Bank> {
        match sender_id {
            HUMO_BOT_ID => Some(Bank::Humo),
            UZCARD_BOT_ID => Some(Bank::Uzcard),
            NBU_BOT_ID => Some(Bank::Nbu),
            _ => None,
        }
    }

    /// The zone the bank writes its times in.
    pub fn zone(self) -> Option<&'static TimeZone> {
        match self {
            Bank::Humo | Bank::Uzcard | Bank::Nbu => when::TASHKENT.as_ref(),
            Bank::Kaspi | Bank::Halyk | Bank::Forte => when::ALMATY.as_ref(),
            Bank::Other => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Credit,
    Debit,
    Reversal,
    Declined,
    Info,
    Unknown,
}

impl Kind {
    /// The serde name (`credit`, `debit`, ...), for metrics labels and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Credit => "credit",
            Kind::Debit => "debit",
            Kind::Reversal => "reversal",
            Kind::Declined => "declined",
            Kind::Info => "info",
            Kind::Unknown => "unknown",
        }
    }
}

/// What one message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub bank: Bank,
    pub kind: Kind,
    /// The operation amount (never a balance or a commission).
    pub amount: Option<Money>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// Last 4 digits of the card, when shown.
    pub card: Option<String>,
    /// The bank's own time of the operation, when shown.
    pub at: Option<jiff::Timestamp>,
    /// A reversal that gives money back to the card (`➕`, or a cancelled
    /// purchase or payment): the card holder's own spending refunded, which
    /// never takes back a credit somebody paid in.
    pub refund: bool,
    /// The seller's format (`FORMATS`) that read the text, by name; `None`
    /// when a built-in form of `bank` did.
    pub format: Option<String>,
}

impl Notification {
    pub fn unknown(bank: Bank) -> Notification {
        Notification {
            format: None,
            bank,
            kind: Kind::Unknown,
            amount: None,
            currency: None,
            card: None,
            at: None,
            refund: false,
        }
    }
}

/// Parses one message. `sender_id` decides the bank for the known bots; `hint`
/// names the bank for chats that are not a bank bot (forwarded Kaspi SMS);
/// otherwise the bank is read from the text, and `other` when it cannot be.
pub fn parse(sender_id: Option<i64>, hint: Option<Bank>, text: &str) -> Notification {
    let msg = text::Message::new(text);
    let bot = layout::BotMessage::read(&msg);
    let signs = detect::read(&msg, bot.as_ref());
    let bank = match sender_id.and_then(Bank::of_bot) {
        Some(bank) => bank,
        None => hint
            .filter(|b| *b != Bank::Other)
            .or_else(|| signs.bank())
            .unwrap_or(Bank::Other),
    };
    let note = match bank {
        Bank::Humo => humo::parse(&msg, bot.as_ref()),
        Bank::Uzcard => uzcard::parse(&msg, bot.as_ref()),
        Bank::Nbu => nbu::parse(&msg, bot.as_ref()),
        Bank::Kaspi => kaspi::parse(&msg),
        Bank::Halyk => halyk::parse(&msg),
        Bank::Forte => forte::parse(&msg),
        Bank::Other => plain::unrecognised(Bank::Other, &msg),
    };
    // Trust comes from the sender: text in another bank's form is never this
    // sender's credit, however credit-like it reads.
    if note.kind == Kind::Credit && signs.foreign_to(bank) {
        return Notification::unknown(bank);
    }
    note
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn kind_names_are_the_serde_names() {
        for kind in [
            Kind::Credit,
            Kind::Debit,
            Kind::Reversal,
            Kind::Declined,
            Kind::Info,
            Kind::Unknown,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }
}
