//! Alerts end to end: the real binary with `--source stdin` on a real Redis
//! (alerts go to the log and `/metrics`). An unmatched credit is one alert
//! line with the amount, the masked card and the assign command; a restart
//! does not repeat it; a process killed between deciding and sending leaves
//! it to the next one; a flood of credits is one message with a count.

mod support;

use std::io::Write;
use std::process::Command;

use serde_json::{Value, json};
use support::RedisServer;
use support::app::humo_text;
use support::daemon::Daemon;

fn credit_line(message_id: i64, amount: i64) -> Value {
    json!({"sender_id": 856254490, "message_id": message_id, "text": humo_text(amount, "7466")})
}

#[test]
fn an_unmatched_credit_is_one_alert_and_a_restart_does_not_repeat_it() {
    let Some(redis) = RedisServer::start("alerts_e2e") else {
        return;
    };
    let mut d = Daemon::start(&redis.url(), &[]);
    d.send(&credit_line(1, 20_001));
    let alert = d.alert();
    assert_eq!(alert["alert"], "unmatched", "{alert}");
    assert_eq!(alert["count"], 1);
    let text = alert["text"].as_str().unwrap().to_string();
    assert!(text.contains("A payment matched no order"), "{text}");
    assert!(text.contains("20,001\u{a0}UZS"), "{text}");
    assert!(
        text.contains("«🎉 Пополнение ➕ 20.001,00 UZS"),
        "the bank's text: {text}"
    );
    assert!(text.contains("*7466"), "{text}");
    assert!(text.contains("paycue assign "), "{text}");
    let metrics = d.metrics();
    assert!(
        metrics.contains("paycue_alerts_sent_total{kind=\"unmatched\"} 1"),
        "{metrics}"
    );
    // Restart: the first credit is not alerted again. A second credit's
    // alert comes alone (a repeat would have been due with it, or before).
    d.kill9();
    let mut d = Daemon::start(&redis.url(), &[]);
    d.send(&credit_line(2, 30_001));
    let second = d.alert();
    assert_eq!(second["count"], 1, "{second}");
    assert!(
        second["text"].as_str().unwrap().contains("30,001"),
        "{second}"
    );
}

#[test]
fn an_alert_decided_before_a_kill_is_sent_by_the_next_process() {
    let Some(redis) = RedisServer::start("alerts_kill") else {
        return;
    };
    let mut d = Daemon::start(&redis.url(), &[]);
    d.send(&credit_line(1, 20_001));
    d.wait_for(|l| l["message"] == "credit matches no transaction");
    // Killed before the alert settled (10 s) and was sent.
    d.kill9();
    let mut d = Daemon::start(&redis.url(), &[]);
    let alert = d.alert();
    assert_eq!(alert["alert"], "unmatched", "{alert}");
    assert!(
        alert["text"].as_str().unwrap().contains("20,001"),
        "{alert}"
    );
}

#[test]
fn a_flood_of_unmatched_credits_is_one_message_with_a_count() {
    let Some(redis) = RedisServer::start("alerts_flood") else {
        return;
    };
    let mut d = Daemon::start(&redis.url(), &[]);
    {
        let stdin = d.child.stdin.as_mut().unwrap();
        let mut all = String::new();
        for i in 0..1000 {
            all.push_str(&credit_line(i + 1, 20_001 + i).to_string());
            all.push('\n');
        }
        stdin.write_all(all.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    let alert = d.alert();
    assert_eq!(alert["alert"], "unmatched", "{alert}");
    assert_eq!(alert["count"], 1000, "{alert}");
    let text = alert["text"].as_str().unwrap();
    assert!(
        text.starts_with("⚠️ 1000 payments matched no order"),
        "{text}"
    );
    assert!(text.contains("and 995 more"), "{text}");
}

/// `paycue check --send-test` queues a test alert; the running paycue sends
/// it (here: logs it) and check says so.
#[test]
fn check_send_test_has_the_running_paycue_send_a_test_alert() {
    let Some(redis) = RedisServer::start("alerts_check") else {
        return;
    };
    let mut d = Daemon::start(&redis.url(), &[]);
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_paycue"))
        .args(["check", "--source", "stdin", "--send-test"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("REDIS_ADDR", redis.url())
        .env("PORT", d.port.to_string())
        .env("ALERT_LANG", "en")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("alert test"))
        .unwrap_or_else(|| panic!("no alert test line:\n{text}"));
    assert!(line.starts_with("  [ok  ]"), "{text}");
    assert!(
        line.contains("sent a test alert to Saved Messages"),
        "{text}"
    );
    let alert = d.alert();
    assert_eq!(alert["alert"], "test", "{alert}");
    assert_eq!(
        alert["text"],
        "✅ paycue test alert: alerts reach this chat."
    );
}
