//! Messages parsed per second over the real samples in
//! `tests/fixtures/messages.jsonl` (all banks, all kinds), regexes compiled
//! once. A plain timing loop: `cargo bench --bench parse` prints msgs/s.
//! Under `cargo test --all-targets` (no `--bench` argument) it runs a short
//! smoke pass instead.

use std::hint::black_box;
use std::time::{Duration, Instant};

use paycue::parsers::parse;

fn samples() -> Vec<(Option<i64>, String)> {
    include_str!("../tests/fixtures/messages.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| Some((v["sender_id"].as_i64(), v["text"].as_str()?.to_string())))
        .collect()
}

fn main() {
    let samples = samples();
    assert!(!samples.is_empty(), "no samples in the fixture");
    // Warm-up: compiles the regexes and fills caches.
    for (sender, text) in &samples {
        black_box(parse(*sender, None, text));
    }
    let quick = !std::env::args().any(|a| a == "--bench");
    let budget = Duration::from_millis(if quick { 50 } else { 3000 });
    let start = Instant::now();
    let mut parsed: u64 = 0;
    while start.elapsed() < budget {
        for (sender, text) in &samples {
            black_box(parse(black_box(*sender), None, black_box(text)));
        }
        parsed += samples.len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    let bytes: usize = samples.iter().map(|(_, t)| t.len()).sum();
    println!(
        "parse: {parsed} messages in {secs:.2} s = {:.0} msgs/s ({} samples, {:.0} bytes each on average)",
        parsed as f64 / secs,
        samples.len(),
        bytes as f64 / samples.len() as f64
    );
}
