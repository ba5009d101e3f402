//! The retention sweep through the real app: with `RETENTION=1d`, a paid
//! order and its webhook record are gone once the day and the reversal
//! window are over (404), a pending
//! one stays, and the bank message that paid it is still a duplicate.

mod support;

use paycue::engine::{IncomingMessage, IngestOutcome};
use paycue::manual::Actor;
use paycue::store::ApplyOutcome;
use support::app::{Backend, now_ms, spawn};

support::both!(
    retention_sweep_removes_old_orders_and_still_refuses_replays,
    retention_forgets_a_credit_settled_by_hand_for_reversals,
);

const DAY: i64 = 86_400_000;

async fn retention_sweep_removes_old_orders_and_still_refuses_replays(b: Backend) {
    let Some(mut app) = spawn(b, "retention_app", |c| c.retention = Some("1d".into())).await else {
        return;
    };
    let paid = app.create(6000).await;
    let id = paid["transaction_id"].as_str().unwrap().to_string();
    app.humo_credit(21, 6001, "1111", now_ms()).await;
    assert_eq!(app.receiver.next().await.json()["action"], "confirm");
    let pending = app.create(9000).await;
    let pending_id = pending["transaction_id"].as_str().unwrap().to_string();

    // Nothing is a day old yet.
    let now = paycue::retention::prune_once(&app.engine, now_ms())
        .await
        .unwrap();
    assert_eq!(now, paycue::store::Pruned::default());
    assert_eq!(app.get(&format!("/transactions/{id}")).await.0, 200);

    let later = now_ms() + 4 * DAY;
    let removed = paycue::retention::prune_once(&app.engine, later)
        .await
        .unwrap();
    assert_eq!(removed.transactions, 1, "{removed:?}");
    assert_eq!(app.get(&format!("/transactions/{id}")).await.0, 404);
    assert_eq!(app.get(&format!("/transactions/{pending_id}")).await.0, 200);
    assert_eq!(
        app.humo_credit(21, 6001, "1111", now_ms()).await,
        IngestOutcome::Duplicate,
        "the paying message, replayed after retention"
    );
    app.stop().await;
}

/// A credit of another amount settled by hand is indexed for reversals
/// under its own amount; retention removes that entry with the order (a
/// reversal after it matches nothing, and no Redis key is left behind).
async fn retention_forgets_a_credit_settled_by_hand_for_reversals(b: Backend) {
    let Some(mut app) = spawn(b, "retention_manual", |c| {
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

    let removed = paycue::retention::prune_once(&app.engine, now_ms() + 4 * DAY)
        .await
        .unwrap();
    assert_eq!(removed.transactions, 1, "{removed:?}");
    if let Some(redis) = &app.redis {
        let client = ::redis::Client::open(redis.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let left: Vec<String> = ::redis::cmd("KEYS")
            .arg("paycue:paid:*")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(left.is_empty(), "reversal index left behind: {left:?}");
    }
    let reversal = IncomingMessage {
        sender_id: 856_254_490,
        chat_id: None,
        message_id: 22,
        date: now_ms(),
        text: "❌ Отмена операций карты\n➖ 5000,00 UZS\n📍 P2P\n💳 HUMOCARD *1111\n🕓 13:54 22.07.2026\n💰 523.419,46 UZS".into(),
    };
    let outcome = app.engine.ingest(&reversal).await.expect("ingest");
    assert!(
        matches!(
            outcome,
            IngestOutcome::Applied(ApplyOutcome::Unmatched { .. })
        ),
        "{outcome:?}"
    );
    app.stop().await;
}
