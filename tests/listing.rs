//! Finding transactions (issue 11): `GET /transactions` filtered by status,
//! date range, card, amount and text in the metadata, newest first, paged
//! with a cursor; hostile filter values are refused by name or match
//! nothing, never reach Redis as patterns. Both stores.

mod support;

use serde_json::{Value, json};
use support::app::{Backend, TestApp, now_ms, spawn};

support::both!(
    filters_find_the_order,
    pages_follow_the_cursor_without_repeats,
    hostile_filters
);

async fn app(b: Backend, name: &str) -> Option<TestApp> {
    spawn(b, name, |c| {
        c.cards = Some("9860****7466,8600****1111".into())
    })
    .await
}

async fn order(app: &TestApp, price: i64, id: &str) -> Value {
    let (code, body) = app
        .post(
            "/transactions",
            json!({"amount": price, "metadata": {"order_id": id, "n": {"deep": [id]}}}),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    body["data"].clone()
}

fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transaction_id"].as_str().unwrap().to_string())
        .collect()
}

async fn filters_find_the_order(b: Backend) {
    let Some(app) = app(b, "listing_filters").await else {
        return;
    };
    let a = order(&app, 1000, "A-1001").await;
    let bb = order(&app, 2000, "B-2002").await;
    let c = order(&app, 3000, "c-3003").await;
    app.engine
        .confirm_by_hand(
            c["transaction_id"].as_str().unwrap(),
            &paycue::manual::Actor::api("t"),
        )
        .await
        .unwrap();
    let id = |t: &Value| t["transaction_id"].as_str().unwrap().to_string();
    let get = |q: &str| {
        let q = q.to_string();
        let app = &app;
        async move {
            let (code, body) = app.get(&format!("/transactions?{q}")).await;
            assert_eq!(code, 200, "{q}: {body}");
            ids(&body)
        }
    };
    assert_eq!(get("").await, vec![id(&c), id(&bb), id(&a)], "newest first");
    assert_eq!(get("q=b-2002").await, vec![id(&bb)], "order id, any case");
    assert_eq!(get("q=C-3003&status=confirmed").await, vec![id(&c)]);
    assert_eq!(get("q=C-3003&status=pending").await, Vec::<String>::new());
    assert_eq!(
        get(&format!("q={}", id(&a))).await,
        vec![id(&a)],
        "transaction id"
    );
    assert_eq!(
        get("q=order_id").await,
        Vec::<String>::new(),
        "keys are not searched"
    );
    let card = a["card"].as_str().unwrap().to_string();
    let last4 = &card[card.len() - 4..];
    let on_card = get(&format!("card={last4}")).await;
    assert!(on_card.contains(&id(&a)), "{on_card:?}");
    assert_eq!(get(&format!("amount={}", a["amount"])).await, vec![id(&a)]);
    assert_eq!(get("amount=2000").await, vec![id(&bb)], "the price asked");
    let now = now_ms();
    let from = jiff::Timestamp::from_millisecond(now - 3_600_000).unwrap();
    let to = jiff::Timestamp::from_millisecond(now + 3_600_000).unwrap();
    assert_eq!(get(&format!("from={from}&to={to}")).await.len(), 3);
    assert_eq!(get(&format!("to={from}")).await.len(), 0);
    assert_eq!(get("from=2000-01-01&to=2000-01-02").await.len(), 0);
    app.stop().await;
}

async fn pages_follow_the_cursor_without_repeats(b: Backend) {
    let Some(app) = app(b, "listing_pages").await else {
        return;
    };
    for i in 0..7 {
        order(&app, 1000 + i * 10, &format!("P-{i}")).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let url = match &cursor {
            Some(c) => format!("{}/transactions?limit=3&cursor={c}", app.base),
            None => format!("{}/transactions?limit=3", app.base),
        };
        let resp = app.http.get(url).send().await.unwrap();
        let next = resp
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_string());
        let body: Value = resp.json().await.unwrap();
        seen.extend(ids(&body));
        // A transaction created between pages is not shown on later pages.
        if seen.len() == 3 {
            order(&app, 9000, "late-comer").await;
        }
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 7);
    app.stop().await;
}

async fn hostile_filters(b: Backend) {
    let Some(app) = app(b, "listing_hostile").await else {
        return;
    };
    order(&app, 1000, "A-1").await;
    for q in [
        "*",
        "%",
        "?",
        "[a-z]",
        "paycue:tx:*",
        "\\",
        "%00",
        "%22",
        "'%20OR%201=1",
    ] {
        let (code, body) = app.get(&format!("/transactions?q={q}")).await;
        assert_eq!(code, 200, "{q}");
        assert_eq!(body["data"], json!([]), "{q}");
    }
    for bad in [
        "from=yesterday",
        "to=2026-13-40",
        "amount=1e5",
        "amount=-1",
        "cursor=-1",
        "cursor=abc",
        "status=",
    ] {
        let (code, body) = app.get(&format!("/transactions?{bad}")).await;
        assert_eq!(code, 400, "{bad}: {body}");
    }
    let long = "x".repeat(201);
    assert_eq!(app.get(&format!("/transactions?q={long}")).await.0, 400);
    app.stop().await;
}
