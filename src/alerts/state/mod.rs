//! Where alert state lives, so a restart neither repeats nor forgets an
//! alert and two processes send it once: the claims (an alert's key, taken
//! once), the queue of alerts to send (with a lease while one is being
//! sent), when the webhook endpoint started failing, when the last watched
//! message came, and the daily summary's counters. `RedisAlerts` is the
//! production one (each step that must be atomic is one Lua script);
//! `MemoryAlerts` serves `--store memory`, the demo and the tests, with the
//! same behaviour under one mutex.

use std::collections::HashMap;

use async_trait::async_trait;

use super::Queued;
use crate::model::Millis;
use crate::store::StoreError;

mod memory;
mod redis;

pub use memory::MemoryAlerts;
pub use redis::RedisAlerts;

/// How long a claim is kept: longer than anything that can re-derive the
/// same alert (the pump's scan of the store looks back a day).
pub const CLAIM_TTL_MS: i64 = 8 * 24 * 3600 * 1000;

/// Daily-summary counters are kept in buckets of this many milliseconds
/// (5 minutes: every real time zone offset is a multiple of it).
pub const BUCKET_MS: i64 = 5 * 60 * 1000;

/// A taken alert: its queue id (the key) and the alert.
pub type Taken = (String, Queued);

#[async_trait]
pub trait AlertState: Send + Sync + 'static {
    /// Claims the alert's key and queues it (due at once), in one atomic
    /// step. False: the key was claimed before (nothing queued).
    async fn enqueue(&self, q: &Queued) -> Result<bool, StoreError>;

    /// Whether `key` was claimed (within `CLAIM_TTL_MS`).
    async fn claimed(&self, key: &str) -> Result<bool, StoreError>;

    /// Takes up to `max` due alerts (oldest first) and hides them from other
    /// senders until `now + lease_ms`.
    async fn take(&self, now: Millis, lease_ms: i64, max: usize) -> Result<Vec<Taken>, StoreError>;

    /// Removes sent alerts from the queue.
    async fn done(&self, ids: &[String]) -> Result<(), StoreError>;

    /// Puts taken alerts back, due at `at`.
    async fn later(&self, ids: &[String], at: Millis) -> Result<(), StoreError>;

    /// Whether the alert queued under `key` is still waiting (not sent yet).
    async fn is_queued(&self, key: &str) -> Result<bool, StoreError>;

    /// Alerts waiting in the queue (due or not).
    async fn pending(&self) -> Result<u64, StoreError>;

    /// A webhook attempt failed at `at`: the endpoint is failing since the
    /// first failure after the last success, which is answered.
    async fn webhook_failed(&self, at: Millis) -> Result<Millis, StoreError>;

    /// A webhook attempt succeeded: answers since when it was failing (and
    /// forgets it), or None if it was not.
    async fn webhook_ok(&self) -> Result<Option<Millis>, StoreError>;

    /// Since when the endpoint is failing, if it is.
    async fn webhook_failing(&self) -> Result<Option<Millis>, StoreError>;

    /// A watched message came at `at`: keeps the latest and answers the one
    /// before.
    async fn message_seen(&self, at: Millis) -> Result<Option<Millis>, StoreError>;

    /// When the last watched message came, if ever.
    async fn last_message(&self) -> Result<Option<Millis>, StoreError>;

    /// When alerts first ran against this state (set by the first caller):
    /// nothing that happened before is alerted.
    async fn started(&self, now: Millis) -> Result<Millis, StoreError>;

    /// Adds to the daily counters of the bucket holding `at`.
    async fn count(&self, at: Millis, counts: &[(&str, i64)]) -> Result<(), StoreError>;

    /// Sums the counters of the buckets in `[from, until)`.
    async fn counts(&self, from: Millis, until: Millis)
    -> Result<HashMap<String, i64>, StoreError>;
}

/// The bucket of a time (floor division: times before 1970 stay ordered).
pub fn bucket(at: Millis) -> i64 {
    at.div_euclid(BUCKET_MS)
}
