//! Events a previous release wrote to Redis (without the transaction's
//! status as of the event) keep their webhook body across the upgrade: a
//! `cancel` and a `late` still in their retries when the seller confirms the
//! expired order by hand are resent as they were first sent (`cancelled`,
//! `paid_in_time` kept), not with the `confirmed` the hand gave later.

mod support;

use paycue::engine::{IngestOutcome, new_event_id};
use paycue::manual::Actor;
use paycue::store::ApplyOutcome;
use support::app::{Backend, now_ms, spawn};

#[tokio::test]
async fn old_events_in_their_retries_keep_their_body_after_a_hand_confirm() {
    let Some(mut app) = spawn(Backend::Redis, "upgrade_events", |c| {
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
    // The order's one second runs out (the sweep is called with the clock).
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
    let outcome = app.humo_credit(4, 7001, "7466", t0 + 500).await;
    assert!(
        matches!(outcome, IngestOutcome::Applied(ApplyOutcome::Late { .. })),
        "{outcome:?}"
    );

    // As the previous release wrote them: no status of their own.
    let redis = app.redis.as_ref().expect("a Redis test");
    let client = ::redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let events: Vec<String> = ::redis::cmd("LRANGE")
        .arg(format!("paycue:tx:{id}:events"))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "cancel and late");
    for eid in &events {
        let _: i64 = ::redis::cmd("HDEL")
            .arg(format!("paycue:event:{eid}"))
            .arg("tx_status")
            .arg("tx_cancel_reason")
            .query_async(&mut conn)
            .await
            .unwrap();
    }

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
    app.stop().await;
}

/// A credit an older release assigned by hand has no reversal index entry
/// and no `paid_key`: retention still removes its order, the credit and
/// every key of them.
#[tokio::test]
async fn an_old_credit_assigned_by_hand_goes_with_its_order() {
    let Some(mut app) = spawn(Backend::Redis, "upgrade_manual_credit", |c| {
        c.retention = Some("1d".into());
        c.cards = Some("9860****1111".into());
    })
    .await
    else {
        return;
    };
    let tx = app.create(6000).await;
    let id = tx["transaction_id"].as_str().unwrap().to_string();
    let IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) =
        app.humo_credit(21, 5000, "1111", now_ms()).await
    else {
        panic!("5 000 matches no order of 6 001");
    };
    app.engine
        .assign_credit(&credit.id, &id, &Actor::cli("alice", "host"))
        .await
        .expect("assigned");
    assert_eq!(app.receiver.next().await.json()["action"], "confirm");

    let redis = app.redis.as_ref().expect("a Redis test");
    let client = ::redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("paycue:credit:{}", credit.id);
    let pk: String = ::redis::cmd("HGET")
        .arg(&key)
        .arg("paid_key")
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = ::redis::pipe()
        .cmd("HDEL")
        .arg(&key)
        .arg("paid_key")
        .ignore()
        .cmd("ZREM")
        .arg(format!("paycue:paid:{pk}"))
        .arg(&credit.id)
        .ignore()
        .query_async(&mut conn)
        .await
        .unwrap();

    let removed = paycue::retention::prune_once(&app.engine, now_ms() + 4 * 86_400_000)
        .await
        .unwrap();
    assert_eq!(removed.transactions, 1, "{removed:?}");
    let left: Vec<String> = ::redis::cmd("KEYS")
        .arg("paycue:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    let stray: Vec<&String> = left
        .iter()
        .filter(|k| k.contains(&id) || k.contains(&credit.id) || k.starts_with("paycue:paid:"))
        .collect();
    assert!(stray.is_empty(), "left behind: {stray:?}");
    app.stop().await;
}
