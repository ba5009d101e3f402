//! Reading one chat's history back to the catch-up window, newest first,
//! behind a small [`Pages`] trait (grammers' message iterator in production,
//! a scripted one in tests).
//!
//! What must stay true: a long history still completes. The time limit is per
//! call (one page of up to 100 messages), not for the whole walk: a chat with
//! thousands of messages since paycue last read it (a week away, a busy bank
//! bot) must not time out on every try and so never catch up, which would
//! hold its credits and the expiry sweep for good.

use std::future::Future;
use std::time::Duration;

use grammers_client::client::MessageIter;
use grammers_client::{InvocationError, tl};

use super::Health;
use crate::engine::IncomingMessage;
use crate::telegram::errors::TgError;
use crate::telegram::message::{Window, accept_raw, id_and_date};

/// A chat's messages, newest first.
pub(super) trait Pages: Send {
    /// The next message; a call fetches a page when the last one is used up.
    fn next(
        &mut self,
    ) -> impl Future<Output = Result<Option<tl::enums::Message>, InvocationError>> + Send;
}

impl Pages for MessageIter {
    async fn next(&mut self) -> Result<Option<tl::enums::Message>, InvocationError> {
        Ok(MessageIter::next(self).await?.map(|m| m.raw))
    }
}

/// The accepted messages of `window`, oldest first; each call within `limit`.
pub(super) async fn read_back<P: Pages>(
    pages: &mut P,
    window: Window,
    watched: &[i64],
    health: &Health,
    limit: Duration,
) -> Result<Vec<IncomingMessage>, TgError> {
    let mut found = Vec::new();
    while let Some(raw) = health.timed("history", limit, pages.next()).await? {
        let (id, date) = id_and_date(&raw);
        if window.ends_before(id, date) {
            break;
        }
        found.extend(accept_raw(&raw, watched));
    }
    found.reverse();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU32};

    use super::*;

    /// `total` messages, newest first, each page of 100 taking `page_time`.
    struct Slow {
        next_id: i32,
        page_time: Duration,
    }

    impl Pages for Slow {
        async fn next(&mut self) -> Result<Option<tl::enums::Message>, InvocationError> {
            if self.next_id == 0 {
                return Ok(None);
            }
            if self.next_id % 100 == 0 {
                tokio::time::sleep(self.page_time).await;
            }
            let id = self.next_id;
            self.next_id -= 1;
            Ok(Some(tl::types::MessageEmpty { id, peer_id: None }.into()))
        }
    }

    /// 3 000 messages since the last one applied, each page answered well
    /// within the limit: the read completes (was: one limit for the whole
    /// walk, so it timed out on every try and the chat never caught up).
    #[tokio::test(start_paused = true)]
    async fn a_long_history_of_timely_pages_is_read_to_the_end() {
        let health = Health {
            alive: Arc::new(AtomicBool::new(true)),
            timeouts: Arc::new(AtomicU32::new(0)),
            limit: 3,
        };
        let mut pages = Slow {
            next_id: 3_000,
            page_time: Duration::from_secs(1),
        };
        let window = Window::new(Some(0), 0, 0);
        let read = read_back(&mut pages, window, &[1], &health, Duration::from_secs(15)).await;
        assert!(read.is_ok(), "{:?}", read.err());
        assert_eq!(pages.next_id, 0, "walked back to the window's start");
    }

    /// A page that never comes still ends the read within the limit.
    #[tokio::test(start_paused = true)]
    async fn a_page_that_never_comes_times_out() {
        let health = Health {
            alive: Arc::new(AtomicBool::new(true)),
            timeouts: Arc::new(AtomicU32::new(0)),
            limit: 3,
        };
        let mut pages = Slow {
            next_id: 300,
            page_time: Duration::from_secs(3600),
        };
        let window = Window::new(Some(0), 0, 0);
        let read = read_back(&mut pages, window, &[1], &health, Duration::from_secs(15)).await;
        assert!(matches!(read, Err(TgError::Transient(_))), "{read:?}");
    }
}
