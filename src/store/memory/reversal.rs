//! Reversals in the in-memory store: the same rule as `lua/reverse.lua`. A
//! reversal message takes back the one confirmed credit of its (card,
//! amount) dated within `REVERSAL_WINDOW_MS` before it; the transaction keeps
//! its state and gets `reversed_at`, `reversal` and a `reversal` event.

use super::state::State;
use crate::model::{Action, CreditKind, CreditOutcome};
use crate::store::{
    ApplyOutcome, EARLY_TOLERANCE_MS, IncomingCredit, REVERSAL_WINDOW_MS, StoreError,
};

impl State {
    pub(super) fn apply_reversal(&mut self, c: IncomingCredit) -> Result<ApplyOutcome, StoreError> {
        if self.is_seen(&crate::store::chat_key(&c.scope, c.chat_id), c.message_id) {
            return Ok(ApplyOutcome::Duplicate);
        }
        let unmatched = |st: &mut State, reason: &str| ApplyOutcome::Unmatched {
            credit: st.record_credit(
                &c,
                CreditKind::Reversal,
                CreditOutcome::Unmatched,
                None,
                Some(reason),
            ),
        };
        if c.currency
            .as_deref()
            .is_some_and(|cur| cur != c.expected_currency)
        {
            return Ok(unmatched(self, "currency"));
        }
        if c.cards.is_empty() {
            return Ok(unmatched(self, "unknown_card"));
        }
        let (from, to) = (c.date - REVERSAL_WINDOW_MS, c.date + EARLY_TOLERANCE_MS);
        let mut found: Vec<((String, i64), String)> = Vec::new();
        for card in &c.cards {
            let key = (card.clone(), c.amount.minor());
            for (date, credit) in self.paid.get(&key).into_iter().flatten() {
                if (from..=to).contains(date) {
                    found.push((key.clone(), credit.clone()));
                }
            }
        }
        let (key, paid) = match found.as_slice() {
            [] => return Ok(unmatched(self, "no_credit")),
            [one] => one.clone(),
            _ => return Ok(unmatched(self, "ambiguous_credit")),
        };
        let tx_id = self
            .credits
            .get(&paid)
            .and_then(|p| p.transaction_id.clone())
            .ok_or_else(|| StoreError::Corrupt(format!("paid credit {paid} has no transaction")))?;
        let Some(mut tx) = self.txs.get(&tx_id).cloned() else {
            return Err(StoreError::Corrupt(format!(
                "credit {paid} points at missing {tx_id}"
            )));
        };
        let credit = self.record_credit(
            &c,
            CreditKind::Reversal,
            CreditOutcome::Reversed,
            Some(&tx_id),
            None,
        );
        if let Some(list) = self.paid.get_mut(&key) {
            list.retain(|(_, id)| *id != paid);
        }
        tx.reversed_at = Some(c.date);
        tx.reversal = Some(c.credit_id.clone());
        self.add_event(
            &c.event_id,
            &mut tx,
            Action::Reversal,
            Some(&c.credit_id),
            c.received_at,
        );
        self.txs.insert(tx_id, tx.clone());
        Ok(ApplyOutcome::Reversed {
            transaction: tx,
            credit,
        })
    }
}
