//! HTTP API: envelope, status codes, bad input, auth, idempotency, limits.
//! Every test runs against the in-memory store and a real Redis.

mod support;

use serde_json::json;
use support::app::{Backend, spawn};

support::both!(
    compat_route_keeps_go_envelope,
    offsets_start_at_one_and_rotate_cards,
    bad_input_is_4xx_json_and_changes_nothing,
    no_free_amount_is_409,
    idempotency_key_replays_or_conflicts,
    api_key_accepted_three_ways,
    lists_and_shows_transactions,
);

async fn compat_route_keeps_go_envelope(b: Backend) {
    let Some(app) = spawn(b, "compat_route", |_| {}).await else {
        return;
    };
    let (code, body) = app
        .post("/create/transaction/", json!({"amount": 20000}))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], true);
    let data = &body["data"];
    assert_eq!(data["amount"], 20001);
    assert_eq!(data["requested_amount"], 20000);
    assert_eq!(data["status"], "pending");
    assert_eq!(data["currency"], "UZS");
    assert!(
        data["transaction_id"]
            .as_str()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok())
    );
    assert!(data["expires_at"].as_str().is_some());
    // Fractional prices keep their minor units exactly.
    let (code, body) = app.post("/transactions", json!({"amount": 150.25})).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["data"]["amount"].to_string(), "151.25");
    app.stop().await;
}

async fn offsets_start_at_one_and_rotate_cards(b: Backend) {
    let Some(app) = spawn(b, "offsets", |c| {
        c.cards = Some("8600123412347466,9860****4428".into())
    })
    .await
    else {
        return;
    };
    let mut got = Vec::new();
    for _ in 0..5 {
        let tx = app.create(20000).await;
        got.push((
            tx["card"].as_str().unwrap().to_string(),
            tx["amount"].as_i64().unwrap(),
        ));
    }
    // Cards written without a bank: a message naming no card could be for
    // either, so they share one amount space and offsets alternate over
    // them (with `bank:card` each bank's cards get +1 first: see
    // tests/matching_rules.rs).
    let want = [
        ("8600123412347466", 20001),
        ("9860****4428", 20002),
        ("8600123412347466", 20003),
        ("9860****4428", 20004),
        ("8600123412347466", 20005),
    ];
    let want: Vec<(String, i64)> = want.iter().map(|(c, a)| (c.to_string(), *a)).collect();
    assert_eq!(got, want);
    app.stop().await;
}

