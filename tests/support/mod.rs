//! Test support shared by the integration tests: a private `redis-server` per
//! test (temporary unix socket, no persistence), so tests never touch anyone's
//! data and run in parallel.
//!
//! Without `redis-server` on PATH a Redis test prints `SKIPPED` and returns,
//! unless `PAYCUE_REQUIRE_REDIS=1` (CI sets it), when it fails with a message
//! saying how to install it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    pub socket: PathBuf,
}

impl RedisServer {
    /// A fresh server, or None (skip) when redis-server is missing and not required.
    pub fn start(test: &str) -> Option<RedisServer> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok();
        if !found {
            if std::env::var("PAYCUE_REQUIRE_REDIS").as_deref() == Ok("1") {
                panic!(
                    "{test}: redis-server is not on PATH but PAYCUE_REQUIRE_REDIS=1. Install it (apt-get install redis-server) or unset PAYCUE_REQUIRE_REDIS to skip Redis tests."
                );
            }
            eprintln!(
                "SKIPPED {test}: redis-server is not on PATH (set PAYCUE_REQUIRE_REDIS=1 to make this a failure)"
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("redis.sock");
        let mut server = RedisServer {
            child: None,
            dir,
            socket,
        };
        server.spawn();
        Some(server)
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--save",
                "",
                "--appendonly",
                "no",
                "--unixsocketperm",
                "700",
            ])
            .arg("--unixsocket")
            .arg(&self.socket)
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::os::unix::net::UnixStream::connect(&self.socket).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "redis-server did not open {} within 10 s",
            self.socket.display()
        );
    }

    /// `unix:///tmp/.../redis.sock`, as paycue's REDIS_ADDR accepts it.
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Kills the server (Redis "goes away"); data is lost, as with no persistence.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.socket);
    }

    /// Sends `signal` (e.g. libc::SIGSTOP to pause it, SIGCONT to resume).
    pub fn signal(&self, signal: i32) {
        if let Some(c) = &self.child {
            // SAFETY: kill(2) on our own child's pid.
            unsafe {
                libc::kill(c.id() as libc::pid_t, signal);
            }
        }
    }

    /// Starts it again on the same socket.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub mod app;
pub mod browser;
pub mod console;
pub mod daemon;
pub mod process;

/// Runs each named `async fn(Backend)` of the calling test file twice: as
/// `memory::name` on the in-memory store and `redis::name` on a real Redis.
/// The file must have `Backend` in scope.
#[allow(unused_macros)]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod memory { $( #[tokio::test] async fn $name() { super::$name(super::Backend::Memory).await } )* }
        mod redis { $( #[tokio::test] async fn $name() { super::$name(super::Backend::Redis).await } )* }
    };
}
#[allow(unused_imports)]
pub(crate) use both;
