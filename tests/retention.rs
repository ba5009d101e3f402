//! The retention sweep through the real app: with `RETENTION=1d`, a paid
//! order and its webhook record are gone two days later (404), a pending
//! one stays, and the bank message that paid it is still a duplicate.

mod support;

use paycue::engine::IngestOutcome;
use support::app::{Backend, now_ms, spawn};

support::both!(retention_sweep_removes_old_orders_and_still_refuses_replays);

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

    let later = now_ms() + 2 * DAY;
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
