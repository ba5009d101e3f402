//! Seller formats (`FORMATS`): properties (no panic, no credit from a
//! seller's format on a known non-credit), and the `paycue parse --explain`
//! and `paycue check` commands through the real binary.

use std::io::Write;
use std::process::{Command, Stdio};

use paycue::formats::Formats;
use paycue::formats::guard::KNOWN_NON_CREDITS;
use paycue::parsers::Kind;
use proptest::prelude::*;

/// A TOML basic string (JSON's escapes are TOML's).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

fn format_toml(chat: i64, credit: &str, currency: Option<&str>, examples: &[&str]) -> String {
    let examples: Vec<String> = examples.iter().map(|e| quoted(e)).collect();
    format!(
        "[[format]]\nname = \"f\"\nchats = [{chat}]\ncredit = {}\n{}examples = [{}]\n",
        quoted(credit),
        currency.map_or(String::new(), |c| format!("currency = \"{c}\"\n")),
        examples.join(", ")
    )
}

/// Words and marks seller templates are made of.
fn template_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{amount}".to_string()),
        Just("{currency}".to_string()),
        Just("{card}".to_string()),
        Just("{*}".to_string()),
        Just(" ".to_string()),
        Just(": ".to_string()),
        Just(".".to_string()),
        prop::sample::select(vec![
            "Zachislenie",
            "Popolnenie",
            "Pokupka",
            "Perevod",
            "na",
            "kartu",
            "karta",
            "UZS",
            "KZT",
            "Пополнение",
            "Оплата",
            "summa",
            "Miqdor",
            "➕",
            "➖",
            "💳",
            "OTMENA",
        ])
        .prop_map(str::to_string),
    ]
}

fn template() -> impl Strategy<Value = String> {
    prop::collection::vec(template_piece(), 1..8).prop_map(|v| v.concat())
}

/// The format a template makes, with an example built from it (numbers in
/// place of the placeholders), if it loads.
fn loaded(template: &str) -> Option<Formats> {
    let example = template
        .replace("{amount}", "1 500.00")
        .replace("{currency}", "KZT")
        .replace("{card}", "*1234")
        .replace("{*}", " ");
    Formats::from_toml(&format_toml(42, template, Some("KZT"), &[&example])).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_format_file_or_text_panics(file in "\\PC{0,300}", text in "\\PC{0,200}") {
        if let Ok(f) = Formats::from_toml(&file) {
            let _ = f.parse(None, Some(42), None, &text);
        }
    }

    #[test]
    fn no_template_panics_and_a_loaded_one_never_calls_a_known_non_credit_a_credit(
        t in template(),
        noise in "[ a-zA-Z0-9.,:]{0,20}",
    ) {
        if let Some(f) = loaded(&t) {
            for nc in KNOWN_NON_CREDITS.iter() {
                let n = f.parse(None, Some(42), None, &nc.text);
                prop_assert_ne!(n.kind, Kind::Credit, "{} {} read by {:?}", nc.id, nc.text, t);
                // Reversals and declines stay no credit whatever is around them.
                if nc.kind == "reversal" || nc.kind == "declined" {
                    let noisy = format!("{noise}\n{}\n{noise}", nc.text);
                    let n = f.parse(None, Some(42), None, &noisy);
                    prop_assert_ne!(n.kind, Kind::Credit, "{} read by {:?}", noisy, t);
                }
            }
        }
    }

    /// A format copied from a known non-credit (its amount marked) is
    /// always refused: it would call that very text a credit, or it reads
    /// its own example as no credit.
    #[test]
    fn a_format_copied_from_a_known_non_credit_is_refused(i in 0usize..1000) {
        let nc = &KNOWN_NON_CREDITS[i % KNOWN_NON_CREDITS.len()];
        let digits = regex::Regex::new(r"\d[\d .,']*\d|\d").unwrap();
        prop_assume!(!nc.text.contains('{') && digits.is_match(&nc.text));
        let mut credit = nc.text.clone();
        if let Some(m) = digits.find(&nc.text) {
            credit.replace_range(m.range(), "{amount}");
        }
        let toml = format_toml(42, &credit, Some("UZS"), &[&nc.text]);
        prop_assert!(Formats::from_toml(&toml).is_err(), "{} loaded: {}", nc.id, credit);
    }
}

