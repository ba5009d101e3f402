//! The Telegram edge: the only module that imports grammers. It logs in to the
//! seller's own account (a user, not a bot), keeps the session under
//! `SESSION_DIR` behind an exclusive lock, and turns the bank bots' messages
//! into plain [`IncomingMessage`](crate::engine::IncomingMessage)s that go
//! down the same path as `paycue run --source stdin`.
//!
//! Layout, from the outside in:
//! - `commands`: `paycue --telegram`, `paycue logout`; `run`: the `run` source;
//! - `watcher`: catch-up, live stream, backoff (Telegram behind [`watcher::Inbox`]);
//! - `login`: the login conversation (Telegram behind [`login::Auth`]);
//! - `connection`, `inbox`, `auth`: the grammers side (`inbox` is the live
//!   [`watcher::Inbox`]; `filter` keeps it to the `WATCH_ID` chats);
//! - `message`: which messages count and their conversion;
//! - `errors`: what each Telegram failure means; `session`, `lock`: files.

pub mod alerts;
mod auth;
mod commands;
mod connection;
pub mod errors;
mod filter;
pub mod inbox;
pub mod lock;
pub mod login;
pub mod message;
mod run;
mod session;
mod terminal;
pub mod watcher;

pub use alerts::AlertLink;
pub use commands::{login_command, logout_command};
pub use run::{exit_status, run_source};
