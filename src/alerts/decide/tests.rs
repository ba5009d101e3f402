//! The rules with a fake clock: times are plain numbers chosen by the test.

use std::time::Duration;

use super::*;
use crate::config::AlertSettings;
use crate::model::{CreditKind, CreditOutcome, CreditRecord, TxStatus};
use crate::money::Money;

const T0: Millis = 1_764_748_800_000; // 2025-12-03 08:00 UTC = 13:00 Tashkent
const MIN: Millis = 60_000;

fn settings() -> AlertSettings {
    AlertSettings::default()
}

fn credit(id: &str, outcome: CreditOutcome) -> CreditRecord {
    CreditRecord {
        id: id.into(),
        kind: CreditKind::Credit,
        outcome,
        transaction_id: None,
        reason: Some("no_transaction".into()),
        bank: "humo".into(),
        amount: Money::from_major(20_001),
        currency: Some("UZS".into()),
        card_last4: Some("7466".into()),
        sender_id: 856_254_490,
        chat_id: 856_254_490,
        message_id: 1,
        date: T0,
        received_at: T0,
        text: None,
    }
}

fn tx(id: &str, metadata: Option<serde_json::Value>) -> Transaction {
    Transaction {
        id: id.into(),
        status: TxStatus::Cancelled,
        amount: Money::from_major(20_001),
        requested_amount: Money::from_major(20_000),
        card: Some("8600123412347466".into()),
        currency: "UZS".into(),
        created_at: T0 - 40 * MIN,
        expires_at: T0 - 10 * MIN,
        ended_at: Some(T0 - 10 * MIN),
        cancel_reason: None,
        metadata,
        paid_by: None,
        late_credits: vec![],
        last_event: None,
        reversed_at: None,
        reversal: None,
        manual: None,
    }
}

fn unmatched(id: &str, at: Millis) -> (String, Queued) {
    let q = applied(
        &ApplyOutcome::Unmatched {
            credit: credit(id, CreditOutcome::Unmatched),
        },
        Some("🎉 Пополнение ➕ 20.001,00 UZS 💳 HUMOCARD *7466"),
        &settings(),
        at,
    )
    .unwrap();
    (q.key.clone(), q)
}

#[test]
fn each_credit_has_its_own_key_and_the_kind_must_be_wanted() {
    let (k1, q) = unmatched("c1", T0);
    assert_eq!(k1, "unmatched:c1");
    assert!(matches!(q.alert, Alert::Unmatched { .. }));
    let late = ApplyOutcome::Late {
        transaction: tx("t1", Some(serde_json::json!({"order_id": "A-17"}))),
        credit: credit("c2", CreditOutcome::Late),
    };
    let q = applied(&late, None, &settings(), T0).unwrap();
    assert_eq!(q.key, "late:c2");
    match &q.alert {
        Alert::Late { order, due, .. } => {
            assert_eq!(order.as_deref(), Some("A-17"));
            assert_eq!(*due, T0 - 10 * MIN);
        }
        other => panic!("{other:?}"),
    }
    let mut only_late = settings();
    only_late.kinds = vec![AlertKind::Late];
    let c = ApplyOutcome::Unmatched {
        credit: credit("c3", CreditOutcome::Unmatched),
    };
    assert_eq!(applied(&c, None, &only_late, T0), None);
    assert!(applied(&late, None, &only_late, T0).is_some());
}

#[test]
fn a_reversal_that_matched_nothing_is_not_money_to_assign() {
    let mut c = credit("r1", CreditOutcome::Unmatched);
    c.kind = CreditKind::Reversal;
    let o = ApplyOutcome::Unmatched { credit: c };
    assert_eq!(applied(&o, None, &settings(), T0), None);
}

#[test]
fn the_same_fact_decided_later_or_elsewhere_has_the_same_key() {
    let (a, _) = unmatched("c1", T0);
    let (b, _) = unmatched("c1", T0 + 3_600_000);
    assert_eq!(a, b);
    let s = settings();
    let d1 = webhook_down(Some(T0), &s, T0 + 6 * MIN).unwrap();
    let d2 = webhook_down(Some(T0), &s, T0 + 60 * MIN).unwrap();
    assert_eq!(d1.key, d2.key);
}

