//! The Telegram watcher against a scripted Telegram and the real app, on the
//! in-memory store and a real Redis: catch-up order, history/live overlap,
//! duplicates, store outages, and the catch-up-before-expiry rule.

mod support;
mod telegram_fake;

use std::sync::Arc;
use std::time::Duration;

use paycue::engine::Engine;
use paycue::model::{CreditOutcome, Transaction, TxStatus};
use paycue::money::Money;
use paycue::store::CreateOutcome;
use paycue::telegram::watcher::{End, watch};
use support::app::{Backend, humo_text, now_ms, spawn};
use telegram_fake::{Call, Fake, Flaky, HUMO, Step, UZCARD, bot_msg, fast};
use tokio::sync::watch as signal;

support::both!(
    catch_up_reads_every_chat_oldest_first_then_applies_live_once,
    store_outages_are_retried_and_never_skip_a_message,
    expiry_waits_for_the_first_catch_up,
    shutdown_is_not_blocked_by_a_hung_store,
    expiry_waits_while_telegram_is_behind_after_a_reconnect,
    a_sweeper_in_another_process_holds_off_while_the_source_is_behind,
    an_on_time_payment_read_after_the_cancel_is_reported_paid_in_time,
    per_chat_state_belongs_to_the_logged_in_account,
);

/// Runs the watcher over `fake` until its live script is used up, then stops it.
async fn run_to_end(engine: Arc<Engine>, mut fake: Fake, chats: &[i64]) -> (End, Fake) {
    let (stop, shutdown) = signal::channel(false);
    let done = fake.done.clone();
    let chats = chats.to_vec();
    let task = tokio::spawn(async move {
        let end = watch(engine, &mut fake, &chats, &fast(), shutdown).await;
        (end, fake)
    });
    tokio::time::timeout(Duration::from_secs(20), done.notified())
        .await
        .expect("the watcher reached the end of the live script");
    stop.send(true).unwrap();
    task.await.unwrap()
}

async fn tx_for(engine: &Engine, price: i64) -> Transaction {
    let req = paycue::engine::CreateRequest {
        amount: Money::from_major(price),
        metadata: None,
        idempotency: None,
    };
    match engine.create(req).await.unwrap() {
        CreateOutcome::Created(tx) => tx,
        other => panic!("not created: {other:?}"),
    }
}

async fn catch_up_reads_every_chat_oldest_first_then_applies_live_once(b: Backend) {
    let Some(mut app) = spawn(b, "tg_catch_up", |c| {
        c.watch_id = Some(format!("{HUMO},{UZCARD}"))
    })
    .await
    else {
        return;
    };
    let engine = app.engine.clone();
    let t = now_ms();
    // Message 10 was applied before this start.
    engine.ingest(&bot_msg(HUMO, 10, t, "hello")).await.unwrap();
    let tx = tx_for(&engine, 20_000).await;
    assert_eq!(tx.amount, Money::from_major(20_001));
    let credit = humo_text(20_001, "7466");
    let fake = Fake::new(engine.clone())
        .history(
            HUMO,
            vec![
                bot_msg(HUMO, 9, t, &credit), // before the last applied id: not read
                bot_msg(HUMO, 11, t + 1, &credit),
                bot_msg(HUMO, 12, t + 2, &credit),
            ],
        )
        .history(UZCARD, vec![bot_msg(UZCARD, 40, t, "info")])
        .live(vec![
            Step::Live(bot_msg(HUMO, 12, t + 2, &credit)), // overlap with history
            Step::Live(bot_msg(HUMO, 13, t + 3, "hello")),
        ]);
    let (end, fake) = run_to_end(engine.clone(), fake, &[HUMO, UZCARD]).await;
    assert_eq!(end, End::Shutdown);

    let calls = fake.calls();
    let Call::History {
        chat,
        window,
        gate_open,
        ..
    } = &calls[0]
    else {
        panic!("{calls:?}")
    };
    assert_eq!((*chat, window.after_id, *gate_open), (HUMO, 10, false));
    assert!(
        matches!(
            &calls[1],
            Call::History {
                chat: UZCARD,
                gate_open: false,
                ..
            }
        ),
        "{calls:?}"
    );
    assert_eq!(
        calls[2],
        Call::Next { gate_open: true },
        "live only after catch-up"
    );
    assert_eq!(
        calls.iter().filter(|c| **c == Call::Sync).count(),
        2,
        "synced after each live message"
    );

    // Oldest first: message 11 paid the order, 12 came late, once.
    let tx = engine.store.get(&tx.id).await.unwrap().unwrap();
    assert_eq!(tx.status, TxStatus::Confirmed);
    let late = engine
        .store
        .list_credits(CreditOutcome::Late, 10)
        .await
        .unwrap();
    assert_eq!(
        late.iter().map(|c| c.message_id).collect::<Vec<_>>(),
        vec![12]
    );
    assert_eq!(app.receiver.next().await.json()["action"], "confirm");
    assert_eq!(app.receiver.next().await.json()["action"], "late");
    assert_eq!(
        engine.store.last_message_id("", HUMO).await.unwrap(),
        Some(13)
    );
    assert_eq!(
        engine.store.last_message_id("", UZCARD).await.unwrap(),
        Some(40)
    );
    app.receiver.assert_quiet(Duration::from_millis(300)).await;
    app.stop().await;
}

