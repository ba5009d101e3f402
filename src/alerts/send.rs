//! Delivery: takes due alerts from the queue, groups them (`decide::plan`),
//! words them (`text`) and hands each message to a [`Sink`]: the seller's
//! Telegram (`telegram::alerts`), or the log with `--source stdin`. A
//! message leaves the queue only once its sink took it; a failed send is
//! logged, counted and tried again later (5 s doubling to 5 minutes, or as
//! long as Telegram asks), and nothing here is on the path of matching.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

use super::Hub;
use super::decide::{self, Message};
use super::state::AlertState;
use super::text::{self, Style};
use crate::engine::Engine;
use crate::model::now_millis;

/// How long a taken alert is hidden from other senders: longer than a send
/// may take (Telegram calls are cut at 15 s).
pub const LEASE_MS: i64 = 60_000;
/// A round starts no send after this long (half the lease; a send is cut
/// at 15 s), so it ends while what it took is still its own.
pub const ROUND_BUDGET: Duration = Duration::from_millis(LEASE_MS as u64 / 2);
/// Alerts taken at once at most (a flood beyond comes in the next round).
pub const TAKE_MAX: usize = 5_000;
/// How often the queue is looked at when nothing wakes the sender (alerts
/// queued by another process, held-back kinds coming due).
pub const POLL: Duration = Duration::from_secs(2);

/// One message ready to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The alert kind (`unmatched`, `webhook_down`, ...).
    pub label: &'static str,
    /// How many alerts it covers.
    pub count: usize,
    pub text: String,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    /// Telegram asked to wait this long (a flood wait).
    #[error("Telegram asks to wait {} s", .0.as_secs())]
    Wait(Duration),
    /// Anything else (no connection yet, a timeout, a refused chat...).
    #[error("{0}")]
    Failed(String),
}

/// Where messages go.
#[async_trait]
pub trait Sink: Send + Sync + 'static {
    async fn send(&self, message: &Outgoing) -> Result<(), SendError>;
}

/// `--source stdin`: no Telegram, so the alert is a log line (and the
/// `paycue_alerts_sent_total` metric).
pub struct LogSink;

#[async_trait]
impl Sink for LogSink {
    async fn send(&self, m: &Outgoing) -> Result<(), SendError> {
        // One log line per alert: journald would split a multi-line message.
        let text = m.text.replace('\n', " | ");
        tracing::warn!(alert = m.label, count = m.count, text = %text, "alert");
        Ok(())
    }
}

/// Everything the sender needs.
pub struct Sender {
    pub state: Arc<dyn AlertState>,
    pub sink: Arc<dyn Sink>,
    pub style: Style,
    /// For its metrics.
    pub engine: Arc<Engine>,
}

impl Sender {
    /// Sends until shutdown.
    pub async fn run(self, hub: Arc<Hub>, mut shutdown: watch::Receiver<bool>) {
        let mut failures = 0u32;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let woken = hub.queued.notified();
            let wait = match self.round(&mut failures).await {
                Ok(()) => POLL,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the alert queue; retrying");
                    POLL
                }
            };
            tokio::select! {
                _ = woken => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
        }
    }

    /// One look at the queue: send what is due, hold back what is not.
    pub async fn round(&self, failures: &mut u32) -> Result<(), crate::store::StoreError> {
        let now = now_millis();
        let taken = self.state.take(now, LEASE_MS, TAKE_MAX).await?;
        if taken.is_empty() {
            return Ok(());
        }
        let plan = decide::plan(taken, now);
        // Held alerts go back in one call per due time (a held flood shares
        // one), not one per alert: a look at a flood of thousands stays cheap.
        let mut held: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
        for (id, at) in plan.later {
            held.entry(at).or_default().push(id);
        }
        for (at, ids) in &held {
            self.state.later(ids, *at).await?;
        }
        let started = tokio::time::Instant::now();
        let mut messages = plan.send.into_iter();
        while let Some(m) = messages.next() {
            // What was taken is hidden from other senders for LEASE_MS only:
            // past half of it (a send may take 15 s) the rest go back due
            // now, for the next round to take under a fresh lease, rather
            // than be taken and sent again by another process meanwhile.
            if started.elapsed() >= ROUND_BUDGET {
                return self.put_back(m, messages, now_millis()).await;
            }
            if let Err(e) = self.deliver(&m).await {
                *failures += 1;
                let delay = decide::retry_delay(
                    *failures - 1,
                    match e {
                        SendError::Wait(d) => Some(d),
                        SendError::Failed(_) => None,
                    },
                );
                tracing::warn!(alert = m.label, error = %e, retry_in = ?delay, "cannot send an alert; it will be retried");
                let retry_at = now_millis() + delay.as_millis() as i64;
                // The rest wait with it: the sink is failing now.
                return self.put_back(m, messages, retry_at).await;
            }
            *failures = 0;
            self.state.done(&ids(&m)).await?;
        }
        Ok(())
    }

    /// Puts `m` and the messages after it back, due at `at`, in one call
    /// (a round cut short may leave thousands).
    async fn put_back(
        &self,
        m: Message,
        rest: impl Iterator<Item = Message>,
        at: crate::model::Millis,
    ) -> Result<(), crate::store::StoreError> {
        let mut all = ids(&m);
        for r in rest {
            all.extend(ids(&r));
        }
        self.state.later(&all, at).await
    }

    async fn deliver(&self, m: &Message) -> Result<(), SendError> {
        let out = Outgoing {
            label: m.label,
            count: m.alerts.len(),
            text: text::message(m, &self.style),
        };
        match self.sink.send(&out).await {
            Ok(()) => {
                self.engine
                    .metrics
                    .alert_sent(m.label, m.alerts.len() as u64);
                Ok(())
            }
            Err(e) => {
                self.engine.metrics.alert_failed(m.label);
                Err(e)
            }
        }
    }
}

fn ids(m: &Message) -> Vec<String> {
    m.alerts.iter().map(|(id, _)| id.clone()).collect()
}
