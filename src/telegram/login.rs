//! The interactive login conversation: phone, code, 2FA password. Telegram
//! ([`Auth`]) and the terminal ([`Prompt`]) are traits, so every turn of the
//! conversation is tested with fakes.
//!
//! What must stay true:
//! - a wrong code asks again; an expired code requests a new one (retyping
//!   it can never work); a wrong 2FA password asks again;
//! - a flood wait ends the login with how long to wait (retrying early only
//!   makes Telegram's wait longer); sign-up-required explains itself;
//! - nothing typed (code, password) is logged or echoed back.

use std::future::Future;
use std::time::Duration;

use super::errors::TgError;

/// The account a session is logged in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub username: Option<String>,
}

impl std::fmt::Display for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.username {
            Some(u) => write!(f, "{} (@{u}, id {})", self.name, self.id),
            None => write!(f, "{} (id {})", self.name, self.id),
        }
    }
}

/// What asking for a login code led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeSent {
    /// Sent; `via` says where ("to your Telegram app", "by SMS").
    Sent { via: String },
    /// Telegram logged the session in without a code.
    SignedIn(Account),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeFailure {
    Invalid,
    Expired,
    PasswordNeeded { hint: Option<String> },
    SignUpRequired,
    Failed(TgError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordFailure {
    Invalid,
    Failed(TgError),
}

/// Telegram's side of a login.
pub trait Auth: Send {
    fn send_code(&mut self, phone: &str) -> impl Future<Output = Result<CodeSent, TgError>> + Send;
    /// Signs in with the code of the last `send_code`.
    fn sign_in(&mut self, code: &str) -> impl Future<Output = Result<Account, CodeFailure>> + Send;
    /// Finishes a login that asked for the 2FA password.
    fn check_password(
        &mut self,
        password: &str,
    ) -> impl Future<Output = Result<Account, PasswordFailure>> + Send;
}

/// The seller's side: questions and answers on the terminal.
pub trait Prompt: Send {
    fn phone(&mut self) -> impl Future<Output = std::io::Result<String>> + Send;
    fn code(&mut self) -> impl Future<Output = std::io::Result<String>> + Send;
    /// Read without echo.
    fn password(
        &mut self,
        hint: Option<&str>,
    ) -> impl Future<Output = std::io::Result<String>> + Send;
    fn say(&mut self, line: &str);
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(
        "Telegram asks to wait {} before the next login attempt (too many attempts). Wait that long, then run `paycue --telegram` again; every early retry makes the wait longer",
        human(*.0)
    )]
    FloodWait(Duration),
    #[error(
        "this phone number has no Telegram account, and apps like paycue cannot create one. Sign up in an official Telegram app first, then run `paycue --telegram` again"
    )]
    SignUpRequired,
    #[error(
        "TG_PHONE is not a phone number Telegram accepts. Fix: write it in international format, e.g. TG_PHONE=+998901234567, or unset it to be asked"
    )]
    BadPhone,
    #[error("Telegram has banned this phone number; log in with an official app to see why")]
    Banned,
    #[error("cannot read your answer from the terminal: {0}")]
    Input(#[from] std::io::Error),
    #[error(transparent)]
    Session(#[from] super::session::SessionError),
    #[error("{0}")]
    Telegram(TgError),
}

impl From<TgError> for LoginError {
    fn from(e: TgError) -> LoginError {
        match e {
            TgError::FloodWait(wait) => LoginError::FloodWait(wait),
            other => LoginError::Telegram(other),
        }
    }
}

/// "45 s", "12 min", "3 h 20 min".
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s.div_ceil(60)),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// Runs the conversation until the session is logged in. `phone` comes from
/// TG_PHONE when set; otherwise it is asked for.
pub async fn sign_in<A: Auth, P: Prompt>(
    auth: &mut A,
    prompt: &mut P,
    phone: Option<String>,
) -> Result<Account, LoginError> {
    let from_env = phone.is_some();
    let mut phone = match phone {
        Some(p) => normalize_phone(&p),
        None => normalize_phone(&answer(prompt, Asked::Phone).await?),
    };
    'new_code: loop {
        let via = match auth.send_code(&phone).await {
            Ok(CodeSent::SignedIn(account)) => return Ok(account),
            Ok(CodeSent::Sent { via }) => via,
            Err(e) if e.rejected_name() == Some("PHONE_NUMBER_INVALID") => {
                if from_env {
                    return Err(LoginError::BadPhone);
                }
                prompt.say("Telegram says this is not a valid phone number. Write it in international format, e.g. +998901234567.");
                phone = normalize_phone(&answer(prompt, Asked::Phone).await?);
                continue 'new_code;
            }
            Err(e) if e.rejected_name() == Some("PHONE_NUMBER_BANNED") => {
                return Err(LoginError::Banned);
            }
            Err(e) => return Err(e.into()),
        };
        prompt.say(&format!("Telegram sent a login code {via}."));
        loop {
            let code = answer(prompt, Asked::Code).await?;
            match auth.sign_in(&code).await {
                Ok(account) => return Ok(account),
                Err(CodeFailure::Invalid) => {
                    prompt.say("That code is not right. Type it again.");
                }
                Err(CodeFailure::Expired) => {
                    prompt.say("That code has expired. Asking Telegram for a new one.");
                    continue 'new_code;
                }
                Err(CodeFailure::PasswordNeeded { hint }) => {
                    return two_factor(auth, prompt, hint.as_deref()).await;
                }
                Err(CodeFailure::SignUpRequired) => return Err(LoginError::SignUpRequired),
                Err(CodeFailure::Failed(e)) => return Err(e.into()),
            }
        }
    }
}

async fn two_factor<A: Auth, P: Prompt>(
    auth: &mut A,
    prompt: &mut P,
    hint: Option<&str>,
) -> Result<Account, LoginError> {
    prompt.say("This account has two-step verification: paycue needs its password (it is not shown as you type).");
    loop {
        let password = prompt.password(hint).await?;
        if password.is_empty() {
            continue;
        }
        match auth.check_password(&password).await {
            Ok(account) => return Ok(account),
            Err(PasswordFailure::Invalid) => prompt.say("That password is not right. Try again."),
            Err(PasswordFailure::Failed(e)) => return Err(e.into()),
        }
    }
}

/// `+998 (90) 123-45-67` -> `+998901234567`: Telegram wants the digits.
pub fn normalize_phone(text: &str) -> String {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    match text.trim_start().starts_with('+') {
        true => format!("+{digits}"),
        false => digits,
    }
}

enum Asked {
    Phone,
    Code,
}

/// A non-empty, trimmed answer (an empty line asks again).
async fn answer<P: Prompt>(prompt: &mut P, asked: Asked) -> std::io::Result<String> {
    loop {
        let raw = match asked {
            Asked::Phone => prompt.phone().await?,
            Asked::Code => prompt.code().await?,
        };
        let text = raw.trim();
        if !text.is_empty() {
            return Ok(text.to_string());
        }
    }
}
