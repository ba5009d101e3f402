//! Telegram edge (grammers). The only module that imports grammers.
//! (Interim: the login and watcher land with the Telegram issue.)

pub mod lock;

use std::process::ExitCode;
use std::sync::Arc;

use tokio::sync::watch;

use crate::config::Config;
use crate::engine::Engine;

pub async fn login_command(_config: &Config) -> ExitCode {
    eprintln!("paycue: Telegram login is not available in this build");
    ExitCode::FAILURE
}

pub async fn logout_command(_config: &Config) -> ExitCode {
    eprintln!("paycue: Telegram logout is not available in this build");
    ExitCode::FAILURE
}

/// Watches Telegram until shutdown (None) or a fatal error (its exit code).
pub async fn run_source(
    _engine: Arc<Engine>,
    _config: Config,
    _shutdown: watch::Receiver<bool>,
) -> Option<ExitCode> {
    tracing::error!("the Telegram source is not available in this build; use --source stdin");
    Some(ExitCode::FAILURE)
}
