//! Bank formats the seller writes (`FORMATS`, a TOML file), for a bank paycue
//! does not know or for a text a bank changed, without a new release. A
//! format is the bank's credit text copied from one real message with the
//! changing parts replaced (see [`template`]), the chats it applies to, and
//! the examples it must read:
//!
//! ```toml
//! [[format]]
//! name = "Bereke SMS"
//! chats = [777000]
//! credit = "Zachislenie {amount} {currency} na kartu {card}"
//! examples = ["Zachislenie 15 000.00 KZT na kartu *1234. Balans: 20 000.00 KZT"]
//! ```
//!
//! What must stay true, because a wrong format ships goods for money that
//! never came: a format is loaded only if it reads every example it gives as
//! a credit and calls none of the built-in known non-credits ([`guard`]) a
//! credit; its credit is vetoed by every word that vetoes a built-in credit
//! (reversal, decline, notice) and by its own `not` words; a `-` before the
//! amount or two matches make it no credit; and for the three bots (HUMO,
//! Uzcard, NBU) a built-in form always wins: a format reads a bot's message
//! only when the built-in forms answer `unknown`; in other chats a text a
//! built-in form reads as a debit, reversal or decline is never a format's
//! credit.

use std::path::Path;

use serde::Deserialize;

use crate::parsers::{self, Bank, Kind, Notification};

mod explain;
pub mod guard;
pub mod template;

pub use explain::Explanation;
use template::{NumberStyle, Template};

/// The file as the seller writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    #[serde(default)]
    format: Vec<FormatSpec>,
}

/// One `[[format]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatSpec {
    name: String,
    chats: Vec<i64>,
    credit: OneOrMany,
    #[serde(default)]
    not: Vec<String>,
    number: Option<String>,
    currency: Option<String>,
    bank: Option<String>,
    examples: Vec<String>,
    #[serde(default)]
    not_examples: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// A loaded, checked format.
#[derive(Debug, Clone)]
pub struct Format {
    pub name: String,
    pub chats: Vec<i64>,
    pub bank: Bank,
    templates: Vec<Template>,
    /// Lower-case words that make a matching text no credit.
    not: Vec<String>,
    /// The currency when the text shows none.
    currency: Option<&'static str>,
    pub examples: Vec<String>,
    pub not_examples: Vec<String>,
}

/// Every format of `FORMATS` (none when it is unset).
#[derive(Debug, Clone, Default)]
pub struct Formats {
    pub list: Vec<Format>,
    /// The file they came from, for `paycue check`.
    pub path: Option<String>,
}

/// Why a formats file cannot be used: the format and what to change.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FormatsError {
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: String },
    #[error("{0}")]
    Syntax(String),
    #[error("format {name:?}: {problem}")]
    Format { name: String, problem: String },
}

/// Far above any seller's file; what is bigger is not a formats file.
const MAX_FILE_BYTES: u64 = 1 << 20;
const MAX_FORMATS: usize = 200;

fn bad(name: &str, problem: impl Into<String>) -> FormatsError {
    FormatsError::Format {
        name: name.to_string(),
        problem: problem.into(),
    }
}

