//! Bank notification parsers: text in, `Notification` out. Pure functions, no
//! I/O. Conservative by design: when unsure the answer is `Kind::Unknown`,
//! because a missed credit can be recovered and a false confirmation cannot.
//!
//! (Interim: a minimal HUMO credit parser; the full per-bank parsers replace it.)

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::money::Money;

pub mod command;

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
    Other,
}

impl Bank {
    pub fn as_str(self) -> &'static str {
        match self {
            Bank::Humo => "humo",
            Bank::Uzcard => "uzcard",
            Bank::Nbu => "nbu",
            Bank::Kaspi => "kaspi",
            Bank::Other => "other",
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

/// What one message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub bank: Bank,
    pub kind: Kind,
    pub amount: Option<Money>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// Last 4 digits of the card, when shown.
    pub card: Option<String>,
    /// The bank's own time of the operation, when shown.
    pub at: Option<jiff::Timestamp>,
}

impl Notification {
    pub fn unknown(bank: Bank) -> Notification {
        Notification {
            bank,
            kind: Kind::Unknown,
            amount: None,
            currency: None,
            card: None,
            at: None,
        }
    }
}

/// Parses one message. `sender_id` decides the bank for the known bots; `hint`
/// names the bank for chats that are not a bank bot (forwarded Kaspi SMS).
pub fn parse(sender_id: Option<i64>, hint: Option<Bank>, text: &str) -> Notification {
    let bank = match sender_id {
        Some(HUMO_BOT_ID) => Bank::Humo,
        Some(UZCARD_BOT_ID) => Bank::Uzcard,
        Some(NBU_BOT_ID) => Bank::Nbu,
        _ => hint.unwrap_or(Bank::Other),
    };
    if bank != Bank::Humo {
        return Notification::unknown(bank);
    }
    static CREDIT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?s)^\s*🎉\u{FE0F}? *(?:Пополнение|To'ldirish)\s*\n\s*➕\u{FE0F}? *([0-9.]+),([0-9]{2}) (UZS)\s*\n.*💳\u{FE0F}? *HUMOCARD \*([0-9]{4})")
            .expect("static regex")
    });
    let Some(c) = CREDIT.captures(text) else {
        return Notification::unknown(bank);
    };
    let amount = Money::parse_decimal(&format!("{}.{}", c[1].replace('.', ""), &c[2])).ok();
    Notification {
        bank,
        kind: Kind::Credit,
        amount,
        currency: Some(c[3].to_string()),
        card: Some(c[4].to_string()),
        at: None,
    }
}
