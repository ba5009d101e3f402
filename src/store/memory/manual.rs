//! Settling by hand in the in-memory store: the same rule as
//! `lua/manual.lua`, under the store's one mutex (so as atomic). Every
//! check that can refuse runs before anything changes.

use super::state::State;
use crate::manual::{AuditEntry, ManualOutcome};
use crate::model::{Action, CancelReason, CreditKind, CreditOutcome, ManualMark, TxStatus};

impl State {
    pub(super) fn settle_by_hand(
        &mut self,
        entry: &AuditEntry,
        paid_cards: &[String],
        grace: i64,
    ) -> ManualOutcome {
        let Some(mut tx) = self.txs.get(&entry.transaction_id).cloned() else {
            return ManualOutcome::NoTransaction;
        };
        match (tx.status, tx.cancel_reason) {
            (TxStatus::Confirmed, _) => return ManualOutcome::AlreadyConfirmed(tx),
            (TxStatus::Cancelled, reason) if reason != Some(CancelReason::Expired) => {
                return ManualOutcome::CancelledByShop(tx);
            }
            _ => {}
        }
        let credit = match &entry.credit_id {
            None => None,
            Some(id) => {
                let Some(credit) = self.credits.get(id).cloned() else {
                    return ManualOutcome::NoCredit;
                };
                if credit.kind == CreditKind::Reversal {
                    return ManualOutcome::NotACredit;
                }
                if !matches!(
                    credit.outcome,
                    CreditOutcome::Late | CreditOutcome::Unmatched
                ) {
                    return ManualOutcome::CreditTaken(credit);
                }
                if let Some(cur) = credit.currency.as_ref().filter(|c| **c != tx.currency) {
                    return ManualOutcome::Currency {
                        credit: cur.clone(),
                        transaction: tx.currency.clone(),
                    };
                }
                Some(credit)
            }
        };
        let now = entry.at;
        let mark = ManualMark {
            by: entry.by.clone(),
            at: now,
        };
        if tx.status == TxStatus::Pending {
            self.end(&mut tx, TxStatus::Confirmed, None, now, grace);
        } else {
            // Expired: the amount keeps the release its expiry gave it.
            tx.status = TxStatus::Confirmed;
            tx.cancel_reason = None;
        }
        tx.manual = Some(mark.clone());
        let credit = credit.map(|mut c| {
            if c.outcome == CreditOutcome::Late
                && let Some(other) = c.transaction_id.as_ref().and_then(|t| self.txs.get_mut(t))
            {
                other.late_credits.retain(|l| *l != c.id);
                if other.id == tx.id {
                    tx.late_credits.retain(|l| *l != c.id);
                }
            }
            c.outcome = CreditOutcome::Confirmed;
            c.transaction_id = Some(tx.id.clone());
            tx.paid_by = Some(c.id.clone());
            // Indexed for reversals as `lua/manual.lua` does: the held card
            // if the message may be for it, else the first it may be for.
            let held = tx.card.clone().unwrap_or_default();
            let card = paid_cards
                .iter()
                .find(|card| **card == held)
                .or(paid_cards.first());
            if let Some(card) = card {
                let key = (card.clone(), c.amount.minor());
                self.paid
                    .entry(key.clone())
                    .or_default()
                    .push((c.date, c.id.clone()));
                self.paid_keys.insert(c.id.clone(), key);
            }
            self.credits.insert(c.id.clone(), c.clone());
            c
        });
        self.add_event(
            &entry.event_id,
            &mut tx,
            Action::Confirm,
            entry.credit_id.as_deref(),
            now,
        );
        if let Some(event) = self.events.get_mut(&entry.event_id) {
            event.manual = Some(mark);
        }
        self.txs.insert(tx.id.clone(), tx.clone());
        self.audit.push(entry.clone());
        ManualOutcome::Settled {
            transaction: tx,
            credit,
        }
    }
}
