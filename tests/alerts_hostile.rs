//! Alerts under hostile or unlucky input, end to end: the real binary with
//! `--source stdin` on a real Redis (alerts are log lines). What a payer can
//! put into a bank message (a transfer's place or comment line) must never
//! stop the alerts nor reach the seller's chat unmasked.

mod support;

use serde_json::{Value, json};
use support::RedisServer;
use support::app::humo_text;
use support::daemon::Daemon;

fn line(message_id: i64, text: String) -> Value {
    json!({"sender_id": 856254490, "message_id": message_id, "text": text})
}

/// The HUMO credit text with its place line (`📍 …`) replaced by `place`.
fn humo_with_place(amount: i64, place: &str) -> String {
    humo_text(amount, "7466").replace("📍 NBU P2P HUMOHUMO>tas", &format!("📍 {place}"))
}

/// Twelve digits that are not ASCII (Arabic-Indic, fullwidth) in the bank's
/// text neither kill the alerts nor pass unmasked: this credit is alerted,
/// and so is the next one.
#[test]
fn non_ascii_digits_in_the_bank_text_do_not_stop_the_alerts() {
    let Some(redis) = RedisServer::start("alerts_hostile_digits") else {
        return;
    };
    let mut d = Daemon::start(&redis.url(), &[]);
    d.send(&line(1, humo_with_place(20_001, "٨٦٠٠١٢٣٤٥٦٧٨٩٠١")));
    let first = d.alert();
    let text = first["text"].as_str().unwrap().to_string();
    assert!(text.contains("20,001"), "{text}");
    assert!(!text.contains("٨٦٠٠١٢٣٤٥٦٧٨٩٠١"), "a full number: {text}");
    d.send(&line(
        2,
        humo_with_place(30_001, "８６００１２３４５６７８９０１２"),
    ));
    let second = d.alert();
    let text = second["text"].as_str().unwrap().to_string();
    assert!(text.contains("30,001"), "{text}");
    assert!(!text.contains("８６００１２３４５６７８９０１２"), "{text}");
}