/// Runs `paycue` with `args` in an empty directory, with only the given
/// environment; returns (exit code, stdout).
fn paycue(args: &[&str], env: &[(&str, &str)], stdin: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_paycue"))
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn paycue");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("paycue output");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

const FORTE: &str = r#"
[[format]]
name = "Forte transfer"
chats = [777000]
credit = "Na kartu {card} sdelan perevod {amount} {currency} s karti"
examples = ["06.01.2020 14:18. Na kartu ***9166 sdelan perevod 2 000.00 RUB s karti ***8335. Ostatok 488 390.99 KZT."]
"#;

fn formats_file(toml: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(toml.as_bytes()).expect("write");
    f
}

#[test]
fn parse_explain_names_the_format_the_fields_and_why() {
    let file = formats_file(FORTE);
    let path = file.path().to_str().expect("path");
    let env = [("FORMATS", path), ("WATCH_ID", "777000")];
    let line = r#"{"chat_id": 777000, "text": "Na kartu ***0365 sdelan perevod 15 000.00 KZT s karti ***8335."}"#;
    let (code, out) = paycue(&["parse", "--explain"], &env, line);
    assert_eq!(code, Some(0), "{out}");
    let v: serde_json::Value =
        serde_json::from_str(out.lines().next().expect("a line")).expect("JSON");
    assert_eq!(v["kind"], "credit");
    assert_eq!(v["amount"], "15000.00");
    assert_eq!(v["card"], "0365");
    assert_eq!(v["format"], "Forte transfer");
    assert_eq!(v["explain"]["read_by"], "format \"Forte transfer\"");
    assert!(
        v["explain"]["why"]
            .as_str()
            .unwrap_or("")
            .starts_with("credit"),
        "{v}"
    );
    // Without --explain the documented keys, and `format` only when a format read it.
    let (_, out) = paycue(&["parse"], &env, line);
    assert!(
        !out.contains("explain") && out.contains("\"format\":\"Forte transfer\""),
        "{out}"
    );
}

#[test]
fn check_refuses_a_format_that_calls_a_known_non_credit_a_credit_naming_it() {
    let broad = FORTE
        .replace(
            "Na kartu {card} sdelan perevod {amount} {currency} s karti",
            "Spisanie. {amount} {currency}",
        )
        .replace(
            "06.01.2020 14:18. Na kartu",
            "VISA1 Esepten shygaru/Spisanie. 1 KZT; Na kartu",
        );
    let file = formats_file(&broad);
    let path = file.path().to_str().expect("path");
    let (code, out) = paycue(
        &["check", "--source", "stdin"],
        &[("FORMATS", path), ("WATCH_ID", "777000")],
        "",
    );
    assert_eq!(code, Some(78), "{out}");
    assert!(
        out.contains("FORMATS") && out.contains("KZ-002") && out.contains("VISA7074"),
        "{out}"
    );
    // The daemon refuses to start on it too.
    let (code, out) = paycue(
        &["run", "--store", "memory", "--source", "stdin"],
        &[("FORMATS", path), ("WATCH_ID", "777000"), ("PORT", "0")],
        "",
    );
    assert_eq!(code, Some(78), "{out}");
}

#[test]
fn a_format_for_an_unwatched_chat_is_a_settings_error() {
    let file = formats_file(FORTE);
    let path = file.path().to_str().expect("path");
    let (code, out) = paycue(
        &["parse"],
        &[("FORMATS", path), ("WATCH_ID", "856254490")],
        "",
    );
    assert_eq!(code, Some(78), "{out}");
    assert!(out.contains("777000") && out.contains("WATCH_ID"), "{out}");
}

/// The daemon's path: a Kazakh SMS or a seller format counts only from a
/// `WATCH_ID` chat, and the chat's format reads it there.
#[tokio::test]
async fn the_daemon_reads_formats_and_kz_sms_only_from_watched_chats() {
    use paycue::config::{Config, RawConfig};
    use paycue::engine::{Engine, IngestOutcome};
    use paycue::store::{ApplyOutcome, MemoryStore, StoreSettings};

    let file = formats_file(FORTE);
    let raw = RawConfig {
        formats: Some(file.path().to_str().expect("path").into()),
        watch_id: Some("777000".into()),
        currency: Some("KZT".into()),
        ..RawConfig::default()
    };
    let config = Config::from_raw(&raw).expect("config");
    let engine = Engine::new(
        config,
        std::sync::Arc::new(MemoryStore::new(StoreSettings::default())),
    );
    let message = |chat: i64, id: i64, text: &str| paycue::IncomingMessage {
        sender_id: 5,
        chat_id: Some(chat),
        message_id: id,
        date: paycue::model::now_millis(),
        text: text.into(),
    };
    let halyk = "VISA6681 Esepke alu/Zachislenie. 13950.00 KZT; Popolnenie; 15.05.2018 10:34. Kartadaghy kolzhetimdi soma/Dostupnaya summa po karte: 25853.06";
    let transfer = "Na kartu ***0365 sdelan perevod 15 000.00 KZT s karti ***8335.";
    for (id, text) in [(1, halyk), (2, transfer)] {
        let o = engine.ingest(&message(1, id, text)).await.expect("ingest");
        assert_eq!(o, IngestOutcome::Untrusted, "{text}");
        let o = engine
            .ingest(&message(777000, id, text))
            .await
            .expect("ingest");
        let IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) = o else {
            panic!("a credit from the watched chat: {o:?}");
        };
        assert!(credit.card_last4.is_some(), "{credit:?}");
        let o = engine
            .ingest(&message(777000, id, text))
            .await
            .expect("ingest");
        assert_eq!(o, IngestOutcome::Duplicate);
    }
}
