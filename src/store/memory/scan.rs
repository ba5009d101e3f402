//! Paging through transactions newest first in the in-memory store: the
//! same contract as `redis/scan.rs` (by the creation counter, below the
//! cursor, `more` when the listing goes on).

use super::state::State;
use crate::listing::{Cursor, Scanned};
use crate::model::TxStatus;

impl State {
    pub(super) fn scan(
        &self,
        status: Option<TxStatus>,
        before: Option<Cursor>,
        count: usize,
    ) -> Scanned {
        // `order` is in creation order, so counters rise along it.
        let seq_of = |id: &String| self.seq.get(id).copied().unwrap_or(0);
        let end = match before {
            Some(b) => self.order.partition_point(|id| seq_of(id) < b),
            None => self.order.len(),
        };
        let mut transactions = Vec::new();
        let mut more = false;
        for id in self.order[..end].iter().rev() {
            let Some(tx) = self.txs.get(id) else { continue };
            if status.is_some_and(|s| tx.status != s) {
                continue;
            }
            if transactions.len() == count {
                more = true;
                break;
            }
            transactions.push((seq_of(id), tx.clone()));
        }
        Scanned { transactions, more }
    }
}
