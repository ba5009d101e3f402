//! The examples in `examples/` work against the real paycue:
//! - each webhook receiver (Python always; Node and PHP when installed)
//!   answers 2xx to a real signed delivery, and 401 to a forged, tampered or
//!   stale one, so it really verifies;
//! - the shop client creates a transaction and shows the buyer what to pay.
//!
//! Python is required (CI has it); Node and PHP are skipped when missing.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use support::app::{Backend, SECRET_B64, TestApp, now_ms, spawn};
use support::process::free_port;

const KEY: &str = "examples-test-key-0123456789";

fn examples() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
}

fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A receiver process; killed on drop.
struct Example(Child);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program args` with WEBHOOK_SECRET and PORT set; waits until it listens.
fn start_receiver(program: &str, args: &[&str], port: u16) -> Example {
    let receiver = Example(
        Command::new(program)
            .args(args)
            .current_dir(examples())
            .env("WEBHOOK_SECRET", format!("whsec_{SECRET_B64}"))
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}")),
    );
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return receiver;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{program} {args:?} did not listen on {port}");
}

/// paycue delivers a real `confirm` to the receiver at `url`; the receiver
/// must answer 2xx. Then hand-made requests check that it verifies.
async fn receiver_accepts_real_deliveries_and_rejects_forgeries(url: String) {
    let Some(app) = spawn(Backend::Memory, "example_receiver", |c| {
        c.webhook_url = Some(url.clone());
        c.webhook_retries = Some("0".into());
    })
    .await
    else {
        return;
    };
    let tx = app.create(20000).await;
    let id = tx["transaction_id"].as_str().unwrap();
    app.humo_credit(1, 20001, "7466", now_ms()).await;
    let event = delivered_event(&app, id).await;
    let attempt = &event["attempts"][0];
    let code = attempt["status_code"].as_u64().unwrap_or(0);
    assert!(
        (200..300).contains(&code),
        "the receiver refused a real delivery: {event}"
    );

    let http = reqwest::Client::new();
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET_B64)
        .unwrap();
    let post = |body: &str, ts: i64, sig: String| {
        http.post(&url)
            .header("content-type", "application/json")
            .header("webhook-id", "evt_test_1")
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sig)
            .body(body.to_string())
            .send()
    };
    let body = json!({"action": "cancel", "event_id": "evt_test_1", "transaction_id": id, "amount": 20001}).to_string();
    let now = now_ms() / 1000;
    let good = paycue::webhook::sign(&key, "evt_test_1", now, &body);
    let status = |r: reqwest::Result<reqwest::Response>| r.unwrap().status().as_u16();
    assert!(
        status(post(&body, now, good.clone()).await) / 100 == 2,
        "a correctly signed event"
    );
    let tampered = body.replace("20001", "20002");
    assert_eq!(
        status(post(&tampered, now, good.clone()).await),
        401,
        "tampered body"
    );
    let old = now - 3600;
    let old_sig = paycue::webhook::sign(&key, "evt_test_1", old, &body);
    assert_eq!(
        status(post(&body, old, old_sig).await),
        401,
        "stale timestamp"
    );
    let other_key = paycue::webhook::sign(b"another key of 16 bytes", "evt_test_1", now, &body);
    assert_eq!(status(post(&body, now, other_key).await), 401, "wrong key");
    // Several signatures (key rotation): any valid one is enough.
    let rotated = format!("v1,AAAA {good}");
    assert!(
        status(post(&body, now, rotated).await) / 100 == 2,
        "rotation list"
    );
    app.stop().await;
}

/// Waits until the transaction's first event has an attempt; returns the event.
async fn delivered_event(app: &TestApp, id: &str) -> Value {
    for _ in 0..200 {
        let shown = app.get(&format!("/transactions/{id}")).await.1;
        let event = &shown["data"]["events"][0];
        if !event["attempts"].as_array().is_none_or(|a| a.is_empty()) {
            return event.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no delivery attempt recorded for {id}");
}

#[tokio::test]
async fn python_receiver_verifies_real_deliveries() {
    assert!(
        installed("python3"),
        "python3 is needed for the examples test"
    );
    let port = free_port();
    let _receiver = start_receiver("python3", &["python/receiver.py"], port);
    receiver_accepts_real_deliveries_and_rejects_forgeries(format!(
        "http://127.0.0.1:{port}/paycue"
    ))
    .await;
}

#[tokio::test]
async fn node_receiver_verifies_real_deliveries() {
    if !installed("node") {
        eprintln!("SKIPPED node_receiver_verifies_real_deliveries: node is not installed");
        return;
    }
    let port = free_port();
    let _receiver = start_receiver("node", &["node/receiver.js"], port);
    receiver_accepts_real_deliveries_and_rejects_forgeries(format!(
        "http://127.0.0.1:{port}/paycue"
    ))
    .await;
}

#[tokio::test]
async fn php_receiver_verifies_real_deliveries() {
    if !installed("php") {
        eprintln!("SKIPPED php_receiver_verifies_real_deliveries: php is not installed");
        return;
    }
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let _receiver = start_receiver("php", &["-S", &addr, "php/receiver.php"], port);
    receiver_accepts_real_deliveries_and_rejects_forgeries(format!("http://{addr}/")).await;
}

/// Runs the shop client against the app; returns (success, stdout, stderr).
async fn create_order(app: &TestApp, key: &str, args: &[&str]) -> (bool, String, String) {
    let mut cmd = tokio::process::Command::new("python3");
    cmd.arg("python/create_order.py")
        .args(args)
        .current_dir(examples())
        .env("PAYCUE_URL", &app.base)
        .env("API_KEY", key);
    let out = cmd.output().await.expect("run create_order.py");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[tokio::test]
async fn shop_client_shows_the_buyer_what_to_pay() {
    assert!(
        installed("python3"),
        "python3 is needed for the examples test"
    );
    let Some(app) = spawn(Backend::Memory, "example_client", |c| {
        c.api_key = Some(KEY.into());
        c.cards = Some("9860****7466".into());
    })
    .await
    else {
        return;
    };
    let (ok, out, err) = create_order(&app, KEY, &["20000", "1001"]).await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("Pay exactly 20 001 UZS to 9860****7466"),
        "{out}"
    );
    let (ok, out, _) = create_order(&app, KEY, &["150.25", "1002"]).await;
    assert!(ok && out.contains("Pay exactly 151.25 UZS"), "{out}");
    // Same order id: the same transaction, not a second one.
    let (_, again, _) = create_order(&app, KEY, &["20000", "1001"]).await;
    let tx_id = |s: &str| {
        s.rsplit("Transaction ")
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    assert_eq!(
        tx_id(&again),
        tx_id(&create_order(&app, KEY, &["20000", "1001"]).await.1)
    );
    let (ok, _, err) = create_order(&app, "wrong-key-0123456789abc", &["20000", "1003"]).await;
    assert!(!ok && err.contains("paycue answered 401"), "{err}");
    app.stop().await;
}
