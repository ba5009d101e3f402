//! The guard rails a format must pass before paycue trusts it: it reads each
//! example the seller gives as a credit, and it calls none of the known
//! non-credits a credit — the built-in set (debits, reversals, declines,
//! balances, adverts from the real corpus, in `known_non_credits.jsonl`) and
//! the format's own `not_examples`. A refusal names the text.

use std::sync::LazyLock;

use super::{Format, FormatsError, bad};
use crate::parsers::Kind;
use crate::parsers::text::Message;

/// One known non-credit: corpus id, its kind, its text.
pub struct NonCredit {
    pub id: String,
    pub kind: String,
    pub text: String,
}

/// The built-in known non-credits.
pub static KNOWN_NON_CREDITS: LazyLock<Vec<NonCredit>> = LazyLock::new(|| {
    include_str!("known_non_credits.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            Some(NonCredit {
                id: v["id"].as_str()?.to_string(),
                kind: v["kind"].as_str()?.to_string(),
                text: v["text"].as_str()?.to_string(),
            })
        })
        .collect()
});

fn short(text: &str) -> String {
    let one_line = text.replace('\n', " ");
    match one_line.char_indices().nth(90) {
        Some((i, _)) => format!("{}...", &one_line[..i]),
        None => one_line,
    }
}

fn is_credit(format: &Format, text: &str) -> bool {
    format
        .read(&Message::new(text), None)
        .is_some_and(|n| n.kind == Kind::Credit && n.amount.is_some())
}

/// Runs every guard rail on one format.
pub fn check(format: &Format) -> Result<(), FormatsError> {
    for (i, example) in format.examples.iter().enumerate() {
        if !is_credit(format, example) {
            let mut why = super::Explanation::default();
            let note = format.read(&Message::new(example), Some(&mut why));
            let detail = match note {
                Some(_) => why.why,
                None => why.steps.join("; "),
            };
            return Err(bad(
                &format.name,
                format!(
                    "example {} is not read as a credit ({detail}): {:?}",
                    i + 1,
                    short(example)
                ),
            ));
        }
    }
    for nc in KNOWN_NON_CREDITS.iter() {
        if is_credit(format, &nc.text) {
            return Err(bad(
                &format.name,
                format!(
                    "calls a known non-credit a credit: {} ({}) {:?}; use the words only a credit has, or add a `not` word",
                    nc.id,
                    nc.kind,
                    short(&nc.text)
                ),
            ));
        }
    }
    for text in &format.not_examples {
        if is_credit(format, text) {
            return Err(bad(
                &format.name,
                format!("calls its own not_example a credit: {:?}", short(text)),
            ));
        }
    }
    Ok(())
}

/// How many known non-credits each format is tested against.
pub fn known_count() -> usize {
    KNOWN_NON_CREDITS.len()
}
