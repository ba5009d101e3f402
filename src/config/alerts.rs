//! The alert keys: `ALERT_CHAT`, `ALERTS`, `ALERT_LANG`,
//! `ALERT_WEBHOOK_AFTER`, `ALERT_SILENCE`, `ALERT_DAILY_AT`, and `TZ` (the
//! seller's local time zone, which the daily summary is scheduled in). What
//! must stay true: a value paycue does not understand is refused with the key
//! and the fix, never read as "off" (a typo in `ALERTS` would otherwise
//! silence the very alert the seller asked for).

use std::time::Duration;

use super::scalars::parse_duration;
use super::{ConfigError, bad};
use crate::web::pay::Lang;

/// What an alert is about; `ALERTS` lists the ones the seller wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertKind {
    Unmatched,
    Late,
    Webhook,
    Silence,
    Reversal,
    Daily,
}

impl AlertKind {
    pub const ALL: [AlertKind; 6] = [
        AlertKind::Unmatched,
        AlertKind::Late,
        AlertKind::Webhook,
        AlertKind::Silence,
        AlertKind::Reversal,
        AlertKind::Daily,
    ];

    /// Everything that asks the seller to act; the daily summary is a
    /// message every day whatever happened, so it is asked for by name.
    pub const DEFAULT: [AlertKind; 5] = [
        AlertKind::Unmatched,
        AlertKind::Late,
        AlertKind::Webhook,
        AlertKind::Silence,
        AlertKind::Reversal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Unmatched => "unmatched",
            AlertKind::Late => "late",
            AlertKind::Webhook => "webhook",
            AlertKind::Silence => "silence",
            AlertKind::Reversal => "reversal",
            AlertKind::Daily => "daily",
        }
    }

    pub fn parse(s: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where alerts go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertChat {
    /// The seller's own Saved Messages.
    SavedMessages,
    /// A chat by its Bot API id (`-100…` for a group or channel), like `WATCH_ID`.
    Chat(i64),
}

/// Validated alert settings.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    pub chat: AlertChat,
    pub kinds: Vec<AlertKind>,
    pub lang: Lang,
    /// A webhook endpoint failing this long (no success since its first
    /// failure) is one alert.
    pub webhook_after: Duration,
    /// No message from any watched chat for this long is one alert; `None`: off.
    pub silence: Option<Duration>,
    /// Local time (in `TZ`) of the daily summary.
    pub daily_at: jiff::civil::Time,
    /// The seller's time zone (`TZ`).
    pub timezone: jiff::tz::TimeZone,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            chat: AlertChat::SavedMessages,
            kinds: AlertKind::DEFAULT.to_vec(),
            lang: Lang::Ru,
            webhook_after: DEFAULT_WEBHOOK_AFTER,
            silence: None,
            daily_at: jiff::civil::time(9, 0, 0, 0),
            timezone: default_timezone(),
        }
    }
}

/// Five minutes: the default backoff (5 s, 30 s, 2 min) has retried three
/// times by then, so one refused connection during a deploy is not an alert.
pub const DEFAULT_WEBHOOK_AFTER: Duration = Duration::from_secs(300);

pub const DEFAULT_TIMEZONE: &str = "Asia/Tashkent";

fn default_timezone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(DEFAULT_TIMEZONE)
        .unwrap_or_else(|_| jiff::tz::TimeZone::fixed(jiff::tz::offset(5)))
}

/// The raw texts of the alert keys (`None`: unset or blank).
#[derive(Debug, Default)]
pub struct AlertKeys {
    pub chat: Option<String>,
    pub kinds: Option<String>,
    pub lang: Option<String>,
    pub webhook_after: Option<String>,
    pub silence: Option<String>,
    pub daily_at: Option<String>,
    /// `TZ`, read once for the whole config (the console and exports use
    /// the same zone), so the alerts accept exactly what they accept.
    pub timezone: Option<jiff::tz::TimeZone>,
}

impl AlertSettings {
    pub(super) fn from_keys(keys: AlertKeys) -> Result<AlertSettings, ConfigError> {
        let d = AlertSettings::default();
        Ok(AlertSettings {
            chat: keys
                .chat
                .map(|c| chat_key(&c))
                .transpose()?
                .unwrap_or(d.chat),
            kinds: keys
                .kinds
                .map(|k| kinds_key(&k))
                .transpose()?
                .unwrap_or(d.kinds),
            lang: keys
                .lang
                .map(|l| lang_key(&l))
                .transpose()?
                .unwrap_or(d.lang),
            webhook_after: keys
                .webhook_after
                .map(|v| after_key(&v))
                .transpose()?
                .unwrap_or(d.webhook_after),
            silence: keys.silence.map(|v| silence_key(&v)).transpose()?.flatten(),
            daily_at: keys
                .daily_at
                .map(|v| daily_at_key(&v))
                .transpose()?
                .unwrap_or(d.daily_at),
            timezone: keys.timezone.unwrap_or(d.timezone),
        })
    }

    pub fn wants(&self, kind: AlertKind) -> bool {
        self.kinds.contains(&kind)
    }
}

