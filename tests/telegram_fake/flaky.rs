//! A store wrapper that fails or hangs on purpose (Redis going away).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use paycue::model::{
    Attempt, CreditOutcome, CreditRecord, Delivery, Millis, Transaction, TxStatus,
};
use paycue::store::{
    ApplyOutcome, AttemptResult, CancelOutcome, CreateOutcome, IncomingCredit, NewTransaction,
    Store, StoreError,
};

/// A store whose `last_message_id` and `apply_credit` fail a few times first
/// (Redis went away), then work; or, with `hang`, never answer `apply_credit`.
pub struct Flaky {
    inner: Arc<dyn Store>,
    pub hang: bool,
    last_id_failures: AtomicU32,
    apply_failures: AtomicU32,
    failed: AtomicU32,
}

impl Flaky {
    pub fn new(inner: Arc<dyn Store>, last_id_failures: u32, apply_failures: u32) -> Flaky {
        Flaky {
            inner,
            hang: false,
            last_id_failures: last_id_failures.into(),
            apply_failures: apply_failures.into(),
            failed: 0.into(),
        }
    }

    pub fn failures(&self) -> u32 {
        self.failed.load(Ordering::SeqCst)
    }

    fn fail(&self, budget: &AtomicU32) -> Result<(), StoreError> {
        let left = budget.load(Ordering::SeqCst);
        if left == 0 {
            return Ok(());
        }
        budget.store(left - 1, Ordering::SeqCst);
        self.failed.fetch_add(1, Ordering::SeqCst);
        Err(StoreError::Unavailable("scripted outage".into()))
    }
}

#[async_trait]
impl Store for Flaky {
    async fn create(&self, new: NewTransaction) -> Result<CreateOutcome, StoreError> {
        self.inner.create(new).await
    }
    async fn get(&self, id: &str) -> Result<Option<Transaction>, StoreError> {
        self.inner.get(id).await
    }
    async fn list(&self, s: Option<TxStatus>, n: usize) -> Result<Vec<Transaction>, StoreError> {
        self.inner.list(s, n).await
    }
    async fn cancel(&self, id: &str, ev: &str, now: Millis) -> Result<CancelOutcome, StoreError> {
        self.inner.cancel(id, ev, now).await
    }
    async fn expire_due(
        &self,
        now: Millis,
        ids: &[String],
    ) -> Result<Vec<Transaction>, StoreError> {
        self.inner.expire_due(now, ids).await
    }
    async fn mark_seen(&self, scope: &str, chat: i64, id: i64) -> Result<bool, StoreError> {
        self.inner.mark_seen(scope, chat, id).await
    }
    async fn apply_credit(&self, c: IncomingCredit) -> Result<ApplyOutcome, StoreError> {
        self.fail(&self.apply_failures)?;
        if self.hang {
            std::future::pending::<()>().await;
        }
        self.inner.apply_credit(c).await
    }
    async fn apply_reversal(&self, c: IncomingCredit) -> Result<ApplyOutcome, StoreError> {
        self.inner.apply_reversal(c).await
    }
    async fn last_message_id(&self, scope: &str, chat: i64) -> Result<Option<i64>, StoreError> {
        self.fail(&self.last_id_failures)?;
        self.inner.last_message_id(scope, chat).await
    }
    async fn chat_scope(&self, account: i64) -> Result<String, StoreError> {
        self.inner.chat_scope(account).await
    }
    async fn list_credits(
        &self,
        o: CreditOutcome,
        n: usize,
    ) -> Result<Vec<CreditRecord>, StoreError> {
        self.inner.list_credits(o, n).await
    }
    async fn claim_event(&self, now: Millis, lease: i64) -> Result<Option<Delivery>, StoreError> {
        self.inner.claim_event(now, lease).await
    }
    async fn finish_attempt(
        &self,
        ev: &str,
        claim: u64,
        a: Attempt,
        r: AttemptResult,
    ) -> Result<bool, StoreError> {
        self.inner.finish_attempt(ev, claim, a, r).await
    }
    async fn redeliver(&self, id: &str, now: Millis) -> Result<Option<String>, StoreError> {
        self.inner.redeliver(id, now).await
    }
    async fn events(&self, id: &str) -> Result<Vec<paycue::model::Event>, StoreError> {
        self.inner.events(id).await
    }
    async fn held_counts(&self, cards: &[String]) -> Result<Vec<(String, u64)>, StoreError> {
        self.inner.held_counts(cards).await
    }
    async fn prune(
        &self,
        now: Millis,
        cutoff: Millis,
        max: usize,
    ) -> Result<paycue::store::Pruned, StoreError> {
        self.inner.prune(now, cutoff, max).await
    }
    async fn settle_by_hand(
        &self,
        entry: &paycue::manual::AuditEntry,
        paid_cards: &[String],
    ) -> Result<paycue::manual::ManualOutcome, StoreError> {
        self.inner.settle_by_hand(entry, paid_cards).await
    }
    async fn credit(&self, id: &str) -> Result<Option<paycue::model::CreditRecord>, StoreError> {
        self.inner.credit(id).await
    }
    async fn audit(&self, limit: usize) -> Result<Vec<paycue::manual::AuditEntry>, StoreError> {
        self.inner.audit(limit).await
    }
    async fn scan(
        &self,
        status: Option<TxStatus>,
        before: Option<u64>,
        count: usize,
    ) -> Result<paycue::listing::Scanned, StoreError> {
        self.inner.scan(status, before, count).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    async fn hold_expiry(&self, holder: &str, ttl_ms: i64) -> Result<(), StoreError> {
        self.inner.hold_expiry(holder, ttl_ms).await
    }
    async fn release_expiry(&self, holder: &str) -> Result<(), StoreError> {
        self.inner.release_expiry(holder).await
    }
    async fn expiry_held(&self) -> Result<bool, StoreError> {
        self.inner.expiry_held().await
    }
}

#[async_trait]
impl paycue::store::ConsoleStore for Flaky {
    async fn session_put(&self, key: &str, value: &str, ttl_ms: i64) -> Result<(), StoreError> {
        self.inner.session_put(key, value, ttl_ms).await
    }
    async fn session_touch(&self, key: &str, ttl_ms: i64) -> Result<bool, StoreError> {
        self.inner.session_touch(key, ttl_ms).await
    }
    async fn session_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.inner.session_get(key).await
    }
    async fn session_drop(&self, key: &str) -> Result<(), StoreError> {
        self.inner.session_drop(key).await
    }
    async fn hit(&self, key: &str, window_ms: i64) -> Result<paycue::store::Hits, StoreError> {
        self.inner.hit(key, window_ms).await
    }
    async fn unhit(&self, key: &str) -> Result<(), StoreError> {
        self.inner.unhit(key).await
    }
    async fn persistence(&self) -> Result<paycue::store::Persistence, StoreError> {
        self.inner.persistence().await
    }
}
