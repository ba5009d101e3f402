//! The real app on 127.0.0.1:0 plus a real HTTP webhook receiver, for
//! in-process integration tests against either store.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use paycue::config::{Config, RawConfig};
use paycue::engine::{Engine, IncomingMessage, IngestOutcome};
use paycue::store::{MemoryStore, RedisStore, Store, StoreSettings};
use tokio::sync::{mpsc, watch};

use super::RedisServer;

pub const SECRET_B64: &str = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Memory,
    Redis,
}

/// One webhook request as the shop saw it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub headers: HeaderMap,
    pub body: String,
    /// The status the receiver answered with.
    pub code: u16,
}

impl Hit {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("webhook body is JSON")
    }
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    /// Whether the Standard Webhooks signature holds for `body` under the
    /// test secret (pass a changed body to check that tampering is caught).
    pub fn signed_over(&self, body: &str) -> bool {
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD
            .decode(SECRET_B64)
            .expect("test secret is base64");
        let ts: i64 = self.header("webhook-timestamp").parse().unwrap_or(0);
        paycue::webhook::verify(
            &key,
            &self.header("webhook-id"),
            ts,
            body,
            &self.header("webhook-signature"),
        )
    }
}

/// A shop endpoint that records every request and answers with the next
/// scripted status (200 once the script is used up), or 500 while `down`,
/// after `delay`. It counts how many requests it holds at once.
pub struct Receiver {
    pub url: String,
    rx: mpsc::UnboundedReceiver<Hit>,
    script: Arc<Mutex<VecDeque<u16>>>,
    behaviour: Arc<Behaviour>,
}

#[derive(Default)]
struct Behaviour {
    down: AtomicBool,
    delay_ms: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let (tx, rx) = mpsc::unbounded_channel();
        let script: Arc<Mutex<VecDeque<u16>>> = Arc::default();
        let s = script.clone();
        let behaviour: Arc<Behaviour> = Arc::default();
        let b = behaviour.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (tx, s, b) = (tx.clone(), s.clone(), b.clone());
                async move {
                    let now = b.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    b.max_in_flight.fetch_max(now, Ordering::SeqCst);
                    let code = if b.down.load(Ordering::SeqCst) {
                        500
                    } else {
                        s.lock().unwrap().pop_front().unwrap_or(200)
                    };
                    let hit = Hit {
                        headers,
                        body: String::from_utf8_lossy(&body).into_owned(),
                        code,
                    };
                    // No sleep at all without a delay: even a zero sleep
                    // waits for the timer's next 1 ms tick (it added ~1.3 ms
                    // to every delivery the engine bench measured).
                    let delay = b.delay_ms.load(Ordering::SeqCst);
                    if delay > 0 {
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                    }
                    b.in_flight.fetch_sub(1, Ordering::SeqCst);
                    let _ = tx.send(hit);
                    StatusCode::from_u16(code).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url,
            rx,
            script,
            behaviour,
        }
    }

    /// While down, every request is answered 500.
    pub fn set_down(&self, down: bool) {
        self.behaviour.down.store(down, Ordering::SeqCst);
    }

    /// Each answer waits this long (the request is recorded when it ends).
    pub fn set_delay(&self, delay: Duration) {
        self.behaviour
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// The most requests held at once so far.
    pub fn max_in_flight(&self) -> usize {
        self.behaviour.max_in_flight.load(Ordering::SeqCst)
    }

    /// Requests being answered right now.
    pub fn in_flight(&self) -> usize {
        self.behaviour.in_flight.load(Ordering::SeqCst)
    }

    /// The next answers, e.g. `[500, 500]` then 200s.
    pub fn answer(&self, codes: &[u16]) {
        self.script.lock().unwrap().extend(codes);
    }

    pub async fn next(&mut self) -> Hit {
        tokio::time::timeout(Duration::from_secs(15), self.rx.recv())
            .await
            .expect("webhook within 15 s")
            .expect("receiver open")
    }

    /// Asserts nothing more arrives within `wait`.
    pub async fn assert_quiet(&mut self, wait: Duration) {
        if let Ok(Some(hit)) = tokio::time::timeout(wait, self.rx.recv()).await {
            panic!("unexpected webhook: {}", hit.body);
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub engine: Arc<Engine>,
    pub http: reqwest::Client,
    pub receiver: Receiver,
    pub redis: Option<RedisServer>,
    stop: watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub fn settings() -> StoreSettings {
    StoreSettings {
        grace_ms: 30 * 60 * 1000,
        ..StoreSettings::default()
    }
}

/// Starts the app with `tune` applied to a default test config (webhooks to
/// the receiver, signed, fast backoff). None: Redis wanted but skipped.
pub async fn spawn(
    backend: Backend,
    test: &str,
    tune: impl FnOnce(&mut RawConfig),
) -> Option<TestApp> {
    spawn_with(backend, test, settings(), tune).await
}

pub async fn spawn_with(
    backend: Backend,
    test: &str,
    settings: StoreSettings,
    tune: impl FnOnce(&mut RawConfig),
) -> Option<TestApp> {
    let receiver = Receiver::start().await;
    let (store, redis): (Arc<dyn Store>, _) = match backend {
        Backend::Memory => (Arc::new(MemoryStore::new(settings)), None),
        Backend::Redis => {
            let server = RedisServer::start(test)?;
            (
                Arc::new(RedisStore::open(&server.url(), settings)),
                Some(server),
            )
        }
    };
    let mut raw = RawConfig {
        webhook_url: Some(receiver.url.clone()),
        webhook_secret: Some(format!("whsec_{SECRET_B64}")),
        webhook_backoff: Some("50ms,100ms,200ms".into()),
        webhook_timeout: Some("2s".into()),
        ..RawConfig::default()
    };
    tune(&mut raw);
    let config = Config::from_raw(&raw).expect("test config");
    let engine = Engine::new(config, store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, mut stop_rx) = watch::channel(false);
    let server = tokio::spawn(paycue::serve(listener, engine.clone(), async move {
        let _ = stop_rx.wait_for(|s| *s).await;
    }));
    Some(TestApp {
        base,
        engine,
        http: reqwest::Client::new(),
        receiver,
        redis,
        stop,
        server: Some(server),
    })
}

impl TestApp {
    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Creates a transaction for `price` and returns its data.
    pub async fn create(&self, price: i64) -> serde_json::Value {
        let (code, body) = self
            .post("/transactions", serde_json::json!({"amount": price}))
            .await;
        assert_eq!(code, 201, "create failed: {body}");
        body["data"].clone()
    }

    /// Feeds a HUMO credit for `amount` (whole UZS) down the message path.
    pub async fn humo_credit(
        &self,
        message_id: i64,
        amount: i64,
        card4: &str,
        date_ms: i64,
    ) -> IngestOutcome {
        let msg = IncomingMessage {
            sender_id: 856_254_490,
            chat_id: None,
            message_id,
            date: date_ms,
            text: humo_text(amount, card4),
        };
        self.engine.ingest(&msg).await.expect("ingest")
    }

    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(s) = self.server.take() {
            let _ = s.await;
        }
    }
}

/// A @HUMOcardbot credit text, as the bot writes it (`20.001,00 UZS`).
pub fn humo_text(amount: i64, card4: &str) -> String {
    let digits = amount.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!(
        "🎉 Пополнение\n➕ {grouped},00 UZS\n📍 NBU P2P HUMOHUMO>tas\n💳 HUMOCARD *{card4}\n🕓 12:36 02.10.2025\n💰 3.040,61 UZS"
    )
}

pub fn now_ms() -> i64 {
    paycue::model::now_millis()
}