async fn store_outages_are_retried_and_never_skip_a_message(b: Backend) {
    let Some(app) = spawn(b, "tg_store_outage", |_| {}).await else {
        return;
    };
    let flaky = Arc::new(Flaky::new(app.engine.store.clone(), 2, 3));
    let engine = Engine::new(app.engine.config.clone(), flaky.clone());
    let tx = tx_for(&engine, 30_000).await;
    let t = now_ms();
    let credit = humo_text(30_001, "7466");
    let fake = Fake::new(engine.clone()).history(
        HUMO,
        vec![
            bot_msg(HUMO, 21, t, &credit),
            bot_msg(HUMO, 22, t + 1, &credit),
        ],
    );
    let (end, _) = run_to_end(engine.clone(), fake, &[HUMO]).await;
    assert_eq!(end, End::Shutdown);
    assert_eq!(flaky.failures(), 5, "every failure was retried");
    let tx = engine.store.get(&tx.id).await.unwrap().unwrap();
    assert_eq!(tx.status, TxStatus::Confirmed);
    let late = engine
        .store
        .list_credits(CreditOutcome::Late, 10)
        .await
        .unwrap();
    assert_eq!(
        late.iter().map(|c| c.message_id).collect::<Vec<_>>(),
        vec![22],
        "21 paid, 22 late: none skipped"
    );
    app.stop().await;
}

async fn expiry_waits_for_the_first_catch_up(b: Backend) {
    let Some(mut app) = spawn(b, "tg_expiry_gate", |c| c.tx_ttl = Some("1s".into())).await else {
        return;
    };
    let engine = app.engine.clone();
    let tx = tx_for(&engine, 50_000).await;
    // Paid in time, while paycue was "down": the message waits in history.
    let paid = bot_msg(HUMO, 7, tx.created_at + 100, &humo_text(50_001, "7466"));
    let (release, hold) = tokio::sync::oneshot::channel();
    let mut fake = Fake::new(engine.clone()).history(HUMO, vec![paid]);
    fake.hold_history = Some(hold);
    let started = fake.history_started.clone();
    let (stop, shutdown) = signal::channel(false);
    let watcher = {
        let engine = engine.clone();
        tokio::spawn(async move { watch(engine, &mut fake, &[HUMO], &fast(), shutdown).await })
    };
    started.notified().await;
    while now_ms() < tx.expires_at + 1_500 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !engine.is_caught_up(),
        "the gate opened before the catch-up finished"
    );
    let pending = engine.store.get(&tx.id).await.unwrap().unwrap();
    assert_eq!(pending.status, TxStatus::Pending, "expired during catch-up");

    release.send(()).unwrap();
    assert_eq!(app.receiver.next().await.json()["action"], "confirm");
    assert_eq!(
        engine.store.get(&tx.id).await.unwrap().unwrap().status,
        TxStatus::Confirmed
    );
    assert!(engine.is_caught_up());
    stop.send(true).unwrap();
    assert_eq!(watcher.await.unwrap(), End::Shutdown);
    app.stop().await;
}