async fn bad_input_is_4xx_json_and_changes_nothing(b: Backend) {
    let Some(app) = spawn(b, "bad_input", |_| {}).await else {
        return;
    };
    let cases: Vec<(&str, u16)> = vec![
        ("{not json", 400),
        ("{\"amount\": \"20000\"}", 422),
        ("{\"amount\": 0}", 422),
        ("{\"amount\": -5}", 422),
        ("{\"amount\": 1.001}", 422),
        ("{\"amount\": 2e4}", 422),
        ("{\"amount\": 99999999999999999999}", 422),
        ("{\"amount\": null}", 422),
        ("{}", 422),
        ("[]", 422),
        ("{\"amount\": 100, \"metadata\": [1]}", 422),
    ];
    for (body, want) in cases {
        for path in ["/transactions", "/create/transaction/"] {
            let resp = app
                .http
                .post(format!("{}{path}", app.base))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), want, "{path} {body}");
            let json: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(json["status"], false, "{body}");
            assert!(
                json["data"]["detail"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{body}: {json}"
            );
        }
    }
    let big = format!(
        "{{\"amount\": 1, \"metadata\": {{\"x\": \"{}\"}}}}",
        "a".repeat(20_000)
    );
    let resp = app
        .http
        .post(format!("{}/transactions", app.base))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["status"],
        false
    );
    let resp = app
        .http
        .post(format!("{}/transactions", app.base))
        .body("{\"amount\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 415);
    let resp = app
        .http
        .delete(format!("{}/transactions", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["status"],
        false
    );
    for path in [
        "/transactions/nope",
        &format!("/transactions/{}", uuid::Uuid::new_v4()),
        "/no/such/route",
    ] {
        let (code, body) = app.get(path).await;
        assert_eq!(code, 404, "{path}");
        assert_eq!(body["status"], false);
    }
    for q in ["?status=paid", "?limit=0", "?limit=100000", "?limit=x"] {
        assert_eq!(app.get(&format!("/transactions{q}")).await.0, 400, "{q}");
    }
    // Nothing was created by any of it: the first good create gets +1.
    assert_eq!(app.create(20000).await["amount"], 20001);
    let (_, list) = app.get("/transactions").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn no_free_amount_is_409(b: Backend) {
    let Some(app) = spawn(b, "no_free_amount", |c| c.limit = Some("3".into())).await else {
        return;
    };
    for want in [20001, 20002, 20003] {
        assert_eq!(app.create(20000).await["amount"], want);
    }
    let (code, body) = app.post("/transactions", json!({"amount": 20000})).await;
    assert_eq!(code, 409);
    assert!(
        body["data"]["detail"]
            .as_str()
            .unwrap()
            .contains("no free amount"),
        "{body}"
    );
    // Another price still has room.
    assert_eq!(app.create(30000).await["amount"], 30001);
    app.stop().await;
}

async fn idempotency_key_replays_or_conflicts(b: Backend) {
    let Some(app) = spawn(b, "idempotency", |_| {}).await else {
        return;
    };
    let send = |body: serde_json::Value, key: &'static str| {
        let req = app
            .http
            .post(format!("{}/transactions", app.base))
            .header("Idempotency-Key", key)
            .json(&body);
        async move {
            let resp = req.send().await.unwrap();
            (
                resp.status().as_u16(),
                resp.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (c1, first) = send(
        json!({"amount": 5000, "metadata": {"a": 1, "b": 2}}),
        "order-77",
    )
    .await;
    assert_eq!(c1, 201);
    // Same body with keys in another order: the same transaction.
    let (c2, again) = send(
        json!({"metadata": {"b": 2, "a": 1}, "amount": 5000}),
        "order-77",
    )
    .await;
    assert_eq!(c2, 200);
    assert_eq!(
        first["data"]["transaction_id"],
        again["data"]["transaction_id"]
    );
    let (c3, conflict) = send(json!({"amount": 6000}), "order-77").await;
    assert_eq!(c3, 422, "{conflict}");
    assert_eq!(conflict["status"], false);
    let (c4, other) = send(
        json!({"amount": 5000, "metadata": {"a": 1, "b": 2}}),
        "order-78",
    )
    .await;
    assert_eq!(c4, 201);
    assert_eq!(other["data"]["amount"], 5002);
    app.stop().await;
}

async fn api_key_accepted_three_ways(b: Backend) {
    const KEY: &str = "test-key-0123456789abcdef";
    let Some(app) = spawn(b, "api_key", |c| c.api_key = Some(KEY.into())).await else {
        return;
    };
    let url = format!("{}/transactions", app.base);
    let body = json!({"amount": 100});
    let resp = app.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["status"],
        false
    );
    assert_eq!(
        app.http
            .post(&url)
            .header("X-API-Key", "wrong-key-0123456789abcdef")
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        app.http
            .post(&url)
            .bearer_auth("nope")
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        app.http
            .post(&url)
            .header("X-API-Key", KEY)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        201
    );
    assert_eq!(
        app.http
            .post(&url)
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        201
    );
    assert_eq!(
        app.http
            .post(&url)
            .basic_auth("shop", Some(KEY))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        201
    );
    assert_eq!(
        app.http
            .get(format!("{}/transactions", app.base))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    // Health stays open for monitors; it reveals nothing.
    assert_eq!(app.get("/health").await.0, 200);
    assert_eq!(app.get("/health/").await.0, 200);
    app.stop().await;
}

async fn lists_and_shows_transactions(b: Backend) {
    let Some(app) = spawn(b, "list_show", |_| {}).await else {
        return;
    };
    let a = app.create(1000).await;
    let c = app.create(2000).await;
    let id = c["transaction_id"].as_str().unwrap();
    let (code, _) = app
        .post(&format!("/transactions/{id}/cancel"), json!({}))
        .await;
    assert_eq!(code, 200);
    let (_, all) = app.get("/transactions?limit=10").await;
    let ids: Vec<_> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transaction_id"].clone())
        .collect();
    assert_eq!(
        ids,
        vec![c["transaction_id"].clone(), a["transaction_id"].clone()],
        "newest first"
    );
    let (_, pending) = app.get("/transactions?status=pending").await;
    assert_eq!(pending["data"].as_array().unwrap().len(), 1);
    assert_eq!(pending["data"][0]["transaction_id"], a["transaction_id"]);
    let (_, cancelled) = app.get("/transactions?status=cancelled").await;
    assert_eq!(cancelled["data"][0]["cancel_reason"], "api");
    let (code, shown) = app.get(&format!("/transactions/{id}")).await;
    assert_eq!(code, 200);
    assert_eq!(shown["data"]["status"], "cancelled");
    assert_eq!(shown["data"]["events"][0]["action"], "cancel");
    let (code, _) = app
        .post(&format!("/transactions/{id}/cancel"), json!({}))
        .await;
    assert_eq!(code, 409, "a transaction is cancelled once");
    app.stop().await;
}

/// Redis goes away: the API answers 503 with a detail, nothing panics, and
/// the same process works again once Redis is back.
#[tokio::test]
async fn redis_outage_is_503_then_recovers() {
    let Some(mut app) = spawn(Backend::Redis, "redis_outage", |_| {}).await else {
        return;
    };
    assert_eq!(app.create(1000).await["amount"], 1001);
    app.redis.as_mut().unwrap().stop();
    let (code, body) = app.post("/transactions", json!({"amount": 1000})).await;
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["status"], false);
    assert!(
        body["data"]["detail"]
            .as_str()
            .unwrap()
            .contains("unavailable"),
        "{body}"
    );
    assert_eq!(app.get("/health").await.0, 503);
    assert_eq!(app.get("/transactions").await.0, 503);
    app.redis.as_mut().unwrap().restart();
    let mut recovered = None;
    for _ in 0..100 {
        let (code, body) = app.post("/transactions", json!({"amount": 1000})).await;
        if code == 201 {
            recovered = Some(body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The restarted Redis kept nothing (no persistence in tests): +1 again.
    assert_eq!(
        recovered.expect("works again after Redis returns")["data"]["amount"],
        1001
    );
    assert_eq!(app.get("/health").await.0, 200);
    app.stop().await;
}
