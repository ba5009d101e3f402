//! From a grammers message to the plain [`IncomingMessage`] every source hands
//! on, and which messages paycue accepts at all. Pure functions over the raw
//! TL message, so they are tested offline with real grammers values.
//!
//! What must stay true (each is a test below):
//! - only incoming messages count, never the seller's own (outgoing) ones;
//! - a forwarded copy never counts, whoever forwarded it: a credit is
//!   trusted because of who sent it, and a forward only repeats someone's text;
//! - the message's chat must be in `WATCH_ID`; in a private chat (a bank bot)
//!   only that user may be the sender. A group or channel id (Bot API form,
//!   negative) is trusted as a whole: the seller named it.
//! - service messages (joins, pins) and empty ones are ignored.

use grammers_client::message::Message;
use grammers_client::session::types::PeerId;
use grammers_client::tl;

use crate::engine::IncomingMessage;
use crate::model::Millis;

/// The part of a chat's history a catch-up reads: messages after `after_id`
/// and, when nothing was ever applied in the chat, not older than `since`, so
/// the very first start does not replay months of old notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub after_id: i64,
    pub since: Millis,
}

impl Window {
    /// `last`: the highest message id already applied in the chat.
    pub fn new(last: Option<i64>, now: Millis, lookback_ms: i64) -> Window {
        match last {
            Some(id) => Window {
                after_id: id,
                since: Millis::MIN,
            },
            None => Window {
                after_id: 0,
                since: now.saturating_sub(lookback_ms),
            },
        }
    }

    /// True once a newest-first walk through history has gone past the window
    /// (everything from here on is older, so the walk can stop).
    pub fn ends_before(&self, id: i64, date: Option<Millis>) -> bool {
        id <= self.after_id || date.is_some_and(|d| d < self.since)
    }
}

/// The id and date (Unix ms) of any raw message, for walking history.
pub fn id_and_date(raw: &tl::enums::Message) -> (i64, Option<Millis>) {
    match raw {
        tl::enums::Message::Message(m) => (i64::from(m.id), Some(i64::from(m.date) * 1000)),
        tl::enums::Message::Service(m) => (i64::from(m.id), Some(i64::from(m.date) * 1000)),
        tl::enums::Message::Empty(m) => (i64::from(m.id), None),
    }
}

/// The chat ids of `WATCH_ID` that Telegram can have; the first one that
/// cannot be a user, group or channel id is returned as the error.
pub fn check_watch_ids(ids: &[i64]) -> Result<(), i64> {
    match ids
        .iter()
        .find(|id| PeerId::from_bot_api_dialog_id(**id).is_none())
    {
        Some(bad) => Err(*bad),
        None => Ok(()),
    }
}

/// The chat of a watched id, for history requests.
pub fn peer_of(id: i64) -> Option<PeerId> {
    PeerId::from_bot_api_dialog_id(id)
}

/// The message as paycue sees it, or None when it must not be applied.
pub fn accept(message: &Message, watched: &[i64]) -> Option<IncomingMessage> {
    accept_raw(&message.raw, watched)
}

