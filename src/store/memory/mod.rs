//! In-memory `Store` for `paycue demo` and tests. One mutex around all state
//! makes every method atomic, which is the same guarantee the Redis Lua
//! scripts give. Nothing survives a restart, so it is never used by `run`
//! unless the seller asks for it explicitly.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{
    ApplyOutcome, AttemptResult, CancelOutcome, CreateOutcome, IncomingCredit, NewTransaction,
    Pruned, Store, StoreError, StoreSettings, chat_key,
};
use crate::model::{
    Attempt, CancelReason, CreditOutcome, CreditRecord, Delivery, DeliveryState, Event, Millis,
    Transaction, TxStatus,
};
use state::State;

mod console;
mod manual;
mod retention;
mod reversal;
mod scan;
mod state;

pub struct MemoryStore {
    settings: StoreSettings,
    state: Mutex<State>,
    /// Until when each holder holds the expiry sweep (its source is behind).
    expiry_hold: Mutex<HashMap<String, std::time::Instant>>,
    /// The console's sessions and login counters (`console`).
    console: Mutex<console::Expiring>,
}

impl MemoryStore {
    pub fn new(settings: StoreSettings) -> MemoryStore {
        MemoryStore {
            settings,
            state: Mutex::new(State::default()),
            expiry_hold: Mutex::new(HashMap::new()),
            console: Mutex::default(),
        }
    }