#[test]
fn webhook_down_after_the_setting_and_up_only_if_told() {
    let s = settings(); // 5 minutes
    assert_eq!(webhook_down(None, &s, T0), None);
    assert_eq!(webhook_down(Some(T0), &s, T0 + 5 * MIN - 1), None);
    let down = webhook_down(Some(T0), &s, T0 + 5 * MIN).unwrap();
    assert_eq!(down.key, webhook_down_key(T0));
    assert_eq!(down.alert, Alert::WebhookDown { since: T0 });
    // A short failure the seller never heard of stays silent.
    assert_eq!(webhook_up(T0, false, T0 + MIN), None);
    let up = webhook_up(T0, true, T0 + 9 * MIN).unwrap();
    assert_eq!(up.key, format!("webhook_up:{T0}"));
    // A new failure later is a new change of state: a new key.
    let again = webhook_down(Some(T0 + 60 * MIN), &s, T0 + 70 * MIN).unwrap();
    assert_ne!(again.key, down.key);
    let mut off = s.clone();
    off.kinds.retain(|k| *k != AlertKind::Webhook);
    assert_eq!(webhook_down(Some(T0), &off, T0 + 60 * MIN), None);
}

#[test]
fn silence_needs_the_setting_the_span_and_a_caught_up_source() {
    let mut s = settings();
    assert_eq!(
        silence(Some(T0), true, &s, T0 + 100 * 3_600_000),
        None,
        "off by default"
    );
    s.silence = Some(Duration::from_secs(6 * 3600));
    assert_eq!(silence(Some(T0), true, &s, T0 + 6 * 60 * MIN - 1), None);
    assert_eq!(
        silence(Some(T0), false, &s, T0 + 7 * 60 * MIN),
        None,
        "still catching up"
    );
    let q = silence(Some(T0), true, &s, T0 + 6 * 60 * MIN).unwrap();
    assert_eq!(q.key, silence_alert_key(T0));
    assert_eq!(
        silence_over(T0, false, T0 + 7 * 60 * MIN, T0 + 7 * 60 * MIN),
        None
    );
    let over = silence_over(T0, true, T0 + 7 * 60 * MIN, T0 + 7 * 60 * MIN).unwrap();
    assert_eq!(over.key, format!("silence_over:{T0}"));
}

#[test]
fn daily_is_due_once_a_day_at_local_time() {
    let mut s = settings();
    s.daily_at = jiff::civil::time(9, 0, 0, 0);
    // Not asked for: never.
    assert_eq!(daily_due(&s, 0, T0), None);
    s.kinds.push(AlertKind::Daily);
    // T0 is 13:00 in Tashkent (UTC+5): today's 09:00 was 04:00 UTC.
    let nine = T0 - 4 * 60 * MIN;
    assert_eq!(daily_due(&s, 0, T0), Some(nine));
    assert_eq!(daily_key(&s, nine), "daily:2025-12-03");
    // At 08:59 it is still yesterday's.
    assert_eq!(daily_due(&s, 0, nine - 1), None, "more than 12 h late");
    assert_eq!(daily_due(&s, 0, nine + 1), Some(nine));
    // Alerts started after it: that day's summary is not ours to send.
    assert_eq!(daily_due(&s, nine + 1, T0), None);
    // Another zone moves it.
    s.timezone = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    assert_eq!(daily_due(&s, 0, T0), Some(nine + 2 * 60 * MIN));
}

#[test]
fn a_flood_waits_until_quiet_then_goes_as_one_message() {
    let taken: Vec<_> = (0..1000)
        .map(|i| unmatched(&format!("c{i:04}"), T0 + i))
        .collect();
    let newest = T0 + 999;
    // Still arriving: held back until the kind is quiet.
    let p = plan(taken.clone(), newest + 10);
    assert!(p.send.is_empty());
    assert_eq!(p.later.len(), 1000);
    // Looked at again soon, all together (never one old part alone).
    assert!(
        p.later
            .iter()
            .all(|(_, at)| *at == newest + 10 + RECHECK_MS)
    );
    // Quiet: one message covering all of them.
    let p = plan(taken.clone(), newest + SETTLE_MS);
    assert_eq!(p.send.len(), 1);
    assert_eq!(p.send[0].alerts.len(), 1000);
    assert!(p.later.is_empty());
}

#[test]
fn a_flood_that_never_pauses_still_goes_out_after_max_wait() {
    let taken: Vec<_> = (0..61)
        .map(|i| unmatched(&format!("c{i}"), T0 + i * 1000))
        .collect();
    let p = plan(taken, T0 + MAX_WAIT_MS);
    assert_eq!(p.send.len(), 1);
    assert_eq!(p.send[0].alerts.len(), 61);
}

#[test]
fn a_clock_that_went_back_does_not_hold_alerts() {
    let taken = vec![unmatched("c1", T0)];
    let p = plan(taken, T0 - 3_600_000);
    assert_eq!(p.send.len(), 1);
}

