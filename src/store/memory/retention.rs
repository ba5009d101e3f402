//! Retention in the in-memory store: the same rule as `lua/prune.lua`.
//! Transactions are walked oldest first and the walk stops at the first one
//! that must stay (still pending, ended after the cutoff, its amount still
//! held, its idempotency key still live, a reversal of its credit still
//! possible (72 hours after its end or its credit's date, if later), or an
//! event queued after the cutoff still in its retries), so one step is
//! bounded by `max`.

use super::state::State;
use crate::model::{DeliveryState, Millis, TxStatus};
use crate::store::{Pruned, REVERSAL_WINDOW_MS};

impl State {
    pub(super) fn prune(
        &mut self,
        now: Millis,
        cutoff: Millis,
        max: usize,
        grace: i64,
        idempotency_ms: i64,
    ) -> Pruned {
        let mut out = Pruned::default();
        let mut gone = Vec::new();
        for id in self.order.iter().take(max) {
            let Some(tx) = self.txs.get(id) else {
                gone.push(id.clone());
                continue;
            };
            let removable = tx.status != TxStatus::Pending
                && tx
                    .ended_at
                    .is_some_and(|at| at <= cutoff && at + grace <= now)
                && tx.created_at + idempotency_ms <= now
                && !(tx.status == TxStatus::Confirmed
                    && tx.reversal.is_none()
                    && self
                        .reversible_since(tx)
                        .is_some_and(|at| at + REVERSAL_WINDOW_MS > now))
                && !self.events.values().any(|e| {
                    e.transaction_id == *id
                        && e.state == DeliveryState::Pending
                        && e.created_at > cutoff
                });
            if !removable {
                break;
            }
            gone.push(id.clone());
        }
        for id in &gone {
            self.remove_transaction(id, now);
            self.seq.remove(id);
        }
        out.transactions = gone.len();
        self.order.drain(..gone.len());

        let old: Vec<String> = self
            .credit_order
            .iter()
            .filter_map(|id| self.credits.get(id))
            .filter(|c| c.transaction_id.is_none() && c.received_at <= cutoff)
            .take(max)
            .map(|c| c.id.clone())
            .collect();
        out.credits = old.len();
        self.forget_credits(&old);

        let seen: Vec<(String, i64)> = self
            .seen
            .iter()
            .filter(|(_, at)| **at <= cutoff)
            .take(max)
            .map(|(key, _)| key.clone())
            .collect();
        for (chat, msg) in &seen {
            self.seen.remove(&(chat.clone(), *msg));
            let floor = self.seen_floor.entry(chat.clone()).or_insert(*msg);
            *floor = (*floor).max(*msg);
        }
        out.seen = seen.len();
        let old = self
            .audit
            .iter()
            .take(max)
            .take_while(|e| e.at <= cutoff)
            .count();
        self.audit.drain(..old);
        out.audit = old;
        self.idempotency.retain(|_, (_, _, until)| *until > now);
        out
    }

    fn remove_transaction(&mut self, id: &str, now: Millis) {
        let Some(tx) = self.txs.remove(id) else {
            return;
        };
        let slot = (tx.card.clone().unwrap_or_default(), tx.amount.minor());
        if let Some((holder, release)) = self.held.get(&slot)
            && holder == id
            && release.is_some_and(|r| r <= now)
        {
            self.held.remove(&slot);
        }
        if let Some(paid_by) = &tx.paid_by {
            self.unindex_paid(&slot, paid_by);
        }
        let credits: Vec<String> = tx
            .paid_by
            .iter()
            .chain(&tx.late_credits)
            .chain(&tx.reversal)
            .cloned()
            .collect();
        self.forget_credits(&credits);
        self.events.retain(|_, e| e.transaction_id != id);
        let events = &self.events;
        self.event_order.retain(|e| events.contains_key(e));
        self.claims.retain(|e, _| events.contains_key(e));
        self.series.retain(|e, _| events.contains_key(e));
    }

    fn forget_credits(&mut self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        for id in ids {
            self.credits.remove(id);
        }
        let credits = &self.credits;
        self.credit_order.retain(|c| credits.contains_key(c));
    }

    /// When the window for reversing `tx`'s credit opened: the later of its
    /// end and its paying credit's date (a credit assigned by hand to an
    /// expired order can be younger than the order's end), as `lua/prune.lua`.
    fn reversible_since(&self, tx: &crate::model::Transaction) -> Option<Millis> {
        let paid = tx
            .paid_by
            .as_ref()
            .and_then(|c| self.credits.get(c))
            .map(|c| c.date);
        tx.ended_at.map(|at| paid.map_or(at, |d| d.max(at)))
    }

    /// Removes a paid credit from the reversal index: under its own key if
    /// it was settled by hand, else under the slot (as `lua/prune.lua`).
    fn unindex_paid(&mut self, slot: &(String, i64), credit: &str) {
        let key = self
            .paid_keys
            .remove(credit)
            .unwrap_or_else(|| slot.clone());
        if let Some(paid) = self.paid.get_mut(&key) {
            paid.retain(|(_, c)| c != credit);
            if paid.is_empty() {
                self.paid.remove(&key);
            }
        }
    }
}
