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
use crate::model::now_millis;

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

struct Run<'a, I> {
    engine: Arc<Engine>,
    fatal: watch::Receiver<Option<TgError>>,
    inbox: &'a mut I,
    tuning: &'a Tuning,
    shutdown: watch::Receiver<bool>,
    /// The next backoff delay.
    delay: Duration,
}

impl<I: Inbox> Run<'_, I> {
    /// Reads and applies the history of every chat in `behind`, removing the
    /// ones done. Returns when to retry the others (None: all done).
    async fn catch_up(&mut self, behind: &mut Vec<i64>) -> Result<Option<Instant>, End> {
        let lookback = self.tuning.first_lookback.as_millis() as i64;
        let mut retry_in: Option<Duration> = None;
        let mut flooded = false;
        let mut failed = Vec::new();
        for chat in std::mem::take(behind) {
            if flooded {
                // A flood wait holds for the account: ask nothing more now.
                failed.push(chat);
                continue;
            }
            let last = self.last_applied(chat).await?;
            let window = Window::new(last, now_millis(), lookback);
            let history = interruptible(
                &self.shutdown,
                &self.fatal,
                self.inbox.history(chat, window),
            )
            .await?;
            match history {
                Ok(messages) => {
                    if !messages.is_empty() {
                        tracing::info!(chat, messages = messages.len(), "caught up on a chat");
                    }
                    for message in &messages {
                        self.apply(message).await?;
                    }
                }
                Err(TgError::Rejected(why)) => {
                    tracing::warn!(chat, reason = %why, "cannot read this chat's history; is it in WATCH_ID by mistake, or did you leave it?");
                }
                Err(TgError::LoggedOut(why)) => return Err(End::LoggedOut(why)),
                Err(TgError::Closed(why)) => return Err(End::Closed(why)),
                Err(TgError::FloodWait(wait)) => {
                    tracing::warn!(
                        chat,
                        seconds = wait.as_secs(),
                        "Telegram asks paycue to wait before reading this chat (flood wait); other chats go on"
                    );
                    retry_in = Some(retry_in.map_or(wait, |r| r.max(wait)));
                    flooded = true;
                    failed.push(chat);
                }
                Err(e @ TgError::Transient(_)) => {
                    tracing::warn!(chat, error = %e, retry_in_ms = self.delay.as_millis() as u64, "cannot catch up on a chat; will retry while the others go live");
                    retry_in = Some(retry_in.map_or(self.delay, |r| r.max(self.delay)));
                    failed.push(chat);
                }
            }
        }
        *behind = failed;
        if retry_in.is_some() && !flooded {
            self.delay = (self.delay * 2).min(self.tuning.backoff_max);
        }
        Ok(retry_in.map(|wait| Instant::now() + wait))
    }

    /// Applies live messages until something goes wrong, or until `retry_at`
    /// (a chat to catch up again).
    async fn follow(&mut self, retry_at: Option<Instant>) -> Stop {
        loop {
            let next = async {
                match retry_at {
                    Some(at) => tokio::select! {
                        m = self.inbox.next() => Some(m),
                        _ = tokio::time::sleep_until(at) => None,
                    },
                    None => Some(self.inbox.next().await),
                }
            };
            let message = match interruptible(&self.shutdown, &self.fatal, next).await {
                Err(end) => return Stop::End(end),
                Ok(None) => return Stop::Retry,
                Ok(Some(Err(e))) => return Stop::Trouble(e),
                Ok(Some(Ok(m))) => m,
            };
            if let Err(end) = self.apply(&message).await {
                return Stop::End(end);
            }
            if let Err(e) = self.inbox.sync_state().await {
                // Not fatal: the history scan covers what update catch-up misses.
                tracing::warn!(error = %e, "cannot save the Telegram update state");
            }
        }
    }

    /// The store's last applied id in `chat`, retried while the store is down.
    async fn last_applied(&mut self, chat: i64) -> Result<Option<i64>, End> {
        let mut delay = self.tuning.backoff_initial;
        loop {
            match until_shutdown(&self.shutdown, self.engine.last_applied(chat)).await? {
                Ok(last) => return Ok(last),
                Err(e) => {
                    tracing::warn!(error = %e, chat, "cannot read the last applied message id; retrying");
                    self.sleep(delay).await?;
                    delay = (delay * 2).min(self.tuning.backoff_max);
                }
            }
        }
    }

    /// Applies one message, retrying while the store is down: never skipped.
    async fn apply(&mut self, message: &IncomingMessage) -> Result<(), End> {
        let mut delay = self.tuning.backoff_initial;
        loop {
            // Cancelling a store call is safe: each write is one atomic
            // script, and a message applied twice is deduped.
            match until_shutdown(&self.shutdown, self.engine.ingest(message)).await? {
                Ok(outcome) => {
                    tracing::debug!(
                        chat = message.chat(),
                        message_id = message.message_id,
                        outcome = outcome.label(),
                        transaction_id = outcome.transaction_id(),
                        "Telegram message applied"
                    );
                    return Ok(());
                }
                Err(e) => {
                    tracing::warn!(error = %e, chat = message.chat(), message_id = message.message_id, "cannot apply a Telegram message; retrying");
                    self.sleep(delay).await?;
                    delay = (delay * 2).min(self.tuning.backoff_max);
                }
            }
        }
    }

    /// Waits out a Telegram problem, or ends the watch on a fatal one.
    async fn pause(&mut self, trouble: TgError) -> Result<(), End> {
        let wait = match trouble {
            TgError::LoggedOut(why) => return Err(End::LoggedOut(why)),
            TgError::Closed(why) => return Err(End::Closed(why)),
            TgError::FloodWait(wait) => {
                tracing::warn!(
                    seconds = wait.as_secs(),
                    "Telegram asks paycue to wait (flood wait); orders do not expire meanwhile"
                );
                wait
            }
            TgError::Rejected(_) | TgError::Transient(_) => {
                let wait = self.delay;
                self.delay = (self.delay * 2).min(self.tuning.backoff_max);
                tracing::warn!(error = %trouble, retry_in_ms = wait.as_millis() as u64, "Telegram trouble; will catch up again");
                wait
            }
        };
        self.sleep(wait).await
    }

    /// Sleeps, unless shutdown or a fatal alarm comes first.
    async fn sleep(&self, wait: Duration) -> Result<(), End> {
        interruptible(&self.shutdown, &self.fatal, tokio::time::sleep(wait)).await
    }
}

