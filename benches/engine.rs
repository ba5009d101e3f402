//! End-to-end figures on loopback with a real Redis (a private redis-server
//! started for the run): create-transaction cost against how many
//! transactions already hold amounts at the same price, HTTP create
//! throughput, and credit-message-to-webhook latency.
//!
//! Run: `cargo bench --bench engine` (prints a table; figures go in the README).
//! Under `cargo test` (bench targets are built in test mode by `cargo test
//! --all-targets`) it runs a tiny smoke pass.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use paycue::allocation::{CardClasses, DEFAULT_ROUND_STEP};
use paycue::engine::CreateRequest;
use paycue::money::Money;
use paycue::store::{CreateOutcome, NewTransaction, RedisStore, Store, StoreSettings};
use support::app::{Backend, now_ms, spawn_with};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    format!(
        "p50 {:>7.3} ms  p95 {:>7.3} ms  p99 {:>7.3} ms  (n={})",
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.95).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.len()
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds = if quick { 5 } else { 400 };
    create_cost_vs_held(rounds).await;
    // Grace 0: a cancelled amount is free again at once.
    let settings = StoreSettings {
        grace_ms: 0,
        ..StoreSettings::default()
    };
    let Some(app) = spawn_with(Backend::Redis, "bench", settings, |c| {
        c.limit = Some("1000".into());
        c.webhook_backoff = Some("1s".into());
    })
    .await
    else {
        return;
    };
    let engine = app.engine.clone();

    let total = if quick { 20 } else { 4000 };
    let clients = 16;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (http, base) = (app.http.clone(), app.base.clone());
        tasks.spawn(async move {
            for i in 0..total / clients {
                let body = serde_json::json!({"amount": 1000 + (c * 1000 + i) * 10});
                let resp = http
                    .post(format!("{base}/transactions"))
                    .json(&body)
                    .send()
                    .await
                    .expect("post");
                assert_eq!(resp.status().as_u16(), 201);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let secs = started.elapsed().as_secs_f64();
    println!(
        "HTTP create throughput: {total} creates, {clients} clients: {:.0} creates/s",
        total as f64 / secs
    );

    let mut app = app;
    let mut samples = Vec::new();
    let mut ingested = Vec::new();
    let n = if quick { 3 } else { 300 };
    for i in 0..n {
        let tx = engine
            .create(CreateRequest {
                amount: Money::from_major(500_000 + i),
                metadata: None,
                idempotency: None,
            })
            .await
            .expect("create");
        let CreateOutcome::Created(tx) = tx else {
            panic!("not created")
        };
        let whole = tx.amount.minor() / 100;
        let started = Instant::now();
        app.humo_credit(1_000 + i, whole, "7466", now_ms()).await;
        ingested.push(started.elapsed());
        app.receiver.next().await;
        samples.push(started.elapsed());
    }
    println!(
        "credit message -> webhook received (parse, match in Redis, outbox, signed POST): {}",
        summary(samples)
    );
    println!(
        "  of which the message applied (parse, match in Redis, outbox write): {}",
        summary(ingested)
    );
    app.stop().await;
}

/// The store alone (no HTTP, no webhook workers competing for the CPU):
/// one create script call while `level` transactions already hold amounts at
/// the same price, each sample undone by a cancel (grace 0 frees it at once).
async fn create_cost_vs_held(rounds: usize) {
    let Some(redis) = support::RedisServer::start("bench_store") else {
        return;
    };
    let settings = StoreSettings {
        grace_ms: 0,
        ..StoreSettings::default()
    };
    let store = RedisStore::open(&redis.url(), settings);
    let price = Money::from_major(20_000);
    let new = move || NewTransaction {
        id: uuid::Uuid::new_v4().to_string(),
        requested_amount: price,
        currency: "UZS".into(),
        cards: CardClasses::default(),
        limit: 1000,
        round_step: DEFAULT_ROUND_STEP,
        created_at: now_ms(),
        expires_at: now_ms() + 1_800_000,
        metadata: None,
        idempotency: None,
    };
    println!(
        "create cost vs transactions already holding amounts at the same price (store only, LIMIT=1000, Redis):"
    );
    let mut held = 0usize;
    // (At most 900 amounts of price +1 .. +1000 are not round: 850 is nearly full.)
    for level in [0usize, 100, 500, 850] {
        while held < level {
            store.create(new()).await.expect("create");
            held += 1;
        }
        let mut samples = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let started = Instant::now();
            let outcome = store.create(new()).await.expect("create");
            samples.push(started.elapsed());
            let CreateOutcome::Created(tx) = outcome else {
                panic!("not created: {outcome:?}")
            };
            store
                .cancel(&tx.id, "evt_bench", now_ms())
                .await
                .expect("cancel");
        }
        println!("  {level:>4} held: {}", summary(samples));
        redis_time_per_create(&redis, &store, &new).await;
    }
}

/// Redis's own account of a create at this level (`INFO commandstats`): time
/// inside the script per call, and the lookups it ran. 50 creates, then
/// cancelled again so the level stays.
async fn redis_time_per_create(
    redis: &support::RedisServer,
    store: &RedisStore,
    new: &impl Fn() -> NewTransaction,
) {
    let client = redis::Client::open(redis.url()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let cmd = |args: &[&str]| {
        let mut c = redis::cmd(args[0]);
        for a in &args[1..] {
            c.arg(*a);
        }
        c
    };
    // Each create is measured alone, then cancelled, so the level stays
    // what the line says (50 creates in a row would hold 50 more).
    let n = 50;
    let (mut usec, mut zcount, mut zscore) = (0.0, 0.0, 0.0);
    for _ in 0..n {
        let _: () = cmd(&["CONFIG", "RESETSTAT"])
            .query_async(&mut conn)
            .await
            .expect("resetstat");
        let CreateOutcome::Created(tx) = store.create(new()).await.expect("create") else {
            panic!("not created")
        };
        let info: String = cmd(&["INFO", "commandstats"])
            .query_async(&mut conn)
            .await
            .expect("info");
        let stat = |name: &str, field: &str| -> f64 {
            info.lines()
                .find_map(|l| l.strip_prefix(&format!("cmdstat_{name}:")))
                .and_then(|l| {
                    l.split(',')
                        .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        usec += stat("evalsha", "usec");
        zcount += stat("zcount", "calls");
        zscore += stat("zscore", "calls");
        store
            .cancel(&tx.id, "evt_bench", now_ms())
            .await
            .expect("cancel");
    }
    println!(
        "        Redis: {:.1} µs per create script call, {:.1} ZCOUNT + {:.1} ZSCORE per create",
        usec / n as f64,
        zcount / n as f64,
        zscore / n as f64,
    );
}
