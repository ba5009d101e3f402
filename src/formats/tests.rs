use super::*;
use crate::parsers::HUMO_BOT_ID;

const BEREKE: &str = r#"
[[format]]
name = "Bereke SMS"
chats = [777000]
credit = "Zachislenie {amount} {currency} na kartu {card}"
not = ["test"]
examples = ["Zachislenie 15 000.00 KZT na kartu *1234. Balans: 20 000.00 KZT"]
"#;

fn bereke() -> Formats {
    Formats::from_toml(BEREKE).expect("the example format loads")
}

#[test]
fn a_format_reads_its_chats_credits() {
    let f = bereke();
    let n = f.parse(
        Some(5),
        Some(777000),
        None,
        "Zachislenie 2 500,50 KZT na kartu ***9876.",
    );
    assert_eq!(n.kind, Kind::Credit);
    assert_eq!(n.amount.map(|a| a.minor()), Some(250_050));
    assert_eq!(
        (n.card.as_deref(), n.format.as_deref()),
        (Some("9876"), Some("Bereke SMS"))
    );
    // Another chat: the format does not apply, the built-in forms answer.
    let other = f.parse(
        Some(5),
        Some(1),
        None,
        "Zachislenie 2 500,50 KZT na kartu ***9876.",
    );
    assert_eq!((other.kind, other.format), (Kind::Unknown, None));
}

#[test]
fn a_format_credit_is_vetoed_like_a_built_in_one() {
    let f = bereke();
    let read = |t: &str| f.parse(None, Some(777000), None, t).kind;
    assert_eq!(
        read("OTMENA Zachislenie 1 KZT na kartu *1234"),
        Kind::Reversal
    );
    assert_eq!(read("Zachislenie -1 KZT na kartu *1234"), Kind::Debit);
    assert_eq!(read("Zachislenie 1 KZT na kartu *1234 test"), Kind::Unknown);
    assert_eq!(
        read("Zachislenie 1 KZT na kartu *1234 Zachislenie 2 KZT na kartu *1234"),
        Kind::Unknown
    );
    let three = f.parse(
        None,
        Some(777000),
        None,
        "Zachislenie 1 KZT na kartu 4**934",
    );
    assert_eq!((three.kind, three.card), (Kind::Credit, None));
}

#[test]
fn a_built_in_form_wins_for_the_bots() {
    let toml = BEREKE.replace("777000", &HUMO_BOT_ID.to_string()).replace(
        "credit = \"Zachislenie",
        "credit = \"Операция {*} Zachislenie",
    );
    let toml = toml.replace(
        "examples = [\"",
        "examples = [\"Операция Zachislenie 1 KZT na kartu *1 ",
    );
    let f = Formats::from_toml(&toml).expect("loads");
    // A HUMO debit stays a debit even if the format's words are in it.
    let debit =
        "💸 Операция\n➖ 2.300,00 UZS\n📍 Zachislenie 1 KZT na kartu *1234\n💳 HUMOCARD *6921";
    let n = f.parse(Some(HUMO_BOT_ID), None, None, debit);
    assert_eq!((n.kind, n.format), (Kind::Debit, None));
    // What the built-in forms do not understand, the format may read.
    let changed = "Операция: Zachislenie 5 KZT na kartu *1234";
    let n = f.parse(Some(HUMO_BOT_ID), None, None, changed);
    assert_eq!(
        (n.kind, n.format.as_deref()),
        (Kind::Credit, Some("Bereke SMS"))
    );
}

fn refusal(toml: &str) -> String {
    Formats::from_toml(toml).expect_err("refused").to_string()
}

#[test]
fn a_format_calling_a_known_non_credit_a_credit_is_refused_naming_it() {
    let broad = BEREKE
        .replace(
            "Zachislenie {amount} {currency} na kartu {card}",
            "Spisanie. {amount} {currency}",
        )
        .replace(
            "Zachislenie 15 000.00 KZT na kartu *1234",
            "Spisanie. 1 KZT",
        );
    let e = refusal(&broad);
    assert!(
        e.contains("known non-credit") && e.contains("KZ-002"),
        "{e}"
    );
}

#[test]
fn a_format_that_reads_no_example_is_refused() {
    let e = refusal(&BEREKE.replace("na kartu *1234", "s karty *1234"));
    assert!(
        e.contains("example 1") && e.contains("matches only up to"),
        "{e}"
    );
}

#[test]
fn bad_files_say_what_to_fix() {
    for (toml, needle) in [
        ("", "no [[format]]"),
        ("[[format]]\nname = 1", "invalid type"),
        (&BEREKE.replace("[777000]", "[]"), "chats is empty"),
        (&BEREKE.replace("{card}", "{kard}"), "unknown placeholder"),
        (
            &BEREKE.replace(" {currency}", " KZT"),
            "set currency = \"KZT\"",
        ),
        (&BEREKE.replace("not = ", "nott = "), "unknown field"),
        (&format!("{BEREKE}{BEREKE}"), "two formats"),
        (
            &BEREKE.replace("examples = [", "number = \"1.2\"\nexamples = ["),
            "sample number",
        ),
    ] {
        let e = refusal(toml);
        assert!(e.contains(needle), "{needle}: {e}");
    }
}

#[test]
fn a_formats_path_that_is_not_a_regular_file_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("formats.toml");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    // Opening a FIFO for reading waits for a writer: load must not open it.
    let err = Formats::load(&fifo).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    let err = Formats::load(dir.path()).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
}
