//! The command line. `paycue` alone (or `paycue run`) is the daemon;
//! `paycue --telegram` (alias `paycue login`) the one-time login, as in the Go
//! paycue. Exit codes are part of the interface (the systemd unit relies on
//! them), see [`exit`].

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, ConfigError, LogFormat, RawConfig};
use crate::engine::Engine;
use crate::store::{MemoryStore, RedisStore, Store, StoreSettings};

/// Exit statuses.
pub mod exit {
    /// A configuration value is wrong (EX_CONFIG). Restarting will not help.
    pub const CONFIG: u8 = 78;
    /// The Telegram session is missing or revoked (AUTH_KEY_UNREGISTERED,
    /// AUTH_KEY_DUPLICATED, logged out from another device): run
    /// `paycue --telegram`. The systemd unit does not restart on it
    /// (RestartPreventExitStatus=77), so a dead session never loops.
    pub const LOGGED_OUT: u8 = 77;
    /// Another process holds the session lock (`SESSION_DIR/paycue.lock`);
    /// the message names its pid. Stop that process first (EX_TEMPFAIL).
    pub const LOCKED: u8 = 75;
}

#[derive(Parser, Debug)]
#[command(
    name = "paycue",
    version,
    about = "Confirms card-to-card payments from bank-bot Telegram notifications"
)]
pub struct Cli {
    /// Log in to Telegram interactively (same as `paycue login`).
    #[arg(long)]
    pub telegram: bool,
    #[command(flatten)]
    pub config: RawConfig,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the daemon (the default).
    Run(RunArgs),
    /// Log in to Telegram and store the session under SESSION_DIR.
    Login,
    /// Sign out of Telegram and delete the stored session.
    Logout,
    /// Parse bank messages: JSON lines on stdin, one JSON result per line.
    Parse(ParseArgs),
    /// Run the whole loop in memory (no Redis, no Telegram) and show it.
    Demo(crate::demo::DemoArgs),
    /// Check settings, Redis, the Telegram session and WEBHOOK_URL; print a checklist.
    Check(crate::check::CheckArgs),
    /// Transactions: list, show, confirm by hand (talks to Redis directly).
    #[command(subcommand)]
    Tx(crate::ops::TxCommand),
    /// Credits that matched nothing or came late, newest first.
    Credits(crate::ops::CreditsArgs),
    /// Pay a pending or expired transaction with an unmatched or late credit.
    Assign(crate::ops::AssignArgs),
    /// Export transactions as CSV or XLSX for a date range and filter.
    Export(crate::ops::ExportArgs),
}

#[derive(clap::Args, Debug, Default)]
pub struct ParseArgs {
    /// Also show which form or FORMATS format read each text, the fields it
    /// found and why it decided the kind.
    #[arg(long)]
    pub explain: bool,
}

