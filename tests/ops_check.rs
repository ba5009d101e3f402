//! `paycue check`, the real binary in an empty directory with a cleared
//! environment: a healthy setup passes (with the persistence warning a
//! no-persistence Redis deserves, gone once AOF is on), each broken part fails
//! with its fix and exit status 1, a bad setting exits 78, the session lock is
//! judged by whether its holder serves, and no secret is printed.

mod support;

use std::path::Path;
use std::process::Stdio;

use paycue::telegram::lock::{SessionLock, session_file};
use serde_json::Value;
use support::RedisServer;
use support::app::{Backend, Receiver, SECRET_B64, spawn};
use support::process::free_port;

const KEY: &str = "check-test-api-key-0123456789";

struct Run {
    code: i32,
    out: String,
}

impl Run {
    /// The checklist line of `what` (e.g. `redis`), status mark included.
    fn line(&self, what: &str) -> &str {
        self.out
            .lines()
            .find(|l| {
                l.get(9..)
                    .is_some_and(|rest| rest.starts_with(&format!("{what} ")))
            })
            .unwrap_or_else(|| panic!("no `{what}` line in:\n{}", self.out))
    }

    fn assert_line(&self, what: &str, mark: &str, text: &str) {
        let line = self.line(what);
        assert!(
            line.starts_with(&format!("  [{mark}]")) && line.contains(text),
            "want [{mark}] {what} …{text}…, got:\n{}",
            self.out
        );
    }
}

/// `paycue check ARGS` in `dir` with exactly `env` (plus PATH).
async fn check(dir: &Path, env: &[(&str, String)], args: &[&str]) -> Run {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_paycue"))
        .arg("check")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run paycue check");
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr),
    }
}

