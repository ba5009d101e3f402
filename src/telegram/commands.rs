//! `paycue --telegram` (alias `paycue login`) and `paycue logout`. Each checks
//! what it needs in a fixed order (configuration, then the session lock, then
//! the network), so a mistake is reported at once with its own exit status:
//! 78 configuration, 75 session in use (see `cli::exit`). The `run` source
//! is in `run.rs`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::auth::GrammersAuth;
use super::connection::{Connection, SCAN_TIMEOUT, scan_dialogs};
use super::errors::TgError;
use super::lock::{LockError, SessionLock, session_file};
use super::login::{self, LoginError};
use super::session::{self, SessionError};
use super::terminal::Terminal;
use crate::cli::exit;
use crate::config::{Config, ConfigError};

const GET_THEM: &str = "create an app at https://my.telegram.org > API development tools, then put its api_id in APP_ID and api_hash in APP_HASH (in .env or the environment)";

pub(super) fn missing(key: &'static str) -> ConfigError {
    ConfigError {
        key,
        problem: "is not set".into(),
        fix: GET_THEM.into(),
    }
}

pub(super) fn locked_message(e: &LockError, dir: &Path) -> String {
    format!("{e} (lock file {})", super::lock::lock_file(dir).display())
}

/// `paycue --telegram`: logs in interactively and primes the peer cache.
pub async fn login_command(config: &Config) -> ExitCode {
    let (Some(app_id), Some(app_hash)) = (config.app_id, config.app_hash.as_deref()) else {
        let key = if config.app_id.is_none() {
            "APP_ID"
        } else {
            "APP_HASH"
        };
        eprintln!("paycue: configuration error: {}", missing(key));
        return ExitCode::from(exit::CONFIG);
    };
    let dir = PathBuf::from(&config.session_dir);
    let lock = match SessionLock::acquire(&dir) {
        Ok(lock) => lock,
        Err(e @ LockError::Held { .. }) => {
            eprintln!("paycue: {}", locked_message(&e, &dir));
            return ExitCode::from(exit::LOCKED);
        }
        Err(e) => {
            eprintln!("paycue: {e}");
            return ExitCode::FAILURE;
        }
    };
    match session::tighten_dir(&dir) {
        Ok(true) => eprintln!("paycue: made {} private (mode 0700)", dir.display()),
        Ok(false) => {}
        Err(e) => eprintln!(
            "paycue: warning: cannot make {} private: {e}",
            dir.display()
        ),
    }
    let result = login(config, &dir, app_id, app_hash).await;
    drop(lock);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paycue: login failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn login(config: &Config, dir: &Path, app_id: i32, app_hash: &str) -> Result<(), LoginError> {
    if session::exists(dir) {
        match session::open(dir).await {
            Ok(existing) => {
                let conn = Connection::open(existing, app_id);
                let auth = GrammersAuth::new(&conn, app_hash);
                let already = match auth.is_authorized().await {
                    Ok(true) => auth.who_am_i().await.map(Some),
                    Ok(false) => Ok(None),
                    Err(e) => Err(e),
                };
                let result = match already {
                    Ok(Some(account)) => {
                        println!(
                            "Already logged in as {account}. (To switch accounts, run `paycue logout` first.)"
                        );
                        Some(prime(&conn, config).await)
                    }
                    Ok(None) => None,
                    Err(e) => Some(Err(e.into())),
                };
                conn.close().await;
                if let Some(result) = result {
                    return result;
                }
            }
            // A file problem (disk full, "database is locked" by another
            // program) is not a dead login: keep the file, say what failed.
            Err(e) => return Err(e.into()),
        }
        // Never logged in, or revoked: start from a fresh auth key.
        session::remove(dir).map_err(|source| SessionError::Io {
            path: session_file(dir),
            source,
        })?;
    }
    let conn = Connection::open(session::open(dir).await?, app_id);
    let mut auth = GrammersAuth::new(&conn, app_hash);
    let signed_in = login::sign_in(&mut auth, &mut Terminal, config.tg_phone.clone()).await;
    let result = match signed_in {
        Ok(account) => {
            println!(
                "Logged in as {account}. The session is in {}.",
                session_file(dir).display()
            );
            prime(&conn, config).await
        }
        Err(e) => Err(e),
    };
    conn.close().await;
    result
}

/// Reads every dialog once so the session knows the chats' access hashes,
/// and says which WATCH_ID chats are there.
async fn prime(conn: &Connection, config: &Config) -> Result<(), LoginError> {
    let (count, found) = scan_dialogs(&conn.client, &config.watch_ids, SCAN_TIMEOUT).await?;
    eprintln!("Read {count} chats into the session's cache.");
    for id in &config.watch_ids {
        match found.contains_key(id) {
            true => eprintln!("WATCH_ID {id}: found."),
            false => eprintln!(
                "WATCH_ID {id}: not among this account's chats yet. Open it in Telegram (for a bank bot: press Start) so paycue can read it."
            ),
        }
    }
    Ok(())
}

/// `paycue logout`: signs out at Telegram, then deletes the session.
pub async fn logout_command(config: &Config) -> ExitCode {
    let dir = PathBuf::from(&config.session_dir);
    if !session::exists(&dir) {
        println!(
            "No Telegram session in {}; nothing to log out.",
            dir.display()
        );
        return ExitCode::SUCCESS;
    }
    let Some(app_id) = config.app_id else {
        eprintln!("paycue: configuration error: {}", missing("APP_ID"));
        return ExitCode::from(exit::CONFIG);
    };
    let lock = match SessionLock::acquire(&dir) {
        Ok(lock) => lock,
        Err(e @ LockError::Held { .. }) => {
            eprintln!(
                "paycue: {}; stop it before logging out",
                locked_message(&e, &dir)
            );
            return ExitCode::from(exit::LOCKED);
        }
        Err(e) => {
            eprintln!("paycue: {e}");
            return ExitCode::FAILURE;
        }
    };
    let conn = match session::open(&dir).await {
        Ok(s) => Connection::open(s, app_id),
        Err(e) => {
            eprintln!("paycue: {e}");
            return ExitCode::FAILURE;
        }
    };
    let signed_out = GrammersAuth::new(&conn, "").sign_out().await;
    conn.close().await;
    let code = match signed_out {
        Ok(()) | Err(TgError::LoggedOut(_)) => match session::remove(&dir) {
            Ok(()) => {
                println!(
                    "Logged out of Telegram and deleted the session in {}.",
                    dir.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!(
                    "paycue: logged out, but cannot delete {}: {e}",
                    session_file(&dir).display()
                );
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!(
                "paycue: cannot log out: {e}. The session in {} is kept and still works; try again, or delete it and end the session in Telegram (Settings > Devices).",
                dir.display()
            );
            ExitCode::FAILURE
        }
    };
    drop(lock);
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_credentials_say_where_to_get_them() {
        let text = missing("APP_ID").to_string();
        assert!(text.starts_with("APP_ID: is not set"), "{text}");
        assert!(text.contains("https://my.telegram.org"), "{text}");
    }
}
