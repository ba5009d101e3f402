//! The live grammers [`Inbox`]: history requests, and the update stream read
//! by its own task. Three helper tasks run beside the requests:
//! - the relay between the pool and grammers' update stream: drops updates of
//!   unwatched channels (see `filter`) and raises an alarm when the home
//!   connection closes (grammers reconnects silently; paycue catches up);
//! - the reader: owns the update stream and is never cancelled (grammers
//!   awaits a cache write between taking a batch and buffering it, so a
//!   `next()` cancelled there loses the batch while the state moves on);
//! - the watchdog, because grammers has no read timeout: it probes Telegram
//!   every minute and drops a connection that does not answer.
//!
//! What must stay true:
//! - every request paycue makes has a time limit (`Limits::call`), and
//!   `Limits::timeouts` timeouts in a row end the inbox with `Closed`, after
//!   which the caller builds a new pool (a connect stuck inside grammers'
//!   pool loop blocks every request, even the watchdog's disconnect);
//! - a `Dropped` request while the pool runs is transient (its connection
//!   closed); only a stopped pool is `Closed`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use grammers_client::sender::UpdatesConfiguration;
use grammers_client::session::Session;
use grammers_client::session::types::PeerRef;
use grammers_client::{Client, InvocationError};
use grammers_session::storages::SqliteSession;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::connection::{Connection, scan_dialogs};
use super::errors::{TgError, classify};
use super::filter::{ChannelFilter, keep_watched_channels};
use super::message::{Window, accept, id_and_date, peer_of};
use super::watcher::Inbox;
use crate::engine::IncomingMessage;
use tasks::{read_updates, relay, watchdog};

mod tasks;

/// Time limits (tests shorten them).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest wait for one Telegram call (a history read, a probe).
    pub call: Duration,
    /// How often the watchdog probes.
    pub probe_every: Duration,
    /// Timeouts in a row after which the pool is rebuilt.
    pub timeouts: u32,
    /// Shortest time between two dialog scans (they invite flood waits).
    pub scan_cooldown: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            call: Duration::from_secs(15),
            probe_every: Duration::from_secs(60),
            timeouts: 3,
            scan_cooldown: Duration::from_secs(600),
        }
    }
}

/// When the last dialog scan started; kept across pool rebuilds.
pub type LastScan = Arc<Mutex<Option<Instant>>>;

/// Updates waiting between the pool and the stream (grammers drops beyond it).
const UPDATES_CAPACITY: usize = 1000;

/// A live message, or an alarm with when it was raised.
type Event = Result<IncomingMessage, (Instant, TgError)>;

/// What a failed call means, given whether the pool still runs.
#[derive(Clone)]
struct Health {
    alive: Arc<AtomicBool>,
    timeouts: Arc<AtomicU32>,
    limit: u32,
}

impl Health {
    fn classify(&self, e: InvocationError) -> TgError {
        if !self.alive.load(Ordering::SeqCst) {
            return TgError::Closed(format!("the connection pool stopped ({e})"));
        }
        classify(e)
    }

    fn answered(&self) {
        self.timeouts.store(0, Ordering::SeqCst);
    }

    fn timed_out(&self, what: &str, limit: Duration) -> TgError {
        let n = self.timeouts.fetch_add(1, Ordering::SeqCst) + 1;
        if n >= self.limit {
            TgError::Closed(format!(
                "Telegram did not answer {n} requests in a row; rebuilding the connection"
            ))
        } else {
            TgError::Transient(format!(
                "{what}: no answer within {} s",
                limit.as_secs_f32()
            ))
        }
    }

    /// `work` within `limit`, sorted into a `TgError` on failure.
    async fn timed<T>(
        &self,
        what: &str,
        limit: Duration,
        work: impl Future<Output = Result<T, InvocationError>>,
    ) -> Result<T, TgError> {
        match tokio::time::timeout(limit, work).await {
            Ok(Ok(v)) => {
                self.answered();
                Ok(v)
            }
            Ok(Err(e)) => Err(self.classify(e)),
            Err(_) => Err(self.timed_out(what, limit)),
        }
    }
}

fn is_fatal(e: &TgError) -> bool {
    matches!(e, TgError::LoggedOut(_) | TgError::Closed(_))
}

pub struct GrammersInbox {
    client: Client,
    session: Arc<SqliteSession>,
    watched: Vec<i64>,
    peers: HashMap<i64, PeerRef>,
    last_scan: LastScan,
    limits: Limits,
    health: Health,
    events: mpsc::Receiver<Event>,
    fatal: watch::Receiver<Option<TgError>>,
    /// Alarms raised before this were settled by the history read since.
    read_since: Instant,
    helpers: Vec<JoinHandle<()>>,
}

