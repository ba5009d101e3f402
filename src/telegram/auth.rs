//! Telegram's side of login and logout, on a [`Connection`].
//!
//! The code request and sign-in are sent as raw API calls rather than through
//! `Client::request_login_code`/`sign_in`: grammers folds PHONE_CODE_EXPIRED
//! into "invalid code" (so an expired code could never be replaced), and its
//! code request panics on answers Telegram really sends (`SentCodeSuccess`,
//! `SentCodePaymentRequired`). The 2FA check does go through grammers (the
//! SRP maths); it runs in its own task so one of its internal panics on odd
//! server parameters becomes an error instead of a crash.
//!
//! Nothing here logs a code, a password or the session.

use grammers_client::InvocationError;
use grammers_client::SignInError;
use grammers_client::client::PasswordToken;
use grammers_client::peer::User;
use grammers_client::session::Session;
use grammers_client::session::types::{PeerAuth, PeerInfo, UpdateState, UpdatesState};
use grammers_client::tl;

use super::connection::Connection;
use super::errors::{TgError, classify};
use super::login::{Account, Auth, CodeFailure, CodeSent, PasswordFailure};

pub struct GrammersAuth<'a> {
    conn: &'a Connection,
    api_hash: String,
    phone: String,
    code_hash: Option<String>,
    password: Option<PasswordToken>,
}

