//! The watcher's steps: catch up on the chats behind, follow live messages,
//! apply with retries, wait out trouble; every wait ends early on shutdown
//! or a fatal alarm.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::{End, Inbox, Stop, Tuning};
use crate::engine::{Engine, IncomingMessage};
use crate::model::now_millis;
use crate::telegram::errors::TgError;
use crate::telegram::message::Window;

pub(super) struct Run<'a, I> {
    pub(super) engine: Arc<Engine>,
    pub(super) fatal: watch::Receiver<Option<TgError>>,
    pub(super) inbox: &'a mut I,
    pub(super) tuning: &'a Tuning,
    pub(super) shutdown: watch::Receiver<bool>,
    /// The next backoff delay.
    pub(super) delay: Duration,
}

impl<I: Inbox> Run<'_, I> {
    /// Reads and applies the history of every chat in `behind`, removing the
    /// ones done. Returns when to retry the others (None: all done).
    pub(super) async fn catch_up(&mut self, behind: &mut Vec<i64>) -> Result<Option<Instant>, End> {
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
    pub(super) async fn follow(&mut self, retry_at: Option<Instant>) -> Stop {
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
    pub(super) async fn pause(&mut self, trouble: TgError) -> Result<(), End> {
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
