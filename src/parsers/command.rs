//! `paycue parse`: JSON lines in, one JSON line out per input line:
//! `{"bank":"humo","kind":"credit","amount":"2200.00","currency":"UZS","card":"7466"}`
//! (amount as a decimal string with two places, `null` where unknown; a
//! `"format"` key names the seller's format when one read the text). A bad
//! line (not JSON, no `text`, an unknown `bank`, not UTF-8) gets an
//! `{"error": "..."}` line and the command goes on; blank lines are skipped.
//! With `--explain` each answer also carries `"explain"`: which form or
//! format read the text, the fields as written, why this kind, and how far
//! each format that did not match got. The seller's formats (`FORMATS`) are
//! read as by the daemon; a line without `sender_id` or `chat_id` is tried
//! against every format.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use super::{Bank, Notification};
use crate::formats::{Explanation, Formats};

/// One input line.
#[derive(Deserialize)]
struct Input {
    text: String,
    #[serde(default)]
    sender_id: Option<i64>,
    #[serde(default)]
    chat_id: Option<i64>,
    #[serde(default)]
    bank: Option<String>,
}

/// One output line; the field order is the documented one.
#[derive(Serialize)]
struct Output {
    bank: Bank,
    kind: super::Kind,
    amount: Option<String>,
    currency: Option<String>,
    card: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explain: Option<Explanation>,
}

impl From<Notification> for Output {
    fn from(n: Notification) -> Output {
        Output {
            bank: n.bank,
            kind: n.kind,
            amount: n.amount.map(|a| a.to_decimal_string()),
            currency: n.currency,
            card: n.card,
            format: n.format,
            explain: None,
        }
    }
}

/// Why one input line gave no result.
#[derive(Debug, thiserror::Error)]
enum LineError {
    #[error("line is not UTF-8")]
    NotUtf8,
    #[error(
        "bad input line: {0} (expected {{\"text\": \"...\", \"sender_id\"?: 856254490, \"bank\"?: \"kaspi\"}})"
    )]
    Json(#[from] serde_json::Error),
    #[error("unknown bank {0:?}: use humo, uzcard, nbu, kaspi, halyk, forte or other")]
    UnknownBank(String),
}

/// Parses one input line into its output line.
fn answer(line: &[u8], formats: &Formats, explain: bool) -> Result<Output, LineError> {
    let line = std::str::from_utf8(line).map_err(|_| LineError::NotUtf8)?;
    let input: Input = serde_json::from_str(line)?;
    let hint = match input.bank.as_deref() {
        None => None,
        // A bank paycue has no name for (the corpus writes `other-kz`): no
        // bank named, as `other`; the bank is read from the text.
        Some(name) if name.trim().to_ascii_lowercase().starts_with("other-") => Some(Bank::Other),
        Some(name) => {
            Some(Bank::from_hint(name).ok_or_else(|| LineError::UnknownBank(name.into()))?)
        }
    };
    let (sender, chat) = (input.sender_id, input.chat_id);
    if !explain {
        return Ok(formats.parse(sender, chat, hint, &input.text).into());
    }
    let (note, why) = formats.explain(sender, chat, hint, &input.text);
    let mut out = Output::from(note);
    out.explain = Some(why);
    Ok(out)
}

pub fn run(
    mut input: impl BufRead,
    mut output: impl Write,
    formats: &Formats,
    explain: bool,
) -> std::io::Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let out = match answer(&line, formats, explain) {
            Ok(out) => serde_json::to_string(&out),
            Err(e) => serde_json::to_string(&serde_json::json!({ "error": e.to_string() })),
        }
        .map_err(std::io::Error::other)?;
        writeln!(output, "{out}")?;
    }
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(input: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        run(input, &mut out, &Formats::default(), false).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn writes_the_documented_keys_in_order() {
        let line = r#"{"sender_id": 856254490, "text": "🎉 Пополнение\n➕ 2.200,00 UZS\n💳 HUMOCARD *7466"}"#;
        assert_eq!(
            run_on(line.as_bytes()),
            [
                r#"{"bank":"humo","kind":"credit","amount":"2200.00","currency":"UZS","card":"7466"}"#
            ]
        );
    }

    #[test]
    fn unknown_fields_are_null() {
        let out = run_on(br#"{"text": "hello"}"#);
        assert_eq!(
            out,
            [r#"{"bank":"other","kind":"info","amount":null,"currency":null,"card":null}"#]
        );
    }

    #[test]
    fn bad_lines_get_an_error_line_and_the_command_goes_on() {
        let mut input = Vec::new();
        input.extend_from_slice(b"not json\n\n");
        input.extend_from_slice(b"{\"text\": \"x\", \"bank\": \"sber\"}\n");
        input.extend_from_slice(b"{\"sender_id\": 1}\n");
        input.extend_from_slice(b"{\"text\": \"\xff\"}\n");
        for bank in ["Kaspi", "other"] {
            let line = format!("{{\"text\": \"Пополнение: 100 ₸\", \"bank\": \"{bank}\"}}\n");
            input.extend_from_slice(line.as_bytes());
        }
        let out = run_on(&input);
        assert_eq!(out.len(), 6, "{out:?}");
        for line in &out[..4] {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["error"].is_string(), "{line}");
        }
        assert!(
            out[1].contains("sber") && out[1].contains("kaspi"),
            "{}",
            out[1]
        );
        assert_eq!(
            out[4],
            r#"{"bank":"kaspi","kind":"credit","amount":"100.00","currency":"KZT","card":null}"#
        );
        // `other` names no bank: the text decides.
        assert_eq!(out[5], out[4]);
    }
}