async fn shutdown_is_not_blocked_by_a_hung_store(b: Backend) {
    let Some(app) = spawn(b, "tg_hung_store", |_| {}).await else {
        return;
    };
    let mut flaky = Flaky::new(app.engine.store.clone(), 0, 0);
    flaky.hang = true;
    let engine = Engine::new(app.engine.config.clone(), Arc::new(flaky));
    let credit = humo_text(30_001, "7466");
    let fake = Fake::new(engine.clone()).history(HUMO, vec![bot_msg(HUMO, 5, now_ms(), &credit)]);
    let applying = fake.history_started.clone();
    let (stop, shutdown) = signal::channel(false);
    let watcher = tokio::spawn(async move {
        let mut fake = fake;
        watch(engine, &mut fake, &[HUMO], &fast(), shutdown).await
    });
    applying.notified().await;
    stop.send(true).unwrap();
    let end = tokio::time::timeout(Duration::from_secs(20), watcher)
        .await
        .expect("the watcher stopped while the store hung");
    assert_eq!(end.unwrap(), End::Shutdown);
    assert_eq!(
        app.engine.store.last_message_id("", HUMO).await.unwrap(),
        None
    );
    app.stop().await;
}

async fn wait_until(ms: i64) {
    while now_ms() < ms {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Issue 14 item 4: after the first catch-up, a reconnect closes the expiry
/// gate again until the catch-up after it: the payment made in time, read
/// after the deadline, confirms (was: `cancel`, then `late`).
async fn expiry_waits_while_telegram_is_behind_after_a_reconnect(b: Backend) {
    let Some(mut app) = spawn(b, "tg_expiry_behind", |c| c.tx_ttl = Some("2s".into())).await else {
        return;
    };
    let engine = app.engine.clone();
    let tx = tx_for(&engine, 50_000).await;
    let paid = bot_msg(HUMO, 7, tx.created_at + 100, &humo_text(50_001, "7466"));
    let fake = Fake::new(engine.clone()).live(vec![
        Step::Quiet(Duration::from_millis(300)),
        Step::Arrive(paid),
        Step::Outage(Duration::from_secs(4)),
    ]);
    let failed = fake.failed.clone();
    let (stop, shutdown) = signal::channel(false);
    let watcher = {
        let engine = engine.clone();
        tokio::spawn(async move {
            let mut fake = fake;
            watch(engine, &mut fake, &[HUMO], &fast(), shutdown).await
        })
    };
    failed.notified().await;
    wait_until(tx.expires_at + 1_500).await;
    assert!(!engine.is_caught_up(), "the gate stayed open while behind");
    let pending = engine.store.get(&tx.id).await.unwrap().unwrap();
    assert_eq!(pending.status, TxStatus::Pending, "expired while behind");
    assert_eq!(app.receiver.next().await.json()["action"], "confirm");
    stop.send(true).unwrap();
    assert_eq!(watcher.await.unwrap(), End::Shutdown);
    app.stop().await;
}

/// Issue 14 item 4: the Telegram process is behind; a second process on the
/// same store (its own source live) must not cancel either.
async fn a_sweeper_in_another_process_holds_off_while_the_source_is_behind(b: Backend) {
    let Some(app) = spawn(b, "tg_expiry_two", |c| c.tx_ttl = Some("1s".into())).await else {
        return;
    };
    let telegram = app.engine.clone(); // behind: never caught up
    let other = Engine::new(telegram.config.clone(), telegram.store.clone());
    other.mark_caught_up();
    let (stop, shutdown) = signal::channel(false);
    let sweeper = tokio::spawn(other.clone().run_expiry(shutdown));
    let tx = tx_for(&telegram, 40_000).await;
    wait_until(tx.expires_at + 2_500).await;
    let status = |id: String| {
        let store = telegram.store.clone();
        async move { store.get(&id).await.unwrap().unwrap().status }
    };
    assert_eq!(status(tx.id.clone()).await, TxStatus::Pending);
    telegram.mark_caught_up();
    let deadline = now_ms() + 10_000;
    while status(tx.id.clone()).await == TxStatus::Pending && now_ms() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status(tx.id.clone()).await, TxStatus::Cancelled);
    stop.send(true).unwrap();
    sweeper.await.unwrap();
    app.stop().await;
}

/// Issue 14 item 4: what still slips through (the bank's own message came
/// late) is reported: the `late` webhook says `paid_in_time`.
async fn an_on_time_payment_read_after_the_cancel_is_reported_paid_in_time(b: Backend) {
    let Some(mut app) = spawn(b, "tg_paid_in_time", |c| c.tx_ttl = Some("1s".into())).await else {
        return;
    };
    let engine = app.engine.clone();
    engine.mark_caught_up();
    let tx = tx_for(&engine, 60_000).await;
    let cancel = app.receiver.next().await.json();
    assert_eq!(cancel["action"], "cancel");
    assert_eq!(cancel["paid_in_time"], false);
    let on_time = bot_msg(HUMO, 9, tx.created_at + 100, &humo_text(60_001, "7466"));
    engine.ingest(&on_time).await.unwrap();
    let late = app.receiver.next().await.json();
    assert_eq!(late["action"], "late");
    assert_eq!(late["paid_in_time"], true, "{late}");
    // Paid after the deadline: late, and not in time.
    let tx2 = tx_for(&engine, 61_000).await;
    let _ = app.receiver.next().await; // its cancel
    let after = bot_msg(HUMO, 10, tx2.expires_at + 5_000, &humo_text(61_001, "7466"));
    engine.ingest(&after).await.unwrap();
    let late2 = app.receiver.next().await.json();
    assert_eq!(late2["action"], "late");
    assert_eq!(late2["paid_in_time"], false);
    app.stop().await;
}

/// Issue 9 item 5: log in as A, apply messages; switch to B, whose message
/// ids in the same bot chat start at 1: B's credits apply (were skipped as
/// older than A's last id), and switching back to A keeps A's place.
async fn per_chat_state_belongs_to_the_logged_in_account(b: Backend) {
    let Some(app) = spawn(b, "tg_accounts", |_| {}).await else {
        return;
    };
    let engine = app.engine.clone();
    let (a, b_acct) = (1_111_i64, 2_222_i64);
    engine.set_scope(engine.store.chat_scope(a).await.unwrap());
    let t = now_ms();
    engine
        .ingest(&bot_msg(HUMO, 500, t, "hello"))
        .await
        .unwrap();
    engine
        .ingest(&bot_msg(HUMO, 501, t, "hello"))
        .await
        .unwrap();

    engine.set_scope(engine.store.chat_scope(b_acct).await.unwrap());
    let tx = tx_for(&engine, 70_000).await;
    let credit = humo_text(70_001, "7466");
    let fake = Fake::new(engine.clone()).history(
        HUMO,
        vec![
            bot_msg(HUMO, 1, t + 1, "hi"),
            bot_msg(HUMO, 2, t + 2, &credit),
        ],
    );
    let (end, _) = run_to_end(engine.clone(), fake, &[HUMO]).await;
    assert_eq!(end, End::Shutdown);
    assert_eq!(
        engine.store.get(&tx.id).await.unwrap().unwrap().status,
        TxStatus::Confirmed
    );
    assert_eq!(engine.last_applied(HUMO).await.unwrap(), Some(2));

    engine.set_scope(engine.store.chat_scope(a).await.unwrap());
    assert_eq!(engine.last_applied(HUMO).await.unwrap(), Some(501));
    let replay = engine
        .ingest(&bot_msg(HUMO, 501, t, "hello"))
        .await
        .unwrap();
    assert_eq!(replay.label(), "duplicate");
    app.stop().await;
}