pub fn accept_raw(raw: &tl::enums::Message, watched: &[i64]) -> Option<IncomingMessage> {
    let tl::enums::Message::Message(m) = raw else {
        return None;
    };
    if m.out || m.fwd_from.is_some() {
        return None;
    }
    let chat = PeerId::from(&m.peer_id).bot_api_dialog_id()?;
    if !watched.contains(&chat) {
        return None;
    }
    // Incoming messages in a private chat carry no from_id: the other side sent them.
    let sender = match &m.from_id {
        Some(from) => PeerId::from(from).bot_api_dialog_id()?,
        None => chat,
    };
    if chat > 0 && sender != chat {
        return None;
    }
    Some(IncomingMessage {
        sender_id: sender,
        chat_id: Some(chat),
        message_id: i64::from(m.id),
        date: i64::from(m.date) * 1000,
        text: m.message.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use grammers_client::Client;
    use grammers_client::message::InputMessage;
    use grammers_client::sender::SenderPool;
    use grammers_session::storages::MemorySession;

    const HUMO: i64 = 856_254_490;

    /// A real grammers `Message` from `chat`, built offline (the pool's runner
    /// is never started, so nothing is sent anywhere).
    fn message(chat: PeerId, id: i32, out: bool, text: &str) -> Message {
        let pool = SenderPool::new(Arc::new(MemorySession::default()), 1);
        let client = Client::new(pool.handle);
        Message::from_raw_short_updates(
            &client,
            tl::types::UpdateShortSentMessage {
                out,
                id,
                pts: 0,
                pts_count: 0,
                date: 1_759_390_654,
                media: None,
                entities: None,
                ttl_period: None,
            },
            InputMessage::new().text(text),
            chat.to_ambient_ref(),
        )
    }

    fn bot_message(id: i32, text: &str) -> Message {
        message(PeerId::user(HUMO).unwrap(), id, false, text)
    }

    fn raw_mut(m: &mut Message) -> &mut tl::types::Message {
        match &mut m.raw {
            tl::enums::Message::Message(raw) => raw,
            _ => unreachable!("built as a plain message"),
        }
    }

    #[test]
    fn an_incoming_bot_message_becomes_an_incoming_message() {
        let m = bot_message(42, "🎉 Пополнение\n➕ 2.200,00 UZS");
        assert_eq!(
            accept(&m, &[HUMO]),
            Some(IncomingMessage {
                sender_id: HUMO,
                chat_id: Some(HUMO),
                message_id: 42,
                date: 1_759_390_654_000,
                text: "🎉 Пополнение\n➕ 2.200,00 UZS".into(),
            })
        );
    }

    #[test]
    fn unwatched_outgoing_and_forwarded_messages_are_refused() {
        let m = bot_message(1, "x");
        assert_eq!(accept(&m, &[915_326_936]), None, "chat not watched");
        let out = message(PeerId::user(HUMO).unwrap(), 2, true, "/start");
        assert_eq!(accept(&out, &[HUMO]), None, "outgoing");

        let mut fwd = bot_message(3, "➕ 2.200,00 UZS");
        raw_mut(&mut fwd).fwd_from = Some(
            tl::types::MessageFwdHeader {
                imported: false,
                saved_out: false,
                from_id: Some(PeerId::user(HUMO).unwrap().into()),
                from_name: None,
                date: 1_759_390_000,
                channel_post: None,
                post_author: None,
                saved_from_peer: None,
                saved_from_msg_id: None,
                saved_from_id: None,
                saved_from_name: None,
                saved_date: None,
                psa_type: None,
            }
            .into(),
        );
        assert_eq!(accept(&fwd, &[HUMO]), None, "forwarded copy");
    }

    #[test]
    fn in_a_private_chat_only_that_user_is_the_sender() {
        let mut m = bot_message(5, "x");
        raw_mut(&mut m).from_id = Some(PeerId::user(12345).unwrap().into());
        assert_eq!(accept(&m, &[HUMO, 12345]), None);
    }

    #[test]
    fn a_watched_group_accepts_its_members_messages() {
        let group = PeerId::channel(1_234_567).unwrap();
        let group_id = group.bot_api_dialog_id().unwrap();
        let mut m = message(group, 9, false, "Kaspi Gold Пополнение: 100 ₸");
        raw_mut(&mut m).from_id = Some(PeerId::user(777).unwrap().into());
        let got = accept(&m, &[group_id]).expect("accepted");
        assert_eq!((got.sender_id, got.chat_id), (777, Some(group_id)));
        assert_eq!(accept(&m, &[777]), None, "the sender alone is not enough");
    }

    #[test]
    fn service_and_empty_messages_are_ignored() {
        let raw = tl::enums::Message::Empty(tl::types::MessageEmpty {
            id: 7,
            peer_id: Some(PeerId::user(HUMO).unwrap().into()),
        });
        assert_eq!(accept_raw(&raw, &[HUMO]), None);
        assert_eq!(id_and_date(&raw), (7, None));
    }

    #[test]
    fn window_after_an_applied_id_ignores_dates() {
        let w = Window::new(Some(100), 1_000_000, 60_000);
        assert!(w.ends_before(100, Some(999_999)));
        assert!(!w.ends_before(101, Some(0)), "old but unseen: still read");
    }

    #[test]
    fn first_window_reaches_back_only_the_lookback() {
        let w = Window::new(None, 1_000_000, 60_000);
        assert!(!w.ends_before(5, Some(940_000)));
        assert!(w.ends_before(4, Some(939_999)));
        assert!(!w.ends_before(3, None), "an empty message has no date");
    }

    #[test]
    fn watch_ids_must_be_telegram_chats() {
        assert_eq!(check_watch_ids(&[HUMO, -1_001_234_567_890]), Ok(()));
        assert_eq!(check_watch_ids(&[HUMO, 0]), Err(0));
    }
}
