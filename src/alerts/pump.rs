//! The pump: turns facts from the [`Hub`] and the passing of time into
//! queued alerts, through the rules of `decide`, against the alert state.
//! On start (and after the state was unreachable) it also reads the newest
//! unmatched, late and reversed credits from the store, so one applied while the pump
//! could not queue it (a crash between the two, a full hub) is still alerted;
//! its claim makes it once either way.
//!
//! What must stay true: the pump never holds up matching (it only reads the
//! hub), and a fact it could not write is retried, not dropped, while the
//! state is unreachable (new facts then wait in the hub, bounded).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::decide;
use super::state::AlertState;
use super::{Alert, Fact, Hub, Queued, Summary};
use crate::config::AlertKind;
use crate::engine::Engine;
use crate::model::{CreditOutcome, Millis, now_millis};
use crate::store::{ApplyOutcome, StoreError};

/// How often time-driven alerts (webhook down, silence, daily) are looked at.
pub const TICK: Duration = Duration::from_secs(5);
/// The start-up scan reads this many of the newest credits of each kind...
pub const SCAN_MAX: usize = 200;
/// ...received at most this long ago (within the claims' lifetime).
pub const SCAN_BACK_MS: i64 = 24 * 3600 * 1000;

pub struct Pump {
    pub engine: Arc<Engine>,
    pub state: Arc<dyn AlertState>,
    pub hub: Arc<Hub>,
}

