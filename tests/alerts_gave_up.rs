//! An event given up after its last retry is one alert; the seller
//! redelivers it and it is given up again: that is a new failure, and a
//! second alert, not swallowed by the first one's claim (kept for days).

mod support;
mod telegram_fake;

use std::sync::Arc;
use std::time::Duration;

use paycue::alerts::state::{AlertState, MemoryAlerts, RedisAlerts};
use paycue::engine::IngestOutcome;
use paycue::store::ApplyOutcome;
use serde_json::json;
use support::app::{Backend, TestApp, now_ms, spawn};
use telegram_fake::FakeChat;
use tokio::sync::watch as signal;

support::both!(
    an_event_given_up_again_after_a_redeliver_is_alerted_again,
    a_redeliver_asked_during_the_last_attempt_is_no_give_up,
);

fn state_of(app: &TestApp) -> Arc<dyn AlertState> {
    match &app.redis {
        Some(r) => Arc::new(RedisAlerts::open(&r.url())),
        None => Arc::new(MemoryAlerts::new()),
    }
}

/// Alerts queued or sent so far reach `n` within 15 s.
async fn alerts_reach(state: &Arc<dyn AlertState>, chat: &FakeChat, n: u64) -> u64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let seen = state.pending().await.unwrap() + chat.sent().len() as u64;
        if seen >= n || tokio::time::Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn an_event_given_up_again_after_a_redeliver_is_alerted_again(b: Backend) {
    let Some(mut app) = spawn(b, "alerts_gave_up", |c| {
        c.webhook_retries = Some("1".into());
        c.alert_lang = Some("en".into());
    })
    .await
    else {
        return;
    };
    let state = state_of(&app);
    let chat = Arc::new(FakeChat::default());
    let (stop, shutdown) = signal::channel(false);
    let alerts = paycue::alerts::spawn(app.engine.clone(), state.clone(), chat.clone(), shutdown)
        .expect("alerts run");
    app.receiver.answer(&[500, 500, 500, 500]);
    let tx = app.create(5000).await;
    let id = tx["transaction_id"].as_str().unwrap().to_string();
    app.humo_credit(31, 5001, "7466", now_ms()).await;
    for _ in 0..2 {
        assert_eq!(app.receiver.next().await.code, 500);
    }
    assert_eq!(alerts_reach(&state, &chat, 1).await, 1, "given up once");

    let (code, body) = app
        .post(&format!("/transactions/{id}/redeliver"), json!({}))
        .await;
    assert_eq!(code, 202, "{body}");
    for _ in 0..2 {
        assert_eq!(app.receiver.next().await.code, 500);
    }
    assert_eq!(
        alerts_reach(&state, &chat, 2).await,
        2,
        "given up again after the redeliver: a second alert"
    );
    stop.send(true).unwrap();
    let _ = alerts.await;
    app.stop().await;
}

/// The seller redelivers while the event's last attempt is in flight: that
/// attempt fails, but the event is not given up (it is queued again at once,
/// with its retries) and here it is then delivered: no "given up" alert.
async fn a_redeliver_asked_during_the_last_attempt_is_no_give_up(b: Backend) {
    let Some(mut app) = spawn(b, "alerts_gave_up_coalesced", |c| {
        c.webhook_retries = Some("0".into());
        c.alert_lang = Some("en".into());
    })
    .await
    else {
        return;
    };
    let state = state_of(&app);
    let chat = Arc::new(FakeChat::default());
    let (stop, shutdown) = signal::channel(false);
    let alerts = paycue::alerts::spawn(app.engine.clone(), state.clone(), chat.clone(), shutdown)
        .expect("alerts run");
    app.receiver.set_delay(Duration::from_millis(1500));
    app.receiver.answer(&[500]);
    let tx = app.create(5000).await;
    let id = tx["transaction_id"].as_str().unwrap().to_string();
    app.humo_credit(31, 5001, "7466", now_ms()).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while app.receiver.in_flight() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no attempt began");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (code, body) = app
        .post(&format!("/transactions/{id}/redeliver"), json!({}))
        .await;
    assert_eq!(code, 202, "{body}");
    let first = app.receiver.next().await;
    assert_eq!(first.code, 500, "the last attempt failed");
    assert_eq!(app.receiver.next().await.code, 200, "then the redelivery");
    // A later alert, through the same ordered hub: once it is queued, a
    // give-up alert, had one been decided, would be counted too.
    let IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) =
        app.humo_credit(32, 777_700, "7466", now_ms()).await
    else {
        panic!("the marker credit matched something");
    };
    let marker = format!("unmatched:{}", credit.id);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !state.is_queued(&marker).await.unwrap() {
        assert!(tokio::time::Instant::now() < deadline, "marker not queued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = state.pending().await.unwrap() + chat.sent().len() as u64;
    assert_eq!(seen, 1, "only the marker; sent: {:?}", chat.sent());
    assert_eq!(
        app.engine.metrics.webhook_exhausted.get(),
        0,
        "paycue_webhook_exhausted_total counted an event not given up"
    );
    stop.send(true).unwrap();
    let _ = alerts.await;
    app.stop().await;
}
