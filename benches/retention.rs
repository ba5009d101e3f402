//! Redis memory after N days of steady traffic, by simulation: drives the
//! Redis store directly with a simulated clock (each day: `RATE` orders, 85%
//! paid, 2% of them paid again late, the rest expiring; 20 unmatched credits;
//! every webhook delivered once; the retention step run every simulated
//! hour) and reads `INFO memory` at the end of each week. The clock runs from
//! N days ago up to now, so the hold keys Redis expires by its own clock
//! behave as in production.
//!
//! Run: `cargo bench --bench retention -- --bench [days] [rate] [retention days|off]`
//! (default 35 days, 1000 orders a day, 7-day retention). Under `cargo test`
//! it runs a tiny smoke pass.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use paycue::allocation::{CardClasses, DEFAULT_ROUND_STEP};
use paycue::engine::new_event_id;
use paycue::model::Attempt;
use paycue::money::Money;
use paycue::store::{
    ApplyOutcome, AttemptResult, CreateOutcome, IncomingCredit, NewTransaction, RedisStore, Store,
    StoreSettings,
};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
const CHAT: i64 = 856_254_490;

struct Sim {
    store: Arc<dyn Store>,
    next_msg: i64,
    seed: u64,
}

impl Sim {
    fn rand(&mut self, n: u64) -> u64 {
        self.seed = self
            .seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (self.seed >> 33) % n
    }

    async fn credit(&mut self, amount: Money, at: i64) -> ApplyOutcome {
        self.next_msg += 1;
        let c = IncomingCredit {
            credit_id: uuid::Uuid::new_v4().to_string(),
            event_id: new_event_id(),
            cancel_event_id: new_event_id(),
            bank: "humo".into(),
            amount,
            currency: Some("UZS".into()),
            card_last4: Some("7466".into()),
            cards: vec![String::new()],
            expected_currency: "UZS".into(),
            sender_id: CHAT,
            chat_id: CHAT,
            scope: String::new(),
            message_id: self.next_msg,
            date: at,
            received_at: at,
            text: "🎉 Пополнение ➕ 20.001,00 UZS".into(),
        };
        self.store.apply_credit(c).await.expect("apply")
    }

    /// Delivers every due event (one 200 attempt each).
    async fn deliver(&mut self, now: i64) {
        while let Some(d) = self.store.claim_event(now, 15_000).await.expect("claim") {
            let ok = Attempt {
                at: now,
                status_code: Some(200),
                error: None,
                duration_ms: 40,
            };
            self.store
                .finish_attempt(&d.event.id, d.claim, ok, AttemptResult::Delivered)
                .await
                .expect("finish");
        }
    }

    /// One simulated hour: its share of the day's orders, spread evenly.
    async fn hour(&mut self, start: i64, orders: u64) {
        for i in 0..orders {
            let at = start + (i as i64 * HOUR) / orders.max(1) as i64;
            let price = 10_000 * (1 + self.rand(30) as i64);
            let new = NewTransaction {
                id: uuid::Uuid::new_v4().to_string(),
                requested_amount: Money::from_major(price),
                currency: "UZS".into(),
                cards: CardClasses::default(),
                limit: 1000,
                round_step: DEFAULT_ROUND_STEP,
                created_at: at,
                expires_at: at + 30 * 60_000,
                metadata: Some(serde_json::json!({"order_id": format!("A{}", self.next_msg)})),
                idempotency: None,
            };
            let CreateOutcome::Created(tx) = self.store.create(new).await.expect("create") else {
                continue;
            };
            let roll = self.rand(100);
            if roll < 85 {
                self.credit(tx.amount, at + 60_000).await;
                if roll < 2 {
                    self.credit(tx.amount, at + 90_000).await; // paid twice: late
                }
            }
        }
        if self.rand(24) < 20 {
            self.credit(Money::from_major(777), start + HOUR / 2).await; // unmatched
        }
        let sweep: Vec<String> = (0..500).map(|_| new_event_id()).collect();
        self.store
            .expire_due(start + HOUR, &sweep)
            .await
            .expect("expire");
        self.deliver(start + HOUR).await;
    }
}

async fn used_memory(url: &str) -> (u64, u64) {
    let client = redis::Client::open(url).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut conn)
        .await
        .expect("info");
    let used = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let keys: u64 = redis::cmd("DBSIZE")
        .query_async(&mut conn)
        .await
        .expect("dbsize");
    (used, keys)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let quick = !std::env::args().any(|a| a == "--bench");
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let (days, rate) = if quick {
        (2, 48)
    } else {
        (
            arg(0, "35").parse::<i64>().expect("days"),
            arg(1, "1000").parse::<u64>().expect("rate"),
        )
    };
    let retention = match arg(2, "7").as_str() {
        "off" => None,
        d => Some(d.parse::<i64>().expect("retention days") * DAY),
    };
    let Some(redis) = support::RedisServer::start("retention-bench") else {
        return;
    };
    let settings = StoreSettings::default();
    let store: Arc<dyn Store> = Arc::new(RedisStore::open(&redis.url(), settings));
    let mut sim = Sim {
        store: store.clone(),
        next_msg: 0,
        seed: 0x9e37_79b9_7f4a_7c15,
    };
    let (base, _) = used_memory(&redis.url()).await;
    let start = paycue::model::now_millis() - days * DAY - HOUR;
    println!(
        "{rate} orders/day for {days} days, retention {}",
        retention.map_or("off".into(), |r| format!("{} days", r / DAY))
    );
    println!("day  used_memory (above empty)  keys");
    for day in 0..days {
        for h in 0..24 {
            let at = start + day * DAY + h * HOUR;
            let orders = rate / 24 + u64::from((h as u64) < rate % 24);
            sim.hour(at, orders).await;
            if let Some(r) = retention {
                let now = at + HOUR;
                loop {
                    let step = store.prune(now, now - r, 200).await.expect("prune");
                    if !step.full(200) {
                        break;
                    }
                }
            }
        }
        if (day + 1) % 7 == 0 || day + 1 == days {
            let (used, keys) = used_memory(&redis.url()).await;
            println!(
                "{:>3}  {:>9.1} MiB               {keys}",
                day + 1,
                used.saturating_sub(base) as f64 / (1024.0 * 1024.0)
            );
        }
    }
}
