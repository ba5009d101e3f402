//! In-memory `Store` for `paycue demo` and tests. One mutex around all state
//! makes every method atomic, which is the same guarantee the Redis Lua
//! scripts give. Nothing survives a restart, so it is never used by `run`
//! unless the seller asks for it explicitly.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{
    ApplyOutcome, AttemptResult, CancelOutcome, CreateOutcome, EARLY_TOLERANCE_MS, IncomingCredit,
    NewTransaction, Store, StoreError, StoreSettings,
};
use crate::model::{
    Action, Attempt, CancelReason, CreditOutcome, CreditRecord, Delivery, DeliveryState, Event,
    Millis, Transaction, TxStatus,
};

#[derive(Default)]
struct State {
    txs: HashMap<String, Transaction>,
    order: Vec<String>,
    /// (card, amount minor) -> (tx id, release time once the tx has ended).
    held: HashMap<(String, i64), (String, Option<Millis>)>,
    deadlines: BTreeSet<(Millis, String)>,
    idempotency: HashMap<String, (String, String, Millis)>,
    seen: HashSet<(i64, i64)>,
    last_message: HashMap<i64, i64>,
    credits: HashMap<String, CreditRecord>,
    credit_order: Vec<String>,
    events: HashMap<String, Event>,
    event_order: Vec<String>,
}

