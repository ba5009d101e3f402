//! `paycue check --send-test` for alerts: a test alert goes into the alert
//! queue in Redis, and the running paycue sends it through its own Telegram
//! session (or logs it with `--source stdin`). check never opens the session
//! itself: the running daemon holds it, and a second user of one session can
//! get it revoked. It waits a little for the queue to let go of the alert and
//! says whether a running paycue took it.

use std::time::Duration;

use super::{Report, paycue_answers};
use crate::alerts::state::{AlertState, RedisAlerts};
use crate::alerts::{Alert, Queued};
use crate::config::{AlertChat, Config};
use crate::model::now_millis;

/// How long check waits for the running paycue to send the test alert (its
/// sender looks at the queue every 2 s; a send takes at most 15 s).
pub const WAIT: Duration = Duration::from_secs(20);

pub async fn check(report: &mut Report, config: &Config, send_test: bool) {
    let kinds: Vec<&str> = config.alerts.kinds.iter().map(|k| k.as_str()).collect();
    if kinds.is_empty() {
        report.skip("alerts", "ALERTS=off: no alert is sent");
        return;
    }
    let to = match config.alerts.chat {
        AlertChat::SavedMessages => "Saved Messages".to_string(),
        AlertChat::Chat(id) => format!("chat {id}"),
    };
    if !send_test {
        report.ok(
            "alerts",
            format!(
                "{} to {to} in {}",
                kinds.join(","),
                config.alerts.lang.code()
            ),
        );
        return;
    }
    let state = RedisAlerts::open(&config.redis_url);
    let at = now_millis();
    let key = format!("test:{at}");
    let q = Queued {
        key: key.clone(),
        alert: Alert::Test { at },
        queued_at: at,
    };
    if let Err(e) = state.enqueue(&q).await {
        report.fail(
            "alert test",
            format!("cannot queue a test alert: {e}"),
            "fix Redis first (see the redis line above)",
        );
        return;
    }
    if paycue_answers(config).await.is_none() {
        report.warn(
            "alert test",
            format!(
                "queued; no paycue answers on {}:{}, so it goes to {to} when paycue starts",
                config.host, config.port
            ),
            "start paycue (systemctl start paycue)",
        );
        return;
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match state.is_queued(&key).await {
            Ok(false) => {
                report.ok(
                    "alert test",
                    format!("the running paycue sent a test alert to {to}"),
                );
                return;
            }
            Ok(true) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Ok(true) => {
                report.fail(
                    "alert test",
                    format!("the running paycue did not send the test alert within {} s (it stays queued and is retried)", WAIT.as_secs()),
                    "see `journalctl -u paycue` for \"cannot send an alert\": the chat in ALERT_CHAT may not accept the account's messages",
                );
                return;
            }
            Err(e) => {
                report.fail(
                    "alert test",
                    format!("cannot read the alert queue: {e}"),
                    "fix Redis first",
                );
                return;
            }
        }
    }
}
