//! The grammers connection pool over one session, and the dialog scan. This,
//! `inbox.rs` and `auth.rs` are the only files that talk to Telegram.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use grammers_client::Client;
use grammers_client::sender::{ConnectionParams, SenderPool, SenderPoolHandle};
use grammers_client::session::types::PeerRef;
use grammers_client::session::updates::UpdatesLike;
use grammers_session::storages::SqliteSession;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::errors::{TgError, classify};

/// Updates waiting between the pool and the relay (grammers drops beyond it).
const UPDATES_CAPACITY: usize = 1000;

/// A connection pool over one session. Connections open on demand.
pub struct Connection {
    pub client: Client,
    pub session: Arc<SqliteSession>,
    pub handle: SenderPoolHandle,
    pub app_id: i32,
    /// False once the pool's runner has stopped (then every request is
    /// `Dropped` for good; before that, `Dropped` means one connection closed).
    pub alive: Arc<std::sync::atomic::AtomicBool>,
    runner: JoinHandle<()>,
    pub(super) updates: Option<mpsc::Receiver<UpdatesLike>>,
}

impl Connection {
    pub fn open(session: Arc<SqliteSession>, app_id: i32) -> Connection {
        let params = ConnectionParams {
            device_model: "paycue".into(),
            app_version: env!("CARGO_PKG_VERSION").into(),
            updates_channel_capacity: std::num::NonZeroUsize::new(UPDATES_CAPACITY)
                .unwrap_or(std::num::NonZeroUsize::MIN),
            ..Default::default()
        };
        let SenderPool {
            runner,
            handle,
            updates,
        } = SenderPool::with_configuration(Arc::clone(&session), app_id, params);
        let thin = handle.thin.clone();
        let alive = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = Arc::clone(&alive);
        Connection {
            client: Client::new(handle),
            session,
            handle: thin,
            app_id,
            alive,
            runner: tokio::spawn(async move {
                runner.run().await;
                flag.store(false, std::sync::atomic::Ordering::SeqCst);
            }),
            updates: Some(updates),
        }
    }

    /// Closes every connection and waits (briefly) for the pool to stop. A
    /// runner stuck in a connect never reads the quit request: it is aborted.
    pub async fn close(self) {
        self.handle.quit();
        let runner = self.runner;
        let abort = runner.abort_handle();
        if tokio::time::timeout(Duration::from_secs(2), runner)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

/// Every dialog of the account, which also fills the session's peer cache
/// (access hashes that history requests and gap recovery need). Returns the
/// dialog count and the references of the `wanted` chats it found. It runs
/// in its own task with a time limit: grammers panics on some server data
/// (a dialog with an empty user), and that must be a failed scan, not a
/// crashed paycue.
pub async fn scan_dialogs(
    client: &Client,
    wanted: &[i64],
    limit: Duration,
) -> Result<(usize, HashMap<i64, PeerRef>), TgError> {
    guarded(
        "the chat list",
        scan_task(client.clone(), wanted.to_vec()),
        limit,
    )
    .await
}

/// Runs `work` in a task of its own with a time limit: a panic in it (grammers
/// on data it did not expect) or a wait past `limit` is a transient failure of
/// this one call, never a crashed or stalled paycue. What must stay true: the
/// task is aborted on timeout (a hung scan holds no connection slot forever).
pub(super) async fn guarded<T: Send + 'static>(
    what: &str,
    work: impl std::future::Future<Output = Result<T, TgError>> + Send + 'static,
    limit: Duration,
) -> Result<T, TgError> {
    let task = tokio::spawn(work);
    let abort = task.abort_handle();
    match tokio::time::timeout(limit, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(TgError::Transient(format!(
            "{what} could not be read ({})",
            if e.is_panic() {
                "grammers panicked on it"
            } else {
                "cancelled"
            }
        ))),
        Err(_) => {
            abort.abort();
            Err(TgError::Transient(format!(
                "{what} was not read within {} s",
                limit.as_secs()
            )))
        }
    }
}

/// The whole dialog list of a big account takes a few pages.
pub const SCAN_TIMEOUT: Duration = Duration::from_secs(120);

async fn scan_task(
    client: Client,
    wanted: Vec<i64>,
) -> Result<(usize, HashMap<i64, PeerRef>), TgError> {
    let mut found = HashMap::new();
    let mut count = 0;
    let mut dialogs = client.iter_dialogs();
    while let Some(dialog) = dialogs.next().await.map_err(classify)? {
        count += 1;
        if let Some(id) = dialog.peer_id().bot_api_dialog_id()
            && wanted.contains(&id)
        {
            found.insert(id, dialog.peer_ref());
        }
    }
    Ok((count, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 9 item 6: grammers panics on a dialog with an empty user
    /// (`peer/dialog.rs`); inside the scan that must be a failed scan.
    #[tokio::test]
    async fn a_panic_inside_the_scan_is_a_failed_scan() {
        let scan = async {
            if std::hint::black_box(true) {
                panic!("called `Option::unwrap()` on a `None` value");
            }
            Ok::<usize, TgError>(0)
        };
        match guarded("the chat list", scan, Duration::from_secs(5)).await {
            Err(TgError::Transient(why)) => assert!(why.contains("panicked"), "{why}"),
            other => panic!("expected a transient failure, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_scan_that_never_ends_fails_at_its_limit_and_is_aborted() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let scan = async move {
            let _held = tx; // dropped only when the task ends (or is aborted)
            std::future::pending::<Result<usize, TgError>>().await
        };
        match guarded("the chat list", scan, Duration::from_secs(120)).await {
            Err(TgError::Transient(why)) => assert!(why.contains("within 120 s"), "{why}"),
            other => panic!("expected a transient failure, got {other:?}"),
        }
        // The aborted task drops what it held.
        assert!(rx.await.is_err(), "the hung scan task was left running");
    }

    #[tokio::test]
    async fn a_scan_error_passes_through_unchanged() {
        let scan = async { Err::<usize, TgError>(TgError::LoggedOut("revoked".into())) };
        match guarded("the chat list", scan, Duration::from_secs(5)).await {
            Err(TgError::LoggedOut(_)) => {}
            other => panic!("expected the scan's own error, got {other:?}"),
        }
    }
}