pub struct MemoryStore {
    settings: StoreSettings,
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new(settings: StoreSettings) -> MemoryStore {
        MemoryStore {
            settings,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, StoreError> {
        self.state
            .lock()
            .map_err(|_| StoreError::Corrupt("memory store mutex poisoned".into()))
    }
}

impl State {
    fn slot_free(&self, card: &str, amount: i64, now: Millis) -> bool {
        match self.held.get(&(card.to_string(), amount)) {
            None => true,
            Some((_, Some(release))) => *release <= now,
            Some((_, None)) => false,
        }
    }

    fn add_event(
        &mut self,
        id: &str,
        tx: &mut Transaction,
        action: Action,
        credit: Option<&str>,
        now: Millis,
    ) {
        let event = Event {
            id: id.to_string(),
            transaction_id: tx.id.clone(),
            action,
            credit_id: credit.map(str::to_string),
            created_at: now,
            state: DeliveryState::Pending,
            attempts: Vec::new(),
            next_attempt_at: Some(now),
        };
        self.events.insert(id.to_string(), event);
        self.event_order.push(id.to_string());
        tx.last_event = Some(id.to_string());
    }

    /// Ends a pending transaction: state, hold release, deadline, event.
    fn end(
        &mut self,
        tx: &mut Transaction,
        status: TxStatus,
        reason: Option<CancelReason>,
        now: Millis,
        grace: i64,
    ) {
        tx.status = status;
        tx.ended_at = Some(now);
        tx.cancel_reason = reason;
        self.deadlines.remove(&(tx.expires_at, tx.id.clone()));
        let key = (tx.card.clone().unwrap_or_default(), tx.amount.minor());
        self.held.insert(key, (tx.id.clone(), Some(now + grace)));
    }

    fn cancel(
        &mut self,
        id: &str,
        event_id: &str,
        reason: CancelReason,
        now: Millis,
        grace: i64,
    ) -> Option<Transaction> {
        let mut tx = self.txs.get(id)?.clone();
        if tx.status != TxStatus::Pending {
            return None;
        }
        self.end(&mut tx, TxStatus::Cancelled, Some(reason), now, grace);
        self.add_event(event_id, &mut tx, Action::Cancel, None, now);
        self.txs.insert(tx.id.clone(), tx.clone());
        Some(tx)
    }

    fn record_credit(
        &mut self,
        credit: &IncomingCredit,
        outcome: CreditOutcome,
        tx: Option<&str>,
        reason: Option<&str>,
    ) -> CreditRecord {
        let record = CreditRecord {
            id: credit.credit_id.clone(),
            outcome,
            transaction_id: tx.map(str::to_string),
            reason: reason.map(str::to_string),
            bank: credit.bank.clone(),
            amount: credit.amount,
            currency: credit.currency.clone(),
            card_last4: credit.card_last4.clone(),
            sender_id: credit.sender_id,
            chat_id: credit.chat_id,
            message_id: credit.message_id,
            date: credit.date,
            received_at: credit.received_at,
        };
        self.credits.insert(record.id.clone(), record.clone());
        self.credit_order.push(record.id.clone());
        record
    }

    fn see(&mut self, chat_id: i64, message_id: i64) -> bool {
        if !self.seen.insert((chat_id, message_id)) {
            return false;
        }
        let last = self.last_message.entry(chat_id).or_insert(message_id);
        *last = (*last).max(message_id);
        true
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn create(&self, new: NewTransaction) -> Result<CreateOutcome, StoreError> {
        let mut st = self.lock()?;
        let now = new.created_at;
        if let Some((key, fingerprint)) = &new.idempotency
            && let Some((seen_fp, tx_id, until)) = st.idempotency.get(key)
            && *until > now
        {
            if seen_fp != fingerprint {
                return Ok(CreateOutcome::IdempotencyConflict);
            }
            return match st.txs.get(tx_id) {
                Some(tx) => Ok(CreateOutcome::Replayed(tx.clone())),
                None => Err(StoreError::Corrupt(format!(
                    "idempotency key points at missing {tx_id}"
                ))),
            };
        }
        let Some(slot) = new
            .candidates
            .iter()
            .find(|s| st.slot_free(&s.card, s.amount.minor(), now))
        else {
            return Ok(CreateOutcome::NoFreeAmount);
        };
        let tx = Transaction {
            id: new.id.clone(),
            status: TxStatus::Pending,
            amount: slot.amount,
            requested_amount: new.requested_amount,
            card: (!slot.card.is_empty()).then(|| slot.card.clone()),
            currency: new.currency.clone(),
            created_at: now,
            expires_at: new.expires_at,
            ended_at: None,
            cancel_reason: None,
            metadata: new.metadata.clone(),
            paid_by: None,
            late_credits: Vec::new(),
            last_event: None,
        };
        st.held.insert(
            (slot.card.clone(), slot.amount.minor()),
            (tx.id.clone(), None),
        );
        st.deadlines.insert((tx.expires_at, tx.id.clone()));
        st.txs.insert(tx.id.clone(), tx.clone());
        st.order.push(tx.id.clone());
        if let Some((key, fingerprint)) = new.idempotency {
            let until = now + self.settings.idempotency_ms;
            st.idempotency
                .insert(key, (fingerprint, tx.id.clone(), until));
        }
        Ok(CreateOutcome::Created(tx))
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

    async fn mark_seen(&self, chat_id: i64, message_id: i64) -> Result<bool, StoreError> {
        Ok(self.lock()?.see(chat_id, message_id))
    }

    async fn apply_credit(&self, c: IncomingCredit) -> Result<ApplyOutcome, StoreError> {
        let mut st = self.lock()?;
        if !st.see(c.chat_id, c.message_id) {
            return Ok(ApplyOutcome::Duplicate);
        }
        let now = c.received_at;
        let unmatched = |st: &mut State, reason: &str| ApplyOutcome::Unmatched {
            credit: st.record_credit(&c, CreditOutcome::Unmatched, None, Some(reason)),
        };
        if c.currency
            .as_deref()
            .is_some_and(|cur| cur != c.expected_currency)
        {
            return Ok(unmatched(&mut st, "currency"));
        }
        if c.cards.is_empty() {
            return Ok(unmatched(&mut st, "unknown_card"));
        }
        let holders: Vec<String> = c
            .cards
            .iter()
            .filter_map(
                |card| match st.held.get(&(card.clone(), c.amount.minor())) {
                    Some((tx, None)) => Some(tx.clone()),
                    Some((tx, Some(release))) if *release > now => Some(tx.clone()),
                    _ => None,
                },
            )
            .collect();
        let tx_id = match holders.as_slice() {
            [] => return Ok(unmatched(&mut st, "no_transaction")),
            [one] => one.clone(),
            _ => return Ok(unmatched(&mut st, "ambiguous_card")),
        };
        let Some(mut tx) = st.txs.get(&tx_id).cloned() else {
            return Err(StoreError::Corrupt(format!(
                "held amount points at missing {tx_id}"
            )));
        };
        if c.date < tx.created_at - EARLY_TOLERANCE_MS {
            return Ok(unmatched(&mut st, "before_transaction"));
        }
        if tx.status == TxStatus::Pending && c.date <= tx.expires_at {
            st.end(
                &mut tx,
                TxStatus::Confirmed,
                None,
                now,
                self.settings.grace_ms,
            );
            tx.paid_by = Some(c.credit_id.clone());
            st.add_event(
                &c.event_id,
                &mut tx,
                Action::Confirm,
                Some(&c.credit_id),
                now,
            );
            let credit = st.record_credit(&c, CreditOutcome::Confirmed, Some(&tx_id), None);
            st.txs.insert(tx_id, tx.clone());
            return Ok(ApplyOutcome::Confirmed {
                transaction: tx,
                credit,
            });
        }
        if tx.status == TxStatus::Pending {
            // Paid after the deadline but before the sweep ran: cancel first so
            // the shop sees `cancel` then `late`, the same order as when the
            // sweep wins the race.
            st.end(
                &mut tx,
                TxStatus::Cancelled,
                Some(CancelReason::Expired),
                now,
                self.settings.grace_ms,
            );
            st.add_event(&c.cancel_event_id, &mut tx, Action::Cancel, None, now);
        }
        tx.late_credits.push(c.credit_id.clone());
        st.add_event(&c.event_id, &mut tx, Action::Late, Some(&c.credit_id), now);
        let credit = st.record_credit(&c, CreditOutcome::Late, Some(&tx_id), None);
        st.txs.insert(tx_id, tx.clone());
        Ok(ApplyOutcome::Late {
            transaction: tx,
            credit,
        })
    }

    async fn last_message_id(&self, chat_id: i64) -> Result<Option<i64>, StoreError> {
        Ok(self.lock()?.last_message.get(&chat_id).copied())
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
        let mut st = self.lock()?;
        // Events of one transaction go out in order: an event waits while an
        // earlier event of its transaction is still pending.
        let mut waiting: HashSet<&str> = HashSet::new();
        let mut due: Option<&Event> = None;
        for e in st.event_order.iter().filter_map(|id| st.events.get(id)) {
            if e.state != DeliveryState::Pending {
                continue;
            }
            let first = waiting.insert(e.transaction_id.as_str());
            let ready = e.next_attempt_at.is_some_and(|t| t <= now);
            if first && ready && due.is_none_or(|d| e.next_attempt_at < d.next_attempt_at) {
                due = Some(e);
            }
        }
        let due = due.map(|e| e.id.clone());
        let Some(id) = due else { return Ok(None) };
        let Some(event) = st.events.get_mut(&id) else {
            return Ok(None);
        };
        event.next_attempt_at = Some(now + lease_ms);
        let event = event.clone();
        let transaction = st.txs.get(&event.transaction_id).cloned().ok_or_else(|| {
            StoreError::Corrupt(format!("event {id} points at a missing transaction"))
        })?;
        let credit = event
            .credit_id
            .as_ref()
            .and_then(|c| st.credits.get(c))
            .cloned();
        Ok(Some(Delivery {
            event,
            transaction,
            credit,
        }))
    }

    async fn finish_attempt(
        &self,
        event_id: &str,
        attempt: Attempt,
        result: AttemptResult,
    ) -> Result<(), StoreError> {
        let mut st = self.lock()?;
        let Some(event) = st.events.get_mut(event_id) else {
            return Ok(());
        };
        event.attempts.push(attempt);
        (event.state, event.next_attempt_at) = match result {
            AttemptResult::Delivered => (DeliveryState::Delivered, None),
            AttemptResult::RetryAt(at) => (DeliveryState::Pending, Some(at)),
            AttemptResult::Failed => (DeliveryState::Failed, None),
        };
        Ok(())
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
        if let Some(event) = st.events.get_mut(&last) {
            event.state = DeliveryState::Pending;
            event.next_attempt_at = Some(now);
        }
        Ok(Some(last))
    }

    async fn events(&self, transaction_id: &str) -> Result<Vec<Event>, StoreError> {
        let st = self.lock()?;
        let events = st.event_order.iter().filter_map(|id| st.events.get(id));
        Ok(events
            .filter(|e| e.transaction_id == transaction_id)
            .cloned()
            .collect())
    }

    async fn held_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let st = self.lock()?;
        let now = crate::model::now_millis();
        let mut counts: HashMap<String, u64> = HashMap::new();
        for ((card, _), (_, release)) in &st.held {
            if release.is_none_or(|r| r > now) {
                *counts.entry(card.clone()).or_default() += 1;
            }
        }
        let mut out: Vec<_> = counts.into_iter().collect();
        out.sort();
        Ok(out)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