#[test]
fn state_changes_go_one_by_one_and_oldest_first() {
    let s = settings();
    let down = webhook_down(Some(T0), &s, T0 + 5 * MIN).unwrap();
    let up = webhook_up(T0, true, T0 + 6 * MIN).unwrap();
    let taken = vec![
        (up.key.clone(), up),
        unmatched("c1", T0),
        (down.key.clone(), down),
    ];
    let p = plan(taken, T0 + 7 * MIN);
    let labels: Vec<_> = p.send.iter().map(|m| m.label).collect();
    assert_eq!(labels, ["unmatched", "webhook_down", "webhook_up"]);
}

#[test]
fn bank_text_loses_full_card_numbers_and_is_cut() {
    assert_eq!(
        mask_text("Karta 8600 1234 5678 7466 ga 20 001.00 UZS"),
        "Karta ****7466 ga 20 001.00 UZS"
    );
    assert_eq!(mask_text("card 4400123412341234 ok"), "card ****1234 ok");
    assert_eq!(
        mask_text("💳 HUMOCARD *7466 ➕ 2.200,00"),
        "💳 HUMOCARD *7466 ➕ 2.200,00"
    );
    assert_eq!(mask_text("479091******6905"), "479091******6905");
    // Digits of any script, and no-break spaces between the groups.
    assert_eq!(mask_text("📍 ٨٦٠٠١٢٣٤٥٦٧٨٩٠١"), "📍 ****٨٩٠١");
    assert_eq!(
        mask_text("８６００１２３４５６７８９０１２"),
        "****９０１２"
    );
    assert_eq!(
        mask_text("card 8600\u{a0}1234\u{a0}5678\u{202f}7466"),
        "card ****7466"
    );
    let long = "x".repeat(1000);
    assert_eq!(mask_text(&long).chars().count(), TEXT_MAX + 1);
}

#[test]
fn order_id_comes_from_known_metadata_keys_only() {
    use serde_json::json;
    assert_eq!(
        order_of(Some(&json!({"order_id": 1234}))).as_deref(),
        Some("1234")
    );
    assert_eq!(
        order_of(Some(&json!({"orderId": "A-1"}))).as_deref(),
        Some("A-1")
    );
    assert_eq!(order_of(Some(&json!({"email": "x@y"}))), None);
    assert_eq!(order_of(None), None);
}

#[test]
fn retries_back_off_and_telegram_waits_win() {
    assert_eq!(retry_delay(0, None), Duration::from_secs(5));
    assert_eq!(retry_delay(1, None), Duration::from_secs(10));
    assert_eq!(retry_delay(30, None), Duration::from_secs(300));
    assert_eq!(
        retry_delay(0, Some(Duration::from_secs(42))),
        Duration::from_secs(42)
    );
}

/// Two looks at a flood see it whole: held alerts come due again before
/// the ones queued after them are ready, so the older part is never judged
/// quiet alone while the flood goes on.
#[test]
fn held_alerts_come_back_with_the_rest_of_their_flood() {
    let first: Vec<_> = (0..300)
        .map(|i| unmatched(&format!("a{i}"), T0 + i))
        .collect();
    let p = plan(first.clone(), T0 + 400);
    let recheck = p.later[0].1;
    assert!(recheck <= T0 + 400 + RECHECK_MS);
    // More arrive; at the recheck both parts are due, and one plan holds all.
    let mut all = first;
    all.extend((0..700).map(|i| unmatched(&format!("b{i}"), recheck - 10 + i % 5)));
    let p = plan(all.clone(), recheck);
    assert!(p.send.is_empty());
    let last = recheck - 10 + 4;
    let p = plan(all, last + SETTLE_MS);
    assert_eq!(p.send.len(), 1);
    assert_eq!(p.send[0].alerts.len(), 1000);
}

#[test]
fn an_alert_rebuilt_from_the_store_shows_the_kept_bank_text() {
    let mut c = credit("c1", CreditOutcome::Unmatched);
    c.text = Some("HUMOCARD 8600123456787466, +20 001 UZS".into());
    assert_eq!(
        view(&c, None).text.as_deref(),
        Some("HUMOCARD ****7466, +20 001 UZS")
    );
    assert_eq!(
        view(&c, Some("live text")).text.as_deref(),
        Some("live text")
    );
    c.text = None;
    assert_eq!(view(&c, None).text, None);
}

#[test]
fn an_event_given_up_again_after_a_redeliver_is_a_new_alert() {
    let s = settings();
    let first = gave_up("evt_1", 0, "tx", "confirm", None, &s, T0).unwrap();
    let again = gave_up("evt_1", 4, "tx", "confirm", None, &s, T0 + MIN).unwrap();
    assert_eq!(first.key, "webhook_gave_up:evt_1", "the key it always had");
    assert_ne!(first.key, again.key);
}
