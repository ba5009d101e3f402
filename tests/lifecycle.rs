//! Transaction lifecycle end to end through the real app: credits confirm,
//! replays are ignored, expiry and late payments, webhook signing, retries,
//! redelivery. Every test runs against the in-memory store and a real Redis.

mod support;

use std::time::Duration;

use paycue::engine::IngestOutcome;
use paycue::store::ApplyOutcome;
use serde_json::json;
use support::app::{Backend, now_ms, spawn, spawn_with};

support::both!(
    credit_confirms_with_signed_webhook,
    replayed_message_applies_once,
    expiry_cancels_then_late_credit_is_reported_not_matched,
    credit_dated_before_deadline_confirms_when_processed_late,
    api_cancel_sends_cancel_webhook,
    webhook_retries_keep_event_id_then_fail_without_touching_state,
    redeliver_sends_last_event_again,
    unmatched_credits_are_listed,
    unwatched_sender_is_ignored,
);

async fn credit_confirms_with_signed_webhook(b: Backend) {
    let Some(mut app) = spawn(b, "confirm", |c| c.cards = Some("9860****7466".into())).await else {
        return;
    };
    let (_, created) = app
        .post(
            "/create/transaction/",
            json!({"amount": 20000, "metadata": {"order": "A1"}}),
        )
        .await;
    let id = created["data"]["transaction_id"]
        .as_str()
        .unwrap()
        .to_string();
    let outcome = app.humo_credit(100, 20001, "7466", now_ms()).await;
    assert!(
        matches!(
            outcome,
            IngestOutcome::Applied(ApplyOutcome::Confirmed { .. })
        ),
        "{outcome:?}"
    );
    let hit = app.receiver.next().await;
    let body = hit.json();
    assert_eq!(body["action"], "confirm");
    assert_eq!(body["transaction_id"], id.as_str());
    assert_eq!(body["amount"], 20001);
    assert_eq!(body["requested_amount"], 20000);
    assert_eq!(body["card"], "9860****7466");
    assert_eq!(body["metadata"], json!({"order": "A1"}));
    assert_eq!(body["event_id"], hit.header("webhook-id").as_str());
    assert!(hit.signed_over(&hit.body));
    assert!(!hit.signed_over(&hit.body.replace("20001", "20002")));
    // The attempt is recorded and shown.
    let mut shown = serde_json::Value::Null;
    for _ in 0..50 {
        shown = app.get(&format!("/transactions/{id}")).await.1;
        if shown["data"]["events"][0]["delivery"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(shown["data"]["status"], "confirmed");
    assert_eq!(shown["data"]["events"][0]["delivery"], "delivered");
    assert_eq!(
        shown["data"]["events"][0]["attempts"][0]["status_code"],
        200
    );
    // The amount is not reissued while it is held after the payment.
    assert_eq!(app.create(20000).await["amount"], 20002);
    app.stop().await;
}

async fn replayed_message_applies_once(b: Backend) {
    let Some(mut app) = spawn(b, "replay", |_| {}).await else {
        return;
    };
    app.create(5000).await;
    app.create(5000).await;
    assert!(matches!(
        app.humo_credit(7, 5001, "1111", now_ms()).await,
        IngestOutcome::Applied(ApplyOutcome::Confirmed { .. })
    ));
    for _ in 0..3 {
        assert_eq!(
            app.humo_credit(7, 5001, "1111", now_ms()).await,
            IngestOutcome::Duplicate
        );
    }
    // Same message id, even with another amount, is still the same message.
    assert_eq!(
        app.humo_credit(7, 5002, "1111", now_ms()).await,
        IngestOutcome::Duplicate
    );
    assert_eq!(app.receiver.next().await.json()["action"], "confirm");
    app.receiver.assert_quiet(Duration::from_millis(700)).await;
    assert_eq!(
        app.get("/transactions?status=confirmed").await.1["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.engine
            .store
            .last_message_id("", 856_254_490)
            .await
            .unwrap(),
        Some(7)
    );
    app.stop().await;
}

async fn expiry_cancels_then_late_credit_is_reported_not_matched(b: Backend) {
    let Some(mut app) = spawn(b, "expiry_late", |c| c.tx_ttl = Some("1s".into())).await else {
        return;
    };
    let tx = app.create(7000).await;
    // The sweep cancels nothing before the first catch-up has finished.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.get(&format!(
            "/transactions/{}",
            tx["transaction_id"].as_str().unwrap()
        ))
        .await
        .1["data"]["status"],
        "pending"
    );
    app.engine.mark_caught_up();
    let hit = app.receiver.next().await;
    assert_eq!(hit.json()["action"], "cancel");
    assert_eq!(hit.json()["transaction_id"], tx["transaction_id"]);
    // A new order for the same price does not get the ended one's amount...
    let newer = app.create(7000).await;
    assert_eq!(newer["amount"], 7002);
    // ...so the late payment is reported on the old one, never confirms the new one.
    let outcome = app.humo_credit(9, 7001, "1111", now_ms()).await;
    assert!(
        matches!(outcome, IngestOutcome::Applied(ApplyOutcome::Late { .. })),
        "{outcome:?}"
    );
    let late = app.receiver.next().await.json();
    assert_eq!(late["action"], "late");
    assert_eq!(late["transaction_id"], tx["transaction_id"]);
    assert_eq!(
        app.get(&format!(
            "/transactions/{}",
            newer["transaction_id"].as_str().unwrap()
        ))
        .await
        .1["data"]["status"],
        "pending"
    );
    let (_, credits) = app.get("/credits?outcome=late").await;
    assert_eq!(credits["data"][0]["transaction_id"], tx["transaction_id"]);
    app.stop().await;
}

