//! What the seller's console keeps in the store: login sessions and the
//! counters of failed logins. Kept in the store (Redis in production) rather
//! than in the process, so that a logout holds in every paycue process
//! sharing the Redis, a restart keeps sessions, and the login rate limit
//! cannot be reset by restarting paycue.
//!
//! What must stay true: every record expires by itself (a session after its
//! idle time, a counter at the end of its window), so storage stays bounded
//! however many logins are tried; session keys are chosen by the console
//! (hashes of the cookie, never the cookie itself).

use async_trait::async_trait;

use super::StoreError;

/// Whether the store keeps its data when it restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Redis with the append-only file: nothing acknowledged is lost.
    Aof,
    /// Redis with snapshots only: a crash loses the writes since the last one.
    Snapshots,
    /// Redis without persistence: a restart loses everything.
    Off,
    /// Redis answered, but hides its settings (CONFIG renamed).
    Unknown,
    /// The in-memory store (`paycue demo`, tests): nothing survives.
    Memory,
}

impl Persistence {
    /// Whether a restart of the store keeps paycue's data.
    pub fn durable(self) -> bool {
        self == Persistence::Aof
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Persistence::Aof => "on (AOF)",
            Persistence::Snapshots => "snapshots only (RDB)",
            Persistence::Off => "off",
            Persistence::Unknown => "unknown (CONFIG is disabled)",
            Persistence::Memory => "off (in-memory store)",
        }
    }
}

/// A fixed-window counter: how many hits, and how long until it resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hits {
    pub count: u64,
    /// Milliseconds until the window ends (0 when there is no window).
    pub resets_in_ms: i64,
}

#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// Writes session `key` with `value`, to vanish after `ttl_ms`.
    async fn session_put(&self, key: &str, value: &str, ttl_ms: i64) -> Result<(), StoreError>;

    /// Renews a live session's time to `ttl_ms`; false when it has ended
    /// (expired, logged out). Never brings an ended session back, and is
    /// allowed while the store refuses new data (Redis out of memory).
    async fn session_touch(&self, key: &str, ttl_ms: i64) -> Result<bool, StoreError>;

    /// The session's value, if it has not ended.
    async fn session_get(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Ends a session now (logout).
    async fn session_drop(&self, key: &str) -> Result<(), StoreError>;

    /// Adds one to counter `key`; its window of `window_ms` starts at its
    /// first hit. Returns the count after this hit. Atomic across processes.
    async fn hit(&self, key: &str, window_ms: i64) -> Result<Hits, StoreError>;

    /// Takes one back from counter `key` (a try that turned out right),
    /// keeping its window; a counter that has ended stays ended.
    async fn unhit(&self, key: &str) -> Result<(), StoreError>;

    /// Whether the store's data survives its restart.
    async fn persistence(&self) -> Result<Persistence, StoreError>;
}
