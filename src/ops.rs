//! The seller's commands on the server (over SSH): `paycue tx list|show|
//! confirm`, `paycue credits`, `paycue assign CREDIT TX` and `paycue
//! export`. They talk to Redis directly with the service's settings (as
//! `paycue check` does), through the same engine functions as the API and
//! the console, so a confirm here is the same atomic step, webhook and
//! audit entry (actor `cli@<user>`, from the host). The running daemon's
//! webhook workers pick the event up (they poll the outbox).
//!
//! Exit statuses: 0 done, 1 refused (unknown id, already settled, a bad
//! filter), 69 Redis unavailable (EX_UNAVAILABLE).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::config::Config;
use crate::engine::Engine;
use crate::export::{Export, Format};
use crate::http::views::{credit_view, event_view, tx_view};
use crate::listing::FilterQuery;
use crate::manual::{Actor, ManualError};
use crate::model::{CreditOutcome, Transaction};
use crate::store::{RedisStore, StoreError};

/// EX_UNAVAILABLE: Redis cannot be reached or refuses work.
const UNAVAILABLE: u8 = 69;

#[derive(clap::Subcommand, Debug)]
pub enum TxCommand {
    /// List transactions, newest first.
    List(ListArgs),
    /// One transaction with its webhook events and delivery attempts (JSON).
    Show { id: String },
    /// Mark a pending or expired transaction paid by hand (no credit).
    Confirm { id: String },
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub filter: FilterQuery,
    /// How many (`--limit` is the LIMIT setting).
    #[arg(short = 'n', long, default_value_t = 50)]
    pub count: usize,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct CreditsArgs {
    /// unmatched or late (both when left out).
    #[arg(long)]
    pub outcome: Option<String>,
    /// How many (`--limit` is the LIMIT setting).
    #[arg(short = 'n', long, default_value_t = 50)]
    pub count: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct AssignArgs {
    /// The credit (its id from `paycue credits`).
    pub credit: String,
    /// The pending or expired transaction it pays.
    pub tx: String,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub filter: FilterQuery,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Where to write (CSV goes to standard output without it; XLSX needs it).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// What one command asks of the store.
pub enum Op {
    Tx(TxCommand),
    Credits(CreditsArgs),
    Assign(AssignArgs),
    Export(ExportArgs),
}

/// The user running the command, as `sudo` or the login shell says.
fn user() -> String {
    ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        // SAFETY: getuid(2) cannot fail.
        .unwrap_or_else(|| format!("uid{}", unsafe { libc::getuid() }))
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

fn refused(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("paycue: {e}");
    ExitCode::from(1)
}

fn store_failed(e: &StoreError) -> ExitCode {
    eprintln!("paycue: {e}");
    match e {
        StoreError::Unavailable(_) => ExitCode::from(UNAVAILABLE),
        StoreError::Corrupt(_) => ExitCode::FAILURE,
    }
}

fn manual_failed(e: ManualError) -> ExitCode {
    match e {
        ManualError::Store(e) => store_failed(&e),
        other => refused(other),
    }
}

pub async fn run(op: Op, config: Config) -> ExitCode {
    let store = Arc::new(RedisStore::open(
        &config.redis_url,
        crate::cli::store_settings(&config),
    ));
    let engine = Engine::new(config, store);
    let actor = Actor::cli(&user(), &host());
    match op {
        Op::Tx(TxCommand::List(args)) => list(&engine, args).await,
        Op::Tx(TxCommand::Show { id }) => match engine.transaction_detail(id.trim()).await {
            Ok(Some((tx, events))) => {
                let mut view = tx_view(&tx);
                view["events"] = events.iter().map(event_view).collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&view).unwrap_or_default()
                );
                ExitCode::SUCCESS
            }
            Ok(None) => refused("transaction not found"),
            Err(e) => store_failed(&e),
        },
        Op::Tx(TxCommand::Confirm { id }) => {
            match engine.confirm_by_hand(id.trim(), &actor).await {
                Ok(s) => {
                    println!("{} confirmed by hand ({})", s.transaction.id, actor.by);
                    ExitCode::SUCCESS
                }
                Err(e) => manual_failed(e),
            }
        }
        Op::Assign(a) => match engine
            .assign_credit(a.credit.trim(), a.tx.trim(), &actor)
            .await
        {
            Ok(s) => {
                println!(
                    "{} confirmed by hand with credit {} ({})",
                    s.transaction.id,
                    a.credit.trim(),
                    actor.by
                );
                ExitCode::SUCCESS
            }
            Err(e) => manual_failed(e),
        },
        Op::Credits(args) => credits(&engine, args).await,
        Op::Export(args) => export(&engine, args).await,
    }
}

fn line(tx: &Transaction, tz: &jiff::tz::TimeZone) -> String {
    let when = crate::export::columns::local_time(tx.created_at, tz)
        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let manual = tx
        .manual
        .as_ref()
        .map(|m| format!("\tby hand: {}", m.by))
        .unwrap_or_default();
    let meta = tx
        .metadata
        .as_ref()
        .map(|m| m.to_string())
        .unwrap_or_default();
    format!(
        "{when}\t{}\t{} {}\t{}\t{}\t{meta}{manual}",
        tx.status.as_str(),
        tx.amount,
        tx.currency,
        tx.card.as_deref().unwrap_or("-"),
        tx.id,
    )
}

async fn list(engine: &Engine, args: ListArgs) -> ExitCode {
    let tz = engine.config.tz.clone();
    let filter = match args.filter.parse(&tz) {
        Ok(f) => f,
        Err(e) => return refused(e),
    };
    let page = match engine
        .transactions(&filter, None, args.count.clamp(1, 10_000))
        .await
    {
        Ok(p) => p,
        Err(e) => return store_failed(&e),
    };
    let mut out = std::io::stdout().lock();
    for tx in &page.transactions {
        let text = if args.json {
            tx_view(tx).to_string()
        } else {
            line(tx, &tz)
        };
        if writeln!(out, "{text}").is_err() {
            break;
        }
    }
    ExitCode::SUCCESS
}

async fn credits(engine: &Engine, args: CreditsArgs) -> ExitCode {
    let outcomes: &[CreditOutcome] = match args.outcome.as_deref() {
        None => &[CreditOutcome::Unmatched, CreditOutcome::Late],
        Some("unmatched") => &[CreditOutcome::Unmatched],
        Some("late") => &[CreditOutcome::Late],
        Some(_) => return refused("--outcome must be unmatched or late"),
    };
    let limit = args.count.clamp(1, 10_000);
    let mut all = Vec::new();
    for o in outcomes {
        match engine.store.list_credits(*o, limit).await {
            Ok(c) => all.extend(c),
            Err(e) => return store_failed(&e),
        }
    }
    all.sort_by_key(|c| std::cmp::Reverse(c.received_at));
    all.truncate(limit);
    let tz = &engine.config.tz;
    let mut out = std::io::stdout().lock();
    for c in &all {
        let text = if args.json {
            credit_view(c).to_string()
        } else {
            let when = crate::export::columns::local_time(c.received_at, tz)
                .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default();
            format!(
                "{when}\t{}\t{} {}\t*{}\t{}\t{}\t{}",
                serde_json::to_value(c.outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                c.amount,
                c.currency.as_deref().unwrap_or("?"),
                c.card_last4.as_deref().unwrap_or("????"),
                c.bank,
                c.reason
                    .as_deref()
                    .or(c.transaction_id.as_deref())
                    .unwrap_or("-"),
                c.id,
            )
        };
        if writeln!(out, "{text}").is_err() {
            break;
        }
    }
    ExitCode::SUCCESS
}

async fn export(engine: &Engine, args: ExportArgs) -> ExitCode {
    let tz = engine.config.tz.clone();
    let filter = match args.filter.parse(&tz) {
        Ok(f) => f,
        Err(e) => return refused(e),
    };
    let export = Export {
        filter,
        format: args.format,
        tz,
    };
    if args.out.is_none() && args.format == Format::Xlsx {
        return refused("--out FILE is needed for xlsx (it is not text for a terminal)");
    }
    // Ctrl-C or SIGTERM midway drops the export, and with it its temporary
    // file (buyers' orders): a killed process would leave it behind. Listened
    // for before the file exists.
    let stop = crate::app::shutdown_signal();
    let work = async {
        match &args.out {
            Some(path) => crate::export::to_file(engine, &export, path).await,
            None => match crate::export::to_temp_file(engine, &export).await {
                Ok((file, rows)) => std::fs::File::open(file.path())
                    .and_then(|mut f| std::io::copy(&mut f, &mut std::io::stdout().lock()))
                    .map(|_| rows)
                    .map_err(crate::export::ExportError::from),
                Err(e) => Err(e),
            },
        }
    };
    let result = tokio::select! {
        r = work => r,
        _ = stop => {
            eprintln!("paycue: export stopped before it was complete");
            return ExitCode::from(130);
        }
    };
    match result {
        Ok(rows) => {
            eprintln!("paycue: exported {rows} transactions");
            ExitCode::SUCCESS
        }
        Err(crate::export::ExportError::Store(e)) => store_failed(&e),
        Err(e) => refused(e),
    }
}
