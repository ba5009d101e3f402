//! The live grammers side of the watcher: the connection pool, the update
//! stream, history requests, and the [`Inbox`] they make up. This and
//! `auth.rs` are the only files that talk to Telegram.
//!
//! Two helpers run beside the stream, both only raising alarms that make the
//! watcher back off and read history again:
//! - a relay between the pool and the update stream that notices when the
//!   home connection closes (grammers reconnects silently; paycue must catch
//!   up after every reconnect);
//! - a watchdog, because grammers has no read timeout: a silently dead TCP
//!   connection (NAT timeout, laptop suspend) would stall the stream for
//!   good. It probes every minute and drops a connection that does not answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use grammers_client::Client;
use grammers_client::client::UpdateStream;
use grammers_client::sender::{
    ConnectionParams, SenderPool, SenderPoolHandle, UpdatesConfiguration,
};
use grammers_client::session::Session;
use grammers_client::session::types::PeerRef;
use grammers_client::session::updates::UpdatesLike;
use grammers_client::tl;
use grammers_client::update::Update;
use grammers_session::storages::SqliteSession;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::errors::{TgError, classify};
use super::message::{Window, accept, id_and_date, peer_of};
use super::watcher::Inbox;
use crate::engine::IncomingMessage;

const PROBE_EVERY: Duration = Duration::from_secs(60);
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);
/// Updates waiting between the pool and the stream (grammers drops beyond it).
const UPDATES_CAPACITY: usize = 1000;

/// A connection pool over one session. Connections open on demand.
pub struct Connection {
    pub client: Client,
    pub session: Arc<SqliteSession>,
    pub handle: SenderPoolHandle,
    pub app_id: i32,
    runner: JoinHandle<()>,
    updates: Option<mpsc::Receiver<UpdatesLike>>,
}

impl Connection {
    pub fn open(session: Arc<SqliteSession>, app_id: i32) -> Connection {
        let params = ConnectionParams {
            device_model: "paycue".into(),
            app_version: env!("CARGO_PKG_VERSION").into(),
            updates_channel_capacity: std::num::NonZeroUsize::new(UPDATES_CAPACITY)
                .unwrap_or(std::num::NonZeroUsize::MIN),
            ..Default::default()
        };
        let SenderPool {
            runner,
            handle,
            updates,
        } = SenderPool::with_configuration(Arc::clone(&session), app_id, params);
        let thin = handle.thin.clone();
        Connection {
            client: Client::new(handle),
            session,
            handle: thin,
            app_id,
            runner: tokio::spawn(runner.run()),
            updates: Some(updates),
        }
    }

    /// Closes every connection and waits (briefly) for the pool to stop.
    pub async fn close(self) {
        self.handle.quit();
        let _ = tokio::time::timeout(Duration::from_secs(2), self.runner).await;
    }
}

/// Every dialog of the account, which also fills the session's peer cache
/// (access hashes that history requests and gap recovery need). Returns the
/// dialog count and the references of the `wanted` chats it found.
pub async fn scan_dialogs(
    client: &Client,
    wanted: &[i64],
) -> Result<(usize, HashMap<i64, PeerRef>), TgError> {
    let mut found = HashMap::new();
    let mut count = 0;
    let mut dialogs = client.iter_dialogs();
    while let Some(dialog) = dialogs.next().await.map_err(classify)? {
        count += 1;
        if let Some(id) = dialog.peer_id().bot_api_dialog_id()
            && wanted.contains(&id)
        {
            found.insert(id, dialog.peer_ref());
        }
    }
    Ok((count, found))
}

pub struct GrammersInbox {
    client: Client,
    session: Arc<SqliteSession>,
    stream: UpdateStream,
    watched: Vec<i64>,
    peers: HashMap<i64, PeerRef>,
    dialogs_scanned: bool,
    alarms: mpsc::Receiver<TgError>,
    helpers: [JoinHandle<()>; 2],
}

impl GrammersInbox {
    /// Starts the update stream (with catch-up from the stored state).
    pub async fn start(conn: &mut Connection, watched: Vec<i64>) -> Result<GrammersInbox, TgError> {
        let updates = conn
            .updates
            .take()
            .ok_or_else(|| TgError::Closed("the update stream was already taken".into()))?;
        let (alarm_tx, alarms) = mpsc::channel(8);
        let (relayed_tx, relayed) = mpsc::channel(UPDATES_CAPACITY);
        let relay = tokio::spawn(relay(updates, relayed_tx, alarm_tx.clone()));
        let stream = conn
            .client
            .stream_updates(relayed, UpdatesConfiguration { catch_up: true })
            .await
            .map_err(|e| TgError::Transient(format!("cannot start the update stream: {e}")))?;
        let dog = tokio::spawn(watchdog(
            conn.client.clone(),
            conn.handle.clone(),
            Arc::clone(&conn.session),
            alarm_tx,
        ));
        Ok(GrammersInbox {
            client: conn.client.clone(),
            session: Arc::clone(&conn.session),
            stream,
            watched,
            peers: HashMap::new(),
            dialogs_scanned: false,
            alarms,
            helpers: [relay, dog],
        })
    }