impl GrammersInbox {
    /// Starts the update stream (with catch-up from the stored state, cut
    /// down to the watched chats) and its helper tasks.
    pub async fn start(
        conn: &mut Connection,
        watched: Vec<i64>,
        limits: Limits,
        last_scan: LastScan,
    ) -> Result<GrammersInbox, TgError> {
        let updates = conn
            .updates
            .take()
            .ok_or_else(|| TgError::Closed("the update stream was already taken".into()))?;
        let filter = ChannelFilter::new(&watched);
        let dropped = keep_watched_channels(&conn.session, &filter).await?;
        if dropped > 0 {
            tracing::info!(
                channels = dropped,
                "Telegram: unwatched channels are not caught up"
            );
        }
        let health = Health {
            alive: Arc::clone(&conn.alive),
            timeouts: Arc::default(),
            limit: limits.timeouts.max(1),
        };
        let (events_tx, events) = mpsc::channel(UPDATES_CAPACITY);
        let (fatal_tx, fatal) = watch::channel(None);
        let (relayed_tx, relayed) = mpsc::channel(UPDATES_CAPACITY);
        let relay = tokio::spawn(relay(updates, relayed_tx, filter, events_tx.clone()));
        let stream = conn
            .client
            .stream_updates(relayed, UpdatesConfiguration { catch_up: true })
            .await
            .map_err(|e| TgError::Transient(format!("cannot start the update stream: {e}")))?;
        let reader = tokio::spawn(read_updates(
            stream,
            watched.clone(),
            health.clone(),
            events_tx.clone(),
        ));
        let dog = tokio::spawn(watchdog(
            conn.client.clone(),
            conn.handle.clone(),
            Arc::clone(&conn.session),
            limits.clone(),
            health.clone(),
            events_tx,
            fatal_tx,
        ));
        Ok(GrammersInbox {
            client: conn.client.clone(),
            session: Arc::clone(&conn.session),
            watched,
            peers: HashMap::new(),
            last_scan,
            limits,
            health,
            events,
            fatal,
            read_since: Instant::now(),
            helpers: vec![relay, reader, dog],
        })
    }

    async fn peer_ref(&mut self, chat: i64) -> Result<PeerRef, TgError> {
        if let Some(peer) = self.peers.get(&chat) {
            return Ok(*peer);
        }
        let id =
            peer_of(chat).ok_or_else(|| TgError::Rejected(format!("{chat} is not a chat id")))?;
        let cached = tokio::time::timeout(self.limits.call, self.session.peer_ref(id))
            .await
            .map_err(|_| TgError::Transient("the session file did not answer".into()))?
            .map_err(|e| TgError::Transient(format!("session file: {e}")))?;
        let peer = match cached {
            Some(peer) => Some(peer),
            None if self.scan_allowed() => {
                // A few pages of dialogs: a few calls' worth of time.
                let limit = self.limits.call * 8;
                let (_, found) = scan_dialogs(&self.client, &self.watched, limit).await?;
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

    /// True (and the scan counted as started) when the cool-down is over.
    fn scan_allowed(&self) -> bool {
        let Ok(mut last) = self.last_scan.lock() else {
            return false;
        };
        if last.is_some_and(|at| at.elapsed() < self.limits.scan_cooldown) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }
}

impl Inbox for GrammersInbox {
    async fn history(
        &mut self,
        chat: i64,
        window: Window,
    ) -> Result<Vec<IncomingMessage>, TgError> {
        self.read_since = Instant::now();
        if !self.health.alive.load(Ordering::SeqCst) {
            return Err(TgError::Closed("the connection pool stopped".into()));
        }
        let peer = self.peer_ref(chat).await?;
        let client = self.client.clone();
        let watched = self.watched.clone();
        let read = async move {
            let mut found = Vec::new();
            let mut messages = client.iter_messages(peer); // newest first
            while let Some(m) = messages.next().await? {
                let (id, date) = id_and_date(&m.raw);
                if window.ends_before(id, date) {
                    break;
                }
                found.extend(accept(&m, &watched));
            }
            found.reverse();
            Ok(found)
        };
        self.health.timed("history", self.limits.call, read).await
    }

    async fn next(&mut self) -> Result<IncomingMessage, TgError> {
        loop {
            match self.events.recv().await {
                None => return Err(TgError::Closed("the update reader stopped".into())),
                Some(Ok(message)) => return Ok(message),
                // Settled by the history read that started after it.
                Some(Err((at, e))) if at < self.read_since && !is_fatal(&e) => {}
                Some(Err((_, e))) => return Err(e),
            }
        }
    }

    fn fatal_alarms(&self) -> watch::Receiver<Option<TgError>> {
        self.fatal.clone()
    }

    /// The reader saves the state itself after each message it hands on.
    async fn sync_state(&mut self) -> Result<(), TgError> {
        Ok(())
    }
}

impl Drop for GrammersInbox {
    fn drop(&mut self) {
        for helper in &self.helpers {
            helper.abort();
        }
    }
}

#[cfg(test)]
mod tests;
