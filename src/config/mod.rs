//! Configuration: `.env` (optional), then real environment variables, then CLI
//! flags, each overriding the one before. Every key of the Go paycue is
//! accepted with the same meaning. Values are validated once, at start; an
//! error names the key and says how to fix it, so a seller at 2 a.m. is never
//! left guessing.
//!
//! This file holds the keys (`RawConfig`), the validated `Config` and the
//! rules that span keys (an API key is required off loopback); the per-key
//! parsers live in `scalars` (numbers, booleans, durations) and `endpoints`
//! (addresses, URLs, the webhook secret, watch ids, cards). What must stay
//! true: every rejection is a `ConfigError` naming the key and the fix, and
//! `Config`'s `Debug` never prints a secret.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::allocation::{CardSpec, DEFAULT_ROUND_STEP};
use crate::formats::Formats;
use crate::money::Money;

mod alerts;
mod console;
mod endpoints;
mod pay;
mod scalars;

pub use alerts::{AlertChat, AlertKind, AlertSettings, is_chat_id};
pub use console::{ConsoleSettings, MIN_PASSWORD};
pub use endpoints::{card_last4, redact_url, redis_url};
pub use pay::{PaySettings, ReturnUrlError};
pub use scalars::parse_duration;
use scalars::retention_key;

use endpoints::{host_key, parse_cards, parse_secret, parse_watch_ids, webhook_url_key};
use scalars::{
    app_id_key, backoff_key, bool_key, duration_key, log_format_key, number_key, round_step_key,
};

/// Raw values as given (strings); `Config::from_raw` validates them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RawConfig {
    #[arg(long, env = "APP_ID", global = true, hide_env_values = true)]
    pub app_id: Option<String>,
    #[arg(long, env = "APP_HASH", global = true, hide_env_values = true)]
    pub app_hash: Option<String>,
    #[arg(long, env = "TG_PHONE", global = true, hide_env_values = true)]
    pub tg_phone: Option<String>,
    #[arg(long, env = "SESSION_DIR", global = true)]
    pub session_dir: Option<String>,
    #[arg(long, env = "REDIS_ADDR", global = true, hide_env_values = true)]
    pub redis_addr: Option<String>,
    #[arg(long, env = "WORKERS", global = true)]
    pub workers: Option<String>,
    #[arg(long, env = "WEBHOOK_URL", global = true)]
    pub webhook_url: Option<String>,
    #[arg(long, env = "WATCH_ID", global = true)]
    pub watch_id: Option<String>,
    #[arg(long, env = "PORT", global = true)]
    pub port: Option<String>,
    #[arg(long, env = "HOST", global = true)]
    pub host: Option<String>,
    #[arg(long, env = "DEBUG", global = true)]
    pub debug: Option<String>,
    #[arg(long, env = "LIMIT", global = true)]
    pub limit: Option<String>,
    #[arg(long, env = "ROUND_STEP", global = true)]
    pub round_step: Option<String>,
    #[arg(long, env = "API_KEY", global = true, hide_env_values = true)]
    pub api_key: Option<String>,
    #[arg(long, env = "WEBHOOK_SECRET", global = true, hide_env_values = true)]
    pub webhook_secret: Option<String>,
    #[arg(long, env = "WEBHOOK_RETRIES", global = true)]
    pub webhook_retries: Option<String>,
    #[arg(long, env = "WEBHOOK_BACKOFF", global = true)]
    pub webhook_backoff: Option<String>,
    #[arg(long, env = "WEBHOOK_TIMEOUT", global = true)]
    pub webhook_timeout: Option<String>,
    #[arg(long, env = "TX_TTL", global = true)]
    pub tx_ttl: Option<String>,
    #[arg(long, env = "AMOUNT_HOLD", global = true)]
    pub amount_hold: Option<String>,
    #[arg(long, env = "RETENTION", global = true)]
    pub retention: Option<String>,
    #[arg(long, env = "CARDS", global = true)]
    pub cards: Option<String>,
    #[arg(long, env = "CURRENCY", global = true)]
    pub currency: Option<String>,
    #[arg(long, env = "LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    #[arg(long, env = "HTTP_MAX_CONNECTIONS", global = true)]
    pub http_max_connections: Option<String>,
    #[arg(long, env = "HTTP_HEADER_TIMEOUT", global = true)]
    pub http_header_timeout: Option<String>,
    #[arg(long, env = "HTTP_REQUEST_TIMEOUT", global = true)]
    pub http_request_timeout: Option<String>,
    #[arg(long, env = "PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    #[arg(long, env = "PAY_RETURN_ORIGINS", global = true)]
    pub pay_return_origins: Option<String>,
    #[arg(long, env = "PAY_LANG", global = true)]
    pub pay_lang: Option<String>,
    #[arg(long, env = "PAY_TIMEZONE", global = true)]
    pub pay_timezone: Option<String>,
    /// The seller's time zone: exports, the console and the commands show
    /// times in it.
    #[arg(long = "tz", env = "TZ", global = true)]
    pub tz: Option<String>,
    #[arg(long, env = "SHOP_NAME", global = true)]
    pub shop_name: Option<String>,
    #[arg(long, env = "CARD_HOLDER", global = true)]
    pub card_holder: Option<String>,
    #[arg(long, env = "FORMATS", global = true)]
    pub formats: Option<String>,
    #[arg(long, env = "CONSOLE_PASSWORD", global = true, hide_env_values = true)]
    pub console_password: Option<String>,
    #[arg(long, env = "CONSOLE_IDLE", global = true)]
    pub console_idle: Option<String>,
    #[arg(long, env = "CONSOLE_SESSION_MAX", global = true)]
    pub console_session_max: Option<String>,
    #[arg(long, env = "ALERT_CHAT", global = true)]
    pub alert_chat: Option<String>,
    #[arg(long, env = "ALERTS", global = true)]
    pub alerts: Option<String>,
    #[arg(long, env = "ALERT_LANG", global = true)]
    pub alert_lang: Option<String>,
    #[arg(long, env = "ALERT_WEBHOOK_AFTER", global = true)]
    pub alert_webhook_after: Option<String>,
    #[arg(long, env = "ALERT_SILENCE", global = true)]
    pub alert_silence: Option<String>,
    #[arg(long, env = "ALERT_DAILY_AT", global = true)]
    pub alert_daily_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Validated configuration.
