//! Reversals end to end through the real app: the bank's `❌ Отмена`
//! message for a credit that confirmed an order sends a signed `reversal`
//! webhook after the `confirm` (same event id across retries), shows the
//! reversal on the transaction, is applied once, and a reversal that matches
//! nothing is listed like an unmatched credit.

mod support;

use paycue::engine::{IncomingMessage, IngestOutcome};
use paycue::manual::Actor;
use paycue::store::ApplyOutcome;
use support::app::{Backend, TestApp, now_ms, spawn};

support::both!(
    reversal_after_confirm_sends_signed_reversal_webhook,
    reversal_matching_nothing_is_listed,
    refund_of_the_sellers_purchase_does_not_reverse_a_paid_order,
    reversal_of_a_credit_assigned_by_hand_reverses_its_order,
);

/// A @HUMOcardbot reversal (`❌ Отмена операций карты`) taking `amount` UZS
/// back from the card (`➖`: the money leaves it).
fn humo_reversal(amount: i64, card4: &str) -> String {
    format!(
        "❌ Отмена операций карты\n➖ {amount},00 UZS\n📍 P2P\n💳 HUMOCARD *{card4}\n🕓 13:54 22.07.2026\n💰 523.419,46 UZS"
    )
}

/// The same bot's cancelled purchase (fixture S057): `➕`, the money comes
/// back to the seller's card; the seller's own spending was refunded.
fn humo_refund(amount: i64, card4: &str) -> String {
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

/// The seller's own purchase of the same amount on the same card is
/// cancelled (money comes back, `➕`) a day after a buyer paid an order: that
/// is not the buyer's payment going back, so the paid order is not reported
/// reversed (no `reversal` webhook), and nothing is listed unmatched.
async fn refund_of_the_sellers_purchase_does_not_reverse_a_paid_order(b: Backend) {
    let Some(mut app) = spawn(b, "reversal_refund", |c| {
        c.cards = Some("9860****7466".into())
    })
    .await
    else {
        return;
    };
    let tx = app.create(3000).await;
    let id = tx["transaction_id"].as_str().unwrap().to_string();
    app.humo_credit(10, 3001, "7466", now_ms()).await;
    assert_eq!(app.receiver.next().await.json()["action"], "confirm");
    let msg = IncomingMessage {
        sender_id: 856_254_490,
        chat_id: None,
        message_id: 11,
        date: now_ms(),
        text: humo_refund(3001, "7466"),
    };
    let outcome = app.engine.ingest(&msg).await.expect("ingest");
    assert!(
        matches!(outcome, IngestOutcome::NotCredit(_)),
        "a refund to the seller was taken as a reversal: {outcome:?}"
    );
    app.receiver
        .assert_quiet(std::time::Duration::from_millis(700))
        .await;
    let shown = app.get(&format!("/transactions/{id}")).await.1["data"].clone();
    assert!(shown["reversed_at"].is_null(), "{shown}");
    let listed = app.get("/credits?outcome=unmatched").await.1["data"].clone();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
    assert_eq!(
        app.engine.ingest(&msg).await.unwrap(),
        IngestOutcome::Duplicate
    );
    app.stop().await;
}

/// The buyer paid 3 000 for an order of 3 001 (unmatched), the seller
/// assigned that credit by hand, then the bank took the 3 000 back: the
/// order the seller settled is the one reported reversed.
async fn reversal_of_a_credit_assigned_by_hand_reverses_its_order(b: Backend) {
    let Some(mut app) = spawn(b, "reversal_manual", |c| {
        c.cards = Some("9860****7466".into())
    })
    .await
    else {
        return;
    };
    let tx = app.create(3000).await;
    let id = tx["transaction_id"].as_str().unwrap().to_string();
    assert_eq!(tx["amount"], 3001, "the unique amount");
    let IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) =
        app.humo_credit(10, 3000, "7466", now_ms()).await
    else {
        panic!("3 000 matches no order of 3 001");
    };
    app.engine
        .assign_credit(&credit.id, &id, &Actor::cli("alice", "host"))
        .await
        .expect("assigned");
    let confirm = app.receiver.next().await.json();
    assert_eq!(confirm["action"], "confirm");
    assert_eq!(confirm["manual"], true);

    let outcome = reverse(&app, 11, 3000, "7466").await;
    let IngestOutcome::Applied(ApplyOutcome::Reversed { transaction, .. }) = outcome else {
        panic!("the hand-assigned credit is reversed: {outcome:?}");
    };
    assert_eq!(transaction.id, id);
    let body = app.receiver.next().await.json();
    assert_eq!(body["action"], "reversal");
    assert_eq!(body["transaction_id"], id.as_str());
    app.stop().await;
}
