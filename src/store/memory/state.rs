//! The in-memory store's state and the logic of its atomic steps. Every
//! method here runs under the store's one mutex, which gives the same
//! guarantee as a Redis Lua script: nobody sees a half-applied change.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::model::{
    Action, CancelReason, CreditKind, CreditOutcome, CreditRecord, Delivery, DeliveryState, Event,
    Millis, Transaction, TxStatus,
};
use crate::store::{
    ApplyOutcome, CreateOutcome, EARLY_TOLERANCE_MS, IncomingCredit, NewTransaction, StoreError,
};

#[derive(Default)]
pub(super) struct State {
    pub(super) txs: HashMap<String, Transaction>,
    pub(super) order: Vec<String>,
    /// (card, amount minor) -> (tx id, release time once the tx has ended).
    pub(super) held: HashMap<(String, i64), (String, Option<Millis>)>,
    pub(super) deadlines: BTreeSet<(Millis, String)>,
    pub(super) idempotency: HashMap<String, (String, String, Millis)>,
    /// (chat key, message id) -> when it was applied; see `store::chat_key`.
    pub(super) seen: HashMap<(String, i64), Millis>,
    /// chat key -> the highest message id `prune` forgot: ids up to it are seen.
    pub(super) seen_floor: HashMap<String, i64>,
    pub(super) last_message: HashMap<String, i64>,
    /// The account that owns the unscoped per-chat state.
    pub(super) chat_owner: Option<i64>,
    pub(super) credits: HashMap<String, CreditRecord>,
    pub(super) credit_order: Vec<String>,
    pub(super) events: HashMap<String, Event>,
    pub(super) event_order: Vec<String>,
    /// Events claimed and not finished yet: lease end, and whether a
    /// redeliver was asked for meanwhile (one delivery at a time).
    pub(super) leases: HashMap<String, (Millis, bool)>,
    /// Event id -> the token of its latest claim (see `Delivery::claim`).
    pub(super) claims: HashMap<String, u64>,
    /// The last claim token handed out.
    pub(super) last_claim: u64,
    /// Event id -> attempts made before its last redeliver (see
    /// `Delivery::series_from`).
    pub(super) series: HashMap<String, usize>,
    /// (card, amount minor) -> (credit date, credit id) of the credits that
    /// confirmed a transaction and were not reversed: what a reversal matches.
    pub(super) paid: HashMap<(String, i64), Vec<(Millis, String)>>,
    /// Credit id -> its key in `paid` when settled by hand (its own amount,
    /// which may differ from its transaction's slot; Redis: `paid_key`).
    pub(super) paid_keys: HashMap<String, (String, i64)>,
    /// Creation counter of each transaction (what listings page by).
    pub(super) seq: HashMap<String, u64>,
    pub(super) next_seq: u64,
    /// Manual actions, oldest first.
    pub(super) audit: Vec<crate::manual::AuditEntry>,
}

impl State {
    pub(super) fn slot_free(&self, card: &str, amount: i64, now: Millis) -> bool {
        match self.held.get(&(card.to_string(), amount)) {
            None => true,
            Some((_, Some(release))) => *release <= now,
            Some((_, None)) => false,
        }
    }

