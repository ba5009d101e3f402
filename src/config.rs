//! Configuration: `.env` (optional), then real environment variables, then CLI
//! flags, each overriding the one before. Every key of the Go paycue is
//! accepted with the same meaning. Values are validated once, at start; an
//! error names the key and says how to fix it, so a seller at 2 a.m. is never
//! left guessing.

use std::net::IpAddr;
use std::time::Duration;

use crate::money::Money;

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
    #[arg(long, env = "CARDS", global = true)]
    pub cards: Option<String>,
    #[arg(long, env = "CURRENCY", global = true)]
    pub currency: Option<String>,
    #[arg(long, env = "LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
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
    pub workers: usize,
    pub webhook_url: Option<reqwest::Url>,
    pub watch_ids: Vec<i64>,
    pub host: IpAddr,
    pub port: u16,
    pub debug: bool,
    pub limit: u32,
    pub api_key: Option<String>,
    /// Decoded HMAC key of `WEBHOOK_SECRET`.
    pub webhook_secret: Option<Vec<u8>>,
    pub webhook_retries: u32,
    pub webhook_backoff: Vec<Duration>,
    pub webhook_timeout: Duration,
    pub tx_ttl: Duration,
    pub amount_hold: Duration,
    /// Cards as configured; empty means one implicit card.
    pub cards: Vec<String>,
    pub currency: String,
    pub log_format: LogFormat,
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
        let host = match get(&raw.host) {
            None => IpAddr::from([127, 0, 0, 1]),
            Some(h) if h == "localhost" => IpAddr::from([127, 0, 0, 1]),
            Some(h) => h.parse().map_err(|_| {
                bad(
                    "HOST",
                    format!("'{h}' is not an IP address"),
                    "use 127.0.0.1, 0.0.0.0 or another IP",
                )
            })?,
        };
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
        let webhook_url = get(&raw.webhook_url)
            .map(|u| {
                let url = reqwest::Url::parse(&u).map_err(|e| {
                    bad(
                        "WEBHOOK_URL",
                        format!("'{u}' is not a URL ({e})"),
                        "write a full URL such as https://shop.example/paycue",
                    )
                })?;
                match url.scheme() {
                    "http" | "https" => Ok(url),
                    other => Err(bad(
                        "WEBHOOK_URL",
                        format!("scheme '{other}' is not supported"),
                        "use an http:// or https:// URL",
                    )),
                }
            })
            .transpose()?;
        let webhook_secret = get(&raw.webhook_secret)
            .map(|s| parse_secret(&s))
            .transpose()?;
        let webhook_backoff = match get(&raw.webhook_backoff) {
            None => vec![
                Duration::from_secs(5),
                Duration::from_secs(30),
                Duration::from_secs(120),
                Duration::from_secs(600),
            ],
            Some(list) => list
                .split(',')
                .map(|d| {
                    parse_duration(d.trim())
                        .map_err(|e| bad("WEBHOOK_BACKOFF", e, "write delays like 1s,2s,4s"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
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
        Ok(Config {
            app_id: get(&raw.app_id)
                .map(|v| {
                    v.parse::<i32>().map_err(|_| {
                        bad(
                            "APP_ID",
                            format!("'{v}' is not a number"),
                            "copy api_id from https://my.telegram.org > API development tools",
                        )
                    })
                })
                .transpose()?,
            app_hash: get(&raw.app_hash),
            tg_phone: get(&raw.tg_phone),
            session_dir: get(&raw.session_dir).unwrap_or_else(|| "sessions".into()),
            redis_url: redis_url(&get(&raw.redis_addr).unwrap_or_else(|| "127.0.0.1:6379".into()))?,
            workers: number_key("WORKERS", get(&raw.workers), 4, 1, 256)? as usize,
            webhook_url,
            watch_ids: parse_watch_ids(get(&raw.watch_id).as_deref())?,
            host,
            port: number_key("PORT", get(&raw.port), 10800, 0, 65535)? as u16,
            debug: bool_key("DEBUG", get(&raw.debug))?,
            limit: number_key("LIMIT", get(&raw.limit), 100, 1, 100_000)? as u32,
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
            cards,
            currency,
            log_format: match get(&raw.log_format).as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    return Err(bad(
                        "LOG_FORMAT",
                        format!("'{other}' is not a log format"),
                        "use text or json",
                    ));
                }
            },
        })
    }

    /// Largest amount that may be asked for, so that price + LIMIT still fits.
    pub fn max_amount(&self) -> Money {
        Money::from_major(crate::money::MAX_MAJOR - 1 - i64::from(self.limit))
    }
}

fn number_key(
    key: &'static str,
    v: Option<String>,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(v) = v else { return Ok(default) };
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(bad(
            key,
            format!("'{v}' is not a whole number from {min} to {max}"),
            format!("set {key}={default} (the default) or another number in range"),
        )),
    }
}

