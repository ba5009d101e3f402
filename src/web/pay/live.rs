//! Live status by long-poll: `GET /pay/{id}/status?wait=25&since=pending`
//! answers as soon as the page state differs from `since`, or after `wait`
//! seconds (at most [`MAX_WAIT`]), whichever is first.
//!
//! How a change is seen within 2 s, whoever made it: a change made by this
//! process wakes the waiter at once (the engine's outbox signal fires on
//! every confirm, cancel and expiry); a change made by another paycue
//! process on the same Redis is seen by re-reading the transaction every
//! [`RECHECK`]. What must stay true: a wait is bounded in time, the number of
//! waiters is bounded (past it the answer comes at once with `retry_ms`, the
//! polling fallback), and shutdown ends every wait at once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::view::PageState;
use crate::engine::Engine;
use crate::model::{Transaction, now_millis};
use crate::store::StoreError;

/// The longest a status request is held open.
pub const MAX_WAIT: Duration = Duration::from_secs(25);
/// How often a waiting request re-reads the store.
pub const RECHECK: Duration = Duration::from_millis(1000);
/// Waiting requests held at once; past this, answers are immediate.
pub const MAX_WAITERS: usize = 512;
/// What a client is told to wait before asking again when not held.
pub const POLL_FALLBACK_MS: u64 = 2000;

pub struct Waiters {
    slots: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
}

impl Waiters {
    pub fn new(stop: watch::Receiver<bool>) -> Waiters {
        Waiters {
            slots: Arc::new(Semaphore::new(MAX_WAITERS)),
            stop,
        }
    }

    /// A waiting slot, or None when all are taken (or paycue is stopping).
    pub fn slot(&self) -> Option<OwnedSemaphorePermit> {
        if *self.stop.borrow() {
            return None;
        }
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Reads the transaction until its page state is not `since`, `wait`
    /// has passed, or paycue stops. None: no such transaction.
    pub async fn wait(
        &self,
        engine: &Engine,
        id: &str,
        since: Option<PageState>,
        wait: Duration,
    ) -> Result<Option<Transaction>, StoreError> {
        let until = tokio::time::Instant::now() + wait.min(MAX_WAIT);
        let mut stop = self.stop.clone();
        loop {
            // Registered before the read, so a change made between the read
            // and the sleep still wakes us.
            let woken = engine.outbox.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let Some(tx) = engine.store.get(id).await? else {
                return Ok(None);
            };
            let now = now_millis();
            let state = PageState::of(&tx, now);
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if since != Some(state) || left.is_zero() || *stop.borrow() {
                return Ok(Some(tx));
            }
            // Also wake when the deadline passes, so the page turns to
            // "expired" on the server's clock.
            let to_deadline = Duration::from_millis((tx.expires_at - now).max(0) as u64 + 5);
            let nap = left.min(RECHECK).min(if state == PageState::Pending {
                to_deadline
            } else {
                RECHECK
            });
            tokio::select! {
                _ = &mut woken => {}
                _ = tokio::time::sleep(nap) => {}
                _ = stop.changed() => {}
            }
        }
    }
}
