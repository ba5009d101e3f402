//! The console's sessions and login counters in memory: values that vanish
//! at a deadline, like Redis keys with a TTL. Expired entries are dropped
//! whenever one is written, so the map stays as small as the live entries.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::MemoryStore;
use crate::store::{ConsoleStore, Hits, Persistence, StoreError};

#[derive(Default)]
pub(super) struct Expiring {
    sessions: HashMap<String, (String, Instant)>,
    counters: HashMap<String, (u64, Instant)>,
}

impl Expiring {
    fn sweep(&mut self, now: Instant) {
        self.sessions.retain(|_, (_, until)| *until > now);
        self.counters.retain(|_, (_, until)| *until > now);
    }
}

fn after(ms: i64) -> Instant {
    Instant::now() + Duration::from_millis(ms.max(1) as u64)
}

fn left_ms(until: Instant) -> i64 {
    until
        .saturating_duration_since(Instant::now())
        .as_millis()
        .try_into()
        .unwrap_or(i64::MAX)
}

impl MemoryStore {
    fn expiring(&self) -> Result<std::sync::MutexGuard<'_, Expiring>, StoreError> {
        self.console
            .lock()
            .map_err(|_| StoreError::Corrupt("memory store mutex poisoned".into()))
    }
}

#[async_trait]
impl ConsoleStore for MemoryStore {
    async fn session_put(&self, key: &str, value: &str, ttl_ms: i64) -> Result<(), StoreError> {
        let mut e = self.expiring()?;
        e.sweep(Instant::now());
        e.sessions
            .insert(key.to_string(), (value.to_string(), after(ttl_ms)));
        Ok(())
    }

    async fn session_touch(&self, key: &str, ttl_ms: i64) -> Result<bool, StoreError> {
        let mut e = self.expiring()?;
        let now = Instant::now();
        Ok(match e.sessions.get_mut(key) {
            Some((_, until)) if *until > now => {
                *until = after(ttl_ms);
                true
            }
            _ => false,
        })
    }

    async fn session_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let e = self.expiring()?;
        Ok(e.sessions
            .get(key)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(v, _)| v.clone()))
    }

    async fn session_drop(&self, key: &str) -> Result<(), StoreError> {
        self.expiring()?.sessions.remove(key);
        Ok(())
    }

    async fn hit(&self, key: &str, window_ms: i64) -> Result<Hits, StoreError> {
        let mut e = self.expiring()?;
        e.sweep(Instant::now());
        let entry = e
            .counters
            .entry(key.to_string())
            .or_insert_with(|| (0, after(window_ms)));
        entry.0 += 1;
        Ok(Hits {
            count: entry.0,
            resets_in_ms: left_ms(entry.1),
        })
    }

    async fn unhit(&self, key: &str) -> Result<(), StoreError> {
        let mut e = self.expiring()?;
        let now = Instant::now();
        if let Some((n, until)) = e.counters.get_mut(key)
            && *until > now
        {
            *n = n.saturating_sub(1);
        }
        Ok(())
    }

    async fn persistence(&self) -> Result<Persistence, StoreError> {
        Ok(Persistence::Memory)
    }
}
