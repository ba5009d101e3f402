//! Alerts across a crash, on memory and on Redis: what was applied to the
//! store while no pump could hear of it (paycue died between matching and
//! queueing the alert) is alerted by the next process's look at the store.
//! The "next process" is a fresh alert pump and sender on the same alert
//! state, whose `started` an earlier run had set.

mod support;
mod telegram_fake;

use std::sync::Arc;

use paycue::alerts::state::{AlertState, MemoryAlerts, RedisAlerts};
use paycue::engine::{IncomingMessage, IngestOutcome};
use paycue::store::ApplyOutcome;
use support::app::{Backend, TestApp, now_ms, spawn};
use telegram_fake::FakeChat;
use tokio::sync::watch as signal;

support::both!(
    a_reversal_applied_before_a_crash_is_alerted_after_the_restart,
    the_first_silence_is_followed_by_messages_again,
);

fn state_of(app: &TestApp) -> Arc<dyn AlertState> {
    match &app.redis {
        Some(r) => Arc::new(RedisAlerts::open(&r.url())),
        None => Arc::new(MemoryAlerts::new()),
    }
}

/// A @HUMOcardbot reversal taking `amount` UZS back from the card.
fn humo_reversal(amount: i64, card4: &str) -> String {
    format!(
        "❌ Отмена операций карты\n➖ {amount},00 UZS\n📍 P2P\n💳 HUMOCARD *{card4}\n🕓 13:54 22.07.2026\n💰 523.419,46 UZS"
    )
}

/// The bank took back a confirmed payment and paycue died before queueing
/// the alert: the restarted paycue still tells the seller (money is gone
/// for an order the shop counts as paid).
async fn a_reversal_applied_before_a_crash_is_alerted_after_the_restart(b: Backend) {
    let Some(app) = spawn(b, "alerts_restart_reversal", |c| {
        c.cards = Some("9860****7466".into());
        c.alert_lang = Some("en".into());
    })
    .await
    else {
        return;
    };
    let state = state_of(&app);
    // Alerts ran before: the process that died had started them.
    state.started(now_ms() - 60_000).await.unwrap();
    app.create(3000).await;
    app.humo_credit(10, 3001, "7466", now_ms()).await;
    // No pump listens (the process is dying): the engine hands no fact over.
    let msg = IncomingMessage {
        sender_id: 856_254_490,
        chat_id: None,
        message_id: 11,
        date: now_ms(),
        text: humo_reversal(3001, "7466"),
    };
    let outcome = app.engine.ingest(&msg).await.unwrap();
    assert!(
        matches!(
            outcome,
            IngestOutcome::Applied(ApplyOutcome::Reversed { .. })
        ),
        "{outcome:?}"
    );
    // The restart: alerts start again on the same state.
    let chat = Arc::new(FakeChat::default());
    let (stop, shutdown) = signal::channel(false);
    let alerts = paycue::alerts::spawn(app.engine.clone(), state, chat.clone(), shutdown)
        .expect("alerts run");
    let sent = chat.wait_sent(1).await;
    assert_eq!(sent[0].label, "reversal", "{sent:?}");
    assert!(sent[0].text.contains("3,001"), "{}", sent[0].text);
    stop.send(true).unwrap();
    alerts.await.unwrap();
}

/// Alerts started two hours ago and no bank message ever came (a wrong
/// WATCH_ID, a bot that never wrote): with ALERT_SILENCE=1h the seller hears
/// of the silence; once a message comes, "messages again" follows, as after
/// any other silence.
async fn the_first_silence_is_followed_by_messages_again(b: Backend) {
    let Some(app) = spawn(b, "alerts_first_silence", |c| {
        c.alert_lang = Some("en".into());
        c.alert_silence = Some("1h".into());
    })
    .await
    else {
        return;
    };
    let state = state_of(&app);
    state.started(now_ms() - 2 * 3600 * 1000).await.unwrap();
    app.engine.mark_caught_up();
    let chat = Arc::new(FakeChat::default());
    let (stop, shutdown) = signal::channel(false);
    let alerts = paycue::alerts::spawn(app.engine.clone(), state, chat.clone(), shutdown)
        .expect("alerts run");
    let sent = chat.wait_sent(1).await;
    assert_eq!(sent[0].label, "silence", "{sent:?}");
    let msg = IncomingMessage {
        sender_id: 856_254_490,
        chat_id: None,
        message_id: 1,
        date: now_ms(),
        text: "Karta bloklandi".into(),
    };
    app.engine.ingest(&msg).await.unwrap();
    let sent = chat.wait_sent(2).await;
    assert_eq!(sent[1].label, "silence_over", "{sent:?}");
    stop.send(true).unwrap();
    alerts.await.unwrap();
}
