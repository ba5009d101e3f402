//! The watch loop: catch up on every watched chat's history, then follow the
//! live stream, and start over after any trouble. Telegram sits behind the
//! small [`Inbox`] trait, so this loop is tested with a scripted fake.
//!
//! What must stay true:
//! - No credit is lost to downtime. History is read since the last message id
//!   the store applied (kept in Redis) on start and after every error or
//!   reconnect, oldest first, before the live stream. The update catch-up of
//!   grammers is a second net; this history scan is the one relied on.
//! - A message is never skipped: when the store fails it is retried with
//!   backoff until it is applied or paycue stops (then the next start reads
//!   it again, since the store's last id did not move past it).
//! - Applying twice is harmless (the store dedupes by chat + message id), so
//!   overlap between history and live updates needs no bookkeeping here.
//! - The expiry gate opens only after the first catch-up of every chat.
//! - Shutdown is honoured at every wait, store calls included.

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
    /// The next accepted live message from any watched chat.
    fn next(&mut self) -> impl Future<Output = Result<IncomingMessage, TgError>> + Send;
    /// Persists the update state, so update catch-up resumes after what was applied.
    fn sync_state(&mut self) -> impl Future<Output = Result<(), TgError>> + Send;
}

/// Delays of the loop (tests shorten them).
#[derive(Debug, Clone)]
pub struct Tuning {
    /// First delay after an error; it doubles up to `backoff_max`.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// A live stream that ran this long before failing was healthy: the
    /// delay starts again from `backoff_initial`.
    pub stable_after: Duration,
    /// How far back the first catch-up of a chat with no applied message reads.
    pub first_lookback: Duration,
}

impl Tuning {
    /// Reaching back one transaction lifetime plus the amount hold covers
    /// every credit that could still confirm or be reported late.
    pub fn for_config(config: &Config) -> Tuning {
        Tuning {
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
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
    /// The connection pool stopped under us.
    Closed(String),
}

enum Stop {
    End(End),
    Trouble(TgError),
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
        inbox,
        chats,
        tuning,
        shutdown,
        delay: tuning.backoff_initial,
    };
    let mut caught_up_once = false;
    loop {
        let trouble = match run.catch_up().await {
            Err(Stop::End(end)) => return end,
            Err(Stop::Trouble(e)) => e,
            Ok(read) => {
                if !caught_up_once {
                    caught_up_once = true;
                    run.engine.mark_caught_up();
                    tracing::info!(
                        messages = read,
                        "Telegram caught up; following live messages"
                    );
                } else {
                    tracing::info!(messages = read, "Telegram caught up again");
                }
                let started = Instant::now();
                let stop = run.follow().await;
                if started.elapsed() >= tuning.stable_after {
                    run.delay = tuning.backoff_initial;
                }
                match stop {
                    Stop::End(end) => return end,
                    Stop::Trouble(e) => e,
                }
            }
        };
        if let Err(end) = run.pause(trouble).await {
            return end;
        }
    }
}

struct Run<'a, I> {
    engine: Arc<Engine>,
    inbox: &'a mut I,
    chats: &'a [i64],
    tuning: &'a Tuning,
    shutdown: watch::Receiver<bool>,
    /// The next backoff delay.
    delay: Duration,
}

impl<I: Inbox> Run<'_, I> {
    /// Reads and applies every chat's history; returns how many messages it read.
    async fn catch_up(&mut self) -> Result<usize, Stop> {
        let mut read = 0;
        let lookback = self.tuning.first_lookback.as_millis() as i64;
        for &chat in self.chats {
            let last = self.last_applied(chat).await?;
            let window = Window::new(last, now_millis(), lookback);
            let history = until_shutdown(&self.shutdown, self.inbox.history(chat, window)).await?;
            let messages = match history {
                Ok(m) => m,
                Err(TgError::Rejected(why)) => {
                    tracing::warn!(chat, reason = %why, "cannot read this chat's history; is it in WATCH_ID by mistake, or did you leave it?");
                    continue;
                }
                Err(e) => return Err(Stop::Trouble(e)),
            };
            read += messages.len();
            for message in &messages {
                self.apply(message).await?;
            }
        }
        Ok(read)
    }

    /// Applies live messages until something goes wrong.
    async fn follow(&mut self) -> Stop {
        loop {
            let message = match until_shutdown(&self.shutdown, self.inbox.next()).await {
                Err(end) => return Stop::End(end),
                Ok(Err(e)) => return Stop::Trouble(e),
                Ok(Ok(m)) => m,
            };
            if let Err(stop) = self.apply(&message).await {
                return stop;
            }
            if let Err(e) = self.inbox.sync_state().await {
                // Not fatal: the history scan covers what update catch-up misses.
                tracing::warn!(error = %e, "cannot save the Telegram update state");
            }
        }
    }

    /// The store's last applied id in `chat`, retried while the store is down.
    async fn last_applied(&mut self, chat: i64) -> Result<Option<i64>, Stop> {
        let mut delay = self.tuning.backoff_initial;
        loop {
            match until_shutdown(&self.shutdown, self.engine.store.last_message_id(chat)).await? {
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
    async fn apply(&mut self, message: &IncomingMessage) -> Result<(), Stop> {
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
                    "Telegram asks paycue to wait (flood wait)"
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

    async fn sleep(&self, wait: Duration) -> Result<(), End> {
        until_shutdown(&self.shutdown, tokio::time::sleep(wait)).await
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