    /// Alarms raised before a catch-up are settled by it, unless fatal.
    fn settle_alarms(&mut self) -> Result<(), TgError> {
        while let Ok(alarm) = self.alarms.try_recv() {
            if matches!(alarm, TgError::LoggedOut(_) | TgError::Closed(_)) {
                return Err(alarm);
            }
        }
        Ok(())
    }

    async fn peer_ref(&mut self, chat: i64) -> Result<PeerRef, TgError> {
        if let Some(peer) = self.peers.get(&chat) {
            return Ok(*peer);
        }
        let id =
            peer_of(chat).ok_or_else(|| TgError::Rejected(format!("{chat} is not a chat id")))?;
        let cached = self
            .session
            .peer_ref(id)
            .await
            .map_err(|e| TgError::Transient(format!("session file: {e}")))?;
        let peer = match cached {
            Some(peer) => Some(peer),
            // Scanning dialogs is costly: once per start is enough.
            None if !self.dialogs_scanned => {
                let (_, found) = scan_dialogs(&self.client, &self.watched).await?;
                self.dialogs_scanned = true;
                self.peers.extend(found);
                self.peers.get(&chat).copied()
            }
            None => None,
        };
        let peer = peer.ok_or_else(|| {
            TgError::Rejected(format!(
                "chat {chat} is not among the account's chats; open it in Telegram (for a bot: press Start)"
            ))
        })?;
        self.peers.insert(chat, peer);
        Ok(peer)
    }
}

impl Inbox for GrammersInbox {
    async fn history(
        &mut self,
        chat: i64,
        window: Window,
    ) -> Result<Vec<IncomingMessage>, TgError> {
        self.settle_alarms()?;
        let peer = self.peer_ref(chat).await?;
        let mut found = Vec::new();
        let mut messages = self.client.iter_messages(peer); // newest first
        while let Some(m) = messages.next().await.map_err(classify)? {
            let (id, date) = id_and_date(&m.raw);
            if window.ends_before(id, date) {
                break;
            }
            found.extend(accept(&m, &self.watched));
        }
        found.reverse();
        Ok(found)
    }

    async fn next(&mut self) -> Result<IncomingMessage, TgError> {
        loop {
            tokio::select! {
                biased;
                Some(alarm) = self.alarms.recv() => return Err(alarm),
                update = self.stream.next() => match update {
                    Ok(Update::NewMessage(m)) => {
                        if let Some(message) = accept(&m, &self.watched) {
                            return Ok(message);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => return Err(classify(e)),
                },
            }
        }
    }

    async fn sync_state(&mut self) -> Result<(), TgError> {
        self.stream
            .sync_update_state()
            .await
            .map_err(|e| TgError::Transient(format!("session file: {e}")))
    }
}

impl Drop for GrammersInbox {
    fn drop(&mut self) {
        for helper in &self.helpers {
            helper.abort();
        }
    }
}

/// Passes updates on, raising an alarm when the home connection closed.
async fn relay(
    mut from: mpsc::Receiver<UpdatesLike>,
    to: mpsc::Sender<UpdatesLike>,
    alarms: mpsc::Sender<TgError>,
) {
    while let Some(updates) = from.recv().await {
        if matches!(updates, UpdatesLike::ConnectionClosed) {
            let _ = alarms.try_send(TgError::Transient(
                "the connection to Telegram closed".into(),
            ));
        }
        if to.send(updates).await.is_err() {
            break;
        }
    }
}

/// Probes Telegram every minute; a probe that hangs drops the home connection
/// (the next request reconnects), and any failure raises an alarm.
async fn watchdog(
    client: Client,
    handle: SenderPoolHandle,
    session: Arc<SqliteSession>,
    alarms: mpsc::Sender<TgError>,
) {
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        let probe = client.invoke(&tl::functions::updates::GetState {});
        let alarm = match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => classify(e),
            Err(_) => {
                tracing::warn!(
                    "Telegram did not answer for {} s; reconnecting",
                    PROBE_TIMEOUT.as_secs()
                );
                if let Ok(dc) = session.home_dc_id() {
                    handle.disconnect_from_dc(dc);
                }
                TgError::Transient("Telegram stopped answering".into())
            }
        };
        let _ = alarms.try_send(alarm);
    }
}