#[derive(Clone)]
pub struct Config {
    pub app_id: Option<i32>,
    pub app_hash: Option<String>,
    pub tg_phone: Option<String>,
    pub session_dir: String,
    pub redis_url: String,
    /// `TZ`: the seller's time zone (exports, the console, the commands).
    pub tz: jiff::tz::TimeZone,
    pub workers: usize,
    pub webhook_url: Option<reqwest::Url>,
    pub watch_ids: Vec<i64>,
    pub host: IpAddr,
    pub port: u16,
    pub debug: bool,
    pub limit: u32,
    /// Unique amounts are never a whole multiple of this (0: off).
    pub round_step: u32,
    pub api_key: Option<String>,
    /// Decoded HMAC key of `WEBHOOK_SECRET`.
    pub webhook_secret: Option<Vec<u8>>,
    pub webhook_retries: u32,
    pub webhook_backoff: Vec<Duration>,
    pub webhook_timeout: Duration,
    pub tx_ttl: Duration,
    pub amount_hold: Duration,
    /// How long ended transactions (and what hangs off them) are kept;
    /// `None`: forever (`RETENTION=off`).
    pub retention: Option<Duration>,
    /// Cards as configured (`bank:card` or `card`); empty means one implicit card.
    pub cards: Vec<CardSpec>,
    pub currency: String,
    pub log_format: LogFormat,
    /// Open API connections at most (lowered at start to fit the file limit).
    pub http_max_connections: usize,
    /// A client has this long to send a request's headers (also how long an
    /// idle keep-alive connection stays open).
    pub http_header_timeout: Duration,
    /// A request (body included) is answered within this, or 408.
    pub http_request_timeout: Duration,
    /// The buyer's payment page (`/pay/{id}`).
    pub pay: PaySettings,
    /// The seller's bank formats (`FORMATS`), loaded and checked.
    pub formats: Arc<Formats>,
    /// The seller's web console (`/console`).
    pub console: ConsoleSettings,
    /// Alerts to the seller's own Telegram (`ALERT*`, `TZ`).
    pub alerts: AlertSettings,
}

/// Secrets are never printed, not even in debug output.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("redis_url", &redact_url(&self.redis_url))
            .field(
                "webhook_url",
                &self.webhook_url.as_ref().map(|u| redact_url(u.as_str())),
            )
            .field("cards", &self.cards)
            .field("currency", &self.currency)
            .field("limit", &self.limit)
            .field("round_step", &self.round_step)
            .field("formats", &self.formats.list.len())
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "<set>"),
            )
            .finish_non_exhaustive()
    }
}

