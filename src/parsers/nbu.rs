//! NBU (National Bank of Uzbekistan) card bot, id 7028509569.
//!
//! The bot uses `💸` for every header, in both directions (`💸 Пополнение`,
//! `💸 Pokupka`, `💸 Конверсия`, `💸 Nedostatochno sredstv`), so only the
//! ➕/➖ sign tells; the merchant line may come before the amount. Amounts as
//! `1 132.33 USD`, cards as `479091******6905`, times as `30.09.25 14:43`
//! (Tashkent).

use super::layout::BotMessage;
use super::text::Message;
use super::{Bank, Notification, plain};

/// `bot` is the message's emoji layout, when it has one.
pub fn parse(msg: &Message, bot: Option<&BotMessage>) -> Notification {
    if let Some(bot) = bot {
        return bot.notification(Bank::Nbu, msg);
    }
    plain::notice(Bank::Nbu, msg).unwrap_or_else(|| plain::unrecognised(Bank::Nbu, msg))
}