async fn credit_dated_before_deadline_confirms_when_processed_late(b: Backend) {
    let Some(mut app) = spawn(b, "dated_before_deadline", |c| c.tx_ttl = Some("1s".into())).await
    else {
        return;
    };
    let tx = app.create(8000).await;
    let paid_at = now_ms() + 200;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    // Processed after the deadline (paycue was catching up), dated before it.
    let outcome = app.humo_credit(11, 8001, "1111", paid_at).await;
    assert!(
        matches!(
            outcome,
            IngestOutcome::Applied(ApplyOutcome::Confirmed { .. })
        ),
        "{outcome:?}"
    );
    app.engine.mark_caught_up();
    assert_eq!(app.receiver.next().await.json()["action"], "confirm");
    app.receiver.assert_quiet(Duration::from_millis(1500)).await;
    assert_eq!(
        app.get(&format!(
            "/transactions/{}",
            tx["transaction_id"].as_str().unwrap()
        ))
        .await
        .1["data"]["status"],
        "confirmed"
    );
    // Dated after the deadline: cancelled, then late (in that order).
    let other = app.create(9000).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let outcome = app.humo_credit(12, 9001, "1111", now_ms()).await;
    assert!(
        matches!(outcome, IngestOutcome::Applied(ApplyOutcome::Late { .. })),
        "{outcome:?}"
    );
    let first = app.receiver.next().await.json();
    let second = app.receiver.next().await.json();
    assert_eq!(
        (first["action"].as_str(), second["action"].as_str()),
        (Some("cancel"), Some("late"))
    );
    assert_eq!(first["transaction_id"], other["transaction_id"]);
    app.stop().await;
}

async fn api_cancel_sends_cancel_webhook(b: Backend) {
    let Some(mut app) = spawn(b, "api_cancel", |_| {}).await else {
        return;
    };
    let tx = app.create(3000).await;
    let id = tx["transaction_id"].as_str().unwrap();
    let (code, body) = app
        .post(&format!("/transactions/{id}/cancel"), json!({}))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["status"], "cancelled");
    assert_eq!(app.receiver.next().await.json()["action"], "cancel");
    // A payment after the cancel is late, not a confirmation.
    assert!(matches!(
        app.humo_credit(1, 3001, "1111", now_ms()).await,
        IngestOutcome::Applied(ApplyOutcome::Late { .. })
    ));
    assert_eq!(
        app.post(
            &format!("/transactions/{}/cancel", uuid::Uuid::new_v4()),
            json!({})
        )
        .await
        .0,
        404
    );
    app.stop().await;
}

