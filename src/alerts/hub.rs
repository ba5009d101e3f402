//! Where the engine and the webhook worker drop facts for the alerts. A fact
//! is handed over without waiting: when the hub is full (the pump is stuck on
//! an unreachable Redis) the fact is dropped and counted, so matching and
//! delivery never slow down for an alert. Unmatched and late credits dropped
//! that way are found again by the pump's scan of the store.

use std::sync::Mutex;

use tokio::sync::{Notify, mpsc};

use crate::model::Millis;
use crate::store::ApplyOutcome;

/// Facts waiting for the pump at most; beyond, facts are dropped.
pub const CAPACITY: usize = 8192;

/// Something that happened which an alert may be about.
#[derive(Debug, Clone)]
pub enum Fact {
    /// A credit or reversal was applied; `text` is the bank's message.
    Applied {
        outcome: Box<ApplyOutcome>,
        text: String,
        at: Millis,
    },
    /// A message from a watched chat arrived (any kind).
    Message {
        at: Millis,
    },
    /// A webhook attempt failed / succeeded.
    WebhookFailed {
        at: Millis,
    },
    WebhookDelivered {
        at: Millis,
    },
    /// An event was given up after its last retry.
    WebhookGaveUp {
        event_id: String,
        /// Attempts before its last redeliver (0: never redelivered): each
        /// series of retries given up is its own alert.
        series: usize,
        transaction_id: String,
        action: String,
        metadata: Option<serde_json::Value>,
        at: Millis,
    },
}

pub struct Hub {
    tx: mpsc::Sender<Fact>,
    rx: Mutex<Option<mpsc::Receiver<Fact>>>,
    /// Woken when an alert is queued, so the sender looks at once.
    pub queued: Notify,
    dropped: std::sync::atomic::AtomicU64,
    /// Set once a pump took the receiver: before that (tests and tools
    /// that run no pump) facts are not even built.
    active: std::sync::atomic::AtomicBool,
}

impl Default for Hub {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(CAPACITY);
        Hub {
            tx,
            rx: Mutex::new(Some(rx)),
            queued: Notify::new(),
            dropped: 0.into(),
            active: false.into(),
        }
    }
}

impl Hub {
    /// Whether a pump listens (callers skip building facts otherwise).
    pub fn active(&self) -> bool {
        self.active.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Hands a fact over; never waits.
    pub fn send(&self, fact: Fact) {
        if !self.active() {
            return;
        }
        if self.tx.try_send(fact).is_err() {
            self.dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The pump's end (once: a second pump gets None).
    pub fn take(&self) -> Option<mpsc::Receiver<Fact>> {
        let rx = self.rx.lock().ok()?.take()?;
        self.active
            .store(true, std::sync::atomic::Ordering::Relaxed);
        Some(rx)
    }

    /// Facts dropped because the hub was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }
}
