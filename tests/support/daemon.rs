//! The real `paycue run --source stdin --store redis` as a child process
//! whose JSON log lines a test reads (alerts are `WARN` lines with
//! `--source stdin`): for the end-to-end alert tests.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::process::free_port;

pub struct Daemon {
    pub child: Child,
    pub base: String,
    pub port: u16,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Daemon {
    pub fn start(redis_url: &str, env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paycue"));
        cmd.args(["run", "--source", "stdin", "--store", "redis"])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("REDIS_ADDR", redis_url)
            .env("PORT", port.to_string())
            .env("ALERT_LANG", "en")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().expect("spawn paycue");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut d = Daemon {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
            lines,
            seen: Vec::new(),
            _dir: dir,
        };
        d.wait_for(|l| l["message"] == "paycue started");
        d
    }

    /// Reads log lines (JSON) until one satisfies `done`, which it answers.
    pub fn wait_for(&mut self, done: impl Fn(&Value) -> bool) -> Value {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if let Ok(v) = serde_json::from_str::<Value>(&line)
                        && done(&v)
                    {
                        return v;
                    }
                }
                Err(_) => panic!(
                    "log line not seen within 30 s; got:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    pub fn alert(&mut self) -> Value {
        self.wait_for(|l| l["message"] == "alert")
    }

    pub fn send(&mut self, line: &Value) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    pub fn metrics(&self) -> String {
        let out = Command::new("curl")
            .args(["-s", &format!("{}/metrics", self.base)])
            .output();
        match out {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
            Err(_) => reqwest_blocking(&format!("{}/metrics", self.base)),
        }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Without curl: a minimal HTTP/1.0 GET.
fn reqwest_blocking(url: &str) -> String {
    use std::io::Read;
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}
