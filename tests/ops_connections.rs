//! Slow and idle clients never hold the daemon: the real binary, a real
//! `redis-server`, raw TCP clients that stop half-way through a request
//! header, and a real webhook receiver.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::RedisServer;
use support::app::{Receiver, humo_text};
use support::process::Paycue;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A client that sends half a request header and stops.
async fn half_open(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    s
}

/// Whether the server closes `s` within `within` (EOF or reset).
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue, // a response (e.g. 408); keep reading
        }
    }
}

fn addr(p: &Paycue) -> String {
    p.base.trim_start_matches("http://").to_string()
}

#[tokio::test]
async fn half_open_and_idle_keepalive_connections_are_closed() {
    let Some(redis) = RedisServer::start("half_open") else {
        return;
    };
    let p = Paycue::start(&redis.url(), &[("HTTP_HEADER_TIMEOUT", "1s")]);
    let mut slow = half_open(&addr(&p)).await;
    let mut idle = TcpStream::connect(addr(&p)).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    assert!(
        closed_within(&mut slow, Duration::from_secs(5)).await,
        "a half-sent header is dropped after HTTP_HEADER_TIMEOUT"
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(5)).await,
        "an idle keep-alive connection is closed"
    );
}

#[tokio::test]
async fn sigterm_with_half_open_connections_exits_promptly_after_in_flight_requests() {
    let Some(redis) = RedisServer::start("sigterm_half_open") else {
        return;
    };
    let mut p = Paycue::start(&redis.url(), &[]);
    let mut flood = Vec::new();
    for _ in 0..300 {
        flood.push(half_open(&addr(&p)).await);
    }
    // A request in flight: headers sent, body on its way.
    let body = json!({"amount": 5000}).to_string();
    let mut in_flight = TcpStream::connect(addr(&p)).await.unwrap();
    let head = format!(
        "POST /transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.unwrap();
    in_flight.write_all(&body.as_bytes()[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let term = Instant::now();
    p.sigterm();
    tokio::time::sleep(Duration::from_millis(300)).await;
    in_flight.write_all(&body.as_bytes()[5..]).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), in_flight.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the request in flight is answered: {answer}"
    );
    loop {
        if let Some(status) = p.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            term.elapsed() < Duration::from_secs(5),
            "paycue still running 5 s after SIGTERM (systemd's TimeoutStopSec is 30 s)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(flood);
}

/// Near the file limit: more half-open clients than paycue has descriptors.
/// `/health` still answers and a webhook still goes out on its first
/// attempt, because clients never get the descriptors of the workers.
#[tokio::test]
async fn flood_at_the_file_limit_keeps_health_and_webhooks() {
    let Some(redis) = RedisServer::start("fd_flood") else {
        return;
    };
    let mut receiver = Receiver::start().await;
    let mut p = Paycue::start_limited(
        &redis.url(),
        &[
            ("HTTP_HEADER_TIMEOUT", "2s"),
            ("WEBHOOK_URL", &receiver.url),
            ("WEBHOOK_RETRIES", "0"),
        ],
        Some(128),
    );
    let mut flood = Vec::new();
    for _ in 0..250 {
        flood.push(half_open(&addr(&p)).await);
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let health = http.get(format!("{}/health", p.base)).send().await;
    assert_eq!(health.map(|r| r.status().as_u16()).ok(), Some(200));
    let created: serde_json::Value = http
        .post(format!("{}/transactions", p.base))
        .json(&json!({"amount": 7000}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let amount = created["data"]["amount"].as_i64().unwrap();
    // More clients arrive while the payment does.
    for _ in 0..250 {
        flood.push(half_open(&addr(&p)).await);
    }
    p.send(&json!({"sender_id": 856254490, "message_id": 1, "text": humo_text(amount, "1111")}));
    let hit = receiver.next().await;
    assert_eq!(hit.json()["action"], "confirm");
    let id = created["data"]["transaction_id"].as_str().unwrap();
    let shown: serde_json::Value = http
        .get(format!("{}/transactions/{id}", p.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let event = &shown["data"]["events"][0];
    assert_eq!(event["delivery"], "delivered", "{event}");
    drop(flood);
}

/// A body that trickles in is answered 408 after HTTP_REQUEST_TIMEOUT and
/// the connection closed, never held open.
#[tokio::test]
async fn slow_body_gets_408_after_the_request_timeout() {
    let Some(app) = support::app::spawn(support::app::Backend::Memory, "slow_body", |c| {
        c.http_request_timeout = Some("1s".into());
    })
    .await
    else {
        return;
    };
    let mut s = TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    s.write_all(b"POST /transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"amount\":")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "connection still open 5 s later");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("Idempotency-Key"), "{answer}");
    app.stop().await;
}

/// Clients that send requests and never read the answers: a pipeline of
/// `GET /openapi.json` (42 kB each) fills both socket buffers, and the answer
/// waits on a write that never progresses. Without a limit on that wait each
/// such client holds one of the `HTTP_MAX_CONNECTIONS` slots for good, and
/// a handful of them lock everyone else out (the header-read and request
/// timeouts do not cover writing the answer).
#[tokio::test]
async fn clients_that_never_read_their_answers_do_not_hold_the_connection_slots() {
    let Some(redis) = RedisServer::start("no_reader") else {
        return;
    };
    let p = Paycue::start(
        &redis.url(),
        &[
            ("HTTP_MAX_CONNECTIONS", "4"),
            ("HTTP_HEADER_TIMEOUT", "1s"),
            ("HTTP_REQUEST_TIMEOUT", "2s"),
        ],
    );
    let target: std::net::SocketAddr = addr(&p).parse().unwrap();
    let mut hogs = Vec::new();
    for _ in 0..4 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(2048).unwrap();
        let mut s = socket.connect(target).await.unwrap();
        let pipeline = "GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n".repeat(100);
        s.write_all(pipeline.as_bytes()).await.unwrap();
        hogs.push(s);
    }
    // The slots are all taken now; a fresh client is served once the server
    // gives up on the writes nobody reads. The bound only ends a hang.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(90))
        .build()
        .unwrap();
    let health = http.get(format!("{}/health", p.base)).send().await;
    assert!(
        health.as_ref().is_ok_and(|r| r.status().is_success()),
        "/health not answered while 4 clients do not read: {health:?}"
    );
    drop(hogs);
}
