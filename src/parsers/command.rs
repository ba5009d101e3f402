//! `paycue parse`: JSON lines in, one JSON result line out per input line.
//! A bad line gets a JSON error line and the command goes on.

use std::io::{BufRead, Write};

use serde::Deserialize;
use serde_json::json;

use super::{Bank, parse};

#[derive(Deserialize)]
struct Input {
    text: String,
    #[serde(default)]
    sender_id: Option<i64>,
    #[serde(default)]
    bank: Option<Bank>,
}

pub fn run(input: impl BufRead, mut output: impl Write) -> std::io::Result<()> {
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let out = match serde_json::from_str::<Input>(&line) {
            Ok(i) => {
                let n = parse(i.sender_id, i.bank, &i.text);
                json!({
                    "bank": n.bank,
                    "kind": n.kind,
                    "amount": n.amount.map(|a| a.to_decimal_string()),
                    "currency": n.currency,
                    "card": n.card,
                })
            }
            Err(e) => json!({"error": format!("bad input line: {e}")}),
        };
        writeln!(output, "{out}")?;
    }
    output.flush()
}
