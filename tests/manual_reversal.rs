//! Reversals of credits the seller assigned by hand, against retention and
//! cards a message cannot name: the order the hand settled is the one the
//! bank's take-back reports, for as long as a reversal of that credit can
//! come (72 hours after the credit's own date), on either store.

mod support;

use paycue::engine::{IncomingMessage, IngestOutcome, new_event_id};
use paycue::manual::Actor;
use paycue::store::ApplyOutcome;
use support::app::{Backend, TestApp, now_ms, spawn};

support::both!(
    retention_keeps_an_expired_order_paid_by_hand_while_its_credit_can_be_reversed,
    a_card_less_credit_assigned_by_hand_is_reversed_by_a_card_less_reversal,
    a_late_credit_assigned_to_another_order_reverses_that_order,
);

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// A @HUMOcardbot reversal taking `amount` UZS back from the card `card4`
/// (three digits: the message names no card), dated `date`.
async fn reverse(app: &TestApp, id: i64, amount: i64, card4: &str, date: i64) -> IngestOutcome {
    let msg = IncomingMessage {
        sender_id: 856_254_490,
        chat_id: None,
        message_id: id,
        date,
        text: format!(
            "❌ Отмена операций карты\n➖ {amount},00 UZS\n📍 P2P\n💳 HUMOCARD *{card4}\n🕓 13:54 22.07.2026\n💰 523.419,46 UZS"
        ),
    };
    app.engine.ingest(&msg).await.expect("ingest")
}

/// The order expired; two days later the buyer paid another amount, and
/// the seller assigned that credit to the expired order. The order ended
/// (expired) more than 72 hours before the sweep, but its credit is younger:
/// the sweep must keep the order while the bank may still take the credit
/// back, so that a reversal still reports it.
async fn retention_keeps_an_expired_order_paid_by_hand_while_its_credit_can_be_reversed(
    b: Backend,
) {
    let Some(app) = spawn(b, "manual_reversal_prune", |c| {
        c.retention = Some("1d".into());
        c.cards = Some("9860****1111".into());
    })
    .await
    else {
        return;
    };
    let tx = app.create(6000).await;
    let id = tx["transaction_id"].as_str().unwrap().to_string();
    let expired_at = now_ms() + DAY;
    let swept = app
        .engine
        .store
        .expire_due(expired_at, &[new_event_id()])
        .await
        .unwrap();
    assert_eq!(swept.len(), 1, "the order expires");
    // (Its `cancel` is due a day from now: the webhooks are not awaited.)

    let paid_at = expired_at + 2 * DAY;
    let IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) =
        app.humo_credit(21, 5000, "1111", paid_at).await
    else {
        panic!("5 000 matches no order of 6 001");
    };
    app.engine
        .assign_credit(&credit.id, &id, &Actor::cli("alice", "host"))
        .await
        .expect("an expired order takes a credit by hand");

    // 73 hours after the expiry, one after the credit: a reversal may come.
    let sweep_at = expired_at + 73 * HOUR;
    let removed = paycue::retention::prune_once(&app.engine, sweep_at)
        .await
        .unwrap();
    assert_eq!(removed.transactions, 0, "{removed:?}");
    let outcome = reverse(&app, 22, 5000, "1111", paid_at + 2 * HOUR).await;
    let IngestOutcome::Applied(ApplyOutcome::Reversed { transaction, .. }) = outcome else {
        panic!("the hand-assigned credit is reversed: {outcome:?}");
    };
    assert_eq!(transaction.id, id);

    // Reversed and past every window: the sweep removes it after all.
    let removed = paycue::retention::prune_once(&app.engine, paid_at + 4 * DAY)
        .await
        .unwrap();
    assert_eq!(removed.transactions, 1, "{removed:?}");
    assert_eq!(app.get(&format!("/transactions/{id}")).await.0, 404);
    app.stop().await;
}

/// Two HUMO cards; a credit whose message names no card (a three-digit
/// mask) may be for either. Assigned by hand, it is taken back by a
/// card-less reversal of its amount; a second such reversal finds nothing.
async fn a_card_less_credit_assigned_by_hand_is_reversed_by_a_card_less_reversal(b: Backend) {
    let Some(mut app) = spawn(b, "manual_reversal_cardless", |c| {
        c.cards = Some("humo:9860****1111,humo:9860****2222".into());
    })
    .await
    else {
        return;
    };
    let first = app.create(3000).await;
    let second = app.create(3000).await;
    let id = second["transaction_id"].as_str().unwrap().to_string();
    let IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) =
        app.humo_credit(10, 2999, "111", now_ms()).await
    else {
        panic!("2 999 matches no order");
    };
    assert_eq!(credit.card_last4, None, "a three-digit mask names no card");
    app.engine
        .assign_credit(&credit.id, &id, &Actor::cli("alice", "host"))
        .await
        .expect("assigned");
    assert_eq!(app.receiver.next().await.json()["action"], "confirm");

    let outcome = reverse(&app, 11, 2999, "222", now_ms()).await;
    let IngestOutcome::Applied(ApplyOutcome::Reversed { transaction, .. }) = outcome else {
        panic!("the card-less hand-assigned credit is reversed: {outcome:?}");
    };
    assert_eq!(transaction.id, id);
    let body = app.receiver.next().await.json();
    assert_eq!(body["action"], "reversal");
    assert_eq!(body["transaction_id"], id.as_str());
    assert_ne!(first["transaction_id"], body["transaction_id"]);

    let again = reverse(&app, 12, 2999, "222", now_ms()).await;
    assert!(
        matches!(
            again,
            IngestOutcome::Applied(ApplyOutcome::Unmatched { .. })
        ),
        "a credit is taken back once: {again:?}"
    );
    app.stop().await;
}

/// A payment came late for an expired order; the seller gave it to another
/// order by hand. The bank taking it back reverses the order it now pays,
/// not the one it came late for.
async fn a_late_credit_assigned_to_another_order_reverses_that_order(b: Backend) {
    let Some(mut app) = spawn(b, "manual_reversal_late", |c| {
        c.cards = Some("9860****1111".into());
    })
    .await
    else {
        return;
    };
    let expired = app.create(6000).await;
    let expired_id = expired["transaction_id"].as_str().unwrap().to_string();
    let swept = app
        .engine
        .store
        .expire_due(now_ms() + DAY, &[new_event_id()])
        .await
        .unwrap();
    assert_eq!(swept.len(), 1, "the order expires");
    let amount = expired["amount"].as_i64().unwrap();
    let IngestOutcome::Applied(ApplyOutcome::Late { credit, .. }) =
        app.humo_credit(21, amount, "1111", now_ms()).await
    else {
        panic!("a payment of the expired order's amount comes late");
    };
    let other = app.create(6000).await;
    let other_id = other["transaction_id"].as_str().unwrap().to_string();
    assert_ne!(other["amount"], expired["amount"], "still held");
    app.engine
        .assign_credit(&credit.id, &other_id, &Actor::cli("alice", "host"))
        .await
        .expect("a late credit pays another order by hand");
    let confirm = app.receiver.next().await.json();
    assert_eq!(confirm["transaction_id"], other_id.as_str());

    let outcome = reverse(&app, 22, amount, "1111", now_ms()).await;
    let IngestOutcome::Applied(ApplyOutcome::Reversed { transaction, .. }) = outcome else {
        panic!("the reassigned credit is reversed: {outcome:?}");
    };
    assert_eq!(transaction.id, other_id);
    let (_, first) = app.get(&format!("/transactions/{expired_id}")).await;
    assert_eq!(first["data"]["status"], "cancelled", "{first}");
    app.stop().await;
}
