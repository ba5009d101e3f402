//! Redis store. (Interim: lands with the Redis store work.)

use async_trait::async_trait;

use super::{
    ApplyOutcome, AttemptResult, CancelOutcome, CreateOutcome, IncomingCredit, NewTransaction,
    Store, StoreError, StoreSettings,
};
use crate::model::{
    Attempt, CreditOutcome, CreditRecord, Delivery, Event, Millis, Transaction, TxStatus,
};

pub struct RedisStore {
    _url: String,
    _settings: StoreSettings,
}

impl RedisStore {
    /// Does not connect yet: the first command does, and reconnects after.
    pub fn open(url: &str, settings: StoreSettings) -> RedisStore {
        RedisStore {
            _url: url.to_string(),
            _settings: settings,
        }
    }
}

fn todo() -> StoreError {
    StoreError::Unavailable("redis store not built yet".into())
}

#[async_trait]
impl Store for RedisStore {
    async fn create(&self, _new: NewTransaction) -> Result<CreateOutcome, StoreError> {
        Err(todo())
    }
    async fn get(&self, _id: &str) -> Result<Option<Transaction>, StoreError> {
        Err(todo())
    }
    async fn list(&self, _s: Option<TxStatus>, _l: usize) -> Result<Vec<Transaction>, StoreError> {
        Err(todo())
    }
    async fn cancel(&self, _id: &str, _e: &str, _n: Millis) -> Result<CancelOutcome, StoreError> {
        Err(todo())
    }
    async fn expire_due(&self, _n: Millis, _e: &[String]) -> Result<Vec<Transaction>, StoreError> {
        Err(todo())
    }
    async fn mark_seen(&self, _c: i64, _m: i64) -> Result<bool, StoreError> {
        Err(todo())
    }
    async fn apply_credit(&self, _c: IncomingCredit) -> Result<ApplyOutcome, StoreError> {
        Err(todo())
    }
    async fn last_message_id(&self, _c: i64) -> Result<Option<i64>, StoreError> {
        Err(todo())
    }
    async fn list_credits(
        &self,
        _o: CreditOutcome,
        _l: usize,
    ) -> Result<Vec<CreditRecord>, StoreError> {
        Err(todo())
    }
    async fn claim_event(&self, _n: Millis, _l: i64) -> Result<Option<Delivery>, StoreError> {
        Err(todo())
    }
    async fn finish_attempt(
        &self,
        _e: &str,
        _a: Attempt,
        _r: AttemptResult,
    ) -> Result<(), StoreError> {
        Err(todo())
    }
    async fn redeliver(&self, _t: &str, _n: Millis) -> Result<Option<String>, StoreError> {
        Err(todo())
    }
    async fn events(&self, _t: &str) -> Result<Vec<Event>, StoreError> {
        Err(todo())
    }
    async fn held_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        Err(todo())
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Err(todo())
    }
}
