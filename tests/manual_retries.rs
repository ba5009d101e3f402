//! A webhook's retries send the same bytes even when the seller settles the
//! order by hand in between: an expired order's `cancel` (and a `late`
//! paid in time) still in their retries keep the status they were written
//! with, not the `confirmed` the hand gave later.

mod support;

use paycue::engine::{IngestOutcome, new_event_id};
use paycue::manual::Actor;
use paycue::store::ApplyOutcome;
use support::app::{Backend, now_ms, spawn};

support::both!(events_in_their_retries_keep_their_body_after_a_hand_confirm);

async fn events_in_their_retries_keep_their_body_after_a_hand_confirm(b: Backend) {
    // One-second orders; a failed attempt is retried after 5 s, time enough
    // for the hand to confirm in between.
    let Some(mut app) = spawn(b, "manual_retries", |c| {
        c.cards = Some("9860****7466".into());
        c.tx_ttl = Some("1s".into());
        c.webhook_backoff = Some("5s,5s,5s".into());
    })
    .await
    else {
        return;
    };
    let t0 = now_ms();
    let tx = app.create(7000).await;
    let id = tx["transaction_id"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let swept = app
        .engine
        .store
        .expire_due(now_ms(), &[new_event_id()])
        .await
        .unwrap();
    assert_eq!(swept.len(), 1);
    app.receiver.answer(&[500]);
    app.engine.outbox.notify_waiters();
    let first = app.receiver.next().await;
    assert_eq!(first.code, 500);
    assert_eq!(first.json()["action"], "cancel");
    assert_eq!(first.json()["status"], "cancelled");

    // Paid before the deadline, read after it: `late` with paid_in_time.
    let outcome = app.humo_credit(4, 7001, "7466", t0 + 500).await;
    assert!(
        matches!(outcome, IngestOutcome::Applied(ApplyOutcome::Late { .. })),
        "{outcome:?}"
    );
    app.engine
        .confirm_by_hand(&id, &Actor::cli("alice", "host"))
        .await
        .expect("an expired order can be confirmed by hand");

    let retry = app.receiver.next().await;
    assert_eq!(retry.header("webhook-id"), first.header("webhook-id"));
    assert_eq!(retry.body, first.body, "a retry sends the same bytes");
    let late = app.receiver.next().await.json();
    assert_eq!(late["action"], "late");
    assert_eq!(late["status"], "cancelled", "{late}");
    assert_eq!(late["paid_in_time"], true, "{late}");
    let confirm = app.receiver.next().await.json();
    assert_eq!(confirm["action"], "confirm");
    assert_eq!(confirm["status"], "confirmed");
    assert_eq!(confirm["manual"], true);
    app.stop().await;
}
