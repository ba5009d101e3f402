//! Alerts through the seller's own Telegram session: the client of the
//! watcher's current connection pool (so the same session, under the same
//! lock, never a second login), to Saved Messages or `ALERT_CHAT`. While the
//! watcher rebuilds its pool there is no client and a send fails at once;
//! the alert sender retries it later. Every send has a time limit, so a dead
//! connection never holds an alert (nor anything else) for long.

use std::time::Duration;

use async_trait::async_trait;
use grammers_client::Client;
use grammers_client::session::Session;
use grammers_client::session::types::{PeerId, PeerRef};
use grammers_session::storages::SqliteSession;
use tokio::sync::watch;

use super::errors::{TgError, classify};
use crate::alerts::send::{Outgoing, SendError, Sink};
use crate::config::AlertChat;

/// The client of the current pool, and its session (for cached peers).
type Current = (Client, std::sync::Arc<SqliteSession>);

/// The longest wait for one send.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// The watcher's side: it publishes its current client here.
#[derive(Clone)]
pub struct AlertLink {
    tx: std::sync::Arc<watch::Sender<Option<Current>>>,
}

impl Default for AlertLink {
    fn default() -> Self {
        AlertLink {
            tx: std::sync::Arc::new(watch::channel(None).0),
        }
    }
}

impl AlertLink {
    pub(super) fn set(&self, client: Option<Current>) {
        self.tx.send_replace(client);
    }

    /// The sink that sends through whichever client is current.
    pub fn sink(&self, chat: AlertChat) -> TelegramSink {
        TelegramSink {
            client: self.tx.subscribe(),
            chat,
        }
    }
}

pub struct TelegramSink {
    client: watch::Receiver<Option<Current>>,
    chat: AlertChat,
}

#[async_trait]
impl Sink for TelegramSink {
    async fn send(&self, m: &Outgoing) -> Result<(), SendError> {
        let (client, session) = self.client.borrow().clone().ok_or_else(|| {
            SendError::Failed("Telegram is not connected (the watcher is reconnecting)".into())
        })?;
        let peer = peer_of(&session, self.chat).await?;
        match tokio::time::timeout(SEND_TIMEOUT, client.send_message(peer, m.text.as_str())).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(send_error(classify(e))),
            Err(_) => Err(SendError::Failed(format!(
                "Telegram did not answer within {} s",
                SEND_TIMEOUT.as_secs()
            ))),
        }
    }
}

/// Saved Messages is the account itself; another chat is found in the
/// session's cache (the watcher's dialog scan fills it), else tried with
/// ambient authority (enough for a basic group the account is in).
async fn peer_of(session: &SqliteSession, chat: AlertChat) -> Result<PeerRef, SendError> {
    match chat {
        AlertChat::SavedMessages => Ok(PeerId::self_user().to_ambient_ref()),
        AlertChat::Chat(id) => {
            let peer = PeerId::from_bot_api_dialog_id(id).ok_or_else(|| {
                SendError::Failed(format!("ALERT_CHAT {id} is not a Telegram chat id"))
            })?;
            let cached = session
                .peer_ref(peer)
                .await
                .map_err(|e| SendError::Failed(format!("cannot read the session: {e}")))?;
            Ok(cached.unwrap_or_else(|| peer.to_ambient_ref()))
        }
    }
}

/// What a Telegram failure means for an alert: a flood wait is waited out,
/// everything else is retried with backoff (a revoked session ends the
/// watcher, which says so itself).
pub fn send_error(e: TgError) -> SendError {
    match e {
        TgError::FloodWait(d) => SendError::Wait(d),
        other => SendError::Failed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Config refuses an ALERT_CHAT exactly when grammers could not send to it.
    #[test]
    fn alert_chat_ids_are_checked_as_grammers_reads_them() {
        let edges = [
            0,
            1,
            0xff_ffff_ffff,
            0x100_0000_0000,
            -1,
            -999_999_999_999,
            -1_000_000_000_000,
            -1_000_000_000_001,
            -1_997_852_516_352,
            -1_997_852_516_353,
            -2_002_147_483_648,
            -2_002_147_483_649,
            -4_000_000_000_000,
            -4_000_000_000_001,
            i64::MIN,
            i64::MAX,
        ];
        for id in edges {
            assert_eq!(
                crate::config::is_chat_id(id),
                PeerId::from_bot_api_dialog_id(id).is_some(),
                "{id}"
            );
        }
    }

    #[test]
    fn flood_waits_are_waited_out_and_the_rest_retried() {
        assert_eq!(
            send_error(TgError::FloodWait(Duration::from_secs(30))),
            SendError::Wait(Duration::from_secs(30))
        );
        assert!(matches!(
            send_error(TgError::Rejected("CHAT_WRITE_FORBIDDEN".into())),
            SendError::Failed(why) if why.contains("CHAT_WRITE_FORBIDDEN")
        ));
    }
}
