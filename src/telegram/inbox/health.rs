//! What a failed or slow Telegram call means: [`Health`] sorts errors
//! (a `Dropped` request is transient while the pool runs) and counts
//! timeouts in a row, after which the inbox asks for a new pool.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use grammers_client::InvocationError;

use crate::telegram::errors::{TgError, classify};

/// What a failed call means, given whether the pool still runs.
#[derive(Clone)]
pub(super) struct Health {
    pub(super) alive: Arc<AtomicBool>,
    pub(super) timeouts: Arc<AtomicU32>,
    pub(super) limit: u32,
}

impl Health {
    pub(super) fn classify(&self, e: InvocationError) -> TgError {
        if !self.alive.load(Ordering::SeqCst) {
            return TgError::Closed(format!("the connection pool stopped ({e})"));
        }
        classify(e)
    }

    fn answered(&self) {
        self.timeouts.store(0, Ordering::SeqCst);
    }

    fn timed_out(&self, what: &str, limit: Duration) -> TgError {
        let n = self.timeouts.fetch_add(1, Ordering::SeqCst) + 1;
        if n >= self.limit {
            TgError::Closed(format!(
                "Telegram did not answer {n} requests in a row; rebuilding the connection"
            ))
        } else {
            TgError::Transient(format!(
                "{what}: no answer within {} s",
                limit.as_secs_f32()
            ))
        }
    }

    /// `work` within `limit`, sorted into a `TgError` on failure.
    pub(super) async fn timed<T>(
        &self,
        what: &str,
        limit: Duration,
        work: impl Future<Output = Result<T, InvocationError>>,
    ) -> Result<T, TgError> {
        match tokio::time::timeout(limit, work).await {
            Ok(Ok(v)) => {
                self.answered();
                Ok(v)
            }
            Ok(Err(e)) => Err(self.classify(e)),
            Err(_) => Err(self.timed_out(what, limit)),
        }
    }
}

pub(super) fn is_fatal(e: &TgError) -> bool {
    matches!(e, TgError::LoggedOut(_) | TgError::Closed(_))
}