impl Formats {
    /// Reads, compiles and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Formats, FormatsError> {
        use std::io::Read;
        let read_error = |error: String| FormatsError::Read {
            path: path.display().to_string(),
            error,
        };
        // Only a regular file: opening a FIFO waits for a writer (start-up
        // would hang), and a device or directory is a mistake.
        let meta = std::fs::metadata(path).map_err(|e| read_error(e.to_string()))?;
        if !meta.is_file() {
            return Err(read_error(
                "not a regular file (a directory, FIFO or device)".into(),
            ));
        }
        // Read at most one byte past the cap: a huge file (or `/dev/zero`)
        // is refused without being held in memory.
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| read_error(e.to_string()))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(read_error(format!(
                "the file is too big (over {} KiB): a formats file holds a few bank texts",
                MAX_FILE_BYTES / 1024
            )));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| read_error("the file is not UTF-8 text: save it as UTF-8".into()))?;
        let mut formats = Formats::from_toml(&text)?;
        formats.path = Some(path.display().to_string());
        Ok(formats)
    }

    /// Compiles and checks formats written as TOML.
    pub fn from_toml(text: &str) -> Result<Formats, FormatsError> {
        let spec: FileSpec =
            toml::from_str(text).map_err(|e| FormatsError::Syntax(e.to_string()))?;
        if spec.format.is_empty() {
            return Err(FormatsError::Syntax(
                "no [[format]] table: write at least one, or unset FORMATS".into(),
            ));
        }
        if spec.format.len() > MAX_FORMATS {
            return Err(FormatsError::Syntax(format!(
                "{} [[format]] tables: at most {MAX_FORMATS}, one per bank text",
                spec.format.len()
            )));
        }
        let mut list: Vec<Format> = Vec::new();
        for s in spec.format {
            let format = compile(s)?;
            if list.iter().any(|f| f.name == format.name) {
                return Err(bad(&format.name, "two formats have this name"));
            }
            guard::check(&format)?;
            list.push(format);
        }
        Ok(Formats { list, path: None })
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Parses one message as the daemon does: the built-in forms, and the
    /// formats of the chat it came from (`sender_id` or `chat_id`). With no
    /// id at all (`paycue parse` on a bare text) every format is tried.
    pub fn parse(
        &self,
        sender_id: Option<i64>,
        chat_id: Option<i64>,
        hint: Option<Bank>,
        text: &str,
    ) -> Notification {
        self.read(sender_id, chat_id, hint, text, None)
    }

    /// [`Formats::parse`], and how it decided.
    pub fn explain(
        &self,
        sender_id: Option<i64>,
        chat_id: Option<i64>,
        hint: Option<Bank>,
        text: &str,
    ) -> (Notification, Explanation) {
        let mut why = Explanation::default();
        let note = self.read(sender_id, chat_id, hint, text, Some(&mut why));
        (note, why)
    }

    fn read(
        &self,
        sender_id: Option<i64>,
        chat_id: Option<i64>,
        hint: Option<Bank>,
        text: &str,
        mut why: Option<&mut Explanation>,
    ) -> Notification {
        let ids: Vec<i64> = sender_id.into_iter().chain(chat_id).collect();
        let mine: Vec<&Format> = self
            .list
            .iter()
            .filter(|f| ids.is_empty() || f.chats.iter().any(|c| ids.contains(c)))
            .collect();
        let from_bot = sender_id.and_then(Bank::of_bot).is_some();
        // The bots: the built-in forms first, a format only for what they
        // do not understand. Other chats: the seller's formats first.
        let built_in = if from_bot || mine.is_empty() {
            let note = parsers::parse(sender_id, hint, text);
            if let Some(w) = why.as_deref_mut() {
                w.built_in(&note, sender_id, hint);
            }
            if note.kind != Kind::Unknown || mine.is_empty() {
                return note;
            }
            if let Some(w) = why.as_deref_mut() {
                w.note("the built-in forms answer unknown: the chat's formats are tried");
            }
            Some(note)
        } else {
            None
        };
        let msg = parsers::text::Message::new(text);
        for format in &mine {
            if let Some(note) = format.read(&msg, why.as_deref_mut()) {
                if note.kind != Kind::Credit || built_in.is_some() {
                    return note;
                }
                // A text a built-in form knows for a debit, reversal or
                // decline (a Halyk transfer out whose description holds the
                // format's words) is never the format's credit.
                let known = parsers::parse(sender_id, hint, text);
                if !matches!(known.kind, Kind::Debit | Kind::Reversal | Kind::Declined) {
                    return note;
                }
                if let Some(w) = why.as_deref_mut() {
                    w.note(format!(
                        "format {:?} read a credit, but the built-in {} form reads this text as {}: it wins",
                        format.name,
                        known.bank.as_str(),
                        known.kind.as_str()
                    ));
                    w.built_in(&known, sender_id, hint);
                }
                return known;
            }
        }
        built_in.unwrap_or_else(|| {
            let note = parsers::parse(sender_id, hint, text);
            if let Some(w) = why {
                w.note("no format of this chat matched: the built-in forms read it");
                w.built_in(&note, sender_id, hint);
            }
            note
        })
    }
}

