//! Alert state in memory (one mutex): `--store memory`, the demo and tests.
//! Same rules as Redis: a claim is taken once, a taken alert is hidden until
//! its lease ends, and nothing leaves the queue until `done`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{AlertState, CLAIM_TTL_MS, Taken, bucket};
use crate::alerts::Queued;
use crate::model::{Millis, now_millis};
use crate::store::StoreError;

#[derive(Default)]
struct Inner {
    /// key -> when the claim lapses.
    claims: HashMap<String, Millis>,
    /// key -> (due, alert).
    queue: BTreeMap<String, (Millis, Queued)>,
    webhook_since: Option<Millis>,
    last_message: Option<Millis>,
    started: Option<Millis>,
    buckets: HashMap<i64, HashMap<String, i64>>,
}

#[derive(Default)]
pub struct MemoryAlerts {
    inner: Mutex<Inner>,
}

impl MemoryAlerts {
    pub fn new() -> MemoryAlerts {
        MemoryAlerts::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::Unavailable("alert state lock poisoned".into()))
    }
}

#[async_trait]
impl AlertState for MemoryAlerts {
    async fn enqueue(&self, q: &Queued) -> Result<bool, StoreError> {
        let mut st = self.lock()?;
        let now = now_millis();
        if st.claims.get(&q.key).is_some_and(|until| *until > now) {
            return Ok(false);
        }
        st.claims.insert(q.key.clone(), now + CLAIM_TTL_MS);
        st.queue.insert(q.key.clone(), (q.queued_at, q.clone()));
        Ok(true)
    }

    async fn claimed(&self, key: &str) -> Result<bool, StoreError> {
        let now = now_millis();
        Ok(self.lock()?.claims.get(key).is_some_and(|u| *u > now))
    }

    async fn take(&self, now: Millis, lease_ms: i64, max: usize) -> Result<Vec<Taken>, StoreError> {
        let mut st = self.lock()?;
        let mut due: Vec<(Millis, String)> = st
            .queue
            .iter()
            .filter(|(_, (at, _))| *at <= now)
            .map(|(k, (at, _))| (*at, k.clone()))
            .collect();
        due.sort();
        due.truncate(max);
        let mut out = Vec::with_capacity(due.len());
        for (_, key) in due {
            if let Some(entry) = st.queue.get_mut(&key) {
                entry.0 = now + lease_ms;
                out.push((key, entry.1.clone()));
            }
        }
        Ok(out)
    }

    async fn done(&self, ids: &[String]) -> Result<(), StoreError> {
        let mut st = self.lock()?;
        for id in ids {
            st.queue.remove(id);
        }
        Ok(())
    }

    async fn later(&self, ids: &[String], at: Millis) -> Result<(), StoreError> {
        let mut st = self.lock()?;
        for id in ids {
            if let Some(entry) = st.queue.get_mut(id) {
                entry.0 = at;
            }
        }
        Ok(())
    }

    async fn is_queued(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.lock()?.queue.contains_key(key))
    }

    async fn pending(&self) -> Result<u64, StoreError> {
        Ok(self.lock()?.queue.len() as u64)
    }

    async fn webhook_failed(&self, at: Millis) -> Result<Millis, StoreError> {
        let mut st = self.lock()?;
        Ok(*st.webhook_since.get_or_insert(at))
    }

    async fn webhook_ok(&self) -> Result<Option<Millis>, StoreError> {
        Ok(self.lock()?.webhook_since.take())
    }

    async fn webhook_failing(&self) -> Result<Option<Millis>, StoreError> {
        Ok(self.lock()?.webhook_since)
    }

    async fn message_seen(&self, at: Millis) -> Result<Option<Millis>, StoreError> {
        let mut st = self.lock()?;
        let before = st.last_message;
        st.last_message = Some(before.map_or(at, |b| b.max(at)));
        Ok(before)
    }

    async fn last_message(&self) -> Result<Option<Millis>, StoreError> {
        Ok(self.lock()?.last_message)
    }

    async fn started(&self, now: Millis) -> Result<Millis, StoreError> {
        Ok(*self.lock()?.started.get_or_insert(now))
    }

    async fn count(&self, at: Millis, counts: &[(&str, i64)]) -> Result<(), StoreError> {
        let mut st = self.lock()?;
        let b = st.buckets.entry(bucket(at)).or_default();
        for (field, by) in counts {
            *b.entry((*field).to_string()).or_default() += by;
        }
        Ok(())
    }

    async fn counts(
        &self,
        from: Millis,
        until: Millis,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let st = self.lock()?;
        let mut sum: HashMap<String, i64> = HashMap::new();
        for b in bucket(from)..bucket(until) {
            for (k, v) in st.buckets.get(&b).into_iter().flatten() {
                *sum.entry(k.clone()).or_default() += v;
            }
        }
        Ok(sum)
    }
}