async fn webhook_retries_keep_event_id_then_fail_without_touching_state(b: Backend) {
    let Some(mut app) = spawn(b, "retries", |c| c.webhook_retries = Some("2".into())).await else {
        return;
    };
    app.receiver.answer(&[500, 503, 502]);
    let tx = app.create(4000).await;
    app.humo_credit(1, 4001, "1111", now_ms()).await;
    let hits = [
        app.receiver.next().await,
        app.receiver.next().await,
        app.receiver.next().await,
    ];
    let ids: Vec<String> = hits.iter().map(|h| h.header("webhook-id")).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0] && !id.is_empty()),
        "{ids:?}"
    );
    assert!(
        hits.iter().all(|h| h.body == hits[0].body),
        "the body is the same on every retry"
    );
    app.receiver.assert_quiet(Duration::from_millis(800)).await;
    let id = tx["transaction_id"].as_str().unwrap();
    let shown = app.get(&format!("/transactions/{id}")).await.1;
    assert_eq!(
        shown["data"]["status"], "confirmed",
        "a failed webhook never undoes a payment"
    );
    let event = &shown["data"]["events"][0];
    assert_eq!(event["delivery"], "failed");
    let codes: Vec<_> = event["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].clone())
        .collect();
    assert_eq!(codes, vec![json!(500), json!(503), json!(502)]);
    app.stop().await;
}

async fn redeliver_sends_last_event_again(b: Backend) {
    let Some(mut app) = spawn(b, "redeliver", |_| {}).await else {
        return;
    };
    let tx = app.create(4500).await;
    let id = tx["transaction_id"].as_str().unwrap();
    let (code, _) = app
        .post(&format!("/transactions/{id}/redeliver"), json!({}))
        .await;
    assert_eq!(code, 409, "a pending transaction has no event yet");
    app.humo_credit(1, 4501, "1111", now_ms()).await;
    let first = app.receiver.next().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (code, body) = app
        .post(&format!("/transactions/{id}/redeliver"), json!({}))
        .await;
    assert_eq!(code, 202, "{body}");
    let again = app.receiver.next().await;
    assert_eq!(again.header("webhook-id"), first.header("webhook-id"));
    assert_eq!(
        body["data"]["event_id"].as_str().unwrap(),
        first.header("webhook-id")
    );
    assert_eq!(
        app.post(
            &format!("/transactions/{}/redeliver", uuid::Uuid::new_v4()),
            json!({})
        )
        .await
        .0,
        404
    );
    app.stop().await;
}

async fn unmatched_credits_are_listed(b: Backend) {
    let Some(mut app) = spawn(b, "unmatched", |c| {
        c.cards = Some("8600123412347466".into())
    })
    .await
    else {
        return;
    };
    app.create(6000).await;
    let o1 = app.humo_credit(1, 6005, "7466", now_ms()).await;
    let o2 = app.humo_credit(2, 6001, "9999", now_ms()).await;
    let reason = |o: &IngestOutcome| match o {
        IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) => credit.reason.clone(),
        other => panic!("not unmatched: {other:?}"),
    };
    assert_eq!(reason(&o1).as_deref(), Some("no_transaction"));
    assert_eq!(reason(&o2).as_deref(), Some("unknown_card"));
    let (_, credits) = app.get("/credits?outcome=unmatched").await;
    let amounts: Vec<_> = credits["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["amount"].clone())
        .collect();
    assert_eq!(amounts, vec![json!(6001), json!(6005)]);
    app.receiver.assert_quiet(Duration::from_millis(500)).await;
    app.stop().await;
}

async fn unwatched_sender_is_ignored(b: Backend) {
    let settings = support::app::settings();
    let Some(mut app) = spawn_with(b, "unwatched", settings, |c| {
        c.watch_id = Some("915326936".into())
    })
    .await
    else {
        return;
    };
    app.create(1000).await;
    // A HUMO-looking text from a sender that is not watched changes nothing.
    assert_eq!(
        app.humo_credit(1, 1001, "1111", now_ms()).await,
        IngestOutcome::Untrusted
    );
    app.receiver.assert_quiet(Duration::from_millis(500)).await;
    app.stop().await;
}
