//! Logs of the real binary: `LOG_FORMAT=json` gives one JSON object per line,
//! every line about a transaction carries its id, `DEBUG=true` gives readable
//! debug lines, and no secret is ever written.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use support::app::{Receiver, SECRET_B64, humo_text};
use support::process::free_port;

const KEY: &str = "log-test-api-key-0123456789";

struct Daemon {
    child: Child,
    base: String,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Daemon {
    /// `paycue run --source stdin --store memory`, stderr captured line by line.
    fn start(webhook_url: &str, env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paycue"));
        cmd.args(["run", "--source", "stdin", "--store", "memory"])
            .current_dir(dir.path())
            .env_clear()
            .env("PORT", port.to_string())
            .env("API_KEY", KEY)
            .env("WEBHOOK_URL", webhook_url)
            .env("WEBHOOK_SECRET", format!("whsec_{SECRET_B64}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().expect("spawn paycue");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut d = Daemon {
            child,
            base: format!("http://127.0.0.1:{port}"),
            lines,
            seen: Vec::new(),
            _dir: dir,
        };
        d.wait_for(|l| l.contains("paycue started"));
        d
    }

    /// Collects log lines until one satisfies `done`.
    fn wait_for(&mut self, done: impl Fn(&str) -> bool) {
        if self.seen.iter().any(|l| done(l)) {
            return;
        }
        loop {
            match self.lines.recv_timeout(Duration::from_secs(20)) {
                Ok(line) => {
                    let stop = done(&line);
                    self.seen.push(line);
                    if stop {
                        return;
                    }
                }
                Err(_) => panic!(
                    "log line not seen within 20 s; got:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    fn send(&mut self, line: &Value) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Creates a transaction, pays it, and waits until the webhook is logged
    /// as delivered. Returns the transaction id.
    async fn pay_one(&mut self, receiver: &mut Receiver) -> String {
        let created: Value = reqwest::Client::new()
            .post(format!("{}/transactions", self.base))
            .header("X-API-Key", KEY)
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
        self.send(
            &json!({"sender_id": 856254490, "message_id": 7, "text": humo_text(20001, "7466")}),
        );
        self.send(
            &json!({"sender_id": 856254490, "message_id": 8, "text": humo_text(777, "7466")}),
        );
        assert_eq!(receiver.next().await.json()["transaction_id"], id.as_str());
        self.wait_for(|l| l.contains("webhook delivered"));
        self.wait_for(|l| l.contains("credit matches no transaction"));
        id
    }

    fn assert_no_secrets(&self) {
        let all = self.seen.join("\n");
        for secret in [KEY, SECRET_B64, "whsec_"] {
            assert!(!all.contains(secret), "a secret reached the log:\n{all}");
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_and_name_the_transaction() {
    let mut receiver = Receiver::start().await;
    let mut d = Daemon::start(&receiver.url, &[("LOG_FORMAT", "json")]);
    let id = d.pay_one(&mut receiver).await;
    let mut about_it = Vec::new();
    for line in &d.seen {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v["timestamp"].is_string() && v["level"].is_string(),
            "{line}"
        );
        let message = v["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message: {line}"));
        // A line about an event or a matched credit is about a transaction.
        let unmatched = message.contains("matches no transaction");
        if v.get("event_id").is_some() || (v.get("credit_id").is_some() && !unmatched) {
            assert!(v["transaction_id"].is_string(), "no transaction_id: {line}");
        }
        if v["transaction_id"] == id.as_str() {
            about_it.push(message.to_string());
        }
    }
    for expected in [
        "transaction created",
        "payment confirmed",
        "webhook delivered",
    ] {
        assert!(
            about_it.iter().any(|m| m == expected),
            "{expected:?} not logged with the id: {about_it:?}"
        );
    }
    d.assert_no_secrets();
}

#[tokio::test]
async fn debug_logs_are_readable_text_without_colour_codes() {
    let mut receiver = Receiver::start().await;
    let mut d = Daemon::start(&receiver.url, &[("DEBUG", "true")]);
    let id = d.pay_one(&mut receiver).await;
    assert!(
        d.seen
            .iter()
            .all(|l| serde_json::from_str::<Value>(l).is_err()),
        "text, not JSON"
    );
    assert!(
        d.seen.iter().all(|l| !l.contains('\u{1b}')),
        "no ANSI escapes when not a terminal"
    );
    assert!(
        d.seen.iter().any(|l| l.contains("DEBUG")),
        "DEBUG=true logs debug lines:\n{}",
        d.seen.join("\n")
    );
    let created = d
        .seen
        .iter()
        .find(|l| l.contains("transaction created"))
        .unwrap();
    assert!(
        created.contains(&format!("transaction_id={id}")),
        "{created}"
    );
    d.assert_no_secrets();
}

/// systemd stops paycue with SIGTERM: it logs the shutdown and exits 0 on its
/// own, even with a stdin source whose read never returns (before the fix it
/// hung until SIGKILL). The 30 s bound is systemd's TimeoutStopSec.
#[tokio::test]
async fn sigterm_is_logged_and_the_daemon_exits_cleanly() {
    let receiver = Receiver::start().await;
    let mut d = Daemon::start(&receiver.url, &[]);
    let pid = d.child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    d.wait_for(|l| l.contains("shutting down"));
    let mut status = None;
    for _ in 0..300 {
        status = d.child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = status.expect("paycue still running 30 s after SIGTERM");
    assert!(status.success(), "{status:?}");
}