impl Pump {
    /// Runs until shutdown.
    pub async fn run(self, mut facts: mpsc::Receiver<Fact>, mut shutdown: watch::Receiver<bool>) {
        let mut delay = Duration::from_millis(200);
        let started = loop {
            match self.state.started(now_millis()).await {
                Ok(s) => break s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the alert state; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.wait_for(|s| *s) => return,
                    }
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        };
        // At start, the scan looks only at credits applied before this pump
        // could hear of them (later ones come through the hub, with the
        // bank's text); after trouble, at everything up to then.
        let mut rescan = true;
        let mut scan_until = now_millis();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if rescan {
                rescan = self.scan(started, scan_until).await.is_err();
            }
            enum Next {
                Fact(Option<Fact>),
                Tick,
                Stop,
            }
            let next = tokio::select! {
                fact = facts.recv() => Next::Fact(fact),
                _ = tick.tick() => Next::Tick,
                _ = shutdown.wait_for(|s| *s) => Next::Stop,
            };
            match next {
                Next::Stop | Next::Fact(None) => return,
                Next::Fact(Some(first)) => {
                    let mut batch = vec![first];
                    while batch.len() < 1000 {
                        match facts.try_recv() {
                            Ok(f) => batch.push(f),
                            Err(_) => break,
                        }
                    }
                    match self.apply_batch(batch, &mut shutdown).await {
                        None => return,
                        // Facts may have been dropped meanwhile (a full hub).
                        Some(true) => {
                            rescan = true;
                            scan_until = now_millis();
                        }
                        Some(false) => {}
                    }
                }
                Next::Tick => {
                    if let Err(e) = self.tick(started, now_millis()).await {
                        tracing::warn!(error = %e, "cannot check the alerts; retrying");
                        rescan = true;
                        scan_until = now_millis();
                    }
                }
            }
        }
    }

    /// Applies a batch, retrying while the state is unreachable: whether it
    /// had to retry, or None on shutdown.
    async fn apply_batch(
        &self,
        batch: Vec<Fact>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Option<bool> {
        let mut delay = Duration::from_millis(200);
        let mut rest = batch;
        let mut retried = false;
        loop {
            match self.apply(&mut rest).await {
                Ok(()) => return Some(retried),
                Err(e) => {
                    tracing::warn!(error = %e, facts = rest.len(), "cannot record alert facts; retrying");
                    retried = true;
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.wait_for(|s| *s) => return None,
                    }
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// Applies facts front to back; on error `facts` keeps what is left.
    async fn apply(&self, facts: &mut Vec<Fact>) -> Result<(), StoreError> {
        // Only the latest message time of a batch matters.
        let latest = facts
            .iter()
            .filter_map(|f| match f {
                Fact::Message { at } => Some(*at),
                _ => None,
            })
            .max();
        if let Some(at) = latest {
            self.message_seen(at).await?;
            facts.retain(|f| !matches!(f, Fact::Message { .. }));
        }
        while let Some(fact) = facts.first() {
            self.apply_one(fact).await?;
            facts.remove(0);
        }
        Ok(())
    }

    async fn apply_one(&self, fact: &Fact) -> Result<(), StoreError> {
        let settings = &self.engine.config.alerts;
        let now = now_millis();
        match fact {
            Fact::Applied { outcome, text, at } => {
                self.count(outcome, *at).await?;
                if let Some(q) = decide::applied(outcome, Some(text), settings, now) {
                    self.enqueue(q).await?;
                }
            }
            Fact::Message { at } => self.message_seen(*at).await?,
            Fact::WebhookFailed { at } => {
                if settings.wants(AlertKind::Daily) {
                    self.state.count(*at, &[("webhook_failures", 1)]).await?;
                }
                let since = self.state.webhook_failed(*at).await?;
                if let Some(q) = decide::webhook_down(Some(since), settings, now) {
                    self.enqueue(q).await?;
                }
            }
            Fact::WebhookDelivered { .. } => {
                if let Some(since) = self.state.webhook_ok().await? {
                    let told = self.state.claimed(&decide::webhook_down_key(since)).await?;
                    if let Some(q) = decide::webhook_up(since, told, now) {
                        self.enqueue(q).await?;
                    }
                }
            }
            Fact::WebhookGaveUp {
                event_id,
                series,
                transaction_id,
                action,
                metadata,
                ..
            } => {
                let q = decide::gave_up(
                    event_id,
                    *series,
                    transaction_id,
                    action,
                    metadata.as_ref(),
                    settings,
                    now,
                );
                if let Some(q) = q {
                    self.enqueue(q).await?;
                }
            }
        }
        Ok(())
    }

    async fn message_seen(&self, at: Millis) -> Result<(), StoreError> {
        let before = match self.state.message_seen(at).await? {
            Some(before) => before,
            // The first message ever: a silence before it was counted from
            // when alerts started (`tick`), so "messages again" is too.
            None => self.state.started(at).await?,
        };
        if let Some(before) = Some(before).filter(|b| *b < at) {
            let told = self
                .state
                .claimed(&decide::silence_alert_key(before))
                .await?;
            if let Some(q) = decide::silence_over(before, told, at, now_millis()) {
                self.enqueue(q).await?;
            }
        }
        Ok(())
    }

    /// The daily summary's counters (only when it is asked for).
    async fn count(&self, outcome: &ApplyOutcome, at: Millis) -> Result<(), StoreError> {
        if !self.engine.config.alerts.wants(AlertKind::Daily) {
            return Ok(());
        }
        let counts: &[(&str, i64)] = match outcome {
            ApplyOutcome::Confirmed { credit, .. } => {
                &[("paid", 1), ("paid_sum", credit.amount.minor())]
            }
            ApplyOutcome::Late { .. } => &[("late", 1)],
            ApplyOutcome::Unmatched { credit }
                if credit.kind == crate::model::CreditKind::Credit =>
            {
                &[("unmatched", 1)]
            }
            _ => return Ok(()),
        };
        self.state.count(at, counts).await
    }

    /// Queues an alert; true if it was new.
    pub async fn enqueue(&self, q: Queued) -> Result<bool, StoreError> {
        let label = q.alert.label();
        let fresh = self.state.enqueue(&q).await?;
        if fresh {
            self.engine.metrics.alert_queued(label);
            tracing::debug!(alert = label, key = %q.key, "alert queued");
            self.hub.queued.notify_one();
        }
        Ok(fresh)
    }

    /// Time-driven alerts at `now`.
    pub async fn tick(&self, started: Millis, now: Millis) -> Result<(), StoreError> {
        let settings = &self.engine.config.alerts;
        let since = self.state.webhook_failing().await?;
        if let Some(q) = decide::webhook_down(since, settings, now) {
            self.enqueue(q).await?;
        }
        if settings.silence.is_some() {
            let last = self.state.last_message().await?.unwrap_or(started);
            let caught_up = self.engine.is_caught_up();
            if let Some(q) = decide::silence(Some(last), caught_up, settings, now) {
                self.enqueue(q).await?;
            }
        }
        if let Some(until) = decide::daily_due(settings, started, now) {
            let key = decide::daily_key(settings, until);
            if !self.state.claimed(&key).await? {
                let summary = self.summary(until).await?;
                let q = Queued {
                    key,
                    alert: Alert::Daily { until, summary },
                    queued_at: now,
                };
                self.enqueue(q).await?;
            }
        }
        Ok(())
    }

    async fn summary(&self, until: Millis) -> Result<Summary, StoreError> {
        let c = self.state.counts(until - 24 * 3600 * 1000, until).await?;
        let get = |k: &str| c.get(k).copied().unwrap_or(0);
        Ok(Summary {
            paid: get("paid").max(0) as u64,
            paid_sum: crate::money::Money::from_minor(get("paid_sum")),
            unmatched: get("unmatched").max(0) as u64,
            late: get("late").max(0) as u64,
            webhook_failures: get("webhook_failures").max(0) as u64,
            currency: self.engine.config.currency.clone(),
        })
    }

    /// Queues alerts for the newest unmatched, late and reversed credits received since
    /// alerts started (and within a day) and before `until`, which a crash
    /// or a full hub may have kept from the pump. Their claims make this
    /// harmless when they were queued already.
    pub async fn scan(&self, started: Millis, until: Millis) -> Result<(), StoreError> {
        let settings = &self.engine.config.alerts;
        let now = now_millis();
        let from = started.max(now - SCAN_BACK_MS);
        let outcomes = [
            CreditOutcome::Unmatched,
            CreditOutcome::Late,
            CreditOutcome::Reversed,
        ];
        for outcome in outcomes {
            let credits = self.engine.store.list_credits(outcome, SCAN_MAX).await?;
            let wanted =
                |c: &crate::model::CreditRecord| c.received_at >= from && c.received_at < until;
            for credit in credits.into_iter().filter(wanted) {
                let applied = match outcome {
                    CreditOutcome::Late | CreditOutcome::Reversed => {
                        let Some(tx_id) = credit.transaction_id.as_deref() else {
                            continue;
                        };
                        let Some(transaction) = self.engine.store.get(tx_id).await? else {
                            continue;
                        };
                        if outcome == CreditOutcome::Late {
                            ApplyOutcome::Late {
                                transaction,
                                credit,
                            }
                        } else {
                            ApplyOutcome::Reversed {
                                transaction,
                                credit,
                            }
                        }
                    }
                    _ => ApplyOutcome::Unmatched { credit },
                };
                if let Some(q) = decide::applied(&applied, None, settings, now) {
                    self.enqueue(q).await?;
                }
            }
        }
        Ok(())
    }
}
