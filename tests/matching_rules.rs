//! "No message that can pay one pending order can also match another",
//! end to end (HTTP create, message in, outcome), on both stores: a round
//! list price paid by mistake confirms nobody's order (issue 14.1), and a
//! bank text without card digits (Kaspi) confirms exactly the order it paid
//! even with several cards (issue 14.2).

mod support;

use paycue::engine::{IncomingMessage, IngestOutcome};
use paycue::store::ApplyOutcome;
use support::app::{Backend, TestApp, now_ms, spawn};

support::both!(
    a_round_price_paid_by_mistake_confirms_nothing,
    kaspi_credits_confirm_their_own_order_with_two_cards,
    cards_of_banks_that_name_the_card_keep_their_own_amounts,
);

/// The chat the seller forwards Kaspi SMS into.
const KASPI_CHAT: i64 = 777_000;

fn kaspi_text(amount: i64) -> String {
    format!("Пополнение: {amount}т\nС Kaspi Депозита \nДоступно: 146 003,44т")
}

async fn kaspi_credit(app: &TestApp, message_id: i64, amount: i64) -> IngestOutcome {
    let msg = IncomingMessage {
        sender_id: KASPI_CHAT,
        chat_id: None,
        message_id,
        date: now_ms(),
        text: kaspi_text(amount),
    };
    app.engine.ingest(&msg).await.expect("ingest")
}

fn confirmed(outcome: &IngestOutcome) -> Option<String> {
    match outcome {
        IngestOutcome::Applied(ApplyOutcome::Confirmed { transaction, .. }) => {
            Some(transaction.id.clone())
        }
        _ => None,
    }
}

async fn a_round_price_paid_by_mistake_confirms_nothing(b: Backend) {
    let Some(app) = spawn(b, "round_price", |_| {}).await else {
        return;
    };
    let mut amounts = Vec::new();
    for _ in 0..20 {
        amounts.push(app.create(29_990).await["amount"].as_i64().unwrap());
    }
    assert!(
        !amounts.contains(&30_000),
        "an order at 29 990 was given the round price 30 000: {amounts:?}"
    );
    // The buyer of a 30 000 item pays the list price by mistake: nobody's
    // order confirms.
    let outcome = app.humo_credit(1, 30_000, "7466", now_ms()).await;
    assert!(
        matches!(
            outcome,
            IngestOutcome::Applied(ApplyOutcome::Unmatched { .. })
        ),
        "{outcome:?}"
    );
    app.stop().await;
}

async fn kaspi_credits_confirm_their_own_order_with_two_cards(b: Backend) {
    let Some(app) = spawn(b, "kaspi_two_cards", |c| {
        c.cards = Some("4400430212341234,4400****5678".into());
        c.currency = Some("KZT".into());
        c.watch_id = Some(KASPI_CHAT.to_string());
    })
    .await
    else {
        return;
    };
    let first = app.create(7_000).await;
    let second = app.create(7_000).await;
    for (i, tx) in [&first, &second].into_iter().enumerate() {
        let amount = tx["amount"].as_i64().unwrap();
        let outcome = kaspi_credit(&app, i as i64 + 1, amount).await;
        assert_eq!(
            confirmed(&outcome).as_deref(),
            tx["transaction_id"].as_str(),
            "a Kaspi credit of {amount} (no card digits) must confirm its own order: {outcome:?}"
        );
    }
    app.stop().await;
}

/// Where every card's messages name it (a bank per card in `CARDS`), the
/// cards still each get an amount at an offset before the offset grows.
async fn cards_of_banks_that_name_the_card_keep_their_own_amounts(b: Backend) {
    let Some(app) = spawn(b, "banks_per_card", |c| {
        c.cards = Some("uzcard:8600123412347466,humo:9860****4428".into())
    })
    .await
    else {
        return;
    };
    let mut got = Vec::new();
    for _ in 0..3 {
        let tx = app.create(20_000).await;
        got.push((
            tx["card"].as_str().unwrap().to_string(),
            tx["amount"].as_i64().unwrap(),
        ));
    }
    let want: Vec<(String, i64)> = [
        ("8600123412347466", 20_001),
        ("9860****4428", 20_001),
        ("8600123412347466", 20_002),
    ]
    .iter()
    .map(|(c, a)| (c.to_string(), *a))
    .collect();
    assert_eq!(got, want);
    // A HUMO message names its card: it confirms the HUMO card's order.
    let outcome = app.humo_credit(1, 20_001, "4428", now_ms()).await;
    let IngestOutcome::Applied(ApplyOutcome::Confirmed { transaction, .. }) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(transaction.card.as_deref(), Some("9860****4428"));
    app.stop().await;
}
