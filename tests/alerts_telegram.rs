//! Alerts delivered through the scripted Telegram: a credit read by the
//! watcher that matches no order reaches the seller's chat as one message
//! (recorded by the fake), a failed send is retried, and the shop's webhook
//! failing and working again are one alert each, on memory and on Redis.

mod support;
mod telegram_fake;

use std::sync::Arc;
use std::time::Duration;

use paycue::alerts::send::SendError;
use paycue::alerts::state::{AlertState, MemoryAlerts, RedisAlerts};
use paycue::engine::Engine;
use paycue::telegram::watcher::{End, watch};
use support::app::{Backend, TestApp, humo_text, now_ms, spawn};
use telegram_fake::{Fake, FakeChat, HUMO, Step, bot_msg, fast};
use tokio::sync::watch as signal;

support::both!(an_unmatched_credit_from_telegram_reaches_the_seller_after_a_failed_send,);

fn state_of(app: &TestApp) -> Arc<dyn AlertState> {
    match &app.redis {
        Some(r) => Arc::new(RedisAlerts::open(&r.url())),
        None => Arc::new(MemoryAlerts::new()),
    }
}

/// Runs the watcher over `fake` until its live script is used up.
async fn watch_all(engine: Arc<Engine>, mut fake: Fake) -> End {
    let (stop, shutdown) = signal::channel(false);
    let done = fake.done.clone();
    let task =
        tokio::spawn(async move { watch(engine, &mut fake, &[HUMO], &fast(), shutdown).await });
    tokio::time::timeout(Duration::from_secs(20), done.notified())
        .await
        .expect("the watcher reached the end of the live script");
    stop.send(true).unwrap();
    task.await.unwrap()
}

async fn an_unmatched_credit_from_telegram_reaches_the_seller_after_a_failed_send(b: Backend) {
    let Some(app) = spawn(b, "alerts_tg_unmatched", |c| {
        c.alert_lang = Some("en".into())
    })
    .await
    else {
        return;
    };
    let engine = app.engine.clone();
    let chat = Arc::new(FakeChat::failing(vec![SendError::Failed(
        "Telegram is not connected (the watcher is reconnecting)".into(),
    )]));
    let (stop, shutdown) = signal::channel(false);
    let alerts = paycue::alerts::spawn(engine.clone(), state_of(&app), chat.clone(), shutdown)
        .expect("alerts run");
    let credit = bot_msg(HUMO, 7, now_ms(), &humo_text(20_001, "7466"));
    let fake = Fake::new(engine.clone()).live(vec![Step::Live(credit)]);
    watch_all(engine.clone(), fake).await;
    let sent = chat.wait_sent(1).await;
    let tries = chat.tries.lock().unwrap().clone();
    assert!(
        tries[0].is_err(),
        "the first send was scripted to fail: {tries:?}"
    );
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].label, "unmatched");
    let text = &sent[0].text;
    assert!(text.contains("A payment matched no order"), "{text}");
    assert!(text.contains("*7466"), "{text}");
    assert!(text.contains("HUMOCARD *7466"), "the bank's text: {text}");
    assert!(text.contains("paycue assign "), "{text}");
    assert_eq!(
        engine
            .metrics
            .render()
            .lines()
            .find(|l| l.starts_with("paycue_alerts_send_failures_total")),
        Some("paycue_alerts_send_failures_total{kind=\"unmatched\"} 1")
    );
    stop.send(true).unwrap();
    alerts.await.unwrap();
}
