//! What `paycue parse --explain` shows: which built-in form or seller format
//! read a text, the fields as written in the text, and why it decided the
//! kind; for a format that did not match, how far its template got, so the
//! seller sees which words to fix.

use std::collections::BTreeMap;

use serde::Serialize;

use super::template::{Found, Template};
use crate::parsers::{Bank, Kind, Notification};

/// How one text was read.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Explanation {
    /// `built-in halyk` or `format "Bereke SMS"`.
    pub read_by: String,
    /// The fields as found, e.g. `amount` = `-300.00`, `card` = `4**934`.
    pub fields: BTreeMap<String, String>,
    /// Why this kind.
    pub why: String,
    /// Every step on the way (formats tried, built-in answers).
    pub steps: Vec<String>,
}

impl Explanation {
    pub fn note(&mut self, step: impl Into<String>) {
        self.steps.push(step.into());
    }

    pub fn built_in(&mut self, note: &Notification, sender_id: Option<i64>, hint: Option<Bank>) {
        let by = match (sender_id.and_then(Bank::of_bot), hint) {
            (Some(_), _) => "the sender id is its bot's",
            (None, Some(h)) if h != Bank::Other => "the chat's bank hint",
            _ => "read from the text's own form",
        };
        self.read_by = format!("built-in {}", note.bank.as_str());
        self.fields.clear();
        if let Some(a) = note.amount {
            self.fields.insert("amount".into(), a.to_decimal_string());
        }
        if let Some(c) = &note.currency {
            self.fields.insert("currency".into(), c.clone());
        }
        self.fields.insert(
            "card".into(),
            note.card
                .clone()
                .unwrap_or_else(|| "none (the text names no card)".into()),
        );
        self.why = format!(
            "bank {} ({by}); its built-in forms say {}",
            note.bank.as_str(),
            note.kind.as_str()
        );
        self.note(format!(
            "built-in {}: {}",
            note.bank.as_str(),
            note.kind.as_str()
        ));
    }

    pub fn missed(&mut self, format: &str, t: &Template, text: &str) {
        let step = match t.matched_up_to(text) {
            Some(part) => format!(
                "format {format:?}: {:?} matches only up to {part:?}: the text differs right after it",
                t.source
            ),
            None => format!(
                "format {format:?}: {:?} does not match: its first words are not in the text",
                t.source
            ),
        };
        self.note(step);
    }

    pub fn format_read(
        &mut self,
        format: &str,
        t: &Template,
        found: &Found,
        kind: Kind,
        reason: &str,
    ) {
        self.read_by = format!("format {format:?}");
        self.fields.clear();
        self.fields.insert(
            "amount".into(),
            format!(
                "{}{}",
                found.sign.map(String::from).unwrap_or_default(),
                found.amount
            ),
        );
        if let Some(c) = &found.currency {
            self.fields.insert("currency".into(), c.clone());
        }
        let card = match (&found.card, found.last4()) {
            (None, _) => "none (the format has no {card})".to_string(),
            (Some(raw), Some(l4)) => format!("{raw} -> {l4}"),
            (Some(raw), None) => format!("{raw} -> none (fewer than 4 digits shown: no guess)"),
        };
        self.fields.insert("card".into(), card);
        self.why = format!("{}: {reason}", kind.as_str());
        self.note(format!("format {format:?}: {:?} matched", t.source));
    }
}
