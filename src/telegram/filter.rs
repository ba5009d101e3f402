//! Only the `WATCH_ID` chats are ever caught up or polled. A seller's account
//! is in dozens of news channels; grammers would keep a pts for each (the
//! dialog scan stores one per channel) and, with catch-up on, send one
//! `getChannelDifference` per channel before any live update, poll idle ones
//! every 15 minutes, and chase gaps in every channel that posts. Bank
//! messages would wait behind all of it.
//!
//! Two cuts keep grammers to the watched chats:
//! - the stored update state loses every unwatched channel before the update
//!   stream starts, so the update catch-up asks nothing about them;
//! - live updates of unwatched channels are dropped before grammers' message
//!   box sees them, so it never tracks (and never polls) those channels.
//!
//! Private chats (the bank bots) and small groups share the account's common
//! sequence, which is kept whole: dropping from it would make gaps.

use std::collections::HashSet;

use grammers_client::session::Session;
use grammers_client::session::types::{PeerId, PeerKind, UpdatesState};
use grammers_client::session::updates::UpdatesLike;
use grammers_client::tl;
use grammers_session::storages::SqliteSession;
use grammers_session::types::UpdateState;

use super::errors::TgError;

/// The channels among the watched chats (bare channel ids).
#[derive(Debug, Clone, Default)]
pub struct ChannelFilter {
    watched: HashSet<i64>,
}

impl ChannelFilter {
    pub fn new(watch_ids: &[i64]) -> ChannelFilter {
        let watched = watch_ids
            .iter()
            .filter_map(|id| PeerId::from_bot_api_dialog_id(*id))
            .filter(|peer| peer.kind() == PeerKind::Channel)
            .filter_map(PeerId::bare_id)
            .collect();
        ChannelFilter { watched }
    }

    /// The stored state without unwatched channels.
    pub fn state(&self, mut state: UpdatesState) -> UpdatesState {
        state.channels.retain(|c| self.watched.contains(&c.id));
        state
    }

    /// The updates without those of unwatched channels; None when nothing is left.
    pub fn updates(&self, updates: UpdatesLike) -> Option<UpdatesLike> {
        use tl::enums::Updates;
        let kept = match updates {
            UpdatesLike::Updates(Updates::UpdateShort(short)) => {
                if !self.keeps(&short.update) {
                    return None;
                }
                Updates::UpdateShort(short)
            }
            UpdatesLike::Updates(Updates::Updates(mut u)) => {
                u.updates.retain(|update| self.keeps(update));
                Updates::Updates(u)
            }
            UpdatesLike::Updates(Updates::Combined(mut u)) => {
                u.updates.retain(|update| self.keeps(update));
                Updates::Combined(u)
            }
            other => return Some(other),
        };
        Some(UpdatesLike::Updates(kept))
    }

    /// False for an update that belongs to an unwatched channel.
    pub fn keeps(&self, update: &tl::enums::Update) -> bool {
        channel_of(update).is_none_or(|id| self.watched.contains(&id))
    }
}

/// The channel an update's pts belongs to (the updates grammers tracks per
/// channel: `message_box/adaptor.rs`, `PtsInfo::from_update`).
fn channel_of(update: &tl::enums::Update) -> Option<i64> {
    use tl::enums::Update as U;
    match update {
        U::ChannelTooLong(u) => Some(u.channel_id),
        U::NewChannelMessage(u) => message_channel(&u.message),
        U::EditChannelMessage(u) => message_channel(&u.message),
        U::ReadChannelInbox(u) => Some(u.channel_id),
        U::DeleteChannelMessages(u) => Some(u.channel_id),
        U::ChannelWebPage(u) => Some(u.channel_id),
        U::PinnedChannelMessages(u) => Some(u.channel_id),
        _ => None,
    }
}

fn message_channel(message: &tl::enums::Message) -> Option<i64> {
    let peer = match message {
        tl::enums::Message::Empty(m) => m.peer_id.as_ref()?,
        tl::enums::Message::Message(m) => &m.peer_id,
        tl::enums::Message::Service(m) => &m.peer_id,
    };
    match peer {
        tl::enums::Peer::Channel(c) => Some(c.channel_id),
        _ => None,
    }
}

/// Removes unwatched channels from the session's stored update state (run
/// before the update stream loads it).
pub async fn keep_watched_channels(
    session: &SqliteSession,
    filter: &ChannelFilter,
) -> Result<usize, TgError> {
    let state = session
        .updates_state()
        .await
        .map_err(|e| TgError::Transient(format!("session file: {e}")))?;
    let before = state.channels.len();
    let kept = filter.state(state);
    let dropped = before - kept.channels.len();
    if dropped > 0 {
        session
            .set_update_state(UpdateState::All(kept))
            .await
            .map_err(|e| TgError::Transient(format!("session file: {e}")))?;
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(channel_id: i64) -> tl::enums::Update {
        tl::types::UpdateNewChannelMessage {
            message: tl::types::MessageEmpty {
                id: 1,
                peer_id: Some(tl::types::PeerChannel { channel_id }.into()),
            }
            .into(),
            pts: 2,
            pts_count: 1,
        }
        .into()
    }

    #[test]
    fn live_updates_of_unwatched_channels_never_reach_grammers() {
        // -1000000001234 is channel 1234 in WATCH_ID's (Bot API) form.
        let filter = ChannelFilter::new(&[856_254_490, -1_000_000_001_234]);
        let batch = tl::types::Updates {
            updates: vec![post(1234), post(999), post(1000)],
            users: vec![],
            chats: vec![],
            date: 0,
            seq: 0,
        };
        let Some(UpdatesLike::Updates(tl::enums::Updates::Updates(kept))) =
            filter.updates(UpdatesLike::Updates(batch.into()))
        else {
            panic!("the batch itself is kept");
        };
        assert_eq!(kept.updates, vec![post(1234)]);
        let alone = tl::types::UpdateShort {
            update: post(999),
            date: 0,
        };
        assert!(filter.updates(UpdatesLike::Updates(alone.into())).is_none());
    }
}