/// A bad configuration value: which key, what was wrong, how to fix it.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{key}: {problem}. Fix: {fix}")]
pub struct ConfigError {
    pub key: &'static str,
    pub problem: String,
    pub fix: String,
}

/// `TZ`: an IANA name (`Asia/Tashkent`, the default), as the C library
/// also reads it (`:Asia/Tashkent`, a path to a zone file such as
/// `/etc/localtime`), or a POSIX rule (`UTC0`, `<+05>-5`): a host that
/// already sets `TZ` for other programs keeps working.
fn time_zone(value: Option<String>) -> Result<jiff::tz::TimeZone, ConfigError> {
    let Some(value) = value else {
        return Ok(jiff::tz::TimeZone::get("Asia/Tashkent")
            .unwrap_or_else(|_| jiff::tz::TimeZone::fixed(jiff::tz::offset(5))));
    };
    let name = value.trim().trim_start_matches(':');
    let found = if name.starts_with('/') {
        std::fs::read(name)
            .ok()
            .and_then(|data| jiff::tz::TimeZone::tzif(name, &data).ok())
    } else {
        jiff::tz::TimeZone::get(name)
            .or_else(|_| jiff::tz::TimeZone::posix(name))
            .ok()
    };
    found.ok_or_else(|| {
        bad(
            "TZ",
            format!("'{value}' is not a known time zone"),
            "set TZ to an IANA name such as Asia/Tashkent or Asia/Almaty (or leave it unset for Asia/Tashkent)",
        )
    })
}

fn bad(key: &'static str, problem: impl Into<String>, fix: impl Into<String>) -> ConfigError {
    ConfigError {
        key,
        problem: problem.into(),
        fix: fix.into(),
    }
}

/// Currencies the parsers report (all with two decimal places).
pub const KNOWN_CURRENCIES: [&str; 5] = ["UZS", "KZT", "USD", "RUB", "EUR"];

/// The Go paycue's default bot: @HUMOcardbot.
pub const DEFAULT_WATCH_ID: i64 = 856_254_490;

/// `FORMATS`: a file of seller formats, loaded and checked now, so a format
/// that would call a known non-credit a credit never runs. Every chat a
/// format names must be watched: the bank's name in a format is a hint, only
/// `WATCH_ID` makes a chat trusted.
fn formats_key(path: Option<String>, watch_ids: &[i64]) -> Result<Formats, ConfigError> {
    let Some(path) = path else {
        return Ok(Formats::default());
    };
    let formats = Formats::load(std::path::Path::new(&path)).map_err(|e| {
        let fix = match e {
            crate::formats::FormatsError::Read { .. } => {
                "point FORMATS at a readable TOML file, or unset it"
            }
            _ => "fix the format (try it with `paycue parse --explain`), or unset FORMATS",
        };
        bad("FORMATS", format!("{path}: {e}"), fix)
    })?;
    for f in &formats.list {
        if let Some(chat) = f.chats.iter().find(|c| !watch_ids.contains(c)) {
            return Err(bad(
                "FORMATS",
                format!(
                    "format {:?} names chat {chat}, which is not in WATCH_ID",
                    f.name
                ),
                format!(
                    "add {chat} to WATCH_ID (paycue reads only watched chats), or fix the chat id"
                ),
            ));
        }
    }
    Ok(formats)
}

/// Reads `.env` from the working directory if there is one. Real environment
/// variables win over it (dotenvy never overrides them).
pub fn load_dotenv() -> Result<(), ConfigError> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        Err(e) => Err(bad(
            ".env",
            format!("cannot be read ({e})"),
            "write it as KEY=value lines, or remove it",
        )),
    }
}

