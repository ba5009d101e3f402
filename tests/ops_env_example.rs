//! `.env.example` lists every setting paycue reads, each with one line of
//! meaning above it, and its values are the real defaults: the file as shipped
//! configures exactly what no file at all does.

use std::collections::BTreeSet;

use clap::{CommandFactory, Parser};
use paycue::cli::Cli;
use paycue::config::{Config, RawConfig};

const EXAMPLE: &str = include_str!("../.env.example");

/// (key, value) of every setting line, in file order.
fn entries() -> Vec<(String, String)> {
    dotenvy::from_read_iter(EXAMPLE.as_bytes())
        .map(|item| item.expect(".env.example parses as a .env file"))
        .collect()
}

/// Every environment variable the command line reads.
fn env_keys() -> BTreeSet<String> {
    Cli::command()
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|k| k.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn lists_every_key_once() {
    let listed: Vec<String> = entries().into_iter().map(|(k, _)| k).collect();
    let unique: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(
        listed.len(),
        unique.len(),
        "a key is listed twice: {listed:?}"
    );
    assert_eq!(
        unique,
        env_keys(),
        "left: .env.example, right: what paycue reads"
    );
}

#[test]
fn every_key_has_a_line_of_meaning_above_it() {
    let lines: Vec<&str> = EXAMPLE.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let above = if i > 0 { lines[i - 1] } else { "" };
        // Keys may share one comment when they belong together (HOST, PORT).
        let shared = above.contains('=') && !above.starts_with('#');
        assert!(
            (above.starts_with("# ") && above.len() > 10) || shared,
            "no explanation above `{line}`"
        );
    }
}

/// The file's values are the defaults `Config` applies when a key is unset.
#[test]
fn values_are_the_defaults() {
    let mut argv = vec!["paycue".to_string()];
    for (key, value) in entries() {
        argv.push(format!(
            "--{}={value}",
            key.to_ascii_lowercase().replace('_', "-")
        ));
    }
    let cli = Cli::try_parse_from(&argv).expect("every key is a flag");
    let from_file = Config::from_raw(&cli.config).expect(".env.example is a valid config");
    let defaults = Config::from_raw(&RawConfig::default()).unwrap();
    let view = |c: &Config| {
        format!(
            "{:?}",
            (
                (
                    &c.app_id,
                    &c.app_hash,
                    &c.tg_phone,
                    &c.session_dir,
                    &c.watch_ids
                ),
                (&c.redis_url, &c.host, c.port, &c.api_key),
                (
                    &c.cards,
                    &c.currency,
                    c.limit,
                    c.round_step,
                    c.tx_ttl,
                    c.amount_hold
                ),
                (&c.webhook_url, &c.webhook_secret, c.webhook_retries),
                (&c.webhook_backoff, c.webhook_timeout, c.workers),
                (c.debug, &c.log_format),
            )
        )
    };
    assert_eq!(view(&from_file), view(&defaults));
}
