//! The shop's metadata comes back exactly as sent: big integers, `-0` and
//! decimals keep their digits in answers and webhooks, and the idempotency
//! fingerprint tells apart bodies that differ only past a float's precision.
//! Both stores; bodies are compared as text, never through a float.

mod support;

use support::app::{Backend, now_ms, spawn};

support::both!(metadata_numbers_come_back_digit_exact);

const META: &str = r#"{"big":123456789012345678901234567890,"neg":-0,"dec":1.10,"e":1e+400}"#;

async fn post_raw(app: &support::app::TestApp, body: &str, key: &str) -> (u16, String) {
    let resp = app
        .http
        .post(format!("{}/transactions", app.base))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn metadata_numbers_come_back_digit_exact(b: Backend) {
    let Some(mut app) = spawn(b, "metadata_exact", |_| {}).await else {
        return;
    };
    let body = format!(r#"{{"amount": 5000, "metadata": {META}}}"#);
    let (code, created) = post_raw(&app, &body, "k1").await;
    assert_eq!(code, 201, "{created}");
    let shown_meta = |text: &str| {
        for part in [
            r#""big":123456789012345678901234567890"#,
            r#""neg":-0"#,
            r#""dec":1.10"#,
            r#""e":1e+400"#,
        ] {
            assert!(text.contains(part), "{part} missing from {text}");
        }
    };
    shown_meta(&created);
    let v: serde_json::Value = serde_json::from_str(&created).unwrap();
    let id = v["data"]["transaction_id"].as_str().unwrap().to_string();
    let shown = app
        .http
        .get(format!("{}/transactions/{id}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    shown_meta(&shown);
    // Same key, a body that differs only in the 30th digit: a conflict,
    // not a replay of the first transaction.
    let other = body.replace("567890", "567891");
    assert_eq!(post_raw(&app, &other, "k1").await.0, 422);
    // The same body again is a replay, exact digits included.
    let (code, replay) = post_raw(&app, &body, "k1").await;
    assert_eq!(code, 200, "{replay}");
    shown_meta(&replay);
    let amount = v["data"]["amount"].as_i64().unwrap();
    app.humo_credit(1, amount, "1111", now_ms()).await;
    let hit = app.receiver.next().await;
    shown_meta(&hit.body);
    assert!(hit.signed_over(&hit.body));
    app.stop().await;
}
