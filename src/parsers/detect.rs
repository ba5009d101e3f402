//! Which bank wrote a text, from the text alone. Used twice: to name the bank
//! of a message from a chat that is not a known bot (forwarded SMS, Kaspi
//! pushes), and to refuse a credit from a known bot whose text carries
//! another bank's signature — a message is trusted by its sender, so a HUMO
//! bot message that looks like an Uzcard credit is not a credit.
//!
//! Signatures are the way a bank *writes* (copy header, SMS form, header
//! emoji, card mask style). The card's payment system (`9860…` HUMO,
//! `8600…` Uzcard) is only a hint for unknown senders: NBU issues both, so
//! it never refuses a credit.

use super::card::{self, MaskStyle};
use super::layout::BotMessage;
use super::text::Message;
use super::{Bank, forte, halyk, humo, kaspi, uzcard};

/// What the text says about who wrote it.
#[derive(Debug, Clone, Default)]
pub struct Signs {
    /// Every bank whose way of writing the text shows (usually none or one).
    pub banks: Vec<Bank>,
    /// The bank of the card's payment system, from its number prefix.
    pub card_system: Option<Bank>,
}

impl Signs {
    /// The one bank the text points to: its one signature, else the card's
    /// system; `None` when signatures disagree (then nobody can tell, and
    /// the message counts as `other`).
    pub fn bank(&self) -> Option<Bank> {
        match self.banks.as_slice() {
            [one] => Some(*one),
            [] => self.card_system,
            _ => None,
        }
    }

    /// The text is written the way another bank than `bank` writes.
    pub fn foreign_to(&self, bank: Bank) -> bool {
        self.banks.iter().any(|b| *b != bank)
    }
}

/// Reads the signatures of a text (`bot`: its emoji layout, if any).
pub fn read(msg: &Message, bot: Option<&BotMessage>) -> Signs {
    let mut found = Vec::new();
    let mut add = |bank: Bank| {
        if !found.contains(&bank) {
            found.push(bank);
        }
    };
    if let Some(name) = &msg.copied_from {
        for (needle, bank) in [
            ("humo", Bank::Humo),
            ("cardxabar", Bank::Uzcard),
            ("uzcard", Bank::Uzcard),
            ("nbu", Bank::Nbu),
            ("kaspi", Bank::Kaspi),
        ] {
            if name.contains(needle) {
                add(bank);
            }
        }
    }
    if humo::is_sms(msg) {
        add(Bank::Humo);
    }
    if uzcard::is_sms(msg) {
        add(Bank::Uzcard);
    }
    // Kaspi's `LABEL: AMOUNT` lines are the loosest form: a text in a
    // Kazakh bank's own SMS form is that bank's, not also Kaspi's.
    let kz_sms = if halyk::is_sms(msg) {
        Some(Bank::Halyk)
    } else if forte::is_sms(msg) {
        Some(Bank::Forte)
    } else {
        None
    };
    match kz_sms {
        Some(bank) => add(bank),
        None if kaspi::is_kaspi(msg) => add(Bank::Kaspi),
        None => {}
    }
    // In the bot layout only the card field counts (never the merchant line).
    let card = match bot {
        Some(bot) => bot.card.clone(),
        None => card::find_card(&msg.text),
    };
    let prefix = card
        .as_ref()
        .and_then(|c| c.prefix.as_deref())
        .unwrap_or("");
    let card_system = if prefix.starts_with("9860") {
        Some(Bank::Humo)
    } else if prefix.starts_with("8600") {
        Some(Bank::Uzcard)
    } else {
        None
    };
    // The bots' habits: HUMO opens credits with 🎉 and names its cards
    // (`HUMOCARD *7466`); Uzcard uses 🟢/🔴 and bare stars (`***5982`); NBU
    // uses 💸 with a six-digit prefix (`479091******6905`).
    // A `+` before a Kazakh SMS amount makes a layout too; its mask is no
    // bot's habit.
    if let Some(bot) = bot.filter(|_| kz_sms.is_none()) {
        match bot.header_marker {
            Some('🎉') => add(Bank::Humo),
            Some('🟢' | '🔴') => add(Bank::Uzcard),
            _ => {}
        }
        match card.as_ref().map(|c| c.style) {
            Some(MaskStyle::Named) => add(Bank::Humo),
            Some(MaskStyle::Stars) => add(Bank::Uzcard),
            Some(MaskStyle::Bin)
                if bot.header_marker == Some('💸')
                    && prefix.len() == 6
                    && !prefix.starts_with("9860")
                    && !prefix.starts_with("8600") =>
            {
                add(Bank::Nbu)
            }
            _ => {}
        }
    }
    Signs {
        banks: found,
        card_system,
    }
}