    pub(super) fn add_event(
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
            manual: None,
            tx_status: Some(tx.status),
            tx_cancel_reason: tx.cancel_reason,
        };
        self.events.insert(id.to_string(), event);
        self.event_order.push(id.to_string());
        tx.last_event = Some(id.to_string());
    }

    /// Ends a pending transaction: state, hold release, deadline, event.
    pub(super) fn end(
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

    pub(super) fn cancel(
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

    pub(super) fn record_credit(
        &mut self,
        credit: &IncomingCredit,
        kind: CreditKind,
        outcome: CreditOutcome,
        tx: Option<&str>,
        reason: Option<&str>,
    ) -> CreditRecord {
        self.see(
            crate::store::chat_key(&credit.scope, credit.chat_id),
            credit.message_id,
            credit.received_at,
        );
        let record = CreditRecord {
            id: credit.credit_id.clone(),
            kind,
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
            text: Some(credit.text.clone()),
        };
        self.credits.insert(record.id.clone(), record.clone());
        self.credit_order.push(record.id.clone());
        record
    }

    /// Whether a message was applied (or is older than what dedupe forgot).
    pub(super) fn is_seen(&self, chat_key: &str, message_id: i64) -> bool {
        self.seen_floor
            .get(chat_key)
            .is_some_and(|floor| message_id <= *floor)
            || self.seen.contains_key(&(chat_key.to_string(), message_id))
    }

    pub(super) fn see(&mut self, chat_key: String, message_id: i64, now: Millis) -> bool {
        if self.is_seen(&chat_key, message_id) {
            return false;
        }
        self.seen.insert((chat_key.clone(), message_id), now);
        let last = self.last_message.entry(chat_key).or_insert(message_id);
        *last = (*last).max(message_id);
        true
    }

    /// Reserves the first free candidate and stores a pending transaction.
    pub(super) fn create(
        &mut self,
        new: NewTransaction,
        idempotency_ms: i64,
    ) -> Result<CreateOutcome, StoreError> {
        let now = new.created_at;
        if let Some((key, fingerprint)) = &new.idempotency
            && let Some((seen_fp, tx_id, until)) = self.idempotency.get(key)
            && *until > now
        {
            if seen_fp != fingerprint {
                return Ok(CreateOutcome::IdempotencyConflict);
            }
            return match self.txs.get(tx_id) {
                Some(tx) => Ok(CreateOutcome::Replayed(tx.clone())),
                None => Err(StoreError::Corrupt(format!(
                    "idempotency key points at missing {tx_id}"
                ))),
            };
        }
        let candidates = crate::allocation::candidates(
            new.requested_amount,
            &new.cards,
            new.limit,
            new.round_step,
        )
        .unwrap_or_default();
        let Some(slot) = candidates
            .into_iter()
            .find(|c| {
                c.class
                    .iter()
                    .all(|card| self.slot_free(card, c.slot.amount.minor(), now))
            })
            .map(|c| c.slot)
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
            reversed_at: None,
            reversal: None,
            manual: None,
        };
        self.held.insert(
            (slot.card.clone(), slot.amount.minor()),
            (tx.id.clone(), None),
        );
        self.deadlines.insert((tx.expires_at, tx.id.clone()));
        self.txs.insert(tx.id.clone(), tx.clone());
        self.order.push(tx.id.clone());
        self.next_seq += 1;
        self.seq.insert(tx.id.clone(), self.next_seq);
        if let Some((key, fingerprint)) = new.idempotency {
            let until = now + idempotency_ms;
            self.idempotency
                .insert(key, (fingerprint, tx.id.clone(), until));
        }
        Ok(CreateOutcome::Created(tx))
    }

    fn unmatched(&mut self, c: &IncomingCredit, reason: &str) -> ApplyOutcome {
        ApplyOutcome::Unmatched {
            credit: self.record_credit(
                c,
                CreditKind::Credit,
                CreditOutcome::Unmatched,
                None,
                Some(reason),
            ),
        }
    }

    /// Dedupes, then confirms, records late, or records unmatched.
    pub(super) fn apply_credit(
        &mut self,
        c: IncomingCredit,
        grace: i64,
    ) -> Result<ApplyOutcome, StoreError> {
        // Marked seen only with the record of what became of the message
        // (`record_credit`), never before a step that can still fail.
        if self.is_seen(&crate::store::chat_key(&c.scope, c.chat_id), c.message_id) {
            return Ok(ApplyOutcome::Duplicate);
        }
        let now = c.received_at;
        if c.currency
            .as_deref()
            .is_some_and(|cur| cur != c.expected_currency)
        {
            return Ok(self.unmatched(&c, "currency"));
        }
        if c.cards.is_empty() {
            return Ok(self.unmatched(&c, "unknown_card"));
        }
        let holders: Vec<String> = c
            .cards
            .iter()
            .filter_map(
                |card| match self.held.get(&(card.clone(), c.amount.minor())) {
                    Some((tx, None)) => Some(tx.clone()),
                    Some((tx, Some(release))) if *release > now => Some(tx.clone()),
                    _ => None,
                },
            )
            .collect();
        let tx_id = match holders.as_slice() {
            [] => return Ok(self.unmatched(&c, "no_transaction")),
            [one] => one.clone(),
            _ => return Ok(self.unmatched(&c, "ambiguous_card")),
        };
        let Some(mut tx) = self.txs.get(&tx_id).cloned() else {
            return Err(StoreError::Corrupt(format!(
                "held amount points at missing {tx_id}"
            )));
        };
        if c.date < tx.created_at - EARLY_TOLERANCE_MS {
            return Ok(self.unmatched(&c, "before_transaction"));
        }
        if tx.status == TxStatus::Pending && c.date <= tx.expires_at {
            self.end(&mut tx, TxStatus::Confirmed, None, now, grace);
            tx.paid_by = Some(c.credit_id.clone());
            self.add_event(
                &c.event_id,
                &mut tx,
                Action::Confirm,
                Some(&c.credit_id),
                now,
            );
            let credit = self.record_credit(
                &c,
                CreditKind::Credit,
                CreditOutcome::Confirmed,
                Some(&tx_id),
                None,
            );
            let key = (tx.card.clone().unwrap_or_default(), tx.amount.minor());
            let paid = self.paid.entry(key).or_default();
            paid.push((c.date, c.credit_id.clone()));
            self.txs.insert(tx_id, tx.clone());
            return Ok(ApplyOutcome::Confirmed {
                transaction: tx,
                credit,
            });
        }
        if tx.status == TxStatus::Pending {
            // Paid after the deadline but before the sweep ran: cancel first so
            // the shop sees `cancel` then `late`, the same order as when the
            // sweep wins the race.
            self.end(
                &mut tx,
                TxStatus::Cancelled,
                Some(CancelReason::Expired),
                now,
                grace,
            );
            self.add_event(&c.cancel_event_id, &mut tx, Action::Cancel, None, now);
        }
        tx.late_credits.push(c.credit_id.clone());
        self.add_event(&c.event_id, &mut tx, Action::Late, Some(&c.credit_id), now);
        let credit = self.record_credit(
            &c,
            CreditKind::Credit,
            CreditOutcome::Late,
            Some(&tx_id),
            None,
        );
        self.txs.insert(tx_id, tx.clone());
        Ok(ApplyOutcome::Late {
            transaction: tx,
            credit,
        })
    }

    /// Takes the oldest due event (in order per transaction) under a lease.
    pub(super) fn claim_event(
        &mut self,
        now: Millis,
        lease_ms: i64,
    ) -> Result<Option<Delivery>, StoreError> {
        // Events of one transaction go out in order: an event waits while an
        // earlier event of its transaction is still pending.
        let mut waiting: HashSet<&str> = HashSet::new();
        let mut due: Option<&Event> = None;
        for e in self.event_order.iter().filter_map(|id| self.events.get(id)) {
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
        let Some(event) = self.events.get_mut(&id) else {
            return Ok(None);
        };
        event.next_attempt_at = Some(now + lease_ms);
        let event = event.clone();
        let asked = self.leases.get(&id).is_some_and(|(_, again)| *again);
        self.leases.insert(id.clone(), (now + lease_ms, asked));
        self.last_claim += 1;
        let claim = self.last_claim;
        self.claims.insert(id.clone(), claim);
        let series_from = self.series.get(&id).copied().unwrap_or(0);
        let transaction = self
            .txs
            .get(&event.transaction_id)
            .cloned()
            .ok_or_else(|| {
                StoreError::Corrupt(format!("event {id} points at a missing transaction"))
            })?;
        let credit = event
            .credit_id
            .as_ref()
            .and_then(|c| self.credits.get(c))
            .cloned();
        Ok(Some(Delivery {
            event,
            transaction,
            credit,
            claim,
            series_from,
        }))
    }
}
