//! The retention sweep: every few seconds, removes what ended more than
//! `RETENTION` ago (transactions with their events, attempts, credits and
//! listing entries; unmatched credits; dedupe entries), in bounded steps so
//! Redis is never busy for long. What must stay true is the store's (see
//! `Store::prune`): nothing still held, replayable or pending goes, and a
//! forgotten message id is still refused.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::engine::Engine;
use crate::model::{Millis, now_millis};
use crate::store::{Pruned, StoreError};

/// At most this many of each kind per store step (one Lua script call).
pub const BATCH: usize = 200;
/// Steps per sweep: a backlog (the first run after an upgrade) is worked off
/// at up to 2 000 transactions per sweep rather than in one long stall.
const STEPS: usize = 10;
const EVERY: Duration = Duration::from_secs(10);

/// One sweep at `now`: steps until nothing is left or `STEPS` ran. Does
/// nothing with `RETENTION=off`.
pub async fn prune_once(engine: &Engine, now: Millis) -> Result<Pruned, StoreError> {
    let mut total = Pruned::default();
    let Some(retention) = engine.config.retention else {
        return Ok(total);
    };
    let cutoff = now.saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
    for _ in 0..STEPS {
        let step = engine.store.prune(now, cutoff, BATCH).await?;
        total.transactions += step.transactions;
        total.credits += step.credits;
        total.seen += step.seen;
        total.audit += step.audit;
        if !step.full(BATCH) {
            break;
        }
    }
    if total != Pruned::default() {
        tracing::info!(
            transactions = total.transactions,
            credits = total.credits,
            message_ids = total.seen,
            audit = total.audit,
            "removed records older than RETENTION"
        );
    }
    Ok(total)
}

/// Sweeps every `EVERY` until shutdown.
pub async fn run(engine: Arc<Engine>, mut shutdown: watch::Receiver<bool>) {
    if engine.config.retention.is_none() {
        return;
    }
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        if let Err(e) = prune_once(&engine, now_millis()).await {
            tracing::warn!(error = %e, "retention sweep failed; retrying");
        }
    }
}
