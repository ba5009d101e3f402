//! The Telegram commands as real processes: exit statuses and messages, and
//! the session lock between two processes. Nothing here reaches Telegram: the
//! session used points its data centre at a closed port on 127.0.0.1.

mod support;

use std::net::{Ipv4Addr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use grammers_session::Session;
use grammers_session::storages::SqliteSession;
use grammers_session::types::DcOption;
use paycue::telegram::lock::{holder, session_file};
use support::process::free_port;

/// `paycue <args>` in `dir` with only `env` set (no developer .env leaks in).
fn paycue(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paycue"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", free_port().to_string())
        .env("SESSION_DIR", dir.join("sessions"))
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs to the end (a hang guard, not a timing check: these exit at once).
fn finish(mut cmd: Command) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_with_guard(child)
}

fn wait_with_guard(mut child: Child) -> Output {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("paycue did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn creds() -> Vec<(&'static str, String)> {
    vec![
        ("APP_ID", "12345".into()),
        ("APP_HASH", "0123456789abcdef0123456789abcdef".into()),
    ]
}

#[test]
fn run_without_a_session_exits_77_and_says_to_log_in() {
    let tmp = tempfile::tempdir().unwrap();
    let out = finish(paycue(tmp.path(), &["run", "--store", "memory"], &creds()));
    assert_eq!(out.status.code(), Some(77), "{}", text(&out));
    assert!(text(&out).contains("paycue --telegram"), "{}", text(&out));
    assert!(!tmp.path().join("sessions").exists(), "nothing created");
}

#[test]
fn run_refuses_a_watch_id_that_is_no_chat_with_78() {
    let tmp = tempfile::tempdir().unwrap();
    for (watch_id, says) in [("0", "not a Telegram user"), (",", "WATCH_ID is empty")] {
        let mut env = creds();
        env.push(("WATCH_ID", watch_id.into()));
        let out = finish(paycue(tmp.path(), &["run", "--store", "memory"], &env));
        assert_eq!(out.status.code(), Some(78), "{}", text(&out));
        assert!(text(&out).contains(says), "{}", text(&out));
    }
}

#[test]
/// Issue 9 item 6: a session file that cannot be opened is a file problem,
/// not a dead login: status 1 (systemd retries), never 77, file kept.
fn run_with_an_unreadable_session_exits_1_and_keeps_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    std::fs::write(session_file(&sessions), vec![b'x'; 4096]).unwrap();
    let out = finish(paycue(tmp.path(), &["run", "--store", "memory"], &creds()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("cannot open the session file"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read(session_file(&sessions)).unwrap(),
        vec![b'x'; 4096],
        "the session file is kept as it was"
    );
}

#[test]
fn login_without_app_id_exits_78_and_says_where_to_get_it() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [&["login"][..], &["--telegram"][..]] {
        let out = finish(paycue(tmp.path(), args, &[]));
        assert_eq!(out.status.code(), Some(78), "{}", text(&out));
        let said = text(&out);
        assert!(
            said.contains("APP_ID") && said.contains("https://my.telegram.org"),
            "{said}"
        );
    }
}

#[test]
fn logout_without_a_session_has_nothing_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let out = finish(paycue(tmp.path(), &["logout"], &creds()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("nothing to log out"), "{}", text(&out));
}

/// A session whose home data centre is a closed local port: every request
/// fails at once with "connection refused", as if the network were down.
fn offline_session(dir: &Path) -> PathBuf {
    let closed = free_port();
    std::fs::create_dir_all(dir).unwrap();
    let path = session_file(dir);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let s = SqliteSession::open(&path).await.unwrap();
        s.set_dc_option(&DcOption {
            id: 2,
            ipv4: SocketAddrV4::new(Ipv4Addr::LOCALHOST, closed),
            ipv6: SocketAddrV6::new(Ipv4Addr::LOCALHOST.to_ipv6_mapped(), closed, 0, 0),
            auth_key: None,
        })
        .await
        .unwrap();
        s.set_home_dc_id(2).await.unwrap();
    });
    path
}

#[test]
fn a_second_process_on_the_session_exits_75_naming_the_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let file = offline_session(&sessions);
    let first = paycue(tmp.path(), &["run", "--store", "memory"], &creds())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = first.id();
    // In this order: the lock is taken, then the session opened (made private).
    let private = || {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777 == 0o600
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while holder(&sessions).unwrap() != Some(Some(pid)) || !private() {
        assert!(
            Instant::now() < deadline,
            "the first paycue never took the lock and opened the session privately"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    for args in [
        &["run", "--store", "memory"][..],
        &["login"][..],
        &["logout"][..],
    ] {
        let out = finish(paycue(tmp.path(), args, &creds()));
        assert_eq!(out.status.code(), Some(75), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains(&format!("process {pid}")),
            "{args:?}: {}",
            text(&out)
        );
    }

    // SIGTERM: a clean stop that releases the lock.
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = wait_with_guard(first);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(holder(&sessions).unwrap(), None);
    assert!(file.exists(), "the session survives a restart");
}