fn compile(s: FormatSpec) -> Result<Format, FormatsError> {
    let name = s.name.trim().to_string();
    if name.is_empty() {
        return Err(bad("", "give the format a name"));
    }
    if s.chats.is_empty() {
        return Err(bad(
            &name,
            "chats is empty: list the chat ids the bank's messages arrive in",
        ));
    }
    let style = s
        .number
        .as_deref()
        .map(NumberStyle::from_sample)
        .transpose()
        .map_err(|e| bad(&name, e))?;
    let sources = match s.credit {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    };
    if sources.is_empty() {
        return Err(bad(
            &name,
            "credit is empty: copy one credit text and mark {amount}",
        ));
    }
    let templates = sources
        .iter()
        .map(|t| Template::compile(t, style))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&name, e))?;
    let currency = match s.currency.as_deref() {
        None => None,
        Some(c) => Some(known_currency(c).ok_or_else(|| {
            bad(
                &name,
                format!("currency {c:?} is not an ISO code paycue knows (KZT, UZS, USD, ...)"),
            )
        })?),
    };
    if currency.is_none() && !sources.iter().all(|t| t.contains("{currency}")) {
        return Err(bad(
            &name,
            "the text shows no {currency}: set currency = \"KZT\" (or the bank's currency)",
        ));
    }
    let bank = match s.bank.as_deref() {
        None => Bank::Other,
        Some(b) => Bank::from_hint(b).ok_or_else(|| {
            bad(
                &name,
                format!("bank {b:?}: use humo, uzcard, nbu, kaspi, halyk, forte or other"),
            )
        })?,
    };
    if s.examples.is_empty() {
        return Err(bad(
            &name,
            "examples is empty: paste at least one real credit message the format must read",
        ));
    }
    Ok(Format {
        name,
        chats: s.chats,
        bank,
        templates,
        not: s
            .not
            .iter()
            .map(|w| w.trim().to_lowercase())
            .filter(|w| !w.is_empty())
            .collect(),
        currency,
        examples: s.examples,
        not_examples: s.not_examples,
    })
}

fn known_currency(code: &str) -> Option<&'static str> {
    let (code, rest) = parsers::amount::read_currency(code.trim())?;
    rest.is_empty().then_some(code)
}

impl Format {
    /// The format's reading of a cleaned message; `None` when no template
    /// matches (the format does not read it).
    pub fn read(
        &self,
        msg: &parsers::text::Message,
        mut why: Option<&mut Explanation>,
    ) -> Option<Notification> {
        for t in &self.templates {
            match t.find(&msg.text) {
                Some(found) => return Some(self.decide(t, &found, msg, why)),
                None => {
                    if let Some(w) = why.as_deref_mut() {
                        w.missed(&self.name, t, &msg.text);
                    }
                }
            }
        }
        None
    }

    fn decide(
        &self,
        t: &Template,
        found: &template::Found,
        msg: &parsers::text::Message,
        why: Option<&mut Explanation>,
    ) -> Notification {
        let money = found.money(t.style());
        let currency = match &found.currency {
            Some(_) => found.currency_code(),
            None => self.currency,
        };
        let (kind, reason) = self.kind(found, money.is_some(), currency.is_some(), msg);
        if let Some(w) = why {
            w.format_read(&self.name, t, found, kind, &reason);
        }
        let readable = money.is_some() && currency.is_some();
        Notification {
            bank: self.bank,
            kind,
            amount: money.filter(|_| readable && found.matches == 1),
            currency: currency.filter(|_| readable).map(str::to_string),
            card: found.last4(),
            at: None,
            // A seller's format reads credits; anything else it calls unknown.
            refund: false,
            format: Some(self.name.clone()),
        }
    }

    /// The kind, and the reason shown by `--explain`.
    fn kind(
        &self,
        found: &template::Found,
        money: bool,
        currency: bool,
        msg: &parsers::text::Message,
    ) -> (Kind, String) {
        if !money {
            return (
                Kind::Unknown,
                format!(
                    "{:?} is not an amount in the format's number style",
                    found.amount
                ),
            );
        }
        if !currency {
            return (
                Kind::Unknown,
                format!(
                    "currency {:?} is not one paycue knows",
                    found.currency.as_deref().unwrap_or("")
                ),
            );
        }
        if found.matches > 1 {
            return (
                Kind::Unknown,
                "the credit text appears twice: two amounts are never a credit".into(),
            );
        }
        if let Some(kind) = parsers::vocab::declined_or_reversed(&msg.lower) {
            return (kind, "a reversal or decline word is in the text".into());
        }
        if !parsers::vocab::credit_is_safe(&msg.lower) {
            return (
                Kind::Info,
                "a notice word or emoji is in the text (as for the built-in forms)".into(),
            );
        }
        if let Some(word) = self.not.iter().find(|w| msg.lower.contains(w.as_str())) {
            return (
                Kind::Unknown,
                format!("the format's `not` word {word:?} is in the text"),
            );
        }
        match found.sign {
            Some('-') => (Kind::Debit, "a `-` is written before the amount".into()),
            _ => (
                Kind::Credit,
                "the credit text matched, and no word vetoes it".into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests;
