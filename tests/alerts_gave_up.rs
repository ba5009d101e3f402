//! An event given up after its last retry is one alert; the seller
//! redelivers it and it is given up again: that is a new failure, and a
//! second alert, not swallowed by the first one's claim (kept for days).

mod support;
mod telegram_fake;

use std::sync::Arc;
use std::time::Duration;

use paycue::alerts::state::{AlertState, MemoryAlerts, RedisAlerts};
use serde_json::json;
use support::app::{Backend, TestApp, now_ms, spawn};
use telegram_fake::FakeChat;
use tokio::sync::watch as signal;

support::both!(an_event_given_up_again_after_a_redeliver_is_alerted_again,);

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
