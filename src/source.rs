//! `--source stdin`: one JSON message per line, sent down exactly the path
//! Telegram messages take (`Engine::ingest`). Used for testing, replaying
//! recorded messages, and bridging other inputs (an SMS forwarder, say).
//!
//! `{"sender_id": 856254490, "message_id": 17, "date": "2025-10-02T07:37:34Z", "text": "..."}`
//! `date` is optional (default: now) and may be RFC 3339 or Unix seconds.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::engine::{Engine, IncomingMessage, IngestOutcome};
use crate::model::now_millis;

#[derive(Deserialize)]
struct Line {
    sender_id: i64,
    #[serde(default)]
    chat_id: Option<i64>,
    message_id: i64,
    #[serde(default)]
    date: Option<Value>,
    text: String,
}

/// Parses one input line into a message.
pub fn parse_line(line: &str) -> Result<IncomingMessage, String> {
    let l: Line = serde_json::from_str(line).map_err(|e| format!("bad message line: {e}"))?;
    let date = match l.date {
        None | Some(Value::Null) => now_millis(),
        Some(Value::String(s)) => s
            .parse::<jiff::Timestamp>()
            .map_err(|e| format!("bad date '{s}': {e} (use RFC 3339 like 2025-10-02T07:37:34Z)"))?
            .as_millisecond(),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|s| s.checked_mul(1000))
            .ok_or("date must be whole Unix seconds")?,
        Some(_) => return Err("date must be an RFC 3339 string or Unix seconds".into()),
    };
    Ok(IncomingMessage {
        sender_id: l.sender_id,
        chat_id: l.chat_id,
        message_id: l.message_id,
        date,
        text: l.text,
    })
}

/// Reads messages until EOF. A bad line is logged and skipped; a store error
/// is retried so no line is lost while Redis is away.
pub async fn run_lines<R: AsyncBufRead + Unpin>(
    engine: Arc<Engine>,
    input: R,
) -> std::io::Result<()> {
    engine.mark_caught_up();
    engine.set_connected(true);
    let mut lines = input.lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let msg = match parse_line(&line) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("{e}");
                continue;
            }
        };
        let mut delay = std::time::Duration::from_millis(200);
        loop {
            match engine.ingest(&msg).await {
                Ok(outcome) => {
                    log_outcome(&msg, &outcome);
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, message_id = msg.message_id, "cannot apply message; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(std::time::Duration::from_secs(10));
                }
            }
        }
    }
    engine.set_connected(false);
    tracing::info!("stdin closed; still serving the API");
    Ok(())
}

fn log_outcome(msg: &IncomingMessage, outcome: &IngestOutcome) {
    tracing::debug!(
        sender_id = msg.sender_id,
        message_id = msg.message_id,
        outcome = outcome.label(),
        transaction_id = outcome.transaction_id(),
        "message applied"
    );
}