/// Runs `work` unless shutdown or a fatal alarm comes first.
async fn interruptible<F: Future>(
    shutdown: &watch::Receiver<bool>,
    fatal: &watch::Receiver<Option<TgError>>,
    work: F,
) -> Result<F::Output, End> {
    let mut fatal = fatal.clone();
    let alarm = async move {
        let raised = fatal.wait_for(|a| a.is_some()).await.map(|a| a.clone());
        let Ok(alarm) = raised else {
            // Nobody can raise an alarm any more.
            return std::future::pending().await;
        };
        match alarm {
            Some(TgError::LoggedOut(why)) => End::LoggedOut(why),
            Some(other) => End::Closed(other.to_string()),
            None => End::Closed("alarm".into()),
        }
    };
    tokio::select! {
        end = alarm => Err(end),
        out = until_shutdown(shutdown, work) => out,
    }
}

/// Runs `work` unless shutdown comes first.
async fn until_shutdown<F: Future>(
    shutdown: &watch::Receiver<bool>,
    work: F,
) -> Result<F::Output, End> {
    let mut shutdown = shutdown.clone();
    tokio::select! {
        // A dropped sender also means stop.
        _ = shutdown.wait_for(|stop| *stop) => Err(End::Shutdown),
        out = work => Ok(out),
    }
}
