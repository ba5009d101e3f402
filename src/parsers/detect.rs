//! Which bank wrote a text, from the text alone. Used twice: to name the bank
//! of a message from a chat that is not a known bot (forwarded SMS, Kaspi
//! pushes), and to refuse a credit from a known bot whose text carries
//! another bank's signature — a message is trusted by its sender, so a HUMO
//! bot message that looks like an Uzcard credit is not a credit.

use super::card::{self, MaskStyle};
use super::layout::BotMessage;
use super::text::Message;
use super::{Bank, humo, kaspi, uzcard};

/// Every bank whose signature the text carries (usually none or one).
pub fn signatures(msg: &Message) -> Vec<Bank> {
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
    if kaspi::is_kaspi(msg) {
        add(Bank::Kaspi);
    }
    let bot = BotMessage::read(msg);
    // Card number prefixes: 9860 is HUMO, 8600 is Uzcard. In the bot layout
    // only the card field counts (never the merchant line).
    let card = match &bot {
        Some(bot) => bot.card.clone(),
        None => card::find_card(&msg.text),
    };
    let prefix = card
        .as_ref()
        .and_then(|c| c.prefix.as_deref())
        .unwrap_or("");
    if prefix.starts_with("9860") {
        add(Bank::Humo);
    } else if prefix.starts_with("8600") {
        add(Bank::Uzcard);
    }
    // The bots' habits: HUMO opens credits with 🎉 and names its cards
    // (`HUMOCARD *7466`); Uzcard uses 🟢/🔴 and bare stars (`***5982`); NBU
    // uses 💸 with a six-digit prefix (`479091******6905`).
    if let Some(bot) = &bot {
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
    found
}

/// The one bank the text points to; `None` when it points to none or to
/// several (then nobody can tell, and the message counts as `other`).
pub fn bank(signatures: &[Bank]) -> Option<Bank> {
    match signatures {
        [one] => Some(*one),
        _ => None,
    }
}