    fn hold(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, HashMap<String, std::time::Instant>>, StoreError> {
        self.expiry_hold
            .lock()
            .map_err(|_| StoreError::Corrupt("memory store mutex poisoned".into()))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, StoreError> {
        self.state
            .lock()
            .map_err(|_| StoreError::Corrupt("memory store mutex poisoned".into()))
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn create(&self, new: NewTransaction) -> Result<CreateOutcome, StoreError> {
        self.lock()?.create(new, self.settings.idempotency_ms)
    }

    async fn get(&self, id: &str) -> Result<Option<Transaction>, StoreError> {
        Ok(self.lock()?.txs.get(id).cloned())
    }

    async fn list(
        &self,
        status: Option<TxStatus>,
        limit: usize,
    ) -> Result<Vec<Transaction>, StoreError> {
        let st = self.lock()?;
        let txs = st.order.iter().rev().filter_map(|id| st.txs.get(id));
        Ok(txs
            .filter(|tx| status.is_none_or(|s| tx.status == s))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn cancel(
        &self,
        id: &str,
        event_id: &str,
        now: Millis,
    ) -> Result<CancelOutcome, StoreError> {
        let mut st = self.lock()?;
        let Some(existing) = st.txs.get(id).cloned() else {
            return Ok(CancelOutcome::NotFound);
        };
        match st.cancel(id, event_id, CancelReason::Api, now, self.settings.grace_ms) {
            Some(tx) => Ok(CancelOutcome::Cancelled(tx)),
            None => Ok(CancelOutcome::NotPending(existing)),
        }
    }

    async fn expire_due(
        &self,
        now: Millis,
        event_ids: &[String],
    ) -> Result<Vec<Transaction>, StoreError> {
        let mut st = self.lock()?;
        let due: Vec<String> = st
            .deadlines
            .iter()
            .take_while(|(at, _)| *at <= now)
            .take(event_ids.len())
            .map(|(_, id)| id.clone())
            .collect();
        let mut out = Vec::new();
        for (id, event_id) in due.iter().zip(event_ids) {
            if let Some(tx) = st.cancel(
                id,
                event_id,
                CancelReason::Expired,
                now,
                self.settings.grace_ms,
            ) {
                out.push(tx);
            }
        }
        Ok(out)
    }

    async fn mark_seen(
        &self,
        scope: &str,
        chat_id: i64,
        message_id: i64,
    ) -> Result<bool, StoreError> {
        Ok(self.lock()?.see(
            chat_key(scope, chat_id),
            message_id,
            crate::model::now_millis(),
        ))
    }

    async fn apply_credit(&self, c: IncomingCredit) -> Result<ApplyOutcome, StoreError> {
        self.lock()?.apply_credit(c, self.settings.grace_ms)
    }

    async fn apply_reversal(&self, c: IncomingCredit) -> Result<ApplyOutcome, StoreError> {
        self.lock()?.apply_reversal(c)
    }

    async fn last_message_id(&self, scope: &str, chat_id: i64) -> Result<Option<i64>, StoreError> {
        Ok(self
            .lock()?
            .last_message
            .get(&chat_key(scope, chat_id))
            .copied())
    }

    async fn chat_scope(&self, account: i64) -> Result<String, StoreError> {
        let mut st = self.lock()?;
        let owner = *st.chat_owner.get_or_insert(account);
        Ok(if owner == account {
            String::new()
        } else {
            format!("{account}:")
        })
    }

    async fn list_credits(
        &self,
        outcome: CreditOutcome,
        limit: usize,
    ) -> Result<Vec<CreditRecord>, StoreError> {
        let st = self.lock()?;
        let credits = st
            .credit_order
            .iter()
            .rev()
            .filter_map(|id| st.credits.get(id));
        Ok(credits
            .filter(|c| c.outcome == outcome)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn claim_event(
        &self,
        now: Millis,
        lease_ms: i64,
    ) -> Result<Option<Delivery>, StoreError> {
        self.lock()?.claim_event(now, lease_ms)
    }

    async fn finish_attempt(
        &self,
        event_id: &str,
        claim: u64,
        attempt: Attempt,
        result: AttemptResult,
    ) -> Result<bool, StoreError> {
        let mut st = self.lock()?;
        let current = st.claims.get(event_id).copied();
        let Some(event) = st.events.get_mut(event_id) else {
            return Ok(false);
        };
        event.attempts.push(attempt);
        if current != Some(claim) {
            // Claimed again since: the newer claim decides.
            return Ok(false);
        }
        (event.state, event.next_attempt_at) = match result {
            AttemptResult::Delivered => (DeliveryState::Delivered, None),
            AttemptResult::RetryAt(at) => (DeliveryState::Pending, Some(at)),
            AttemptResult::Failed => (DeliveryState::Failed, None),
        };
        // A redeliver asked for during the attempt: once more, now, after it,
        // with its retries again (even if this attempt asked for a retry).
        let again = st.leases.remove(event_id).is_some_and(|(_, again)| again);
        if let (true, Some(event)) = (again, st.events.get_mut(event_id)) {
            event.state = DeliveryState::Pending;
            event.next_attempt_at = Some(crate::model::now_millis());
            let done = event.attempts.len();
            st.series.insert(event_id.to_string(), done);
        }
        Ok(!again)
    }

    async fn redeliver(
        &self,
        transaction_id: &str,
        now: Millis,
    ) -> Result<Option<String>, StoreError> {
        let mut st = self.lock()?;
        let Some(last) = st
            .txs
            .get(transaction_id)
            .and_then(|tx| tx.last_event.clone())
        else {
            return Ok(None);
        };
        // One delivery at a time: during an attempt, remember the request
        // (finish_attempt queues it after the attempt; repeats coalesce).
        if let Some((until, again)) = st.leases.get_mut(&last)
            && *until > now
        {
            *again = true;
            return Ok(Some(last));
        }
        if let Some(event) = st.events.get_mut(&last) {
            event.state = DeliveryState::Pending;
            event.next_attempt_at = Some(now);
            let done = event.attempts.len();
            st.series.insert(last.clone(), done);
        }
        Ok(Some(last))
    }

    async fn scan(
        &self,
        status: Option<TxStatus>,
        before: Option<crate::listing::Cursor>,
        count: usize,
    ) -> Result<crate::listing::Scanned, StoreError> {
        Ok(self.lock()?.scan(status, before, count))
    }

    async fn events(&self, transaction_id: &str) -> Result<Vec<Event>, StoreError> {
        let st = self.lock()?;
        let events = st.event_order.iter().filter_map(|id| st.events.get(id));
        Ok(events
            .filter(|e| e.transaction_id == transaction_id)
            .cloned()
            .collect())
    }

    async fn held_counts(&self, cards: &[String]) -> Result<Vec<(String, u64)>, StoreError> {
        let st = self.lock()?;
        let now = crate::model::now_millis();
        let mut counts: HashMap<String, u64> = HashMap::new();
        for ((card, _), (_, release)) in &st.held {
            if cards.contains(card) && release.is_none_or(|r| r > now) {
                *counts.entry(card.clone()).or_default() += 1;
            }
        }
        let mut out: Vec<_> = counts.into_iter().collect();
        out.sort();
        Ok(out)
    }

    async fn prune(&self, now: Millis, cutoff: Millis, max: usize) -> Result<Pruned, StoreError> {
        let s = &self.settings;
        Ok(self
            .lock()?
            .prune(now, cutoff, max, s.grace_ms, s.idempotency_ms))
    }

    async fn settle_by_hand(
        &self,
        entry: &crate::manual::AuditEntry,
        paid_cards: &[String],
    ) -> Result<crate::manual::ManualOutcome, StoreError> {
        Ok(self
            .lock()?
            .settle_by_hand(entry, paid_cards, self.settings.grace_ms))
    }

    async fn credit(&self, id: &str) -> Result<Option<CreditRecord>, StoreError> {
        Ok(self.lock()?.credits.get(id).cloned())
    }

    async fn audit(&self, limit: usize) -> Result<Vec<crate::manual::AuditEntry>, StoreError> {
        Ok(self
            .lock()?
            .audit
            .iter()
            .rev()
            .take(limit)
            .cloned()
            .collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn hold_expiry(&self, holder: &str, ttl_ms: i64) -> Result<(), StoreError> {
        let until = std::time::Instant::now()
            + std::time::Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(1));
        self.hold()?.insert(holder.to_string(), until);
        Ok(())
    }

    async fn release_expiry(&self, holder: &str) -> Result<(), StoreError> {
        self.hold()?.remove(holder);
        Ok(())
    }

    async fn expiry_held(&self) -> Result<bool, StoreError> {
        let now = std::time::Instant::now();
        let mut holds = self.hold()?;
        holds.retain(|_, until| *until > now);
        Ok(!holds.is_empty())
    }
}
