//! `GET /metrics`: behind the API key, OpenMetrics text, and every figure the
//! README promises moves when the thing it counts happens.

mod support;

use std::time::Duration;

use paycue::metrics::Metrics;
use serde_json::json;
use support::app::{Backend, TestApp, now_ms, spawn};

support::both!(metrics_need_the_key_and_count_the_payment_loop);

const KEY: &str = "metrics-test-key-0123456789";

async fn scrape(app: &TestApp) -> String {
    let resp = app
        .http
        .get(format!("{}/metrics", app.base))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    resp.text().await.unwrap()
}

/// The value of one series (`name{labels}`), 0 when it is absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.parse().unwrap())
}

async fn metrics_need_the_key_and_count_the_payment_loop(b: Backend) {
    let Some(mut app) = spawn(b, "metrics", |c| {
        c.api_key = Some(KEY.into());
        c.limit = Some("10".into());
        c.cards = Some("8600123412347466".into());
    })
    .await
    else {
        return;
    };
    assert_eq!(app.get("/metrics").await.0, 401, "metrics need the API key");

    let before = scrape(&app).await;
    assert_eq!(value(&before, "paycue_transactions_created_total"), 0.0);
    assert_eq!(value(&before, "paycue_amounts_free{card=\"7466\"}"), 10.0);
    assert_eq!(value(&before, "paycue_store_up"), 1.0);

    let created = app
        .http
        .post(format!("{}/transactions", app.base))
        .header("X-API-Key", KEY)
        .json(&json!({"amount": 20000}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["data"]["transaction_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.humo_credit(1, 20001, "7466", now_ms()).await;
    app.humo_credit(2, 55555, "7466", now_ms()).await; // matches nothing
    assert_eq!(app.receiver.next().await.json()["transaction_id"], id);

    // Counters move before the attempt is recorded, so once the store shows
    // the delivery, the scrape must show it too.
    for _ in 0..100 {
        let shown = app
            .http
            .get(format!("{}/transactions/{id}", app.base))
            .header("X-API-Key", KEY)
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap();
        if shown["data"]["events"][0]["delivery"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = scrape(&app).await;
    for (series, want) in [
        ("paycue_transactions_created_total", 1.0),
        ("paycue_transactions_confirmed_total", 1.0),
        ("paycue_credits_parsed_total", 2.0),
        ("paycue_credits_matched_total", 1.0),
        (
            "paycue_credits_unmatched_total{reason=\"no_transaction\"}",
            1.0,
        ),
        ("paycue_messages_parsed_total{kind=\"credit\"}", 2.0),
        ("paycue_webhook_attempts_total", 1.0),
        ("paycue_webhook_failures_total", 0.0),
        ("paycue_webhook_delivery_seconds_count", 1.0),
        ("paycue_credit_to_webhook_seconds_count", 1.0),
        ("paycue_amounts_held{card=\"7466\"}", 1.0),
        ("paycue_amounts_free{card=\"7466\"}", 9.0),
    ] {
        assert_eq!(value(&after, series), want, "{series} in\n{after}");
    }
    assert!(value(&after, "paycue_credit_to_webhook_seconds_sum") > 0.0);
    app.stop().await;
}

/// With Redis gone the scrape still answers (Prometheus should see the
/// outage, not a scrape error) and says so.
#[tokio::test]
async fn store_outage_shows_as_store_up_zero() {
    let Some(mut app) = spawn(Backend::Redis, "metrics_outage", |c| {
        c.api_key = Some(KEY.into())
    })
    .await
    else {
        return;
    };
    assert_eq!(value(&scrape(&app).await, "paycue_store_up"), 1.0);
    app.redis.as_mut().unwrap().stop();
    let text = scrape(&app).await;
    assert_eq!(value(&text, "paycue_store_up"), 0.0);
    assert!(!text.contains("paycue_amounts_free{"), "{text}");
    app.stop().await;
}

/// The renderer on its own: names, labels, buckets, per-card amounts.
mod render {
    use super::*;

    #[test]
    fn counters_and_labels_render_in_openmetrics_text() {
        let m = Metrics::new();
        m.created.inc();
        m.created.inc();
        m.cancelled("expired");
        m.unmatched("unknown_card");
        m.message("credit");
        let text = m.render();
        assert_eq!(value(&text, "paycue_transactions_created_total"), 2.0);
        let cancelled = "paycue_transactions_cancelled_total{reason=\"expired\"}";
        assert_eq!(value(&text, cancelled), 1.0);
        let unmatched = "paycue_credits_unmatched_total{reason=\"unknown_card\"}";
        assert_eq!(value(&text, unmatched), 1.0);
        assert!(text.contains("# TYPE paycue_webhook_delivery_seconds histogram"));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn histograms_count_observations_in_their_buckets() {
        let m = Metrics::new();
        m.delivery(Duration::from_millis(30));
        m.credit_to_webhook(Duration::from_secs(120));
        let text = m.render();
        let delivery = "paycue_webhook_delivery_seconds";
        assert_eq!(value(&text, &format!("{delivery}_count")), 1.0);
        assert_eq!(
            value(&text, &format!("{delivery}_bucket{{le=\"0.025\"}}")),
            0.0
        );
        assert_eq!(
            value(&text, &format!("{delivery}_bucket{{le=\"0.05\"}}")),
            1.0
        );
        let c2w = "paycue_credit_to_webhook_seconds";
        assert_eq!(value(&text, &format!("{c2w}_bucket{{le=\"60.0\"}}")), 0.0);
        assert_eq!(value(&text, &format!("{c2w}_bucket{{le=\"300.0\"}}")), 1.0);
    }

    #[test]
    fn amounts_per_card_are_limit_minus_held_and_vanish_when_store_is_down() {
        let m = Metrics::new();
        let cards = ["8600123412347466".to_string(), "9860****4428".to_string()];
        m.set_amounts(&cards, 100, Some(&[("9860****4428".into(), 7)]));
        let text = m.render();
        assert_eq!(value(&text, "paycue_amounts_held{card=\"7466\"}"), 0.0);
        assert_eq!(value(&text, "paycue_amounts_free{card=\"7466\"}"), 100.0);
        assert_eq!(value(&text, "paycue_amounts_held{card=\"4428\"}"), 7.0);
        assert_eq!(value(&text, "paycue_amounts_free{card=\"4428\"}"), 93.0);
        assert_eq!(value(&text, "paycue_store_up"), 1.0);
        // One implicit card; more held than LIMIT (LIMIT was lowered) is 0 free.
        m.set_amounts(&[], 5, Some(&[(String::new(), 9)]));
        let text = m.render();
        assert!(text.contains("paycue_amounts_free{card=\"default\"} 0\n"));
        assert!(!text.contains("card=\"4428\""), "old cards are dropped");
        m.set_amounts(&cards, 100, None);
        let text = m.render();
        assert_eq!(value(&text, "paycue_store_up"), 0.0);
        assert!(!text.contains("paycue_amounts_free{"));
    }
}