fn bool_key(key: &'static str, v: Option<String>) -> Result<bool, ConfigError> {
    match v.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "no" | "off") => Ok(false),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some(other) => Err(bad(
            key,
            format!("'{other}' is not true or false"),
            format!("set {key}=true or {key}=false"),
        )),
    }
}

fn duration_key(
    key: &'static str,
    v: Option<String>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    let Some(v) = v else { return Ok(default) };
    match parse_duration(&v) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(bad(
            key,
            "must be longer than zero",
            format!("write a duration such as {key}=30m"),
        )),
        Err(e) => Err(bad(
            key,
            e,
            format!("write a duration such as {key}=30m, 45s or 1800"),
        )),
    }
}

/// `30m`, `45s`, `2h`, `1d`, `250ms` or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a duration"))?;
    let secs = |mult: u64| {
        n.checked_mul(mult)
            .map(Duration::from_secs)
            .ok_or_else(|| format!("'{text}' is too long"))
    };
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => secs(1),
        "m" => secs(60),
        "h" => secs(3600),
        "d" => secs(86_400),
        _ => Err(format!(
            "'{text}' has an unknown unit '{unit}' (use ms, s, m, h or d)"
        )),
    }
}

/// `host:port` (the Go paycue form) or a `redis://`, `rediss://`,
/// `redis+unix://`/`unix://` URL.
pub fn redis_url(addr: &str) -> Result<String, ConfigError> {
    let fix = "write host:port (127.0.0.1:6379) or a URL such as redis://:password@host:6379/0";
    if let Some(path) = addr.strip_prefix("redis+unix://") {
        return Ok(format!("unix://{path}"));
    }
    if ["redis://", "rediss://", "unix://"]
        .iter()
        .any(|p| addr.starts_with(p))
    {
        return reqwest::Url::parse(addr)
            .map(|_| addr.to_string())
            .map_err(|e| bad("REDIS_ADDR", format!("is not a valid URL ({e})"), fix));
    }
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(format!("redis://{addr}"))
        }
        _ => Err(bad(
            "REDIS_ADDR",
            format!("'{addr}' is neither host:port nor a redis:// URL"),
            fix,
        )),
    }
}

/// Hides the password part of a URL for logs.
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

fn parse_watch_ids(v: Option<&str>) -> Result<Vec<i64>, ConfigError> {
    let Some(v) = v else {
        return Ok(vec![DEFAULT_WATCH_ID]);
    };
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                bad(
                    "WATCH_ID",
                    format!("'{s}' is not a numeric Telegram id"),
                    "list numeric ids, e.g. WATCH_ID=856254490,915326936 (not @usernames)",
                )
            })
        })
        .collect()
}

/// `8600123412347466,9860****4428`: any text with at least 4 trailing digits.
fn parse_cards(v: &str) -> Result<Vec<String>, ConfigError> {
    let mut cards: Vec<String> = Vec::new();
    for card in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let last4 = card_last4(card).ok_or_else(|| {
            bad(
                "CARDS",
                format!("'{card}' does not end in 4 digits"),
                "list cards like 8600123412347466,9860****4428",
            )
        })?;
        if cards
            .iter()
            .any(|c| card_last4(c).as_deref() == Some(last4.as_str()))
        {
            return Err(bad(
                "CARDS",
                format!("two cards end in {last4}"),
                "paycue matches credits by the last 4 digits; keep one of them",
            ));
        }
        cards.push(card.to_string());
    }
    Ok(cards)
}

/// The last 4 digits of a card as written anywhere (`9860****4428` -> `4428`).
pub fn card_last4(card: &str) -> Option<String> {
    let tail: String = card
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (tail.len() == 4 && tail.bytes().all(|b| b.is_ascii_digit())).then_some(tail)
}

fn parse_secret(s: &str) -> Result<Vec<u8>, ConfigError> {
    use base64::Engine as _;
    let fix = "use whsec_ followed by base64, e.g. whsec_$(openssl rand -base64 32)";
    let b64 = s
        .strip_prefix("whsec_")
        .ok_or_else(|| bad("WEBHOOK_SECRET", "does not start with whsec_", fix))?;
    let key = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| bad("WEBHOOK_SECRET", "is not valid base64 after whsec_", fix))?;
    if key.len() < 16 {
        return Err(bad("WEBHOOK_SECRET", "is shorter than 16 bytes", fix));
    }
    Ok(key)
}
