//! Redis refusing work (out of memory, read-only replica, busy script) is
//! "unavailable": 503 with a detail that says what is wrong and a
//! Retry-After, `/health` 503 while paycue cannot write, and everything
//! resumes by itself once Redis accepts writes again. Data paycue did not
//! write is still "corrupt" (500). Real app, real `redis-server`.

mod support;

use std::time::Duration;

use serde_json::json;
use support::app::{Backend, now_ms, spawn};

async fn redis_cmd(url: &str, args: &[&str]) -> redis::Value {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query_async(&mut conn).await.unwrap()
}

/// POST /transactions; (status, Retry-After, detail).
async fn create(app: &support::app::TestApp, price: i64) -> (u16, Option<String>, String) {
    let resp = app
        .http
        .post(format!("{}/transactions", app.base))
        .json(&json!({"amount": price}))
        .send()
        .await
        .unwrap();
    health_like(resp).await
}

async fn health(app: &support::app::TestApp) -> (u16, Option<String>, String) {
    let resp = app
        .http
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    health_like(resp).await
}

async fn health_like(resp: reqwest::Response) -> (u16, Option<String>, String) {
    let code = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body: serde_json::Value = resp.json().await.unwrap();
    (code, retry, body["data"]["detail"].to_string())
}

fn assert_refused(got: (u16, Option<String>, String), words: &str) {
    let (code, retry, detail) = got;
    assert_eq!(code, 503, "{detail}");
    assert!(
        retry.is_some_and(|s| s.parse::<u32>().is_ok()),
        "Retry-After"
    );
    assert!(
        detail.contains(words),
        "detail should say {words:?}: {detail}"
    );
    assert!(!detail.contains("internal error"), "{detail}");
}

#[tokio::test]
async fn out_of_memory_is_unavailable_and_resumes() {
    let Some(mut app) = spawn(Backend::Redis, "oom", |_| {}).await else {
        return;
    };
    let url = app.redis.as_ref().unwrap().url();
    let tx = app.create(1000).await;
    redis_cmd(&url, &["CONFIG", "SET", "maxmemory", "1"]).await;
    assert_refused(create(&app, 2000).await, "out of memory");
    assert_refused(health(&app).await, "out of memory");
    // Once Redis accepts writes again, everything goes through by itself.
    redis_cmd(&url, &["CONFIG", "SET", "maxmemory", "0"]).await;
    assert_eq!(health(&app).await.0, 200);
    assert_eq!(create(&app, 2000).await.0, 201);
    app.humo_credit(1, tx["amount"].as_i64().unwrap(), "1111", now_ms())
        .await;
    assert_eq!(app.receiver.next().await.json()["action"], "confirm");
    app.stop().await;
}

#[tokio::test]
async fn read_only_replica_is_unavailable_and_resumes() {
    let Some(app) = spawn(Backend::Redis, "readonly", |_| {}).await else {
        return;
    };
    let url = app.redis.as_ref().unwrap().url();
    app.create(1000).await;
    // A replica of a primary that is not there: reads work, writes refused.
    redis_cmd(&url, &["REPLICAOF", "127.0.0.1", "1"]).await;
    assert_refused(create(&app, 2000).await, "read-only");
    assert_refused(health(&app).await, "read-only");
    redis_cmd(&url, &["REPLICAOF", "NO", "ONE"]).await;
    assert_eq!(health(&app).await.0, 200);
    assert_eq!(create(&app, 2000).await.0, 201);
    app.stop().await;
}

#[tokio::test]
async fn busy_script_is_unavailable_and_resumes() {
    let Some(app) = spawn(Backend::Redis, "busy", |_| {}).await else {
        return;
    };
    let url = app.redis.as_ref().unwrap().url();
    app.create(1000).await;
    redis_cmd(&url, &["CONFIG", "SET", "busy-reply-threshold", "100"]).await;
    let looping = url.clone();
    let busy = tokio::spawn(async move {
        let client = redis::Client::open(looping.as_str()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let _: redis::RedisResult<redis::Value> = redis::cmd("EVAL")
            .arg("while true do end")
            .arg(0)
            .query_async(&mut conn)
            .await;
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_refused(create(&app, 2000).await, "busy");
    redis_cmd(&url, &["SCRIPT", "KILL"]).await;
    let _ = busy.await;
    assert_eq!(create(&app, 2000).await.0, 201);
    app.stop().await;
}

/// A record paycue did not write is still reported as corrupt (500).
#[tokio::test]
async fn foreign_data_is_still_corrupt() {
    let Some(app) = spawn(Backend::Redis, "foreign", |_| {}).await else {
        return;
    };
    let url = app.redis.as_ref().unwrap().url();
    let tx = app.create(1000).await;
    let id = tx["transaction_id"].as_str().unwrap();
    redis_cmd(&url, &["DEL", &format!("paycue:tx:{id}")]).await;
    redis_cmd(&url, &["SET", &format!("paycue:tx:{id}"), "not a hash"]).await;
    let (code, body) = app.get(&format!("/transactions/{id}")).await;
    assert_eq!(code, 500, "{body}");
    app.stop().await;
}

/// Issue 8.5: Redis paused mid-create. The 503 cannot know whether the
/// order was written; it says so and tells the shop to retry with the same
/// Idempotency-Key, and that retry returns the one transaction.
#[tokio::test]
async fn paused_redis_mid_create_says_retry_with_the_same_key() {
    let Some(app) = spawn(Backend::Redis, "paused_create", |_| {}).await else {
        return;
    };
    app.create(1000).await;
    let redis = app.redis.as_ref().unwrap();
    let send = || {
        app.http
            .post(format!("{}/transactions", app.base))
            .header("idempotency-key", "order-77")
            .json(&json!({"amount": 7000}))
            .send()
    };
    redis.signal(libc::SIGSTOP);
    let (code, retry, detail) = health_like(send().await.unwrap()).await;
    redis.signal(libc::SIGCONT);
    assert_eq!(code, 503, "{detail}");
    assert!(retry.is_some(), "Retry-After");
    assert!(
        detail.contains("may have been created") && detail.contains("same Idempotency-Key"),
        "{detail}"
    );
    let again = send().await.unwrap();
    assert!(
        [200, 201].contains(&again.status().as_u16()),
        "{}",
        again.status()
    );
    let (_, list) = app.get("/transactions?status=pending").await;
    let amounts: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["requested_amount"] == 7000)
        .collect();
    assert_eq!(amounts.len(), 1, "one order, not two: {list}");
    app.stop().await;
}
