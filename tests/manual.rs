//! Settling by hand (issue 11): assigning a credit that matched nothing or
//! came late, and marking a transaction paid without one. Through the real
//! app (API, engine, store, webhook worker) on both stores: exactly one
//! `confirm` per transaction whoever races (two hands, the real credit, the
//! expiry sweep, two processes), a credit pays once, refusals change
//! nothing, and every action is in the audit list.

mod support;

use std::sync::Arc;
use std::time::Duration;

use paycue::engine::{Engine, IngestOutcome, new_event_id};
use paycue::manual::{Actor, AuditAction, ManualError};
use paycue::model::CreditOutcome;
use paycue::store::{ApplyOutcome, Store};
use serde_json::{Value, json};
use support::app::{Backend, TestApp, now_ms, spawn};

support::both!(
    assigning_an_unmatched_credit_confirms_with_a_manual_webhook,
    a_credit_pays_once_and_a_transaction_is_confirmed_once,
    marked_paid_then_the_real_credit_arrives_late,
    the_real_credit_first_then_the_hand_is_refused,
    an_expired_transaction_is_paid_by_its_late_credit,
    refusals_change_nothing,
    hostile_requests_are_refused,
    racing_hands_credit_and_expiry_give_one_confirm,
    a_retried_settlement_is_refused_and_queues_nothing,
    retention_prunes_the_audit_list,
);

async fn app(b: Backend, name: &str) -> Option<TestApp> {
    spawn(b, name, |c| c.cards = Some("9860****7466".into())).await
}

/// Transactions live one second (the sweep stays off: the app is never
/// marked caught up, so tests expire by hand with `expire`).
async fn short_lived(b: Backend, name: &str) -> Option<TestApp> {
    spawn(b, name, |c| {
        c.cards = Some("9860****7466".into());
        c.tx_ttl = Some("1s".into());
    })
    .await
}

fn id(v: &Value) -> String {
    v["transaction_id"].as_str().unwrap().to_string()
}

/// An unmatched credit of `amount` on card 7466: its id.
async fn unmatched(app: &TestApp, msg: i64, amount: i64) -> String {
    match app.humo_credit(msg, amount, "7466", now_ms()).await {
        IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) => credit.id,
        other => panic!("expected unmatched, got {other:?}"),
    }
}

async fn assign(app: &TestApp, credit: &str, tx: &str) -> (u16, Value) {
    app.post(
        &format!("/credits/{credit}/assign"),
        json!({"transaction_id": tx}),
    )
    .await
}

async fn confirm(app: &TestApp, tx: &str) -> (u16, Value) {
    app.post(&format!("/transactions/{tx}/confirm"), json!({}))
        .await
}

async fn assigning_an_unmatched_credit_confirms_with_a_manual_webhook(b: Backend) {
    let Some(mut app) = app(b, "manual_assign").await else {
        return;
    };
    let tx = app.create(20000).await;
    let credit = unmatched(&app, 1, 19000).await;
    let (code, body) = assign(&app, &credit, &id(&tx)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["status"], "confirmed");
    assert_eq!(body["data"]["paid_by"], credit.as_str());
    assert_eq!(body["data"]["manual"]["by"], "api");
    assert_eq!(body["data"]["credit"]["outcome"], "confirmed");
    assert_eq!(
        body["data"]["credit"]["transaction_id"],
        tx["transaction_id"]
    );

    let hit = app.receiver.next().await;
    assert!(hit.signed_over(&hit.body));
    let hook = hit.json();
    assert_eq!(hook["action"], "confirm");
    assert_eq!(hook["transaction_id"], tx["transaction_id"]);
    assert_eq!(hook["manual"], true);
    assert_eq!(hook["manual_by"], "api");
    assert!(hook["manual_at"].is_string());
    assert_eq!(hook["credit"]["id"], credit.as_str());
    assert_eq!(hook["credit"]["amount"], 19000);
    assert_eq!(hook["status"], "confirmed");

    // The credit left the unmatched list; the transaction shows its event.
    let (_, credits) = app.get("/credits").await;
    assert_eq!(credits["data"], json!([]));
    let (_, shown) = app.get(&format!("/transactions/{}", id(&tx))).await;
    assert_eq!(shown["data"]["events"][0]["manual"]["by"], "api");

    let audit = app.engine.audit(10).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, AuditAction::Assign);
    assert_eq!(audit[0].transaction_id, id(&tx));
    assert_eq!(audit[0].credit_id.as_deref(), Some(credit.as_str()));
    assert_eq!(audit[0].by, "api");
    assert!(audit[0].from.starts_with("127.0.0.1:"), "{}", audit[0].from);
    assert_eq!(audit[0].event_id, hook["event_id"].as_str().unwrap());
    // A normal confirm says it was not by hand.
    let other = app.create(30000).await;
    app.humo_credit(2, 30001, "7466", now_ms()).await;
    let hook = app.receiver.next().await.json();
    assert_eq!(hook["transaction_id"], other["transaction_id"]);
    assert_eq!(hook["manual"], false);
    assert_eq!(hook["manual_by"], Value::Null);
    app.stop().await;
}

