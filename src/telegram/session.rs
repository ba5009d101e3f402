//! The session file on disk: `<SESSION_DIR>/paycue.session`, the SQLite store
//! grammers writes the auth key, data-centre addresses, peer cache and update
//! state into. Whoever reads it is logged in as the seller, so it is created
//! 0600 inside a 0700 directory, and it is only opened under the session lock.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use grammers_session::storages::SqliteSession;

use super::lock::{create_private_dir, session_file};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot prepare {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the session file {path}: {reason}")]
    Open { path: PathBuf, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SessionError + '_ {
    move |source| SessionError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// True when a session file exists (it may still be unauthorized).
pub fn exists(dir: &Path) -> bool {
    session_file(dir).is_file()
}

/// Opens (creating if needed) the session in `dir`, private to this user.
pub async fn open(dir: &Path) -> Result<Arc<SqliteSession>, SessionError> {
    create_private_dir(dir).map_err(io(dir))?;
    let path = session_file(dir);
    // Create it 0600 ourselves: SQLite would use the umask (often 0644), and
    // its journal files copy the database file's mode.
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&path).map_err(io(&path))?;
    restrict(&path, 0o600).map_err(io(&path))?;
    let session = SqliteSession::open(&path)
        .await
        .map_err(|e| SessionError::Open {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    Ok(Arc::new(session))
}

/// Makes `dir` 0700 if it is not (a session dir made by hand, or by an older
/// paycue). Returns true when it changed anything.
pub fn tighten_dir(dir: &Path) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            restrict(dir, 0o700)?;
            return Ok(true);
        }
    }
    Ok(false)
}

fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Deletes the session file and SQLite's side files. Missing files are fine.
pub fn remove(dir: &Path) -> std::io::Result<()> {
    let main = session_file(dir);
    let mut files = vec![main.clone()];
    for suffix in ["-journal", "-wal", "-shm"] {
        let mut name = main.clone().into_os_string();
        name.push(suffix);
        files.push(PathBuf::from(name));
    }
    for file in files {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use grammers_client::session::Session;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn open_creates_a_private_session_that_persists() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sessions");
        assert!(!exists(&dir));
        {
            let s = open(&dir).await.unwrap();
            s.set_home_dc_id(4).await.unwrap();
        }
        assert!(exists(&dir));
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&session_file(&dir)), 0o600);
        let again = open(&dir).await.unwrap();
        assert_eq!(again.home_dc_id().unwrap(), 4);
    }

    #[tokio::test]
    async fn a_world_readable_session_is_made_private_again() {
        let tmp = tempfile::tempdir().unwrap();
        open(tmp.path()).await.unwrap();
        let file = session_file(tmp.path());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        open(tmp.path()).await.unwrap();
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn tighten_dir_removes_group_and_other_bits() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(tighten_dir(tmp.path()).unwrap());
        assert_eq!(mode(tmp.path()), 0o700);
        assert!(!tighten_dir(tmp.path()).unwrap());
    }

    #[tokio::test]
    async fn remove_deletes_the_session_and_its_side_files() {
        let tmp = tempfile::tempdir().unwrap();
        open(tmp.path()).await.unwrap();
        let journal = tmp.path().join("paycue.session-journal");
        std::fs::write(&journal, b"x").unwrap();
        remove(tmp.path()).unwrap();
        assert!(!exists(tmp.path()));
        assert!(!journal.exists());
        remove(tmp.path()).unwrap();
    }
}
