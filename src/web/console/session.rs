//! Console sessions: a random token in an `HttpOnly`, `SameSite=Strict`
//! cookie (`Secure` and `__Host-` behind HTTPS), and on the server, under the
//! SHA-256 of that token and the password, the session's CSRF token and
//! times. The store keeps it (Redis in production), so logout ends a session
//! in every process and a restart keeps it; a copy of the store never holds
//! a usable cookie (nor a way to test guesses of the password); a new
//! `CONSOLE_PASSWORD` ends every session of the old one (their records are
//! under keys the new password does not compute).
//!
//! A session ends after `CONSOLE_IDLE` without a request (its record expires
//! in the store) and `CONSOLE_SESSION_MAX` after login however busy (checked
//! at every request, and the record never outlives it). A request only
//! renews a record that still exists (`session_touch`): a logout landing
//! while a request with the same cookie is in flight is never undone, and
//! renewing needs no new memory (pages still open while Redis is full).
//! Login always makes a new token: a cookie planted before login (session
//! fixation) opens nothing.

use axum::http::{HeaderMap, HeaderValue, header};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use subtle::ConstantTimeEq;

use crate::config::ConsoleSettings;
use crate::engine::Engine;
use crate::model::{Millis, now_millis};
use crate::store::StoreError;

/// The session cookie's name (`__Host-` behind HTTPS: the browser then
/// refuses it from plain HTTP or with a Domain, so no sibling site plants it).
pub(super) fn session_cookie(s: &ConsoleSettings) -> &'static str {
    if s.secure_cookie {
        "__Host-paycue_console"
    } else {
        "paycue_console"
    }
}

/// The login form's own cookie: its token is the form's CSRF token.
pub(super) fn login_cookie(s: &ConsoleSettings) -> &'static str {
    if s.secure_cookie {
        "__Host-paycue_console_login"
    } else {
        "paycue_console_login"
    }
}

/// 244 random bits from the OS (two v4 UUIDs), as 64 hex digits.
pub(super) fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Equal without telling how much of it matched.
pub(super) fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (sha2::Sha256::digest(a), sha2::Sha256::digest(b));
    a.ct_eq(&b).into()
}

/// Where the session of `token` is kept: bound to the password, so that
/// changing it ends every session.
fn store_key(s: &ConsoleSettings, token: &str) -> String {
    let mut h = sha2::Sha256::new();
    h.update(b"paycue console session\0");
    h.update(s.password.as_deref().unwrap_or_default().as_bytes());
    h.update(b"\0");
    h.update(token.as_bytes());
    format!("{:x}", h.finalize())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    csrf: String,
    created_at: Millis,
}

/// A live session.
#[derive(Debug, Clone)]
pub(super) struct Session {
    key: String,
    pub(super) csrf: String,
    created_at: Millis,
}

impl Session {
    pub(super) fn csrf_ok(&self, given: &str) -> bool {
        !given.is_empty() && same_secret(&self.csrf, given)
    }
}

/// How long the record may live from `now`: the idle time, cut at the
/// session's maximum age.
fn ttl_ms(s: &ConsoleSettings, created_at: Millis, now: Millis) -> i64 {
    let idle = s.idle.as_millis() as i64;
    let left = created_at + s.lifetime.as_millis() as i64 - now;
    idle.min(left)
}

/// Starts a session; returns it and the cookie value.
pub(super) async fn start(engine: &Engine) -> Result<(Session, String), StoreError> {
    let token = random_token();
    let now = now_millis();
    let record = Record {
        csrf: random_token(),
        created_at: now,
    };
    let settings = &engine.config.console;
    let key = store_key(settings, &token);
    let text = serde_json::to_string(&record).unwrap_or_default();
    engine
        .store
        .session_put(&key, &text, ttl_ms(settings, now, now))
        .await?;
    Ok((
        Session {
            key,
            csrf: record.csrf,
            created_at: now,
        },
        token,
    ))
}

/// The session the request's cookie names, if it is live; a use renews its
/// idle time (never past its maximum age).
pub(super) async fn load(
    engine: &Engine,
    headers: &HeaderMap,
) -> Result<Option<Session>, StoreError> {
    let settings = &engine.config.console;
    let Some(token) = cookie(headers, session_cookie(settings)) else {
        return Ok(None);
    };
    // Our tokens are 64 hex digits; anything else is not worth a lookup.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let key = store_key(settings, &token);
    let Some(text) = engine.store.session_get(&key).await? else {
        return Ok(None);
    };
    let Ok(record) = serde_json::from_str::<Record>(&text) else {
        engine.store.session_drop(&key).await?;
        return Ok(None);
    };
    let now = now_millis();
    let ttl = ttl_ms(settings, record.created_at, now);
    if ttl <= 0 {
        engine.store.session_drop(&key).await?;
        return Ok(None);
    }
    if !engine.store.session_touch(&key, ttl).await? {
        return Ok(None); // ended between the read and now (a logout)
    }
    Ok(Some(Session {
        key,
        csrf: record.csrf,
        created_at: record.created_at,
    }))
}

/// Logout: the record goes, so the cookie is dead wherever it was copied.
pub(super) async fn end(engine: &Engine, session: &Session) -> Result<(), StoreError> {
    tracing::debug!(
        age_s = (now_millis() - session.created_at) / 1000,
        "console session ended"
    );
    engine.store.session_drop(&session.key).await
}

/// A cookie's value from the request's `Cookie` headers.
pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// `Set-Cookie` for `name`; `value` None deletes it.
pub(super) fn set_cookie(s: &ConsoleSettings, name: &str, value: Option<&str>) -> HeaderValue {
    let secure = if s.secure_cookie { "; Secure" } else { "" };
    let line = match value {
        Some(v) => format!("{name}={v}; Path=/; HttpOnly; SameSite=Strict{secure}"),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&line).unwrap_or_else(|_| HeaderValue::from_static(""))
}