impl<'a> GrammersAuth<'a> {
    pub fn new(conn: &'a Connection, api_hash: &str) -> GrammersAuth<'a> {
        GrammersAuth {
            conn,
            api_hash: api_hash.to_string(),
            phone: String::new(),
            code_hash: None,
            password: None,
        }
    }

    /// Ok(false) for a session Telegram does not (or no longer) accept.
    pub async fn is_authorized(&self) -> Result<bool, TgError> {
        match limited(self.conn.client.is_authorized())
            .await
            .map_err(classify)
        {
            Ok(yes) => Ok(yes),
            Err(TgError::LoggedOut(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn who_am_i(&self) -> Result<Account, TgError> {
        let users = limited(self.conn.client.invoke(&tl::functions::users::GetUsers {
            id: vec![tl::enums::InputUser::UserSelf],
        }))
        .await
        .map_err(classify)?;
        users
            .first()
            .map(account_of)
            .ok_or_else(|| TgError::Rejected("Telegram returned no account".into()))
    }

    pub async fn sign_out(&self) -> Result<(), TgError> {
        limited(self.conn.client.sign_out())
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Stores what grammers' own sign-in stores: the self user (with its
    /// access hash) and the update state to catch up from.
    async fn finish(&self, auth: tl::types::auth::Authorization) -> Result<Account, TgError> {
        let session = &self.conn.session;
        let store = |e: grammers_session::storages::SqliteSessionError| {
            TgError::Transient(format!("session file: {e}"))
        };
        if let tl::enums::User::User(u) = &auth.user {
            session
                .cache_peer(PeerInfo::User {
                    id: u.id,
                    auth: u.access_hash.filter(|_| !u.min).map(PeerAuth::from_hash),
                    bot: Some(u.bot),
                    is_self: Some(true),
                })
                .await
                .map_err(store)?;
        }
        let state = limited(
            self.conn
                .client
                .invoke(&tl::functions::updates::GetState {}),
        )
        .await;
        if let Ok(tl::enums::updates::State::State(s)) = state {
            session
                .set_update_state(UpdateState::All(UpdatesState {
                    pts: s.pts,
                    qts: s.qts,
                    date: s.date,
                    seq: s.seq,
                    channels: Vec::new(),
                }))
                .await
                .map_err(store)?;
        }
        Ok(account_of(&auth.user))
    }

    async fn request_code(
        &self,
        phone: &str,
    ) -> Result<tl::enums::auth::SentCode, InvocationError> {
        let request = tl::functions::auth::SendCode {
            phone_number: phone.to_string(),
            api_id: self.conn.app_id,
            api_hash: self.api_hash.clone(),
            settings: tl::types::CodeSettings {
                allow_flashcall: false,
                current_number: false,
                allow_app_hash: false,
                allow_missed_call: false,
                allow_firebase: false,
                logout_tokens: None,
                token: None,
                app_sandbox: None,
                unknown_number: false,
            }
            .into(),
        };
        match limited(self.conn.client.invoke(&request)).await {
            // PHONE_MIGRATE_X: this account lives in data centre X.
            Err(InvocationError::Rpc(e)) if e.code == 303 => {
                let Some(dc) = e.value.and_then(|v| i32::try_from(v).ok()) else {
                    return Err(InvocationError::Rpc(e));
                };
                if let Ok(old) = self.conn.session.home_dc_id() {
                    self.conn.handle.disconnect_from_dc(old);
                }
                self.conn
                    .session
                    .set_home_dc_id(dc)
                    .await
                    .map_err(|e| InvocationError::Session(Box::new(e)))?;
                limited(self.conn.client.invoke(&request)).await
            }
            other => other,
        }
    }
}

impl Auth for GrammersAuth<'_> {
    async fn send_code(&mut self, phone: &str) -> Result<CodeSent, TgError> {
        use tl::enums::auth::SentCode;
        match self.request_code(phone).await.map_err(classify)? {
            SentCode::Code(sent) => {
                self.phone = phone.to_string();
                self.code_hash = Some(sent.phone_code_hash);
                Ok(CodeSent::Sent {
                    via: describe(&sent.r#type),
                })
            }
            SentCode::Success(done) => match done.authorization {
                tl::enums::auth::Authorization::Authorization(auth) => {
                    Ok(CodeSent::SignedIn(self.finish(auth).await?))
                }
                tl::enums::auth::Authorization::SignUpRequired(_) => {
                    Err(TgError::Rejected("SIGN_UP_REQUIRED".into()))
                }
            },
            SentCode::PaymentRequired(_) => Err(TgError::Rejected(
                "Telegram wants a payment to send this code by SMS; log in to Telegram on a phone first so the code arrives in the app".into(),
            )),
        }
    }

    async fn sign_in(&mut self, code: &str) -> Result<Account, CodeFailure> {
        let Some(hash) = self.code_hash.clone() else {
            return Err(CodeFailure::Failed(TgError::Rejected(
                "no code was requested".into(),
            )));
        };
        let request = tl::functions::auth::SignIn {
            phone_number: self.phone.clone(),
            phone_code_hash: hash,
            phone_code: Some(code.to_string()),
            email_verification: None,
        };
        match limited(self.conn.client.invoke(&request)).await {
            Ok(tl::enums::auth::Authorization::Authorization(auth)) => {
                self.finish(auth).await.map_err(CodeFailure::Failed)
            }
            Ok(tl::enums::auth::Authorization::SignUpRequired(_)) => {
                Err(CodeFailure::SignUpRequired)
            }
            Err(e) if e.is("SESSION_PASSWORD_NEEDED") => {
                let (token, hint) = self.password_token().await.map_err(CodeFailure::Failed)?;
                self.password = Some(token);
                Err(CodeFailure::PasswordNeeded { hint })
            }
            Err(e) if e.is("PHONE_CODE_EXPIRED") => Err(CodeFailure::Expired),
            Err(e) if e.is("PHONE_CODE_*") => Err(CodeFailure::Invalid),
            Err(e) => Err(CodeFailure::Failed(classify(e))),
        }
    }

    async fn check_password(&mut self, password: &str) -> Result<Account, PasswordFailure> {
        let Some(token) = self.password.take() else {
            return Err(PasswordFailure::Failed(TgError::Rejected(
                "no password was asked for".into(),
            )));
        };
        let client = self.conn.client.clone();
        let password = password.to_string();
        let checked = tokio::spawn(async move {
            limited(async { Ok(client.check_password(token, password).await) }).await
        })
        .await;
        match checked {
            Ok(Err(e)) => Err(PasswordFailure::Failed(classify(e))),
            Ok(Ok(Ok(user))) => Ok(account_of_user(&user)),
            Ok(Ok(Err(SignInError::InvalidPassword(_used)))) => {
                // The SRP parameters of a try are not reused: the next try
                // computes its proof over a fresh account.getPassword.
                let (token, _) = self
                    .password_token()
                    .await
                    .map_err(PasswordFailure::Failed)?;
                self.password = Some(token);
                Err(PasswordFailure::Invalid)
            }
            Ok(Ok(Err(SignInError::Other(e)))) => Err(PasswordFailure::Failed(classify(e))),
            Ok(Ok(Err(other))) => Err(PasswordFailure::Failed(TgError::Rejected(
                other.to_string(),
            ))),
            Err(_) => Err(PasswordFailure::Failed(TgError::Transient(
                "Telegram sent 2FA parameters paycue could not use; try again".into(),
            ))),
        }
    }
}

impl GrammersAuth<'_> {
    /// The account's current 2FA parameters and password hint.
    async fn password_token(&self) -> Result<(PasswordToken, Option<String>), TgError> {
        let info = limited(
            self.conn
                .client
                .invoke(&tl::functions::account::GetPassword {}),
        )
        .await
        .map_err(classify)?;
        let info: tl::types::account::Password = info.into();
        let hint = info.hint.clone();
        Ok((PasswordToken::new(info), hint))
    }
}

/// The longest wait for one login call: a Telegram that accepts the
/// connection and never answers must not hang the terminal for good.
const CALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

async fn limited<T>(
    work: impl std::future::Future<Output = Result<T, InvocationError>>,
) -> Result<T, InvocationError> {
    tokio::time::timeout(CALL_LIMIT, work)
        .await
        .unwrap_or_else(|_| {
            Err(InvocationError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("Telegram did not answer within {} s", CALL_LIMIT.as_secs()),
            )))
        })
}

fn describe(kind: &tl::enums::auth::SentCodeType) -> String {
    use tl::enums::auth::SentCodeType as T;
    match kind {
        T::App(_) => "to your Telegram app (a chat named \"Telegram\")",
        T::Sms(_) | T::FragmentSms(_) | T::FirebaseSms(_) | T::SmsWord(_) | T::SmsPhrase(_) => {
            "by SMS"
        }
        T::Call(_) => "by a phone call",
        T::FlashCall(_) | T::MissedCall(_) => {
            "as a missed call (the code is the last digits of the number)"
        }
        T::EmailCode(_) => "to your login email",
        T::SetUpEmailRequired(_) => "only after a login email is set up in an official app",
    }
    .to_string()
}

fn account_of(user: &tl::enums::User) -> Account {
    match user {
        tl::enums::User::User(u) => {
            let name = [u.first_name.as_deref(), u.last_name.as_deref()]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            Account {
                id: u.id,
                name,
                username: u.username.clone(),
            }
        }
        tl::enums::User::Empty(u) => Account {
            id: u.id,
            name: String::new(),
            username: None,
        },
    }
}

fn account_of_user(user: &User) -> Account {
    account_of(&user.raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 9 item 3: a Telegram that accepts the connection and never
    /// answers ends each login call after `CALL_LIMIT` with an error that
    /// `classify` takes as transient (the terminal says so; nothing hangs).
    #[tokio::test(start_paused = true)]
    async fn a_login_call_that_never_answers_ends_after_the_call_limit() {
        let started = tokio::time::Instant::now();
        let result: Result<(), InvocationError> = limited(std::future::pending()).await;
        assert_eq!(started.elapsed(), CALL_LIMIT);
        match result.map_err(classify) {
            Err(TgError::Transient(why)) => assert!(why.contains("30 s"), "{why}"),
            other => panic!("expected a transient failure, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_login_call_that_answers_in_time_is_not_limited() {
        let answer = async {
            tokio::time::sleep(CALL_LIMIT / 2).await;
            Ok::<u8, InvocationError>(7)
        };
        assert!(matches!(limited(answer).await, Ok(7)));
    }
}
