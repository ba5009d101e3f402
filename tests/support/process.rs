//! The real `paycue` binary as a child process (for two-process and kill -9
//! tests). It runs in an empty temporary directory with a cleared environment,
//! so no developer's `.env` or exported variables leak in.

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Paycue {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    pub base: String,
    _dir: tempfile::TempDir,
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Paycue {
    /// `paycue run --source stdin --store redis` with `env` on top of a minimal environment.
    pub fn start(redis_url: &str, env: &[(&str, &str)]) -> Paycue {
        Paycue::start_limited(redis_url, env, None)
    }

    /// As `start`, with the soft and hard file limit (RLIMIT_NOFILE) set to
    /// `nofile`, as `LimitNOFILE=` does under systemd.
    pub fn start_limited(redis_url: &str, env: &[(&str, &str)], nofile: Option<u64>) -> Paycue {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paycue"));
        cmd.args(["run", "--source", "stdin", "--store", "redis"])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("REDIS_ADDR", redis_url)
            .env("PORT", port.to_string())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(n) = nofile {
            use std::os::unix::process::CommandExt;
            let lim = libc::rlimit {
                rlim_cur: n as libc::rlim_t,
                rlim_max: n as libc::rlim_t,
            };
            // SAFETY: only setrlimit (async-signal-safe) runs in the child.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().expect("spawn paycue");
        let stdin = child.stdin.take();
        let p = Paycue {
            child,
            stdin,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        p.wait_ready();
        p
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(s) = std::net::TcpStream::connect(self.base.trim_start_matches("http://")) {
                drop(s);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("paycue did not listen on {} within 20 s", self.base);
    }

    /// Writes one message line to its stdin.
    pub fn send(&mut self, line: &serde_json::Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Sends SIGTERM (what systemd sends to stop the service).
    pub fn sigterm(&self) {
        // SAFETY: kill(2) with our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
    }
}

impl Drop for Paycue {
    fn drop(&mut self) {
        self.kill9();
    }
}
