//! `paycue parse` through the real binary: JSON lines in, one JSON line out
//! per input, error lines for bad input, and the command goes on.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `paycue parse` in an empty directory with a cleared environment (no
/// developer `.env` leaks in) and returns its exit code and stdout lines.
fn paycue_parse(input: &str) -> (Option<i32>, Vec<String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_paycue"))
        .arg("parse")
        .current_dir(dir.path())
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn paycue");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("paycue parse output");
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    (
        out.status.code(),
        text.lines().map(str::to_string).collect(),
    )
}

#[test]
fn paycue_parse_answers_each_line_in_order() {
    let input = [
        r#"{"text": "🎉 Пополнение\n➕ 2.200,00 UZS\n📍 NBU P2P HUMOHUMO>tas\n💳 HUMOCARD *7466\n🕓 12:36 02.10.2025\n💰 3.040,61 UZS", "sender_id": 856254490}"#,
        r#"{"text": "Пополнение: 112 000т\nВ Kaspi Терминале", "bank": "kaspi"}"#,
        "this is not json",
        r#"{"text": "Пополнение: 100 ₸", "bank": "sber"}"#,
        "",
        r#"{"text": "🟢 OTMENA Pokupka\n➕ 56 000.00 UZS\n💳 ***5982", "sender_id": 915326936}"#,
        r#"{"text": "Chegirmalar mavsumi! https://onelink.to/x"}"#,
    ]
    .join("\n");
    let (code, lines) = paycue_parse(&input);
    assert_eq!(code, Some(0));
    assert_eq!(lines.len(), 6, "{lines:#?}");
    assert_eq!(
        lines[0],
        r#"{"bank":"humo","kind":"credit","amount":"2200.00","currency":"UZS","card":"7466"}"#
    );
    assert_eq!(
        lines[1],
        r#"{"bank":"kaspi","kind":"credit","amount":"112000.00","currency":"KZT","card":null}"#
    );
    for (i, needle) in [(2, "bad input line"), (3, "sber")] {
        let v: serde_json::Value = serde_json::from_str(&lines[i]).expect("JSON error line");
        let error = v["error"].as_str().expect("error is a string");
        assert!(error.contains(needle), "{error}");
        assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{}", lines[i]);
    }
    assert_eq!(
        lines[4],
        r#"{"bank":"uzcard","kind":"reversal","amount":"56000.00","currency":"UZS","card":"5982"}"#
    );
    assert_eq!(
        lines[5],
        r#"{"bank":"other","kind":"info","amount":null,"currency":null,"card":null}"#
    );
}

/// The corpus lines themselves are valid input (their extra fields are
/// ignored, their `bank` is a hint) and every answer matches the entry.
#[test]
fn paycue_parse_answers_the_corpus_file_as_is() {
    let raw = include_str!("../fixtures/messages.jsonl");
    let (code, lines) = paycue_parse(raw);
    assert_eq!(code, Some(0));
    let expected: Vec<serde_json::Value> = raw
        .lines()
        .map(|l| serde_json::from_str(l).expect("fixture JSON"))
        .collect();
    assert_eq!(lines.len(), expected.len());
    for (want, got) in expected.iter().zip(&lines) {
        let got: serde_json::Value = serde_json::from_str(got).expect("JSON answer");
        for key in ["bank", "kind", "amount", "currency", "card"] {
            assert_eq!(got[key], want[key], "{} {key}: {got}", want["id"]);
        }
    }
}

/// The Kazakh corpus file as is: its `bank` of `other-kz` (a bank paycue
/// has no name for) is no error, the bank is read from the text, and every
/// answer matches the entry.
#[test]
fn paycue_parse_answers_the_kz_corpus_file_as_is() {
    let raw = include_str!("../fixtures/kz-sms.jsonl");
    let (code, lines) = paycue_parse(raw);
    assert_eq!(code, Some(0));
    let expected: Vec<serde_json::Value> = raw
        .lines()
        .map(|l| serde_json::from_str(l).expect("fixture JSON"))
        .collect();
    assert_eq!(lines.len(), expected.len());
    for (want, got) in expected.iter().zip(&lines) {
        let got: serde_json::Value = serde_json::from_str(got).expect("JSON answer");
        assert!(got.get("error").is_none(), "{} {got}", want["id"]);
        for key in ["kind", "amount", "currency", "card"] {
            assert_eq!(got[key], want[key], "{} {key}: {got}", want["id"]);
        }
    }
}