#[derive(clap::Args, Debug, Default)]
pub struct RunArgs {
    /// Where bank messages come from.
    #[arg(long, value_enum, default_value_t = Source::Telegram)]
    pub source: Source,
    /// Where transactions are kept. `memory` loses everything on exit.
    #[arg(long, value_enum, default_value_t = StoreKind::Redis)]
    pub store: StoreKind,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Source {
    #[default]
    Telegram,
    Stdin,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum StoreKind {
    #[default]
    Redis,
    Memory,
}

pub fn main() -> ExitCode {
    if let Err(e) = crate::config::load_dotenv() {
        eprintln!("paycue: {e}");
        return ExitCode::from(exit::CONFIG);
    }
    let cli = Cli::parse();
    let config = match Config::from_raw(&cli.config) {
        Ok(c) => c,
        Err(e) if matches!(cli.command, Some(Command::Check(_))) => {
            print!("{}", crate::check::config_failure(&e).render());
            return ExitCode::from(exit::CONFIG);
        }
        Err(e) => return config_error(&e),
    };
    let command = match (cli.telegram, cli.command) {
        (true, _) => Command::Login,
        (false, None) => Command::Run(RunArgs::default()),
        (false, Some(c)) => c,
    };
    // The demo prints its own story; only warnings from the machinery.
    init_logging(
        &config,
        matches!(
            command,
            Command::Demo(_)
                | Command::Parse(_)
                | Command::Check(_)
                | Command::Tx(_)
                | Command::Credits(_)
                | Command::Assign(_)
                | Command::Export(_)
        ),
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("paycue: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(dispatch(command, config));
    // Dropping the runtime would wait for every blocking task, and a pending
    // stdin read (`--source stdin`) never ends: on SIGTERM paycue would hang
    // until systemd kills it. Everything that matters has finished here.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

fn config_error(e: &ConfigError) -> ExitCode {
    eprintln!("paycue: configuration error: {e}");
    ExitCode::from(exit::CONFIG)
}

async fn dispatch(command: Command, config: Config) -> ExitCode {
    match command {
        Command::Run(args) => run(args, config).await,
        Command::Login => crate::telegram::login_command(&config).await,
        Command::Logout => crate::telegram::logout_command(&config).await,
        Command::Parse(args) => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            match crate::parsers::command::run(stdin, stdout, &config.formats, args.explain) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("paycue parse: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Check(args) => {
            let report = crate::check::run(&config, &args).await;
            print!("{}", report.render());
            if report.failed() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Tx(c) => crate::ops::run(crate::ops::Op::Tx(c), config).await,
        Command::Credits(a) => crate::ops::run(crate::ops::Op::Credits(a), config).await,
        Command::Assign(a) => crate::ops::run(crate::ops::Op::Assign(a), config).await,
        Command::Export(a) => crate::ops::run(crate::ops::Op::Export(a), config).await,
        Command::Demo(args) => match crate::demo::run(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("paycue demo failed: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// The store settings the daemon runs with (the commands use the same).
pub fn store_settings(config: &Config) -> StoreSettings {
    StoreSettings {
        grace_ms: config.amount_hold.as_millis() as i64,
        ..StoreSettings::default()
    }
}

async fn run(args: RunArgs, config: Config) -> ExitCode {
    let store: Arc<dyn Store> = match args.store {
        StoreKind::Memory => {
            tracing::warn!("--store memory: transactions are lost when paycue stops");
            Arc::new(MemoryStore::new(store_settings(&config)))
        }
        StoreKind::Redis => Arc::new(RedisStore::open(&config.redis_url, store_settings(&config))),
    };
    // Signal handlers first: a SIGTERM from here on means a clean shutdown.
    let signal = crate::app::shutdown_signal();
    let addr = std::net::SocketAddr::new(config.host, config.port);
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "paycue: cannot listen on {addr}: {e}. Fix: set PORT to a free port, or stop what uses it."
            );
            return ExitCode::FAILURE;
        }
    };
    let store_name = match args.store {
        StoreKind::Redis => crate::config::redact_url(&config.redis_url),
        StoreKind::Memory => "memory".to_string(),
    };
    tracing::info!(%addr, store = %store_name, source = ?args.source, "paycue started");
    let engine = Engine::new(config.clone(), store);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let alert_state: Arc<dyn crate::alerts::state::AlertState> = match args.store {
        StoreKind::Memory => Arc::new(crate::alerts::state::MemoryAlerts::new()),
        StoreKind::Redis => Arc::new(crate::alerts::state::RedisAlerts::open(&config.redis_url)),
    };
    // Telegram alerts go through the watcher's own session (same lock);
    // with --source stdin there is no Telegram: the log and /metrics.
    let link = crate::telegram::AlertLink::default();
    let sink: Arc<dyn crate::alerts::send::Sink> = match args.source {
        Source::Telegram => Arc::new(link.sink(config.alerts.chat)),
        Source::Stdin => Arc::new(crate::alerts::send::LogSink),
    };
    let alerts = crate::alerts::spawn(engine.clone(), alert_state, sink, stop_rx.clone());
    let source = match args.source {
        Source::Stdin => {
            let engine = engine.clone();
            tokio::spawn(async move {
                let stdin = tokio::io::BufReader::new(tokio::io::stdin());
                match crate::source::run_lines(engine, stdin).await {
                    Ok(()) => None,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read stdin");
                        Some(ExitCode::FAILURE)
                    }
                }
            })
        }
        Source::Telegram => tokio::spawn(crate::telegram::run_source(
            engine.clone(),
            config.clone(),
            stop_rx.clone(),
            link,
        )),
    };
    let server = tokio::spawn(crate::serve(listener, engine, async move {
        let _ = stop_rx.clone().wait_for(|s| *s).await;
    }));
    // The daemon stops on a signal, or when the Telegram source ends for good
    // (logged out, lock lost): then its exit code is ours.
    let mut source = source;
    let code = tokio::select! {
        _ = signal => None,
        r = &mut source => r.unwrap_or(Some(ExitCode::FAILURE)),
    };
    let _ = stop_tx.send(true);
    if code.is_none() && args.source == Source::Telegram && !source.is_finished() {
        // Give Telegram a few seconds to sync its update state and release
        // the session lock. (A stdin reader has nothing to save: each line is
        // applied atomically or not at all.)
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), &mut source).await;
    }
    source.abort();
    // serve() bounds itself; this is the backstop should it not.
    let backstop = crate::app::shutdown_grace(&config) + std::time::Duration::from_secs(5);
    match tokio::time::timeout(backstop, server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::error!(error = %e, "HTTP server error"),
        _ => tracing::warn!("shutdown took too long; exiting"),
    }
    if let Some(alerts) = alerts {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), alerts).await;
    }
    code.unwrap_or(ExitCode::SUCCESS)
}

fn init_logging(config: &Config, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, config.debug) {
        (true, _) => "warn",
        (false, true) => "paycue=debug,info",
        (false, false) => "info,grammers=warn",
    };
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    // Colours only on a terminal: under systemd, journald would store the
    // escape codes.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
