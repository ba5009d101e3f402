//! One process per Telegram session. grammers does no locking of its own, and
//! two processes on one auth key race on the update state and can get the key
//! revoked (AUTH_KEY_DUPLICATED), so `paycue login` and `paycue run` both take
//! an exclusive lock on `<SESSION_DIR>/paycue.lock` before opening the session.
//!
//! What must stay true:
//! - The lock is an OS file lock (`File::try_lock`, `flock` on Unix), so it
//!   is released by the kernel when the holder dies, even after `kill -9`: a
//!   stale lock file never blocks a restart.
//! - The lock file is never deleted (deleting it would let a second process
//!   lock a fresh inode while the first still holds the old one); the holder
//!   only rewrites its content, its pid, which is informative, never trusted.
//! - Taking the lock never blocks: a second process learns at once who holds it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The SQLite session file grammers keeps in `dir`.
pub fn session_file(dir: &Path) -> PathBuf {
    dir.join("paycue.session")
}

/// The lock file beside the session.
pub fn lock_file(dir: &Path) -> PathBuf {
    dir.join("paycue.lock")
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock (`pid` when it wrote it in time).
    #[error("{}", held_message(*.pid))]
    Held { pid: Option<u32> },
    #[error("cannot lock the Telegram session: {0}")]
    Io(#[from] std::io::Error),
}

fn held_message(pid: Option<u32>) -> String {
    let who = match pid {
        Some(pid) => format!("paycue process {pid}"),
        None => "another paycue process".to_string(),
    };
    format!(
        "the Telegram session is in use by {who}; stop it first (only one process may use a session)"
    )
}

/// Holds the locked file; the lock is released when this is dropped (or the
/// process ends, however it ends).
#[derive(Debug)]
pub struct SessionLock {
    file: File,
    path: PathBuf,
}

impl SessionLock {
    /// Takes the lock on `dir`'s session, creating `dir` (mode 0700) and the
    /// lock file (mode 0600) if needed. Fails at once if another process holds it.
    pub fn acquire(dir: &Path) -> Result<SessionLock, LockError> {
        create_private_dir(dir)?;
        let path = lock_file(dir);
        // No truncate here: until we hold the lock the content is the holder's pid.
        let mut file = open_options()
            .read(true)
            .write(true)
            .create(true)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    pid: read_pid(&mut file),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(LockError::Io(e)),
        }
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        writeln!(file, "{}", std::process::id())?;
        file.sync_all()?;
        Ok(SessionLock { file, path })
    }

    /// The lock file's path (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        // Clear the pid so nobody reads a stale one; the kernel drops the lock
        // with the file descriptor anyway, so errors here change nothing.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Who holds the lock right now, without taking it: `Ok(None)` free,
/// `Ok(Some(pid))` held (`pid` None if the holder has not written it yet).
///
/// It probes with a shared lock for an instant; an `acquire` racing with that
/// instant is told the session is held and can simply be retried.
pub fn holder(dir: &Path) -> std::io::Result<Option<Option<u32>>> {
    let mut file = match File::open(lock_file(dir)) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    match file.try_lock_shared() {
        Ok(()) => {
            file.unlock()?;
            Ok(None)
        }
        Err(std::fs::TryLockError::WouldBlock) => Ok(Some(read_pid(&mut file))),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

fn open_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Creates `dir` (and parents) with mode 0700 if it does not exist. An
/// existing directory is left as the seller made it.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_in_one_process_is_refused_with_our_pid() {
        let dir = tempfile::tempdir().unwrap();
        let first = SessionLock::acquire(dir.path()).unwrap();
        match SessionLock::acquire(dir.path()) {
            Err(LockError::Held { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Held, got {other:?}"),
        }
        assert_eq!(holder(dir.path()).unwrap(), Some(Some(std::process::id())));
        drop(first);
        assert_eq!(holder(dir.path()).unwrap(), None);
        let again = SessionLock::acquire(dir.path()).unwrap();
        assert_eq!(again.path(), lock_file(dir.path()));
    }

    #[test]
    fn holder_of_a_missing_dir_is_none_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert_eq!(holder(&missing).unwrap(), None);
        assert!(!missing.exists());
    }

    #[test]
    fn held_message_names_the_pid() {
        let e = LockError::Held { pid: Some(4242) };
        assert!(e.to_string().contains("4242"), "{e}");
        let e = LockError::Held { pid: None };
        assert!(e.to_string().contains("another paycue process"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn acquire_creates_a_private_dir_and_lock_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let sessions = dir.path().join("a/sessions");
        let _lock = SessionLock::acquire(&sessions).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&sessions), 0o700);
        assert_eq!(mode(&lock_file(&sessions)), 0o600);
    }
}
