//! The seller's commands over SSH (issue 11), run as the real binary
//! against a real Redis: `paycue tx list|show|confirm`, `paycue credits`,
//! `paycue assign`, `paycue export`; a refusal exits 1 with the reason.

mod support;

use std::process::Stdio;
use std::sync::Arc;

use paycue::engine::{Engine, IncomingMessage, IngestOutcome};
use paycue::store::{ApplyOutcome, RedisStore, Store};
use serde_json::json;
use support::RedisServer;

struct Run {
    code: i32,
    out: String,
    err: String,
}

async fn paycue(redis: &str, dir: &std::path::Path, args: &[&str]) -> Run {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_paycue"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("REDIS_ADDR", redis)
        .env("CARDS", "9860****7466")
        .env("USER", "alice")
        .env("TZ", "Asia/Tashkent")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run paycue");
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test]
async fn the_commands_settle_list_and_export() {
    let Some(server) = RedisServer::start("ops_console_cli") else {
        return;
    };
    let url = server.url();
    let raw = paycue::config::RawConfig {
        redis_addr: Some(url.clone()),
        cards: Some("9860****7466".into()),
        ..Default::default()
    };
    let config = paycue::config::Config::from_raw(&raw).unwrap();
    let store: Arc<dyn Store> =
        Arc::new(RedisStore::open(&url, paycue::cli::store_settings(&config)));
    let engine = Engine::new(config, store);
    let mut ids = Vec::new();
    for (price, order) in [(5000, "A-1"), (6000, "B-2"), (7000, "C-3")] {
        let created = engine
            .create(paycue::engine::CreateRequest {
                amount: paycue::money::Money::from_major(price),
                metadata: Some(json!({"order_id": order})),
                idempotency: None,
            })
            .await
            .unwrap();
        match created {
            paycue::store::CreateOutcome::Created(tx) => ids.push(tx.id),
            other => panic!("{other:?}"),
        }
    }
    let msg = IncomingMessage {
        sender_id: 856_254_490,
        chat_id: None,
        message_id: 1,
        date: paycue::model::now_millis(),
        text: support::app::humo_text(4321, "7466"),
    };
    let credit = match engine.ingest(&msg).await.unwrap() {
        IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) => credit.id,
        other => panic!("{other:?}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let list = paycue(&url, d, &["tx", "list"]).await;
    assert_eq!(list.code, 0, "{}", list.err);
    let lines: Vec<&str> = list.out.lines().collect();
    assert_eq!(lines.len(), 3, "{}", list.out);
    assert!(
        lines[0].contains(&ids[2]) && lines[0].contains("C-3"),
        "newest first: {}",
        list.out
    );
    let found = paycue(&url, d, &["tx", "list", "--search", "b-2", "--json"]).await;
    let row: serde_json::Value = serde_json::from_str(found.out.trim()).unwrap();
    assert_eq!(row["transaction_id"], ids[1].as_str());

    let credits = paycue(&url, d, &["credits"]).await;
    assert!(
        credits.out.contains(&credit) && credits.out.contains("unmatched"),
        "{}",
        credits.out
    );

    let assigned = paycue(&url, d, &["assign", &credit, &ids[0]]).await;
    assert_eq!(assigned.code, 0, "{}", assigned.err);
    let again = paycue(&url, d, &["assign", &credit, &ids[1]]).await;
    assert_eq!(again.code, 1);
    assert!(again.err.contains("already pays"), "{}", again.err);
    let confirmed = paycue(&url, d, &["tx", "confirm", &ids[1]]).await;
    assert_eq!(confirmed.code, 0, "{}", confirmed.err);
    let twice = paycue(&url, d, &["tx", "confirm", &ids[1]]).await;
    assert_eq!(twice.code, 1);
    assert!(twice.err.contains("cli@alice"), "{}", twice.err);
    let unknown = paycue(&url, d, &["tx", "confirm", "nope"]).await;
    assert_eq!(
        (unknown.code, unknown.err.contains("not found")),
        (1, true),
        "{}",
        unknown.err
    );

    let audit = engine.audit(10).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert!(audit.iter().all(|a| a.by == "cli@alice"));
    let show = paycue(&url, d, &["tx", "show", &ids[0]]).await;
    let shown: serde_json::Value = serde_json::from_str(&show.out).unwrap();
    assert_eq!(shown["manual"]["by"], "cli@alice");
    assert_eq!(shown["events"][0]["action"], "confirm");

    let out = d.join("x.xlsx");
    let exported = paycue(
        &url,
        d,
        &[
            "export",
            "--from",
            "2000-01-01",
            "--to",
            "2999-12-31",
            "--format",
            "xlsx",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(exported.code, 0, "{}", exported.err);
    assert!(
        exported.err.contains("exported 3 transactions"),
        "{}",
        exported.err
    );
    // Buyers' orders: readable by the seller alone, whatever the umask.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "export file mode {mode:o}");
    // Written aside and renamed: nothing else is left in the directory.
    let left: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".paycue-export"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let csv = paycue(&url, d, &["export", "--status", "confirmed"]).await;
    assert_eq!(csv.code, 0, "{}", csv.err);
    assert_eq!(
        csv::Reader::from_reader(csv.out.as_bytes())
            .records()
            .count(),
        2
    );
    let bad = paycue(&url, d, &["export", "--from", "last week"]).await;
    assert_eq!(bad.code, 1);
    assert!(bad.err.contains("from:"), "{}", bad.err);
    let no_out = paycue(&url, d, &["export", "--format", "xlsx"]).await;
    assert_eq!(no_out.code, 1);
}

/// `paycue assign "$CREDIT" "$TX"` with `CREDIT` unset (an empty or blank
/// argument) names no credit: it must be refused, never turn into "mark
/// paid" without any money.
#[tokio::test]
async fn an_empty_credit_id_never_marks_an_order_paid() {
    let Some(server) = RedisServer::start("ops_cli_empty_credit") else {
        return;
    };
    let url = server.url();
    let raw = paycue::config::RawConfig {
        redis_addr: Some(url.clone()),
        cards: Some("9860****7466".into()),
        ..Default::default()
    };
    let config = paycue::config::Config::from_raw(&raw).unwrap();
    let store: Arc<dyn Store> =
        Arc::new(RedisStore::open(&url, paycue::cli::store_settings(&config)));
    let engine = Engine::new(config, store);
    let tx = match engine
        .create(paycue::engine::CreateRequest {
            amount: paycue::money::Money::from_major(250_000),
            metadata: Some(json!({"order_id": "BIG-1"})),
            idempotency: None,
        })
        .await
        .unwrap()
    {
        paycue::store::CreateOutcome::Created(tx) => tx.id,
        other => panic!("{other:?}"),
    };
    let dir = tempfile::tempdir().unwrap();
    for credit in ["", "   "] {
        let run = paycue(&url, dir.path(), &["assign", credit, &tx]).await;
        assert_eq!(run.code, 1, "assign {credit:?}: {} {}", run.out, run.err);
        assert!(run.err.contains("credit not found"), "{}", run.err);
    }
    let stored = engine.store.get(&tx).await.unwrap().unwrap();
    assert_eq!(stored.status.as_str(), "pending", "paid without money");
    assert!(engine.audit(10).await.unwrap().is_empty());
}

/// `--out` naming a link or something not a plain file: the export goes
/// where the name leads (the link's file; a pipe such as `/dev/stdout`
/// under `| gzip`), and the name stays what it was. Renaming over it
/// replaced the link by a file, and as root it replaced `/dev/stdout` (or
/// `/dev/null`) by a regular file.
#[tokio::test]
async fn export_out_follows_a_link_and_writes_into_a_pipe() {
    let Some(server) = RedisServer::start("ops_console_cli_out") else {
        return;
    };
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A link to a file in another directory.
    std::fs::create_dir(d.join("real")).unwrap();
    std::fs::write(d.join("real/orders.csv"), "old\n").unwrap();
    std::os::unix::fs::symlink("real/orders.csv", d.join("link.csv")).unwrap();
    let run = paycue(&url, d, &["export", "--out", "link.csv"]).await;
    assert_eq!(run.code, 0, "{}", run.err);
    let link = std::fs::symlink_metadata(d.join("link.csv")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    let written = std::fs::read_to_string(d.join("real/orders.csv")).unwrap();
    assert!(written.starts_with("transaction_id"), "{written}");
    assert!(
        std::fs::read_dir(d.join("real")).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".paycue")),
        "a temp file was left beside the link's file"
    );

    // A named pipe with a reader on the other end.
    let fifo = d.join("pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let run = paycue(&url, d, &["export", "--out", "pipe"]).await;
    assert_eq!(run.code, 0, "{}", run.err);
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the pipe was replaced by {kind:?}");
    let read = reader.join().unwrap();
    assert!(read.starts_with("transaction_id"), "{read}");
}

/// An export stopped midway (Ctrl-C, SIGTERM) leaves no hidden half file of
/// buyers' orders behind, and an older file as it was. Redis is paused so
/// the export is surely midway when the signal comes.
#[tokio::test]
async fn an_export_stopped_by_a_signal_leaves_nothing_behind() {
    let Some(server) = RedisServer::start("ops_console_cli_stop") else {
        return;
    };
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("orders.csv"), "older\n").unwrap();
    let hidden = || {
        std::fs::read_dir(d)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with(".paycue-export"))
            .collect::<Vec<_>>()
    };
    server.signal(libc::SIGSTOP);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_paycue"))
        .args(["export", "--out", "orders.csv"])
        .current_dir(d)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("REDIS_ADDR", &url)
        .env("CARDS", "9860****7466")
        .env("TZ", "Asia/Tashkent")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    while hidden().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the export never began"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id().unwrap() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().await.unwrap();
    server.signal(libc::SIGCONT);
    assert!(!status.success(), "{status:?}");
    assert_eq!(hidden(), Vec::<String>::new(), "half export left behind");
    assert_eq!(
        std::fs::read_to_string(d.join("orders.csv")).unwrap(),
        "older\n"
    );
}
