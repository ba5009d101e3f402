//! The watch loop: catch up on every watched chat's history, then follow the
//! live stream, and catch up again after any trouble. Telegram sits behind the
//! small [`Inbox`] trait, so this loop is tested with a scripted fake.
//!
//! What must stay true:
//! - No credit is lost to downtime. History is read since the last message id
//!   the store applied (kept in the store) on start and after every error or
//!   reconnect, oldest first. grammers' own update catch-up is a second net;
//!   this history scan is the one relied on.
//! - Catch-up is per chat: a chat whose history fails is retried later (after
//!   the backoff delay, or the flood wait Telegram asked for) while the others
//!   follow live.
//! - A message is never skipped: when the store fails it is retried with
//!   backoff until it is applied or paycue stops (then the next start reads
//!   it again, since the store's last id did not move past it).
//! - Applying twice is harmless (the store dedupes by chat + message id), so
//!   overlap between history and live updates needs no bookkeeping here.
//! - The expiry gate is open only while every chat is caught up and the live
//!   stream is healthy: it closes on any trouble (reconnect, flood wait,
//!   failed catch-up) and reopens when all chats have caught up again.
//! - Waits end early on shutdown and on a fatal alarm (a 401 seen by the
//!   watchdog does not wait out a backoff).
//! - Recovery is bounded: while Telegram fails, catch-up is retried at least
//!   every `backoff_max` (5 s), so a credit sent during an outage is applied
//!   within `backoff_max` of Telegram answering again, plus the catch-up.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::errors::TgError;
use super::message::Window;
use crate::config::Config;
use crate::engine::{Engine, IncomingMessage};
use steps::Run;

mod steps;

/// Everything the watcher needs from Telegram.
pub trait Inbox: Send {
    /// Accepted messages of `chat` inside `window`, oldest first.
    fn history(
        &mut self,
        chat: i64,
        window: Window,
    ) -> impl Future<Output = Result<Vec<IncomingMessage>, TgError>> + Send;
    /// The next accepted live message from any watched chat. Must be
    /// cancel-safe: the watcher stops waiting for it to retry a chat.
    fn next(&mut self) -> impl Future<Output = Result<IncomingMessage, TgError>> + Send;
    /// Fatal alarms (session ended, connection pool gone) raised beside the
    /// requests, e.g. by a watchdog: every wait of the watcher ends on one.
    fn fatal_alarms(&self) -> watch::Receiver<Option<TgError>>;
    /// Persists grammers' update state. That state is ahead of what paycue
    /// applied (grammers moves it when it takes updates in, not when paycue
    /// handles them), so it only saves grammers from fetching a long
    /// difference again; the history scan from the store's last applied id
    /// is what guarantees nothing is lost.
    fn sync_state(&mut self) -> impl Future<Output = Result<(), TgError>> + Send;
}

/// Delays of the loop (tests shorten them).
#[derive(Debug, Clone)]
pub struct Tuning {
    /// First delay after an error; it doubles up to `backoff_max`.
    pub backoff_initial: Duration,
    /// The longest wait between two attempts while Telegram fails: it bounds
    /// how long after Telegram answers again a missed credit is applied.
    pub backoff_max: Duration,
    /// A live stream that ran this long before failing was healthy: the
    /// delay starts again from `backoff_initial`.
    pub stable_after: Duration,
    /// How far back the first catch-up of a chat with no applied message reads.
    pub first_lookback: Duration,
}

impl Tuning {
    /// Reaching back one transaction lifetime plus the amount hold covers
    /// every credit that could still confirm or be reported late. Retrying at
    /// least every 5 s costs one small request per attempt, far below
    /// Telegram's limits, and network errors never reach Telegram at all.
    pub fn for_config(config: &Config) -> Tuning {
        Tuning {
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(5),
            stable_after: Duration::from_secs(60),
            first_lookback: config.tx_ttl + config.amount_hold,
        }
    }
}

/// Why the watch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    Shutdown,
    /// The session is no longer authorized (Telegram's reason).
    LoggedOut(String),
    /// The connection pool stopped under us, or stopped answering: the caller
    /// builds a new one.
    Closed(String),
}

enum Stop {
    End(End),
    Trouble(TgError),
    /// Time to retry the chats that have not caught up yet.
    Retry,
}

impl From<End> for Stop {
    fn from(end: End) -> Stop {
        Stop::End(end)
    }
}

/// Watches `chats` until shutdown or a fatal error.
pub async fn watch<I: Inbox>(
    engine: Arc<Engine>,
    inbox: &mut I,
    chats: &[i64],
    tuning: &Tuning,
    shutdown: watch::Receiver<bool>,
) -> End {
    let mut run = Run {
        engine,
        fatal: inbox.fatal_alarms(),
        inbox,
        tuning,
        shutdown,
        delay: tuning.backoff_initial,
    };
    let mut behind: Vec<i64> = chats.to_vec();
    let mut caught_up_once = false;
    loop {
        run.engine.mark_behind();
        let retry_at = match run.catch_up(&mut behind).await {
            Err(end) => return end,
            Ok(retry_at) => retry_at,
        };
        if behind.is_empty() {
            run.engine.mark_caught_up();
            let what = if caught_up_once { "again" } else { "" };
            caught_up_once = true;
            tracing::info!("Telegram caught up {what}; following live messages");
        }
        let started = Instant::now();
        let stop = run.follow(retry_at).await;
        if started.elapsed() >= tuning.stable_after {
            run.delay = tuning.backoff_initial;
        }
        match stop {
            Stop::End(end) => return end,
            Stop::Retry => {}
            Stop::Trouble(trouble) => {
                // Whatever was missed while the stream was down is in the
                // chats' history: read all of them again.
                run.engine.mark_behind();
                behind = chats.to_vec();
                if let Err(end) = run.pause(trouble).await {
                    return end;
                }
            }
        }
    }
}
