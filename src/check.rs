//! `paycue check`: a doctor for the seller. It validates the settings, talks
//! to Redis (version, persistence, eviction), looks at the Telegram session
//! and its lock, the listen address and `WEBHOOK_URL`, and prints a checklist
//! in which every problem comes with its fix. It exits 1 when an item failed
//! (paycue would not work), 0 when there are only warnings (it would work,
//! but something should be changed), and 78 when a setting is invalid.
//!
//! It never changes anything: it takes no lock, writes nothing to Redis, and
//! the webhook gets a `GET`. With `--send-test` the webhook gets one signed
//! `test` event, and one test alert is queued in Redis for the running
//! paycue to send (check never opens the session the daemon holds).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::cli::Source;
use crate::config::{Config, ConfigError};

mod alert;
mod redis;
mod telegram;
mod webhook;

/// `paycue check` options.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CheckArgs {
    /// The source `paycue run` will use; `stdin` skips the Telegram checks.
    #[arg(long, value_enum, default_value_t = Source::Telegram)]
    pub source: Source,
    /// POST one signed `test` event to WEBHOOK_URL (the shop must answer 2xx),
    /// and queue a test alert that the running paycue sends to ALERT_CHAT.
    #[arg(long)]
    pub send_test: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

/// One line of the checklist.
#[derive(Debug, Clone)]
pub struct Item {
    pub status: Status,
    pub what: &'static str,
    pub detail: String,
    pub fix: Option<String>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub items: Vec<Item>,
}

impl Report {
    fn push(&mut self, status: Status, what: &'static str, detail: String, fix: Option<String>) {
        self.items.push(Item {
            status,
            what,
            detail,
            fix,
        });
    }

    pub fn ok(&mut self, what: &'static str, detail: impl Into<String>) {
        self.push(Status::Ok, what, detail.into(), None);
    }

    pub fn skip(&mut self, what: &'static str, detail: impl Into<String>) {
        self.push(Status::Skip, what, detail.into(), None);
    }

    pub fn warn(&mut self, what: &'static str, detail: impl Into<String>, fix: impl Into<String>) {
        self.push(Status::Warn, what, detail.into(), Some(fix.into()));
    }

    pub fn fail(&mut self, what: &'static str, detail: impl Into<String>, fix: impl Into<String>) {
        self.push(Status::Fail, what, detail.into(), Some(fix.into()));
    }

    pub fn failed(&self) -> bool {
        self.count(Status::Fail) > 0
    }

    fn count(&self, status: Status) -> usize {
        self.items.iter().filter(|i| i.status == status).count()
    }

    /// The checklist as printed.
    pub fn render(&self) -> String {
        let mut out = format!("paycue check ({})\n", env!("CARGO_PKG_VERSION"));
        for item in &self.items {
            let mark = match item.status {
                Status::Ok => "ok  ",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
                Status::Skip => "skip",
            };
            let _ = writeln!(out, "  [{mark}] {:<17} {}", item.what, item.detail);
            if let Some(fix) = &item.fix {
                let _ = writeln!(out, "         {:<17} fix: {fix}", "");
            }
        }
        let (failed, warned) = (self.count(Status::Fail), self.count(Status::Warn));
        let _ = match (failed, warned) {
            (0, 0) => writeln!(out, "All good."),
            (0, w) => writeln!(out, "No failures, {w} warning(s): paycue will run."),
            (f, w) => writeln!(
                out,
                "{f} failure(s), {w} warning(s): fix the failures first."
            ),
        };
        out
    }
}

/// The report when the settings themselves are invalid (exit status 78).
pub fn config_failure(e: &ConfigError) -> Report {
    let mut report = Report::default();
    report.fail(
        "settings",
        format!("{} {} ({})", e.key, e.problem, settings_source()),
        e.fix.clone(),
    );
    report
}

/// Runs every check; the network ones each have their own time limit.
pub async fn run(config: &Config, args: &CheckArgs) -> Report {
    let mut report = Report::default();
    report.ok(
        "settings",
        format!(
            "valid ({}): {}:{}, {}, LIMIT {}, {}",
            settings_source(),
            config.host,
            config.port,
            config.currency,
            config.limit,
            match config.cards.len() {
                0 => "one card (CARDS unset)".to_string(),
                n => match crate::allocation::CardClasses::of(&config.cards)
                    .classes()
                    .len()
                {
                    1 if n > 1 => format!("{n} card(s) sharing one amount space"),
                    m => format!("{n} card(s) in {m} amount space(s)"),
                },
            }
        ),
    );
    formats(&mut report, config);
    if config.api_key.is_none() {
        report.warn(
            "api key",
            "API_KEY is not set: any program on this machine can create and cancel transactions",
            "set API_KEY to a long random value (openssl rand -hex 24) and give it to the shop",
        );
    }
    redis::check(&mut report, config).await;
    match args.source {
        Source::Telegram => telegram::check(&mut report, config).await,
        Source::Stdin => report.skip("telegram", "--source stdin: Telegram is not used"),
    }
    telegram::listen(&mut report, config).await;
    webhook::check(&mut report, config, args.send_test).await;
    alert::check(&mut report, config, args.send_test).await;
    report
}

/// The seller's formats passed their guard rails when the settings loaded
/// (a refused one is a settings failure naming the format and the text).
fn formats(report: &mut Report, config: &Config) {
    let formats = &config.formats;
    let Some(path) = &formats.path else {
        report.skip("formats", "FORMATS unset: the built-in bank forms only");
        return;
    };
    let names: Vec<String> = formats
        .list
        .iter()
        .map(|f| {
            format!(
                "{:?} ({} example(s), chats {:?})",
                f.name,
                f.examples.len(),
                f.chats
            )
        })
        .collect();
    report.ok(
        "formats",
        format!(
            "{path}: {}; each reads its examples as credits and calls none of {} known non-credits a credit",
            names.join(", "),
            crate::formats::guard::known_count()
        ),
    );
}

/// Where the settings came from, for the first line.
fn settings_source() -> String {
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "?".into());
    if Path::new(".env").is_file() {
        format!("{cwd}/.env and the environment")
    } else {
        format!("the environment; no .env in {cwd}")
    }
}

/// `GET /health` of a paycue on HOST:PORT: its status code, if what answers
/// is a paycue (its `{"status": ...}` envelope).
async fn paycue_answers(config: &Config) -> Option<u16> {
    let host = match config.host {
        h if h.is_unspecified() && h.is_ipv4() => "127.0.0.1".parse().ok()?,
        h if h.is_unspecified() => "::1".parse().ok()?,
        h => h,
    };
    let url = format!(
        "http://{}/health",
        std::net::SocketAddr::new(host, config.port)
    );
    let client = crate::webhook::worker::http_client(Duration::from_secs(2));
    let resp = client.get(url).send().await.ok()?;
    let code = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.ok()?;
    body["status"].is_boolean().then_some(code)
}
