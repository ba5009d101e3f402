//! The seller's chat as the alert sender sees it: a scripted [`Sink`] that
//! records every message it accepts and fails the sends it is told to.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use paycue::alerts::send::{Outgoing, SendError, Sink};
use tokio::sync::Notify;

#[derive(Default)]
pub struct FakeChat {
    /// Consumed one per send (empty: accept).
    pub script: Mutex<VecDeque<SendError>>,
    /// Every message accepted, in order.
    pub sent: Mutex<Vec<Outgoing>>,
    /// Every send tried (accepted or not).
    pub tries: Mutex<Vec<Result<String, SendError>>>,
    /// Woken on every try.
    pub tried: Notify,
}

impl FakeChat {
    /// Fails the next sends with these errors, then accepts.
    pub fn failing(errors: Vec<SendError>) -> FakeChat {
        FakeChat {
            script: Mutex::new(errors.into()),
            ..FakeChat::default()
        }
    }

    pub fn sent(&self) -> Vec<Outgoing> {
        self.sent.lock().unwrap().clone()
    }

    /// Waits (at most 60 s) until `n` messages were accepted.
    pub async fn wait_sent(&self, n: usize) -> Vec<Outgoing> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let tried = self.tried.notified();
            let sent = self.sent();
            if sent.len() >= n {
                return sent;
            }
            if tokio::time::timeout_at(deadline, tried).await.is_err() {
                let tries = self.tries.lock().unwrap().clone();
                panic!("{n} alert(s) not sent within 60 s; sent: {sent:?}; tries: {tries:?}");
            }
        }
    }
}

#[async_trait]
impl Sink for FakeChat {
    async fn send(&self, m: &Outgoing) -> Result<(), SendError> {
        let failure = self.script.lock().unwrap().pop_front();
        let result = match failure {
            Some(e) => Err(e),
            None => {
                self.sent.lock().unwrap().push(m.clone());
                Ok(())
            }
        };
        self.tries
            .lock()
            .unwrap()
            .push(result.clone().map(|()| m.text.clone()));
        self.tried.notify_waiters();
        result
    }
}
