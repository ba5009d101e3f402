//! The systemd unit: `systemd-analyze verify` accepts it, and the settings the
//! README promises are there (unprivileged user, state directory, env file,
//! no restart on "logged out", hardening).

use std::process::Command;

const UNIT: &str = include_str!("../systemd/paycue.service");

/// Every value of `key=` in the unit, in order (comments skipped).
fn values(key: &str) -> Vec<String> {
    UNIT.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(str::to_string)
        .collect()
}

fn one(key: &str) -> String {
    let v = values(key);
    assert_eq!(v.len(), 1, "{key}= should be set once, found {v:?}");
    v[0].clone()
}

#[test]
fn unit_runs_unprivileged_with_state_dir_and_env_file() {
    let user = one("User");
    assert!(
        !user.is_empty() && user != "root" && user != "0",
        "User={user}"
    );
    assert!(values("DynamicUser").iter().all(|v| v == "no"));
    assert_eq!(one("StateDirectory"), "paycue");
    assert_eq!(
        one("WorkingDirectory"),
        "/var/lib/paycue",
        ".env is read from here"
    );
    assert_eq!(one("EnvironmentFile"), "-/etc/paycue/paycue.env");
    assert!(one("ExecStart").starts_with("/usr/local/bin/paycue"));
}

#[test]
fn unit_restarts_on_failure_but_not_when_logged_out() {
    assert_eq!(one("Restart"), "on-failure");
    let prevent: Vec<u8> = one("RestartPreventExitStatus")
        .split_whitespace()
        .map(|s| s.parse().expect("numeric exit status"))
        .collect();
    assert!(
        prevent.contains(&paycue::cli::exit::LOGGED_OUT),
        "{prevent:?}"
    );
    assert!(prevent.contains(&paycue::cli::exit::CONFIG), "{prevent:?}");
    assert!(!prevent.contains(&paycue::cli::exit::LOCKED), "{prevent:?}");
}

#[test]
fn unit_is_hardened() {
    for (key, want) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("RestrictNamespaces", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("CapabilityBoundingSet", ""),
    ] {
        assert_eq!(one(key), want, "{key}");
    }
    let families = one("RestrictAddressFamilies");
    let mut got: Vec<&str> = families.split_whitespace().collect();
    got.sort();
    assert_eq!(got, ["AF_INET", "AF_INET6", "AF_UNIX"]);
}

/// `systemd-analyze verify` on the unit with ExecStart pointing at the binary
/// cargo just built (verify checks that the program exists).
#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "SKIPPED systemd_analyze_verify_accepts_the_unit: systemd-analyze is not installed"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("paycue.service");
    let text = UNIT.replace("/usr/local/bin/paycue", env!("CARGO_BIN_EXE_paycue"));
    std::fs::write(&unit, text).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "systemd-analyze verify failed:\n{stderr}"
    );
    // Warnings (unknown keys, bad values) come on stderr with status 0.
    let complaints: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("paycue.service"))
        .collect();
    assert!(
        complaints.is_empty(),
        "systemd-analyze verify warned:\n{stderr}"
    );
}

/// LimitNOFILE leaves room for the default connection cap plus what paycue
/// needs itself (so the cap is not lowered at start on a default install).
#[test]
fn file_limit_fits_the_default_connection_cap() {
    let limit: u64 = one("LimitNOFILE").parse().expect("a number");
    let config = paycue::config::Config::from_raw(&Default::default()).unwrap();
    let needed = config.http_max_connections as u64
        + paycue::http::server::RESERVED_FDS
        + 2 * config.workers as u64;
    assert!(limit >= needed, "LimitNOFILE={limit} < {needed}");
}