async fn a_credit_pays_once_and_a_transaction_is_confirmed_once(b: Backend) {
    let Some(mut app) = app(b, "manual_once").await else {
        return;
    };
    let first = app.create(10000).await;
    let second = app.create(10000).await;
    let credit = unmatched(&app, 1, 9999).await;
    let spare = unmatched(&app, 2, 9998).await;
    assert_eq!(assign(&app, &credit, &id(&first)).await.0, 200);
    let (code, body) = assign(&app, &credit, &id(&second)).await;
    assert_eq!(code, 409, "{body}");
    assert!(
        body["data"]["detail"]
            .as_str()
            .unwrap()
            .contains(&id(&first)),
        "{body}"
    );
    let (code, body) = assign(&app, &spare, &id(&first)).await;
    assert_eq!(code, 409, "{body}");
    assert!(
        body["data"]["detail"].as_str().unwrap().contains("by hand"),
        "{body}"
    );
    assert_eq!(confirm(&app, &id(&first)).await.0, 409);
    // The spare credit is still unmatched; the second order still pending.
    let (_, credits) = app.get("/credits").await;
    assert_eq!(credits["data"][0]["credit_id"], spare.as_str());
    let (_, shown) = app.get(&format!("/transactions/{}", id(&second))).await;
    assert_eq!(shown["data"]["status"], "pending");
    assert_eq!(app.receiver.next().await.json()["action"], "confirm");
    app.receiver.assert_quiet(Duration::from_millis(500)).await;
    assert_eq!(app.engine.audit(10).await.unwrap().len(), 1);
    app.stop().await;
}

async fn marked_paid_then_the_real_credit_arrives_late(b: Backend) {
    let Some(mut app) = app(b, "manual_then_real").await else {
        return;
    };
    let tx = app.create(5000).await;
    let (code, body) = confirm(&app, &id(&tx)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["paid_by"], Value::Null);
    assert_eq!(body["data"]["credit"], Value::Null);
    let hook = app.receiver.next().await.json();
    assert_eq!(
        (hook["action"].as_str(), hook["manual"].as_bool()),
        (Some("confirm"), Some(true))
    );
    assert_eq!(hook["credit"], Value::Null);
    // The amount stays held for its grace (as after a matched confirm): the
    // buyer's real payment is reported late on it, never confirms anything.
    assert_eq!(app.create(5000).await["amount"], 5002);
    let outcome = app.humo_credit(3, 5001, "7466", now_ms()).await;
    assert!(
        matches!(outcome, IngestOutcome::Applied(ApplyOutcome::Late { .. })),
        "{outcome:?}"
    );
    assert_eq!(app.receiver.next().await.json()["action"], "late");
    app.receiver.assert_quiet(Duration::from_millis(300)).await;
    app.stop().await;
}

async fn the_real_credit_first_then_the_hand_is_refused(b: Backend) {
    let Some(mut app) = app(b, "real_then_manual").await else {
        return;
    };
    let tx = app.create(5000).await;
    app.humo_credit(1, 5001, "7466", now_ms()).await;
    assert_eq!(app.receiver.next().await.json()["manual"], false);
    let (code, body) = confirm(&app, &id(&tx)).await;
    assert_eq!(code, 409);
    assert!(
        body["data"]["detail"]
            .as_str()
            .unwrap()
            .contains("paid by credit"),
        "{body}"
    );
    let spare = unmatched(&app, 2, 4000).await;
    assert_eq!(assign(&app, &spare, &id(&tx)).await.0, 409);
    app.receiver.assert_quiet(Duration::from_millis(300)).await;
    assert!(app.engine.audit(10).await.unwrap().is_empty());
    app.stop().await;
}

