//! The expiry sweep: cancels pending transactions past their deadline,
//! about every second, but never while a message source is behind, in this
//! process or in another one sharing the store (the hold is kept in the
//! store, so it also covers a second paycue process whose own source is live).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::engine::{Engine, new_event_id};
use crate::model::{Millis, Transaction, now_millis};
use crate::store::StoreError;

impl Engine {
    /// One sweep: cancels every pending transaction past its deadline.
    pub async fn expire_once(&self, now: Millis) -> Result<Vec<Transaction>, StoreError> {
        let mut all = Vec::new();
        loop {
            let ids: Vec<String> = (0..100).map(|_| new_event_id()).collect();
            let batch = self.store.expire_due(now, &ids).await?;
            let done = batch.len() < ids.len();
            for tx in &batch {
                self.metrics.cancelled("expired");
                tracing::info!(transaction_id = %tx.id, "transaction expired");
            }
            all.extend(batch);
            if done {
                break;
            }
        }
        if !all.is_empty() {
            self.outbox.notify_waiters();
        }
        Ok(all)
    }

    /// Sweeps about every second until shutdown, but never while a message
    /// source is behind, here or in another process sharing the store: a
    /// payment made while paycue was down or reconnecting must confirm its
    /// order, not lose a race with the sweep. While behind, this process holds
    /// the sweep in the store too (refreshed every tick, lapsing after
    /// [`EXPIRY_HOLD_TTL`] if this process dies).
    pub async fn run_expiry(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut gate = self.gate();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut holding = false;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                Ok(()) = gate.changed() => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            if let Err(e) = self.sweep_step(&mut holding).await {
                tracing::warn!(error = %e, "expiry sweep failed; retrying");
            }
        }
    }

    async fn sweep_step(&self, holding: &mut bool) -> Result<(), StoreError> {
        if !self.is_caught_up() {
            self.store
                .hold_expiry(EXPIRY_HOLD_TTL.as_millis() as i64)
                .await?;
            *holding = true;
            return Ok(());
        }
        if *holding {
            self.store.release_expiry().await?;
            *holding = false;
        }
        if self.store.expiry_held().await? {
            // Another process's source is behind.
            return Ok(());
        }
        self.expire_once(now_millis()).await.map(|_| ())
    }
}

/// How long the store keeps a process's hold on the expiry sweep after its
/// last refresh: longer than a restart by systemd, short enough that a
/// process gone for good does not stop expiry for long.
pub const EXPIRY_HOLD_TTL: Duration = Duration::from_secs(60);