impl Config {
    pub fn from_raw(raw: &RawConfig) -> Result<Config, ConfigError> {
        let get = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let host = host_key(get(&raw.host))?;
        let api_key = get(&raw.api_key);
        if let Some(key) = &api_key
            && key.len() < 16
        {
            return Err(bad(
                "API_KEY",
                "is shorter than 16 characters",
                "use a long random value, e.g. `openssl rand -hex 24`",
            ));
        }
        if !host.is_loopback() && api_key.is_none() {
            return Err(bad(
                "API_KEY",
                format!("is not set but HOST={host} accepts connections from other machines"),
                "set API_KEY to a long random value, or bind HOST=127.0.0.1",
            ));
        }
        let webhook_url = webhook_url_key(get(&raw.webhook_url))?;
        let webhook_secret = get(&raw.webhook_secret)
            .map(|s| parse_secret(&s))
            .transpose()?;
        let webhook_backoff = backoff_key(get(&raw.webhook_backoff))?;
        let cards = parse_cards(get(&raw.cards).as_deref().unwrap_or(""))?;
        let currency = get(&raw.currency)
            .unwrap_or_else(|| "UZS".into())
            .to_ascii_uppercase();
        if !KNOWN_CURRENCIES.contains(&currency.as_str()) {
            return Err(bad(
                "CURRENCY",
                format!("'{currency}' is not a currency the bank parsers report"),
                "use UZS, KZT, USD, RUB or EUR",
            ));
        }
        let tx_ttl = duration_key("TX_TTL", get(&raw.tx_ttl), Duration::from_secs(30 * 60))?;
        let amount_hold = duration_key(
            "AMOUNT_HOLD",
            get(&raw.amount_hold),
            Duration::from_secs(30 * 60),
        )?;
        let watch_ids = parse_watch_ids(get(&raw.watch_id).as_deref())?;
        let formats = formats_key(get(&raw.formats), &watch_ids)?;
        let tz = time_zone(get(&raw.tz))?;
        let pay = PaySettings::from_keys(
            get(&raw.public_url),
            get(&raw.pay_return_origins),
            get(&raw.pay_lang),
            get(&raw.shop_name),
            get(&raw.card_holder),
            get(&raw.pay_timezone),
        )?;
        let console = ConsoleSettings::from_keys(
            // Not trimmed: spaces may be part of a password.
            raw.console_password.clone().filter(|p| !p.is_empty()),
            get(&raw.console_idle),
            get(&raw.console_session_max),
            api_key.as_deref(),
            pay.public_url.as_ref(),
        )?;
        Ok(Config {
            app_id: app_id_key(get(&raw.app_id))?,
            app_hash: get(&raw.app_hash),
            tg_phone: get(&raw.tg_phone),
            session_dir: get(&raw.session_dir).unwrap_or_else(|| "sessions".into()),
            redis_url: redis_url(&get(&raw.redis_addr).unwrap_or_else(|| "127.0.0.1:6379".into()))?,
            workers: number_key("WORKERS", get(&raw.workers), 4, 1, 256)? as usize,
            webhook_url,
            watch_ids,
            host,
            port: number_key("PORT", get(&raw.port), 10800, 0, 65535)? as u16,
            debug: bool_key("DEBUG", get(&raw.debug))?,
            limit: number_key("LIMIT", get(&raw.limit), 100, 1, 100_000)? as u32,
            round_step: round_step_key(get(&raw.round_step))?,
            api_key,
            webhook_secret,
            webhook_retries: number_key("WEBHOOK_RETRIES", get(&raw.webhook_retries), 3, 0, 100)?
                as u32,
            webhook_backoff,
            webhook_timeout: duration_key(
                "WEBHOOK_TIMEOUT",
                get(&raw.webhook_timeout),
                Duration::from_secs(10),
            )?,
            tx_ttl,
            amount_hold,
            retention: retention_key(get(&raw.retention))?,
            cards,
            currency,
            log_format: log_format_key(get(&raw.log_format))?,
            http_max_connections: number_key(
                "HTTP_MAX_CONNECTIONS",
                get(&raw.http_max_connections),
                512,
                1,
                65_536,
            )? as usize,
            http_header_timeout: duration_key(
                "HTTP_HEADER_TIMEOUT",
                get(&raw.http_header_timeout),
                Duration::from_secs(10),
            )?,
            http_request_timeout: duration_key(
                "HTTP_REQUEST_TIMEOUT",
                get(&raw.http_request_timeout),
                Duration::from_secs(15),
            )?,
            pay,
            formats: Arc::new(formats),
            console,
            tz: tz.clone(),
            alerts: AlertSettings::from_keys(alerts::AlertKeys {
                chat: get(&raw.alert_chat),
                kinds: get(&raw.alerts),
                lang: get(&raw.alert_lang),
                webhook_after: get(&raw.alert_webhook_after),
                silence: get(&raw.alert_silence),
                daily_at: get(&raw.alert_daily_at),
                timezone: Some(tz),
            })?,
        })
    }

    /// The card texts of `CARDS` (store keys; empty: the implicit card).
    pub fn card_keys(&self) -> Vec<String> {
        self.cards.iter().map(|c| c.card.clone()).collect()
    }

    /// Largest amount that may be asked for, so that price + LIMIT still fits.
    pub fn max_amount(&self) -> Money {
        Money::from_major(crate::money::MAX_MAJOR - 1 - i64::from(self.limit))
    }
}
