//! Reversals end to end through the real app: the bank's `❌ Отмена`
//! message for a credit that confirmed an order sends a signed `reversal`
//! webhook after the `confirm` (same event id across retries), shows the
//! reversal on the transaction, is applied once, and a reversal that matches
//! nothing is listed like an unmatched credit.

mod support;

use paycue::engine::{IncomingMessage, IngestOutcome};
use paycue::store::ApplyOutcome;
use support::app::{Backend, TestApp, now_ms, spawn};

support::both!(
    reversal_after_confirm_sends_signed_reversal_webhook,
    reversal_matching_nothing_is_listed,
);

/// A @HUMOcardbot reversal (`❌ Отмена операций карты`) of `amount` UZS.
fn humo_reversal(amount: i64, card4: &str) -> String {
    format!(
        "❌ Отмена операций карты\n➕ {amount},00 UZS\n📍 oplata\n💳 HUMOCARD *{card4}\n🕓 13:54 22.07.2026\n💰 523.419,46 UZS"
    )
}

async fn reverse(app: &TestApp, message_id: i64, amount: i64, card4: &str) -> IngestOutcome {
    let msg = IncomingMessage {
        sender_id: 856_254_490,
        chat_id: None,
        message_id,
        date: now_ms(),
        text: humo_reversal(amount, card4),
    };
    app.engine.ingest(&msg).await.expect("ingest")
}

async fn reversal_after_confirm_sends_signed_reversal_webhook(b: Backend) {
    let Some(mut app) = spawn(b, "reversal", |c| c.cards = Some("9860****7466".into())).await
    else {
        return;
    };
    let tx = app.create(3000).await;
    let id = tx["transaction_id"].as_str().unwrap().to_string();
    app.humo_credit(10, 3001, "7466", now_ms()).await;
    assert_eq!(app.receiver.next().await.json()["action"], "confirm");

    // The shop fails the first attempt: the retry carries the same id and body.
    app.receiver.answer(&[500]);
    let outcome = reverse(&app, 11, 3001, "7466").await;
    assert!(
        matches!(
            outcome,
            IngestOutcome::Applied(ApplyOutcome::Reversed { .. })
        ),
        "{outcome:?}"
    );
    let first = app.receiver.next().await;
    let retry = app.receiver.next().await;
    let body = first.json();
    assert_eq!(body["action"], "reversal");
    assert_eq!(body["transaction_id"], id.as_str());
    assert_eq!(body["status"], "confirmed");
    assert_eq!(body["amount"], 3001);
    assert_eq!(body["credit"]["message_id"], 11, "the reversal message");
    assert!(first.signed_over(&first.body));
    assert_eq!(first.header("webhook-id"), retry.header("webhook-id"));
    assert_eq!(first.body, retry.body);

    // Replayed: nothing new.
    assert_eq!(
        reverse(&app, 11, 3001, "7466").await,
        IngestOutcome::Duplicate
    );
    app.receiver
        .assert_quiet(std::time::Duration::from_millis(700))
        .await;

    let shown = app.get(&format!("/transactions/{id}")).await.1["data"].clone();
    assert_eq!(shown["status"], "confirmed", "the state rule stays");
    assert!(shown["reversed_at"].is_string(), "{shown}");
    assert!(shown["reversal"].is_string(), "{shown}");
    let actions: Vec<_> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].clone())
        .collect();
    assert_eq!(actions, vec!["confirm", "reversal"]);
    app.stop().await;
}

async fn reversal_matching_nothing_is_listed(b: Backend) {
    let Some(app) = spawn(b, "reversal_unmatched", |_| {}).await else {
        return;
    };
    app.create(7000).await;
    let outcome = reverse(&app, 5, 7001, "1111").await;
    match outcome {
        IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) => {
            assert_eq!(credit.reason.as_deref(), Some("no_credit"))
        }
        other => panic!("{other:?}"),
    }
    let listed = app.get("/credits?outcome=unmatched").await.1["data"].clone();
    assert_eq!(listed[0]["kind"], "reversal");
    assert_eq!(listed[0]["reason"], "no_credit");
    assert_eq!(listed[0]["amount"], 7001);
    // The pending order for that amount is untouched.
    let pending = app.get("/transactions?status=pending").await.1["data"].clone();
    assert_eq!(pending.as_array().unwrap().len(), 1);
    app.stop().await;
}