fn chat_key(v: &str) -> Result<AlertChat, ConfigError> {
    let v = v.trim();
    if matches!(v.to_ascii_lowercase().as_str(), "me" | "self" | "saved") {
        return Ok(AlertChat::SavedMessages);
    }
    match v.parse::<i64>() {
        Ok(id) if is_chat_id(id) => Ok(AlertChat::Chat(id)),
        _ => Err(bad(
            "ALERT_CHAT",
            format!("'{v}' is not `me` nor a numeric chat id"),
            "leave it unset (Saved Messages), or write the chat's numeric id such as -1001234567890 (a group) as in WATCH_ID",
        )),
    }
}

/// Whether Telegram can have this Bot API chat id: a user (positive, 40
/// bits), a basic group (`-1` to `-999999999999`) or a channel or
/// supergroup (`-100…`). The same ranges as grammers'
/// `PeerId::from_bot_api_dialog_id` (config does not import grammers; a
/// test in `telegram::alerts` keeps the two in step).
pub fn is_chat_id(id: i64) -> bool {
    (1..=0xff_ffff_ffff).contains(&id)
        || (-999_999_999_999..=-1).contains(&id)
        || (-1_997_852_516_352..=-1_000_000_000_001).contains(&id)
        || (-4_000_000_000_000..=-2_002_147_483_649).contains(&id)
}

fn kinds_key(v: &str) -> Result<Vec<AlertKind>, ConfigError> {
    let fix = "list some of unmatched,late,webhook,silence,reversal,daily, or write ALERTS=off";
    let words: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    // Only `off` turns the alerts off: commas alone are a mistake.
    if words.is_empty() {
        return Err(bad("ALERTS", format!("'{v}' names no alert"), fix));
    }
    let mut kinds = Vec::new();
    for word in words {
        let lower = word.to_ascii_lowercase();
        if lower == "off" || lower == "none" {
            continue;
        }
        let kind = AlertKind::parse(&lower)
            .ok_or_else(|| bad("ALERTS", format!("'{word}' is not an alert"), fix))?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds.sort();
    Ok(kinds)
}

fn lang_key(v: &str) -> Result<Lang, ConfigError> {
    Lang::parse(v).ok_or_else(|| {
        bad(
            "ALERT_LANG",
            format!("'{v}' is not a language of the alerts"),
            "use uz, ru, kk or en",
        )
    })
}

fn after_key(v: &str) -> Result<Duration, ConfigError> {
    match parse_duration(v) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(bad(
            "ALERT_WEBHOOK_AFTER",
            "must be longer than zero",
            "write a duration such as ALERT_WEBHOOK_AFTER=5m",
        )),
        Err(e) => Err(bad(
            "ALERT_WEBHOOK_AFTER",
            e,
            "write a duration such as ALERT_WEBHOOK_AFTER=5m",
        )),
    }
}

/// `off` (the default) or a duration of at least a minute: shorter would
/// fire between two ordinary messages.
fn silence_key(v: &str) -> Result<Option<Duration>, ConfigError> {
    if matches!(v.trim().to_ascii_lowercase().as_str(), "off" | "0") {
        return Ok(None);
    }
    let fix = "write a span you never go without a bank message, such as ALERT_SILENCE=6h, or ALERT_SILENCE=off";
    match parse_duration(v) {
        Ok(d) if d >= Duration::from_secs(60) => Ok(Some(d)),
        Ok(_) => Err(bad(
            "ALERT_SILENCE",
            format!("'{v}' is under a minute"),
            fix,
        )),
        Err(e) => Err(bad("ALERT_SILENCE", e, fix)),
    }
}

fn daily_at_key(v: &str) -> Result<jiff::civil::Time, ConfigError> {
    let parsed = v.trim().split_once(':').and_then(|(h, m)| {
        let (h, m) = (h.parse::<i8>().ok()?, m.parse::<i8>().ok()?);
        jiff::civil::Time::new(h, m, 0, 0).ok()
    });
    parsed.ok_or_else(|| {
        bad(
            "ALERT_DAILY_AT",
            format!("'{v}' is not a time of day"),
            "write local time as HH:MM, such as ALERT_DAILY_AT=09:00 (the zone is TZ)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_a_checked_list() {
        assert_eq!(
            kinds_key("daily, Unmatched,daily").unwrap(),
            vec![AlertKind::Unmatched, AlertKind::Daily]
        );
        assert_eq!(kinds_key("off").unwrap(), vec![]);
        let e = kinds_key("unmatched,webhooks").unwrap_err();
        assert_eq!(e.key, "ALERTS");
        assert!(e.problem.contains("webhooks"), "{e}");
    }

    #[test]
    fn chat_is_me_or_an_id() {
        assert_eq!(chat_key("me").unwrap(), AlertChat::SavedMessages);
        assert_eq!(chat_key("-1001234").unwrap(), AlertChat::Chat(-1001234));
        assert_eq!(chat_key("@shop").unwrap_err().key, "ALERT_CHAT");
    }

    #[test]
    fn silence_daily_and_zone() {
        assert_eq!(silence_key("off").unwrap(), None);
        assert_eq!(
            silence_key("6h").unwrap(),
            Some(Duration::from_secs(6 * 3600))
        );
        assert_eq!(silence_key("30s").unwrap_err().key, "ALERT_SILENCE");
        assert_eq!(
            daily_at_key("21:30").unwrap(),
            jiff::civil::time(21, 30, 0, 0)
        );
        assert_eq!(daily_at_key("25:00").unwrap_err().key, "ALERT_DAILY_AT");
        assert_eq!(daily_at_key("9").unwrap_err().key, "ALERT_DAILY_AT");
    }
}
