//! Parsers for the plain-valued keys: whole numbers with a range, booleans,
//! durations (single and the `WEBHOOK_BACKOFF` list), `APP_ID` and
//! `LOG_FORMAT`. Each takes the trimmed text (`None` when unset or blank) and
//! answers the value, the default, or a `ConfigError` that names the key and
//! the fix; none of them guesses at text it does not understand.

use std::time::Duration;

use super::{ConfigError, LogFormat, bad};

pub(super) fn number_key(
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

/// `ROUND_STEP`: unique amounts are never a whole multiple of it. 0 turns
/// the rule off; 1 would refuse every whole amount, so it is refused.
pub(super) fn round_step_key(v: Option<String>) -> Result<u32, ConfigError> {
    let default = u64::from(super::DEFAULT_ROUND_STEP);
    let step = number_key("ROUND_STEP", v, default, 0, 1_000_000)?;
    if step == 1 {
        return Err(bad(
            "ROUND_STEP",
            "1 would leave out every whole amount",
            format!("set ROUND_STEP={default} (the default), 100, or 0 to turn the rule off"),
        ));
    }
    Ok(step as u32)
}

pub(super) fn bool_key(key: &'static str, v: Option<String>) -> Result<bool, ConfigError> {
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

pub(super) fn duration_key(
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

/// `RETENTION`: how long ended transactions are kept (default 90 days, at
/// least a day so that `RETENTION=90` cannot mean 90 seconds), or `off`.
pub(super) fn retention_key(v: Option<String>) -> Result<Option<Duration>, ConfigError> {
    const DAY: Duration = Duration::from_secs(86_400);
    let Some(v) = v else {
        return Ok(Some(DAY * 90));
    };
    if matches!(v.trim().to_ascii_lowercase().as_str(), "off" | "never") {
        return Ok(None);
    }
    match parse_duration(&v) {
        Ok(d) if d >= DAY => Ok(Some(d)),
        Ok(_) => Err(bad(
            "RETENTION",
            format!("'{v}' is less than a day"),
            "write days, such as RETENTION=90d, or RETENTION=off to keep everything",
        )),
        Err(e) => Err(bad(
            "RETENTION",
            e,
            "write days, such as RETENTION=90d, or RETENTION=off to keep everything",
        )),
    }
}

/// `WEBHOOK_BACKOFF`: comma-separated delays; unset means 5s,30s,2m,10m.
pub(super) fn backoff_key(v: Option<String>) -> Result<Vec<Duration>, ConfigError> {
    Ok(match v {
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
    })
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

pub(super) fn app_id_key(v: Option<String>) -> Result<Option<i32>, ConfigError> {
    v.map(|v| {
        v.parse::<i32>().map_err(|_| {
            bad(
                "APP_ID",
                format!("'{v}' is not a number"),
                "copy api_id from https://my.telegram.org > API development tools",
            )
        })
    })
    .transpose()
}

pub(super) fn log_format_key(v: Option<String>) -> Result<LogFormat, ConfigError> {
    match v.as_deref() {
        None | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(bad(
            "LOG_FORMAT",
            format!("'{other}' is not a log format"),
            "use text or json",
        )),
    }
}
