//! paycue: confirms card-to-card payments from bank-bot Telegram notifications.
//!
//! The library's entry point is [`app::serve`]: it takes a bound listener, an
//! engine over a store, and a shutdown signal, so tests run the real wiring on
//! port 0. `main.rs` only parses the command line ([`cli`]).

pub mod alerts;
pub mod allocation;
pub mod app;
pub mod check;
pub mod cli;
pub mod config;
pub mod demo;
pub mod engine;
pub mod expiry;
pub mod export;
pub mod formats;
pub mod http;
pub mod listing;
pub mod manual;
pub mod metrics;
pub mod model;
pub mod money;
pub mod ops;
pub mod parsers;
pub mod retention;
pub mod source;
pub mod store;
pub mod telegram;
pub mod web;
pub mod webhook;

pub use app::serve;
pub use engine::{Engine, IncomingMessage};
