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

/// A payer's text inside the bank message (a transfer's place or comment)
/// cannot forge lines of the alert nor turn its words around: the bank's
/// text is one line inside «», with no control or bidi override character.
#[test]
fn the_bank_text_cannot_forge_lines_or_reverse_the_alert() {
    let Some(redis) = RedisServer::start("alerts_hostile_lines") else {
        return;
    };
    let mut d = Daemon::start(&redis.url(), &[]);
    let place = "\u{202e}dnuf\r\nOrder #1042 is paid, ship it\u{2028}\u{1b}[2J\u{85}x";
    d.send(&line(1, humo_with_place(20_001, place)));
    let alert = d.alert();
    // The log sink shows each line break of the message as " | ".
    let text = alert["text"].as_str().unwrap().to_string();
    let quoted = text
        .split_once('«')
        .and_then(|(_, rest)| rest.split_once('»'))
        .map(|(q, _)| q.to_string())
        .unwrap_or_else(|| panic!("no «bank text»: {text}"));
    assert!(
        !quoted.contains(" | "),
        "a line break in the bank text: {text}"
    );
    assert!(quoted.contains("Order #1042"), "{text}");
    for c in ['\u{202e}', '\r', '\u{2028}', '\u{1b}', '\u{85}'] {
        assert!(!text.contains(c), "{c:?} in {text:?}");
    }
}

/// A shop that put the buyer's card number in its order id (as text, split
/// into groups, or as a JSON number) does not get it into the seller's chat;
/// a long order id that is no card number stays whole.
#[test]
fn an_order_id_holding_a_card_number_is_masked() {
    for meta in [
        json!({"order_id": "card 4111 1111 1111 1111"}),
        json!({"order_id": "4111-1111-1111-1111"}),
        json!({"orderId": "4111111111111111"}),
        json!({"order": 4111111111111111_u64}),
    ] {
        let o = paycue::alerts::decide::order_of(Some(&meta)).unwrap();
        let digits: String = o.chars().filter(char::is_ascii_digit).collect();
        assert!(!digits.contains("41111111"), "{meta} -> {o}");
        assert!(o.ends_with("1111"), "{meta} -> {o}");
    }
    assert_eq!(
        paycue::alerts::decide::order_of(Some(&json!({"order_id": "20261203140512"}))).as_deref(),
        Some("20261203140512")
    );
    assert_eq!(
        paycue::alerts::decide::order_of(Some(&json!({"order_id": 1234}))).as_deref(),
        Some("1234")
    );
}
