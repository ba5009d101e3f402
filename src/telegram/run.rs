//! The Telegram source of `paycue run`: checks (WATCH_ID, session, lock,
//! APP_ID), then the watcher over the live grammers connection (a new pool
//! whenever the old one stops or stops answering), then a clean stop
//! (connections closed, lock released). It never
//! prompts: without a usable session it says to run `paycue --telegram` and
//! exits 77, which the systemd unit does not restart on.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use grammers_client::session::Session;
use grammers_client::session::types::{PeerId, PeerInfo};
use grammers_session::storages::SqliteSession;
use tokio::sync::watch;

use super::alerts::AlertLink;
use super::commands::{locked_message, missing};
use super::connection::Connection;
use super::inbox::{GrammersInbox, LastScan, Limits};
use super::lock::{LockError, SessionLock};
use super::message::check_watch_ids;
use super::session;
use super::watcher::{self, End, Tuning};
use crate::cli::exit;
use crate::config::Config;
use crate::engine::Engine;

/// Watches Telegram until shutdown (None) or a fatal error (its exit code).
/// Alerts go out through `link`'s client, the current pool's.
pub async fn run_source(
    engine: Arc<Engine>,
    config: Config,
    shutdown: watch::Receiver<bool>,
    link: AlertLink,
) -> Option<ExitCode> {
    prepare_and_watch(engine, &config, shutdown, link)
        .await
        .map(ExitCode::from)
}

async fn prepare_and_watch(
    engine: Arc<Engine>,
    config: &Config,
    shutdown: watch::Receiver<bool>,
    link: AlertLink,
) -> Option<u8> {
    let dir = PathBuf::from(&config.session_dir);
    if config.watch_ids.is_empty() {
        tracing::error!(
            "WATCH_ID is empty: paycue would read nothing. Fix: list the bank bots' numeric ids, e.g. WATCH_ID=856254490"
        );
        return Some(exit::CONFIG);
    }
    if let Err(bad) = check_watch_ids(&config.watch_ids) {
        tracing::error!(
            "WATCH_ID: {bad} is not a Telegram user, group or channel id. Fix: use numeric ids such as 856254490 or -1001234567890"
        );
        return Some(exit::CONFIG);
    }
    if !session::exists(&dir) {
        tracing::error!(session_dir = %dir.display(), "no Telegram session: the seller must run `paycue --telegram` once to log in, then start paycue again");
        return Some(exit::LOGGED_OUT);
    }
    let lock = match SessionLock::acquire(&dir) {
        Ok(lock) => lock,
        Err(e @ LockError::Held { .. }) => {
            tracing::error!("{}", locked_message(&e, &dir));
            return Some(exit::LOCKED);
        }
        Err(e) => {
            tracing::error!("{e}");
            return Some(1);
        }
    };
    let Some(app_id) = config.app_id else {
        tracing::error!("configuration error: {}", missing("APP_ID"));
        return Some(exit::CONFIG);
    };
    let session = match session::open(&dir).await {
        Ok(s) => s,
        // A file problem (disk, "database is locked"), not a dead login:
        // never exit 77 for it and never delete the session. systemd retries.
        Err(e) => {
            tracing::error!(
                "{e}; exiting so systemd retries. If the file is damaged, move it away and run `paycue --telegram` to log in again"
            );
            return Some(1);
        }
    };
    if let Err(e) = adopt_account(&engine, &session).await {
        tracing::error!("{e}; exiting so systemd retries");
        return Some(1);
    }
    let tuning = Tuning::for_config(config);
    let last_scan = LastScan::default();
    tracing::info!(chats = ?config.watch_ids, "watching Telegram");
    let end = loop {
        let mut conn = Connection::open(Arc::clone(&session), app_id);
        link.set(Some((conn.client.clone(), Arc::clone(&session))));
        let end = match GrammersInbox::start(
            &mut conn,
            config.watch_ids.clone(),
            Limits::default(),
            Arc::clone(&last_scan),
        )
        .await
        {
            Ok(mut inbox) => {
                engine.set_connected(true);
                let end = watcher::watch(
                    Arc::clone(&engine),
                    &mut inbox,
                    &config.watch_ids,
                    &tuning,
                    shutdown.clone(),
                )
                .await;
                drop(inbox);
                end
            }
            Err(e) => End::Closed(e.to_string()),
        };
        engine.set_connected(false);
        link.set(None);
        conn.close().await;
        let End::Closed(why) = end else { break end };
        // The pool stopped or stopped answering: a new one reconnects from
        // scratch (the old one may be stuck inside a connect).
        engine.mark_behind();
        tracing::warn!(reason = %why, "rebuilding the Telegram connection");
        let mut stop = shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(tuning.backoff_initial) => {}
            _ = stop.wait_for(|s| *s) => break End::Shutdown,
        }
    };
    drop(lock);
    exit_status(&end)
}

/// Per-chat state (seen ids, last applied id) belongs to the logged-in
/// account: message ids of a private chat are the account's own, so after a
/// switch of account the new one's ids (starting low) must not be taken for
/// old ones.
async fn adopt_account(engine: &Engine, session: &SqliteSession) -> Result<(), String> {
    let me = session
        .peer(PeerId::self_user())
        .await
        .map_err(|e| format!("cannot read the session file: {e}"))?;
    let Some(PeerInfo::User { id, .. }) = me else {
        tracing::warn!("the session does not name its account; per-chat state is not scoped");
        return Ok(());
    };
    let scope = engine
        .store
        .chat_scope(id)
        .await
        .map_err(|e| format!("cannot read the account scope: {e}"))?;
    engine.set_scope(scope);
    Ok(())
}

/// The exit status for how the watch ended, after logging what to do.
pub fn exit_status(end: &End) -> Option<u8> {
    match end {
        End::Shutdown => None,
        End::LoggedOut(why) => {
            tracing::error!(reason = %why, "Telegram ended this session: the seller must run `paycue --telegram` to log in again (paycue exits with status 77 and systemd will not restart it until then)");
            Some(exit::LOGGED_OUT)
        }
        End::Closed(why) => {
            tracing::error!(reason = %why, "the Telegram connection stopped; exiting so systemd restarts paycue");
            Some(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_follow_how_the_watch_ended() {
        assert_eq!(exit_status(&End::Shutdown), None);
        assert_eq!(
            exit_status(&End::LoggedOut("AUTH_KEY_UNREGISTERED".into())),
            Some(77)
        );
        assert_eq!(exit_status(&End::Closed("runner gone".into())), Some(1));
    }
}
