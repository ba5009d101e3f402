//! The bank parsers against real messages. Every sample in
//! `tests/fixtures/messages.jsonl` (a copy of the shared corpus; CI never
//! reads outside the project) is a case checked field by field: bank, kind,
//! amount, currency and card, as the entry states them. The submodules cover
//! each tolerance rule, the never-a-credit rules, trust by sender, the
//! `paycue parse` command and the properties (no panic, amount unchanged by
//! surrounding text).

#[path = "parsers/adversary.rs"]
mod adversary;
#[path = "parsers/cli.rs"]
mod cli;
#[path = "parsers/formats.rs"]
mod formats;
#[path = "parsers/kz.rs"]
mod kz;
#[path = "parsers/props.rs"]
mod props;
#[path = "parsers/rules.rs"]
mod rules;
#[path = "parsers/tolerance.rs"]
mod tolerance;

use paycue::parsers::{Bank, Kind, Notification, parse};
use serde_json::Value;

/// One corpus entry.
pub struct Sample {
    pub id: String,
    pub sender_id: Option<i64>,
    pub bank: Bank,
    pub texts: Vec<String>,
    pub expected: Value,
}

pub fn corpus() -> Vec<Sample> {
    let raw = include_str!("fixtures/messages.jsonl");
    raw.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("fixture line is JSON");
            let mut texts = vec![v["text"].as_str().expect("text").to_string()];
            if let Some(plain) = v.get("text_plain").and_then(Value::as_str) {
                texts.push(plain.to_string());
            }
            Sample {
                id: v["id"].as_str().expect("id").to_string(),
                sender_id: v["sender_id"].as_i64(),
                bank: serde_json::from_value(v["bank"].clone()).expect("bank"),
                texts,
                expected: v,
            }
        })
        .collect()
}

/// The differences between a result and what the entry states, one string
/// per field (empty when they agree).
pub fn differences(expected: &Value, got: &Notification) -> Vec<String> {
    let got_json = serde_json::json!({
        "bank": got.bank,
        "kind": got.kind,
        "amount": got.amount.map(|a| a.to_decimal_string()),
        "currency": got.currency,
        "card": got.card,
    });
    ["bank", "kind", "amount", "currency", "card"]
        .iter()
        .filter(|k| expected.get(**k).is_some())
        .filter(|k| expected[**k] != got_json[**k])
        .map(|k| format!("{k}: expected {}, got {}", expected[*k], got_json[*k]))
        .collect()
}

/// Runs `check` over every corpus text and fails with the full list of
/// mismatches, so one run shows every broken sample.
pub fn check_corpus(what: &str, mut parse_one: impl FnMut(&Sample, &str) -> Notification) {
    let mut failures = Vec::new();
    let samples = corpus();
    assert!(samples.len() >= 80, "the fixture lost samples");
    for s in &samples {
        for text in &s.texts {
            let got = parse_one(s, text);
            let diffs = differences(&s.expected, &got);
            if !diffs.is_empty() {
                failures.push(format!("{} ({what}): {}", s.id, diffs.join("; ")));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_corpus_sample_parses_field_by_field() {
    check_corpus("as stored", |s, text| parse(s.sender_id, None, text));
}

/// A chat named for a bank (the `bank` hint) reads its forwarded texts the
/// same way as recognising the bank from the text.
#[test]
fn forwarded_samples_parse_the_same_with_a_bank_hint() {
    check_corpus("with hint", |s, text| {
        let hint = (s.sender_id.is_none() && s.bank != Bank::Other).then_some(s.bank);
        parse(s.sender_id, hint, text)
    });
}

#[test]
fn the_corpus_covers_every_bank_and_kind() {
    let samples = corpus();
    for bank in [
        Bank::Humo,
        Bank::Uzcard,
        Bank::Nbu,
        Bank::Kaspi,
        Bank::Other,
    ] {
        assert!(samples.iter().any(|s| s.bank == bank), "{bank:?}");
    }
    for kind in ["credit", "debit", "reversal", "declined", "info"] {
        assert!(samples.iter().any(|s| s.expected["kind"] == kind), "{kind}");
    }
    let credits = samples
        .iter()
        .filter(|s| parse(s.sender_id, None, &s.texts[0]).kind == Kind::Credit)
        .count();
    assert!(credits >= 20, "only {credits} credits");
}
