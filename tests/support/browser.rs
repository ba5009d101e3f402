//! A real headless Chromium driven over WebDriver (`chromedriver`, both from
//! the distribution's packages: `apt-get install chromium chromium-driver`).
//! Without them a browser test prints `SKIPPED` and passes, unless
//! `PAYCUE_REQUIRE_REDIS=1` (CI), when it fails saying how to install them.
//! Each browser is a 360x640 phone screen with its own profile directory.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn find(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        let ok = Command::new(n)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| n.to_string())
    })
}

/// A DevTools command through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp(Value);

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &reqwest::Url,
        session: Option<&str>,
    ) -> Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or("")
        ))
    }
    fn method_and_body(&self, _: &reqwest::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(self.0.to_string()))
    }
}

impl Browser {
    /// A phone-sized headless Chromium, or None (skip) when it is missing and
    /// not required. `javascript: false` starts it with scripts disabled.
    pub async fn start(test: &str, javascript: bool) -> Option<Browser> {
        let chromium = find(&["chromium", "chromium-browser", "google-chrome"]);
        let driver = find(&["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            if std::env::var("PAYCUE_REQUIRE_REDIS").as_deref() == Ok("1") {
                panic!(
                    "{test}: chromium or chromedriver is not on PATH but PAYCUE_REQUIRE_REDIS=1. Install them (apt-get install chromium chromium-driver) or unset PAYCUE_REQUIRE_REDIS to skip browser tests."
                );
            }
            eprintln!(
                "SKIPPED {test}: chromium/chromedriver not on PATH (set PAYCUE_REQUIRE_REDIS=1 to make this a failure)"
            );
            return None;
        };
        let binary = which(&chromium);
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let mut child = Command::new(&driver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts");
            let started = Instant::now();
            let mut up = false;
            while started.elapsed() < Duration::from_secs(15) {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    up = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if !up {
                let _ = child.kill();
                let _ = child.wait();
                continue;
            }
            let profile = tempfile::tempdir().expect("profile dir");
            let mut prefs = json!({});
            if !javascript {
                prefs = json!({"profile.managed_default_content_settings.javascript": 2});
            }
            let caps = json!({
                "goog:chromeOptions": {
                    "binary": binary,
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--no-first-run",
                        "--hide-scrollbars", "--force-color-profile=srgb",
                        format!("--user-data-dir={}", profile.path().display()),
                    ],
                    "mobileEmulation": {
                        "deviceMetrics": {"width": 360, "height": 640, "pixelRatio": 2.0, "touch": true},
                        "userAgent": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
                    },
                    "prefs": prefs,
                }
            });
            let caps = match caps {
                Value::Object(m) => m,
                _ => unreachable!(),
            };
            // chromedriver is plain HTTP on loopback: no TLS stack needed.
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            let client = ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
                .unwrap_or_else(|e| panic!("{test}: chromedriver session: {e}"));
            return Some(Browser {
                client,
                driver: child,
                _profile: profile,
            });
        }
        panic!("{test}: chromedriver did not start");
    }

    /// Runs a DevTools command (`Page.addScriptToEvaluateOnNewDocument`, ...).
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.client
            .issue_cmd(Cdp(json!({"cmd": cmd, "params": params})))
            .await
            .unwrap_or_else(|e| panic!("cdp {cmd}: {e}"))
    }

    /// Evaluates `expr` (a JavaScript expression) in the page.
    pub async fn eval(&self, expr: &str) -> Value {
        self.client
            .execute(&format!("return {expr};"), vec![])
            .await
            .unwrap_or_else(|e| panic!("eval {expr}: {e}"))
    }

    /// Polls `expr` until it is true; returns how long that took, or panics
    /// after `limit` with `what`.
    pub async fn until(&self, expr: &str, limit: Duration, what: &str) -> Duration {
        let start = Instant::now();
        loop {
            if self.eval(expr).await == Value::Bool(true) {
                return start.elapsed();
            }
            assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a PNG screenshot of the page to `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot dir");
        }
        std::fs::write(path, png).expect("write screenshot");
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn which(name: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .expect("sh");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