/// A session directory as `paycue --telegram` leaves it (the file's content
/// is not read by check).
fn logged_in(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let sessions = dir.join("sessions");
    std::fs::create_dir(&sessions).unwrap();
    std::fs::set_permissions(&sessions, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(session_file(&sessions), b"session").unwrap();
    std::fs::set_permissions(
        session_file(&sessions),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    sessions
}

fn base_env(redis: &str, webhook: &str) -> Vec<(&'static str, String)> {
    vec![
        ("REDIS_ADDR", redis.to_string()),
        ("WEBHOOK_URL", webhook.to_string()),
        ("WEBHOOK_SECRET", format!("whsec_{SECRET_B64}")),
        ("API_KEY", KEY.to_string()),
        ("APP_ID", "12345".to_string()),
        ("APP_HASH", "0123456789abcdef0123456789abcdef".to_string()),
        ("PORT", free_port().to_string()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_setup_passes_and_the_test_event_is_signed() {
    let Some(redis) = RedisServer::start("check_healthy") else {
        return;
    };
    let mut receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    logged_in(dir.path());
    let env = base_env(&redis.url(), &receiver.url);
    let run = check(dir.path(), &env, &["--send-test"]).await;
    assert_eq!(run.code, 0, "{}", run.out);
    run.assert_line("settings", "ok  ", "valid");
    run.assert_line("redis", "ok  ", "Redis ");
    run.assert_line("persistence", "warn", "OFF");
    assert!(run.out.contains("CONFIG SET appendonly yes"), "{}", run.out);
    run.assert_line("telegram session", "ok  ", "exists");
    run.assert_line("session lock", "ok  ", "free");
    run.assert_line("listen", "ok  ", "is free");
    run.assert_line("webhook", "ok  ", "accepted a signed test event");
    assert!(run.out.contains("All good") || run.out.contains("No failures"));
    assert!(
        !run.out.contains(KEY) && !run.out.contains(SECRET_B64),
        "a secret was printed"
    );

    // The test event is signed like every event and is what the OpenAPI
    // document says a test event is.
    let hit = receiver.next().await;
    let event = hit.json();
    assert_eq!(event["action"], "test");
    assert_eq!(event["event_id"], hit.header("webhook-id").as_str());
    assert!(hit.signed_over(&hit.body));
    let doc: Value = serde_json::from_str(paycue::http::openapi::DOCUMENT).unwrap();
    let schema = serde_json::json!({"components": doc["components"], "$ref": "#/components/schemas/WebhookTest"});
    assert!(
        jsonschema::is_valid(&schema, &event),
        "test event not as documented: {event}"
    );

    // The advice works: with AOF on, the warning is gone.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendonly")
        .arg("yes")
        .query_async(&mut con)
        .await
        .unwrap();
    let run = check(dir.path(), &env, &[]).await;
    run.assert_line("persistence", "ok  ", "AOF on");
    // Without --send-test the webhook only gets a GET (the receiver has no GET route: 405).
    run.assert_line("webhook", "ok  ", "answers (HTTP 405 to a GET");
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(
        !run.out.contains("redis memory"),
        "no eviction warning without a limit"
    );

    // A memory limit with an evicting policy would let Redis delete paycue's keys.
    for (key, value) in [("maxmemory", "100mb"), ("maxmemory-policy", "allkeys-lru")] {
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg(key)
            .arg(value)
            .query_async(&mut con)
            .await
            .unwrap();
    }
    let run = check(dir.path(), &env, &[]).await;
    run.assert_line("redis memory", "warn", "allkeys-lru");
    assert!(
        run.out.contains("maxmemory-policy noeviction"),
        "{}",
        run.out
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_parts_fail_with_their_fix() {
    let dir = tempfile::tempdir().unwrap();
    let redis = format!("redis+unix://{}/no-redis.sock", dir.path().display());
    let nobody = format!("http://127.0.0.1:{}/hook", free_port());
    let mut env = base_env(&redis, &nobody);
    env.retain(|(k, _)| *k != "APP_HASH");
    let run = check(dir.path(), &env, &[]).await;
    assert_eq!(run.code, 1, "{}", run.out);
    run.assert_line("redis", "FAIL", "cannot connect");
    assert!(
        run.out.contains("systemctl start redis-server"),
        "{}",
        run.out
    );
    run.assert_line("redis data", "skip", "");
    run.assert_line("telegram app", "FAIL", "APP_ID and APP_HASH");
    run.assert_line("telegram session", "FAIL", "no session at");
    assert!(run.out.contains("paycue --telegram"), "{}", run.out);
    run.assert_line("webhook", "FAIL", "cannot connect");
    assert!(
        run.out.contains("1 failure") || run.out.contains("failure(s)"),
        "{}",
        run.out
    );

    // A Redis password never appears; a receiver that refuses the signature fails.
    let receiver = Receiver::start().await;
    receiver.answer(&[401]);
    let env = base_env("redis://:hunter2-redis-pass@127.0.0.1:1", &receiver.url);
    let run = check(dir.path(), &env, &["--send-test", "--source", "stdin"]).await;
    assert!(
        !run.out.contains("hunter2-redis-pass") && run.out.contains(":***@"),
        "{}",
        run.out
    );
    run.assert_line("telegram", "skip", "--source stdin");
    run.assert_line("webhook", "FAIL", "refused the signed test event (HTTP 401");
    assert!(run.out.contains("same WEBHOOK_SECRET"), "{}", run.out);
}

#[tokio::test]
async fn a_bad_setting_exits_78_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let run = check(dir.path(), &[("LIMIT", "lots".into())], &[]).await;
    assert_eq!(run.code, 78, "{}", run.out);
    run.assert_line("settings", "FAIL", "LIMIT 'lots'");
    assert!(run.out.contains("fix: set LIMIT=100"), "{}", run.out);
}

/// A lock held by a process that does not serve HOST:PORT fails; held by a
/// paycue that serves there, it is the running service and passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_lock_is_judged_by_whether_its_holder_serves() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = logged_in(dir.path());
    let _held = SessionLock::acquire(&sessions).expect("take the session lock");
    let pid = std::process::id();
    let env = base_env("redis://127.0.0.1:1", "http://127.0.0.1:1/");
    let run = check(dir.path(), &env, &[]).await;
    run.assert_line(
        "session lock",
        "FAIL",
        &format!("held by process {pid}, and no paycue answers"),
    );

    let Some(app) = spawn(Backend::Memory, "check_lock", |_| {}).await else {
        return;
    };
    let port = app.base.rsplit(':').next().unwrap().to_string();
    let mut env = env;
    env.retain(|(k, _)| *k != "PORT");
    env.push(("PORT", port));
    let run = check(dir.path(), &env, &[]).await;
    run.assert_line(
        "session lock",
        "ok  ",
        &format!("held by process {pid}: the paycue answering"),
    );
    run.assert_line("listen", "ok  ", "served by a running paycue");
    app.stop().await;
}
