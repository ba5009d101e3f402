//! A scripted Telegram for the watcher tests: each chat's history (filtered
//! by the window as Telegram would), a queue of live steps, and a log of every
//! call with the virtual time and whether the expiry gate was open then.
#![allow(dead_code)]

mod chat;
mod flaky;
#[allow(unused_imports)] // only some test files use it
pub use chat::FakeChat;
#[allow(unused_imports)]
pub use flaky::Flaky;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use paycue::engine::{Engine, IncomingMessage};
use paycue::telegram::errors::TgError;
use paycue::telegram::message::Window;
use paycue::telegram::watcher::{Inbox, Tuning};
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

pub const HUMO: i64 = 856_254_490;
pub const UZCARD: i64 = 915_326_936;

pub enum Step {
    /// Delivered live.
    Live(IncomingMessage),
    /// Lands in the chat's history only (sent while the stream was down).
    Arrive(IncomingMessage),
    /// `next()` fails with this.
    Fail(TgError),
    /// The live stream stays quiet this long.
    Quiet(Duration),
    /// Telegram stops answering for this long: `next()` fails now, and every
    /// history read fails until it is over ("the server answers again").
    Outage(Duration),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    History {
        chat: i64,
        window: Window,
        at: Instant,
        gate_open: bool,
    },
    Next {
        gate_open: bool,
    },
    Failed {
        at: Instant,
    },
    Sync,
}

pub struct Fake {
    pub engine: Arc<Engine>,
    pub chats: HashMap<i64, Vec<IncomingMessage>>,
    pub live: VecDeque<Step>,
    /// Consumed one per history call (None: answer normally).
    pub history_errors: VecDeque<Option<TgError>>,
    /// The first history call waits for this.
    pub hold_history: Option<oneshot::Receiver<()>>,
    pub history_started: Arc<Notify>,
    pub log: Arc<Mutex<Vec<Call>>>,
    /// Notified when the live script is used up (then `next` waits forever).
    pub done: Arc<Notify>,
    /// Notified each time `next` returns an error.
    pub failed: Arc<Notify>,
    /// Raise a fatal alarm (what the watchdog does on a 401).
    pub alarm: Arc<tokio::sync::watch::Sender<Option<TgError>>>,
    /// Telegram answers nothing before this instant.
    pub down_until: Option<Instant>,
    /// Chats whose history read fails (transiently) until this instant.
    pub chat_down_until: HashMap<i64, Instant>,
}

impl Fake {
    pub fn new(engine: Arc<Engine>) -> Fake {
        Fake {
            engine,
            chats: HashMap::new(),
            live: VecDeque::new(),
            history_errors: VecDeque::new(),
            hold_history: None,
            history_started: Arc::default(),
            log: Arc::default(),
            done: Arc::default(),
            failed: Arc::default(),
            alarm: Arc::new(tokio::sync::watch::channel(None).0),
            down_until: None,
            chat_down_until: HashMap::new(),
        }
    }

    pub fn history(mut self, chat: i64, messages: Vec<IncomingMessage>) -> Fake {
        self.chats.insert(chat, messages);
        self
    }

    pub fn live(mut self, steps: Vec<Step>) -> Fake {
        self.live = steps.into();
        self
    }

    pub fn calls(&self) -> Vec<Call> {
        self.log.lock().unwrap().clone()
    }

    fn record(&self, call: Call) {
        self.log.lock().unwrap().push(call);
    }
}

impl Inbox for Fake {
    async fn history(
        &mut self,
        chat: i64,
        window: Window,
    ) -> Result<Vec<IncomingMessage>, TgError> {
        self.record(Call::History {
            chat,
            window,
            at: Instant::now(),
            gate_open: self.engine.is_caught_up(),
        });
        self.history_started.notify_one();
        if let Some(hold) = self.hold_history.take() {
            let _ = hold.await;
        }
        if let Some(Some(e)) = self.history_errors.pop_front() {
            return Err(e);
        }
        let down = [self.down_until, self.chat_down_until.get(&chat).copied()];
        if down.iter().flatten().any(|until| Instant::now() < *until) {
            self.record(Call::Failed { at: Instant::now() });
            return Err(TgError::Transient("network: connection refused".into()));
        }
        let all = self.chats.get(&chat).cloned().unwrap_or_default();
        Ok(all
            .into_iter()
            .filter(|m| !window.ends_before(m.message_id, Some(m.date)))
            .collect())
    }

    async fn next(&mut self) -> Result<IncomingMessage, TgError> {
        self.record(Call::Next {
            gate_open: self.engine.is_caught_up(),
        });
        loop {
            match self.live.pop_front() {
                Some(Step::Live(m)) => return Ok(m),
                Some(Step::Arrive(m)) => self.chats.entry(m.chat()).or_default().push(m),
                Some(Step::Fail(e)) => {
                    self.record(Call::Failed { at: Instant::now() });
                    self.failed.notify_one();
                    return Err(e);
                }
                Some(Step::Quiet(d)) => tokio::time::sleep(d).await,
                Some(Step::Outage(d)) => {
                    self.down_until = Some(Instant::now() + d);
                    self.record(Call::Failed { at: Instant::now() });
                    self.failed.notify_one();
                    return Err(TgError::Transient("network: connection reset".into()));
                }
                None => {
                    self.done.notify_one();
                    std::future::pending::<()>().await;
                }
            }
        }
    }

    fn fatal_alarms(&self) -> tokio::sync::watch::Receiver<Option<TgError>> {
        self.alarm.subscribe()
    }

    async fn sync_state(&mut self) -> Result<(), TgError> {
        self.record(Call::Sync);
        Ok(())
    }
}

/// A message in a bank bot's private chat.
pub fn bot_msg(chat: i64, id: i64, date: i64, text: &str) -> IncomingMessage {
    IncomingMessage {
        sender_id: chat,
        chat_id: Some(chat),
        message_id: id,
        date,
        text: text.to_string(),
    }
}

/// Short delays for real-time tests.
pub fn fast() -> Tuning {
    Tuning {
        backoff_initial: Duration::from_millis(10),
        backoff_max: Duration::from_millis(40),
        stable_after: Duration::from_secs(60),
        first_lookback: Duration::from_secs(3600),
    }
}
