//! Telegram and the listen address for `paycue check`: the API credentials,
//! the watched chats, the session file and who holds its lock (through
//! `telegram::lock`, never a lock of our own), and whether HOST:PORT is free.
//!
//! A lock held by a paycue that answers on HOST:PORT is the running service:
//! that is fine. A lock held by a process that does not answer is a stuck
//! paycue or a `paycue --telegram` left open, and `paycue run` would exit 75.

use std::path::PathBuf;

use super::{Report, paycue_answers};
use crate::config::Config;
use crate::parsers::{HUMO_BOT_ID, NBU_BOT_ID, UZCARD_BOT_ID};
use crate::telegram::lock::{holder, lock_file, session_file};
use crate::telegram::message::check_watch_ids;

const LOGIN_FIX: &str = "log in once as the user paycue runs as: sudo -u paycue sh -c 'cd /var/lib/paycue && paycue --telegram'";

pub async fn check(report: &mut Report, config: &Config) {
    match (config.app_id, &config.app_hash) {
        (Some(_), Some(_)) => report.ok("telegram app", "APP_ID and APP_HASH are set"),
        _ => report.fail(
            "telegram app",
            "APP_ID and APP_HASH must both be set for the Telegram source",
            "create an app at https://my.telegram.org > API development tools and copy api_id and api_hash",
        ),
    }
    watched(report, &config.watch_ids);
    let dir = PathBuf::from(&config.session_dir);
    let file = std::path::absolute(session_file(&dir)).unwrap_or_else(|_| session_file(&dir));
    if !file.is_file() {
        report.fail(
            "telegram session",
            format!("no session at {}", file.display()),
            LOGIN_FIX,
        );
    } else if readable_by_others(&file) {
        report.warn(
            "telegram session",
            format!(
                "{} can be read by other users: whoever reads it is logged in as the seller",
                file.display()
            ),
            format!("chmod 600 {}", file.display()),
        );
    } else {
        // Whether Telegram still accepts it shows when paycue connects
        // (exit 77 if revoked); checking here would need the lock.
        report.ok("telegram session", format!("{} exists", file.display()));
    }
    match holder(&dir) {
        Ok(None) => report.ok("session lock", "free: no other process uses this session"),
        Ok(Some(pid)) => {
            let who = pid.map_or("another process".to_string(), |p| format!("process {p}"));
            if paycue_answers(config).await.is_some() {
                report.ok(
                    "session lock",
                    format!(
                        "held by {who}: the paycue answering on {}:{}",
                        config.host, config.port
                    ),
                );
            } else {
                report.fail(
                    "session lock",
                    format!("held by {who}, and no paycue answers on {}:{}", config.host, config.port),
                    "stop that process (a `paycue --telegram` left open, or a stuck paycue): only one process may use a session",
                );
            }
        }
        Err(e) => report.fail(
            "session lock",
            format!("cannot read {}: {e}", lock_file(&dir).display()),
            "run check as the user paycue runs as: sudo -u paycue sh -c 'cd /var/lib/paycue && paycue check'",
        ),
    }
}

fn watched(report: &mut Report, ids: &[i64]) {
    if let Err(bad) = check_watch_ids(ids) {
        report.fail(
            "watch ids",
            format!("WATCH_ID {bad} is not a Telegram chat id"),
            "use numeric ids such as 856254490 (HUMO) or -1001234567890 (a group)",
        );
        return;
    }
    let named: Vec<String> = ids
        .iter()
        .map(|id| match *id {
            HUMO_BOT_ID => format!("{id} (HUMO)"),
            UZCARD_BOT_ID => format!("{id} (Uzcard)"),
            NBU_BOT_ID => format!("{id} (NBU)"),
            other => other.to_string(),
        })
        .collect();
    if named.is_empty() {
        report.fail(
            "watch ids",
            "WATCH_ID is empty: paycue would read nothing",
            "set WATCH_ID=856254490 (HUMO) or the ids of your banks' bots",
        );
    } else {
        report.ok("watch ids", format!("reads {}", named.join(", ")));
    }
}

#[cfg(unix)]
fn readable_by_others(file: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(file).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn readable_by_others(_file: &std::path::Path) -> bool {
    false
}

/// Is HOST:PORT free for `paycue run`, or already served by a paycue?
pub async fn listen(report: &mut Report, config: &Config) {
    let addr = std::net::SocketAddr::new(config.host, config.port);
    if config.port == 0 {
        report.ok("listen", "PORT=0: a free port is picked at start");
        return;
    }
    match std::net::TcpListener::bind(addr) {
        Ok(_) => report.ok("listen", format!("{addr} is free")),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => match paycue_answers(config).await {
            Some(200) => report.ok("listen", format!("{addr} is served by a running paycue")),
            Some(code) => report.warn(
                "listen",
                format!("{addr} is served by a running paycue whose /health answers {code}"),
                "see that paycue's log (journalctl -u paycue): usually Redis is down",
            ),
            None => report.fail(
                "listen",
                format!("{addr} is in use by another program"),
                "set PORT to a free port, or stop the program using it (ss -ltnp)",
            ),
        },
        Err(e) => report.fail(
            "listen",
            format!("cannot listen on {addr}: {e}"),
            "use a PORT above 1023 and a HOST address of this machine",
        ),
    }
}