/// Waits out a one-second transaction's deadline.
async fn past_deadline() {
    tokio::time::sleep(Duration::from_millis(1100)).await;
}

/// Ends the pending transaction past its deadline, as the sweep would.
async fn expire(app: &TestApp) {
    past_deadline().await;
    let swept = app
        .engine
        .store
        .expire_due(now_ms(), &[new_event_id()])
        .await
        .unwrap();
    assert_eq!(swept.len(), 1);
}

async fn an_expired_transaction_is_paid_by_its_late_credit(b: Backend) {
    let Some(mut app) = short_lived(b, "manual_expired").await else {
        return;
    };
    let tx = app.create(7000).await;
    expire(&app).await;
    app.engine.outbox.notify_waiters();
    assert_eq!(app.receiver.next().await.json()["action"], "cancel");
    let late = match app.humo_credit(4, 7001, "7466", now_ms()).await {
        IngestOutcome::Applied(ApplyOutcome::Late { credit, .. }) => credit.id,
        other => panic!("expected late, got {other:?}"),
    };
    assert_eq!(app.receiver.next().await.json()["action"], "late");
    let (code, body) = assign(&app, &late, &id(&tx)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["status"], "confirmed");
    assert_eq!(body["data"]["cancel_reason"], Value::Null);
    assert_eq!(body["data"]["paid_by"], late.as_str());
    assert_eq!(body["data"]["late_credits"], json!([]));
    let hook = app.receiver.next().await.json();
    assert_eq!(hook["action"], "confirm");
    assert_eq!(hook["manual"], true);
    assert_eq!(hook["credit"]["id"], late.as_str());
    let (_, credits) = app.get("/credits?outcome=late").await;
    assert_eq!(credits["data"], json!([]));
    let listed = app
        .engine
        .store
        .list(Some(paycue::model::TxStatus::Confirmed), 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        app.engine
            .store
            .list(Some(paycue::model::TxStatus::Cancelled), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Its events: cancel, late, then the manual confirm.
    let (_, shown) = app.get(&format!("/transactions/{}", id(&tx))).await;
    let actions: Vec<&str> = shown["data"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["cancel", "late", "confirm"]);
    app.stop().await;
}

async fn refusals_change_nothing(b: Backend) {
    let Some(mut app) = app(b, "manual_refusals").await else {
        return;
    };
    let cancelled = app.create(3000).await;
    let (code, _) = app
        .post(
            &format!("/transactions/{}/cancel", id(&cancelled)),
            json!({}),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(app.receiver.next().await.json()["action"], "cancel");
    let (code, body) = confirm(&app, &id(&cancelled)).await;
    assert_eq!(code, 409);
    assert!(
        body["data"]["detail"]
            .as_str()
            .unwrap()
            .contains("cancelled by the shop")
    );
    let credit = unmatched(&app, 1, 2999).await;
    assert_eq!(assign(&app, &credit, &id(&cancelled)).await.0, 409);
    let unknown = "8a6e0804-2bd0-4672-b79f-d3be8334a486";
    assert_eq!(confirm(&app, unknown).await.0, 404);
    assert_eq!(assign(&app, &credit, unknown).await.0, 404);
    let pending = app.create(4000).await;
    let (code, body) = assign(&app, unknown, &id(&pending)).await;
    assert_eq!(
        (code, body["data"]["detail"].as_str()),
        (404, Some("credit not found"))
    );
    // A credit in another currency never pays a UZS order.
    let usd = paycue::engine::IncomingMessage {
        sender_id: 856_254_490,
        chat_id: None,
        message_id: 5,
        date: now_ms(),
        text: support::app::humo_text(10, "7466").replace("UZS", "USD"),
    };
    let usd = match app.engine.ingest(&usd).await.unwrap() {
        IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) => credit.id,
        other => panic!("expected an unmatched USD credit, got {other:?}"),
    };
    let (code, body) = assign(&app, &usd, &id(&pending)).await;
    assert_eq!(code, 422, "{body}");
    assert!(body["data"]["detail"].as_str().unwrap().contains("USD"));
    let (_, shown) = app.get(&format!("/transactions/{}", id(&pending))).await;
    assert_eq!(shown["data"]["status"], "pending");
    let unmatched_now = app
        .engine
        .store
        .list_credits(CreditOutcome::Unmatched, 10)
        .await
        .unwrap();
    assert_eq!(unmatched_now.len(), 2);
    assert!(app.engine.audit(10).await.unwrap().is_empty());
    app.receiver.assert_quiet(Duration::from_millis(300)).await;
    app.stop().await;
}

async fn hostile_requests_are_refused(b: Backend) {
    let Some(app) = app(b, "manual_hostile").await else {
        return;
    };
    let tx = app.create(3000).await;
    let credit = unmatched(&app, 1, 2999).await;
    let url = format!("{}/credits/{credit}/assign", app.base);
    for (body, ct, want) in [
        ("{", "application/json", 400),
        ("{}", "application/json", 422),
        (r#"{"transaction_id": 5}"#, "application/json", 422),
        (
            r#"{"transaction_id": "x", "extra": 1}"#,
            "application/json",
            422,
        ),
        (
            r#"{"transaction_id": "../../etc"}"#,
            "application/json",
            404,
        ),
        (r#"{"transaction_id": "*"}"#, "application/json", 404),
        ("transaction_id=x", "application/x-www-form-urlencoded", 415),
        ("{}", "text/plain", 415),
    ] {
        let resp = app
            .http
            .post(&url)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), want, "{body} as {ct}");
    }
    // A credit id that is a Redis key pattern or a path is unknown.
    for bad in ["*", "..%2F..", "%00", "credit:x"] {
        let (code, _) = app
            .post(
                &format!("/credits/{bad}/assign"),
                json!({"transaction_id": id(&tx)}),
            )
            .await;
        assert_eq!(code, 404, "{bad}");
        assert_eq!(confirm(&app, bad).await.0, 404, "{bad}");
    }
    let (_, shown) = app.get(&format!("/transactions/{}", id(&tx))).await;
    assert_eq!(shown["data"]["status"], "pending");
    app.stop().await;
}

/// Another paycue process on the same store (a second engine over its own
/// connection for Redis; the same store for memory).
fn second_engine(app: &TestApp) -> Arc<Engine> {
    let store: Arc<dyn Store> = match &app.redis {
        Some(server) => Arc::new(paycue::store::RedisStore::open(
            &server.url(),
            support::app::settings(),
        )),
        None => app.engine.store.clone(),
    };
    Engine::new(app.engine.config.clone(), store)
}

async fn racing_hands_credit_and_expiry_give_one_confirm(b: Backend) {
    let Some(mut app) = short_lived(b, "manual_race").await else {
        return;
    };
    let other = second_engine(&app);
    for round in 0..6 {
        let tx = app.create(8000 + round * 100).await;
        let tx_id = id(&tx);
        let amount = tx["amount"].as_i64().unwrap();
        let c1 = unmatched(&app, 1000 + round * 10, 1).await;
        let c2 = unmatched(&app, 1001 + round * 10, 2).await;
        // Every other round races the expiry sweep (and the real payment
        // comes after the deadline: late).
        if round % 2 == 1 {
            past_deadline().await;
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (i, engine) in [app.engine.clone(), other.clone()].into_iter().enumerate() {
            let actor = Actor::cli(&format!("race{i}"), "host");
            let (t, a, b2) = (tx_id.clone(), c1.clone(), c2.clone());
            let e = engine.clone();
            let who = actor.clone();
            tasks.spawn(async move { e.assign_credit(&a, &t, &who).await.is_ok() });
            let (e, t) = (engine.clone(), tx_id.clone());
            let who = actor.clone();
            tasks.spawn(async move { e.assign_credit(&b2, &t, &who).await.is_ok() });
            let (e, t) = (engine.clone(), tx_id.clone());
            tasks.spawn(async move { e.confirm_by_hand(&t, &actor).await.is_ok() });
        }
        // The buyer's real payment and (every other round) the expiry sweep.
        let e = other.clone();
        let msg = paycue::engine::IncomingMessage {
            sender_id: 856_254_490,
            chat_id: None,
            message_id: 5000 + round,
            date: now_ms(),
            text: support::app::humo_text(amount, "7466"),
        };
        tasks.spawn(async move {
            matches!(
                e.ingest(&msg).await.unwrap(),
                IngestOutcome::Applied(ApplyOutcome::Confirmed { .. })
            )
        });
        if round % 2 == 1 {
            let e = app.engine.clone();
            tasks.spawn(async move {
                e.store
                    .expire_due(now_ms(), &[new_event_id()])
                    .await
                    .unwrap();
                false
            });
        }
        let wins = tasks.join_all().await.into_iter().filter(|w| *w).count();
        assert_eq!(wins, 1, "round {round}: exactly one settlement wins");
        let events = app.engine.store.events(&tx_id).await.unwrap();
        let confirms = events
            .iter()
            .filter(|e| e.action == paycue::model::Action::Confirm)
            .count();
        assert_eq!(confirms, 1, "round {round}: {events:?}");
        // Each credit pays at most one transaction.
        let paid = app.engine.store.get(&tx_id).await.unwrap().unwrap().paid_by;
        let left = app
            .engine
            .store
            .list_credits(CreditOutcome::Unmatched, 100)
            .await
            .unwrap();
        for c in [&c1, &c2] {
            let still = left.iter().any(|l| l.id == *c);
            assert_eq!(
                still,
                paid.as_deref() != Some(c.as_str()),
                "round {round} {c}"
            );
        }
    }
    // Every confirm reaches the shop once.
    let mut confirms = std::collections::HashSet::new();
    while confirms.len() < 6 {
        let hook = app.receiver.next().await.json();
        if hook["action"] == "confirm" {
            assert!(
                confirms.insert(hook["transaction_id"].to_string()),
                "{hook}"
            );
        }
    }
    app.stop().await;
}

async fn a_retried_settlement_is_refused_and_queues_nothing(b: Backend) {
    let Some(mut app) = app(b, "manual_retry").await else {
        return;
    };
    // The same entry sent twice: the answer to the first was lost (paycue
    // killed, Redis restarted, the connection cut) and the caller retries.
    let tx = app.create(6000).await;
    let credit = unmatched(&app, 1, 5000).await;
    let entry = paycue::manual::AuditEntry {
        id: "a1".into(),
        at: now_ms(),
        action: AuditAction::Assign,
        transaction_id: id(&tx),
        credit_id: Some(credit.clone()),
        event_id: new_event_id(),
        by: "cli@alice".into(),
        from: "host".into(),
    };
    let first = app.engine.store.settle_by_hand(&entry, &[]).await.unwrap();
    assert!(
        matches!(first, paycue::manual::ManualOutcome::Settled { .. }),
        "{first:?}"
    );
    let again = app.engine.store.settle_by_hand(&entry, &[]).await.unwrap();
    assert!(
        matches!(again, paycue::manual::ManualOutcome::AlreadyConfirmed(_)),
        "{again:?}"
    );
    let err = app
        .engine
        .assign_credit(&credit, &id(&tx), &Actor::cli("alice", "host"))
        .await
        .unwrap_err();
    assert!(matches!(err, ManualError::AlreadyConfirmed(_)), "{err}");
    assert!(err.to_string().contains("cli@alice"), "{err}");
    assert_eq!(app.engine.store.events(&id(&tx)).await.unwrap().len(), 1);
    assert_eq!(app.engine.audit(10).await.unwrap(), vec![entry]);
    app.engine.outbox.notify_waiters();
    let hook = app.receiver.next().await.json();
    assert_eq!(hook["manual_by"], "cli@alice");
    app.receiver.assert_quiet(Duration::from_millis(300)).await;
    app.stop().await;
}

async fn retention_prunes_the_audit_list(b: Backend) {
    let Some(app) = app(b, "manual_retention").await else {
        return;
    };
    for price in [1000, 2000] {
        let tx = app.create(price).await;
        app.engine
            .confirm_by_hand(&id(&tx), &Actor::console("10.0.0.1"))
            .await
            .unwrap();
    }
    let audit = app.engine.audit(10).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert!(audit[0].at >= audit[1].at, "newest first");
    assert_eq!(audit[0].by, "console");
    assert_eq!(audit[0].from, "10.0.0.1");
    assert_eq!(app.engine.audit(1).await.unwrap().len(), 1);
    let now = now_ms();
    let kept = app
        .engine
        .store
        .prune(now, audit[1].at - 1, 100)
        .await
        .unwrap();
    assert_eq!(kept.audit, 0);
    let pruned = app.engine.store.prune(now, audit[0].at, 1).await.unwrap();
    assert_eq!(pruned.audit, 1, "bounded by max");
    let pruned = app.engine.store.prune(now, audit[0].at, 100).await.unwrap();
    assert_eq!(pruned.audit, 1);
    assert!(app.engine.audit(10).await.unwrap().is_empty());
    app.stop().await;
}
