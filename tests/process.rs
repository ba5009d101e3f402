//! Invariants that need real processes and a real Redis: allocation stays
//! unique across two paycue processes, and a webhook event survives kill -9
//! in the middle of its delivery (same event id, delivered after restart).

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use serde_json::json;
use support::RedisServer;
use support::process::Paycue;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_never_issue_the_same_amount() {
    let Some(redis) = RedisServer::start("two_processes") else {
        return;
    };
    let env = [("LIMIT", "1000"), ("WORKERS", "1")];
    let (a, b) = (
        Paycue::start(&redis.url(), &env),
        Paycue::start(&redis.url(), &env),
    );
    let http = reqwest::Client::new();
    let mut tasks = tokio::task::JoinSet::new();
    // 900 creates for one price (the amounts of +1..=+1000 that are not a
    // multiple of ROUND_STEP 10): 18 concurrent clients per process.
    for client in 0..36 {
        let base = if client % 2 == 0 {
            a.base.clone()
        } else {
            b.base.clone()
        };
        let http = http.clone();
        tasks.spawn(async move {
            let mut amounts = Vec::new();
            for _ in 0..25 {
                let resp = http
                    .post(format!("{base}/transactions"))
                    .json(&json!({"amount": 20000}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status().as_u16(), 201);
                let body: serde_json::Value = resp.json().await.unwrap();
                amounts.push(body["data"]["amount"].as_i64().unwrap());
            }
            amounts
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        all.extend(r.unwrap());
    }
    assert_eq!(all.len(), 900);
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(distinct.len(), 900, "an amount was issued twice");
    // Smallest free offset first: exactly +1..=+1000 but the round ones.
    let want: HashSet<i64> = (20001..=21000).filter(|a| a % 10 != 0).collect();
    assert_eq!(distinct, want);
    // The window is full now, in both processes.
    for base in [&a.base, &b.base] {
        let resp = http
            .post(format!("{base}/transactions"))
            .json(&json!({"amount": 20000}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 409);
    }
}

/// A shop endpoint that hangs on the first request (the delivery that will be
/// cut by kill -9) and answers 200 after that; it records every webhook-id.
async fn hanging_receiver() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let s = s.clone();
            async move {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let first = {
                    let mut seen = s.lock().unwrap();
                    seen.push((id, body));
                    seen.len() == 1
                };
                if first {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_mid_delivery_redelivers_same_event_after_restart() {
    let Some(redis) = RedisServer::start("kill9") else {
        return;
    };
    let (url, seen) = hanging_receiver().await;
    let env = [
        ("WEBHOOK_URL", url.as_str()),
        ("WEBHOOK_TIMEOUT", "2s"),
        ("WEBHOOK_BACKOFF", "100ms"),
    ];
    let mut first = Paycue::start(&redis.url(), &env);
    let http = reqwest::Client::new();
    let created: serde_json::Value = http
        .post(format!("{}/transactions", first.base))
        .json(&json!({"amount": 20000}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["data"]["transaction_id"]
        .as_str()
        .unwrap()
        .to_string();
    first.send(&json!({"sender_id": 856254490, "message_id": 41, "text": support::app::humo_text(20001, "7466")}));
    // Wait until the delivery is in flight, then kill -9 in the middle of it.
    // The bound is generous (a loaded 2-core machine): it only ends a hang.
    let started = std::time::Instant::now();
    while seen.lock().unwrap().is_empty() && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(seen.lock().unwrap().len(), 1, "the first delivery started");
    first.kill9();

    let second = Paycue::start(&redis.url(), &env);
    // The lease (timeout 2 s + 5 s) runs out and the new process delivers.
    let restarted = std::time::Instant::now();
    while seen.lock().unwrap().len() < 2 && restarted.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 2, "event redelivered after restart");
    assert_eq!(seen[1].0, seen[0].0, "same event id across the kill");
    assert_eq!(seen[1].1, seen[0].1, "same body across the kill");
    let body: serde_json::Value = serde_json::from_str(&seen[1].1).unwrap();
    assert_eq!(body["transaction_id"], id.as_str());
    assert_eq!(body["action"], "confirm");
    let shown: serde_json::Value = http
        .get(format!("{}/transactions/{id}", second.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["data"]["status"], "confirmed");
    // The message was applied once, before the kill: replaying it changes nothing.
    drop(second);
}

/// kill -9 after the shop answered 200 but before paycue recorded the
/// attempt (Redis refuses writes from the moment the receiver takes the
/// request, so the record cannot be made): after a restart the event is
/// delivered again under the same id. At least once: the shop dedupes on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_between_the_answer_and_its_record_delivers_again_after_restart() {
    let Some(redis) = RedisServer::start("kill9_answered") else {
        return;
    };
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let (s, url) = (seen.clone(), redis.url());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (s, url) = (s.clone(), url.clone());
            async move {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let first = {
                    let mut seen = s.lock().unwrap();
                    seen.push((id, body));
                    seen.len() == 1
                };
                if first {
                    // Hold every write (scripts included) before answering.
                    let client = redis::Client::open(url.as_str()).unwrap();
                    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
                    let _: () = redis::cmd("CLIENT")
                        .arg("PAUSE")
                        .arg(600_000)
                        .arg("WRITE")
                        .query_async(&mut conn)
                        .await
                        .unwrap();
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let env = [
        ("WEBHOOK_URL", hook.as_str()),
        ("WEBHOOK_TIMEOUT", "2s"),
        ("WEBHOOK_BACKOFF", "100ms"),
    ];
    let mut first = Paycue::start(&redis.url(), &env);
    let http = reqwest::Client::new();
    let created: serde_json::Value = http
        .post(format!("{}/transactions", first.base))
        .json(&json!({"amount": 20000}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["data"]["transaction_id"]
        .as_str()
        .unwrap()
        .to_string();
    first.send(&json!({"sender_id": 856254490, "message_id": 43, "text": support::app::humo_text(20001, "7466")}));
    let started = std::time::Instant::now();
    while seen.lock().unwrap().is_empty() && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(seen.lock().unwrap().len(), 1, "the first delivery came");
    // Let the 200 reach paycue; its record of the attempt stays blocked.
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.kill9();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("UNPAUSE")
        .query_async(&mut conn)
        .await
        .unwrap();

    let second = Paycue::start(&redis.url(), &env);
    let restarted = std::time::Instant::now();
    while seen.lock().unwrap().len() < 2 && restarted.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 2, "delivered again after the restart");
    assert_eq!(seen[1].0, seen[0].0, "same event id");
    assert_eq!(seen[1].1, seen[0].1, "same body");
    let body: serde_json::Value = serde_json::from_str(&seen[1].1).unwrap();
    assert_eq!(body["transaction_id"], id.as_str());
    drop(second);
}
