//! Parsers for the keys that say what paycue talks to and matches against:
//! the listen address (`HOST`), Redis (`REDIS_ADDR`), the shop's webhook
//! (`WEBHOOK_URL`, `WEBHOOK_SECRET`), the bank bots (`WATCH_ID`) and the
//! seller's cards (`CARDS`). What must stay true: two cards never share their
//! last 4 digits (credits are matched by them), a webhook secret is at least
//! 16 bytes, and a URL's password never reaches a log (`redact_url`).

use std::net::IpAddr;

use super::{ConfigError, DEFAULT_WATCH_ID, bad};
use crate::allocation::CardSpec;

/// `HOST`: an IP address or `localhost`; unset means 127.0.0.1.
pub(super) fn host_key(v: Option<String>) -> Result<IpAddr, ConfigError> {
    Ok(match v {
        None => IpAddr::from([127, 0, 0, 1]),
        Some(h) if h == "localhost" => IpAddr::from([127, 0, 0, 1]),
        Some(h) => h.parse().map_err(|_| {
            bad(
                "HOST",
                format!("'{h}' is not an IP address"),
                "use 127.0.0.1, 0.0.0.0 or another IP",
            )
        })?,
    })
}

/// `WEBHOOK_URL`: a full http:// or https:// URL.
pub(super) fn webhook_url_key(v: Option<String>) -> Result<Option<reqwest::Url>, ConfigError> {
    v.map(|u| {
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
    .transpose()
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

pub(super) fn parse_watch_ids(v: Option<&str>) -> Result<Vec<i64>, ConfigError> {
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

/// `8600123412347466,9860****4428` (the Go form), each card optionally
/// preceded by the bank whose messages credit it: `kaspi:4400****1234`.
/// A bank is a lowercase word (the parser's bank name); it says which
/// card-less messages may be for the card (see `allocation`).
pub(super) fn parse_cards(v: &str) -> Result<Vec<CardSpec>, ConfigError> {
    let fix = "list cards like 8600123412347466,9860****4428, or bank:card (kaspi:4400****1234)";
    let mut cards: Vec<CardSpec> = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (bank, card) = match item.split_once(':') {
            Some((bank, card)) => (Some(bank.trim().to_ascii_lowercase()), card.trim()),
            None => (None, item),
        };
        if let Some(bank) = &bank
            && (bank.is_empty()
                || !bank
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        {
            return Err(bad(
                "CARDS",
                format!("'{item}' names the bank '{bank}', which is not a single word"),
                fix,
            ));
        }
        let last4 = card_last4(card)
            .ok_or_else(|| bad("CARDS", format!("'{item}' does not end in 4 digits"), fix))?;
        if cards
            .iter()
            .any(|c| card_last4(&c.card).as_deref() == Some(last4.as_str()))
        {
            return Err(bad(
                "CARDS",
                format!("two cards end in {last4}"),
                "paycue matches credits by the last 4 digits; keep one of them",
            ));
        }
        cards.push(CardSpec {
            card: card.to_string(),
            bank,
        });
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

pub(super) fn parse_secret(s: &str) -> Result<Vec<u8>, ConfigError> {
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
