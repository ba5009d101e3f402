//! The seller's console keys: `CONSOLE_PASSWORD` (the console is off without
//! it), `CONSOLE_IDLE` and `CONSOLE_SESSION_MAX` (how long a session lives).
//! Whether the session cookie is `Secure` follows `PUBLIC_URL`'s scheme: an
//! `https://` address means paycue is reached through a TLS proxy.
//!
//! What must stay true: the password is its own secret, never the API key
//! (the key lives in the shop's code and configuration, where more people
//! and programs can read it than should confirm payments by hand), it is long
//! enough not to be guessed within the login rate limit, and `Debug` never
//! prints it.

use std::time::Duration;

use super::scalars::duration_key;
use super::{ConfigError, bad};

/// Shorter passwords are refused at start.
pub const MIN_PASSWORD: usize = 12;

/// Validated console settings.
#[derive(Clone, Default)]
pub struct ConsoleSettings {
    /// None: the console is off (every `/console` path answers 404).
    pub password: Option<String>,
    /// The session cookie carries `Secure` (and the `__Host-` name prefix).
    pub secure_cookie: bool,
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after login, however busy.
    pub lifetime: Duration,
}

impl std::fmt::Debug for ConsoleSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSettings")
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .field("secure_cookie", &self.secure_cookie)
            .field("idle", &self.idle)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

impl ConsoleSettings {
    pub(super) fn from_keys(
        password: Option<String>,
        idle: Option<String>,
        lifetime: Option<String>,
        api_key: Option<&str>,
        public_url: Option<&reqwest::Url>,
    ) -> Result<ConsoleSettings, ConfigError> {
        if let Some(p) = &password {
            if p.chars().count() < MIN_PASSWORD {
                return Err(bad(
                    "CONSOLE_PASSWORD",
                    format!("is shorter than {MIN_PASSWORD} characters"),
                    "use a long random value, e.g. `openssl rand -base64 18`",
                ));
            }
            if api_key == Some(p.as_str()) {
                return Err(bad(
                    "CONSOLE_PASSWORD",
                    "is the same as API_KEY",
                    "give the console a password of its own: the API key lives in the shop's code and settings",
                ));
            }
        }
        let idle = duration_key("CONSOLE_IDLE", idle, Duration::from_secs(30 * 60))?;
        let lifetime = duration_key(
            "CONSOLE_SESSION_MAX",
            lifetime,
            Duration::from_secs(12 * 3600),
        )?;
        Ok(ConsoleSettings {
            password,
            secure_cookie: public_url.is_some_and(|u| u.scheme() == "https"),
            idle,
            lifetime,
        })
    }

    pub fn enabled(&self) -> bool {
        self.password.is_some()
    }
}
