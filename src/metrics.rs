//! Process-local counters, rendered in the Prometheus text format by
//! `GET /metrics`. Counters count what this process did; with several paycue
//! processes, sum them in Prometheus.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    pub created: Counter,
    pub confirmed: Counter,
    pub cancelled: Counter,
    pub late: Counter,
    pub parsed: Counter,
    pub matched: Counter,
    pub unmatched: Counter,
    pub webhook_attempts: Counter,
    pub webhook_failures: Counter,
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters = [
            (
                "paycue_transactions_created_total",
                "Transactions created",
                &self.created,
            ),
            (
                "paycue_transactions_confirmed_total",
                "Transactions confirmed by a credit",
                &self.confirmed,
            ),
            (
                "paycue_transactions_cancelled_total",
                "Transactions cancelled (expired or by API)",
                &self.cancelled,
            ),
            (
                "paycue_transactions_late_total",
                "Credits that arrived after their transaction ended",
                &self.late,
            ),
            (
                "paycue_credits_parsed_total",
                "Messages from watched senders parsed",
                &self.parsed,
            ),
            (
                "paycue_credits_matched_total",
                "Credits matched to a pending transaction",
                &self.matched,
            ),
            (
                "paycue_credits_unmatched_total",
                "Credits that matched no transaction",
                &self.unmatched,
            ),
            (
                "paycue_webhook_attempts_total",
                "Webhook delivery attempts",
                &self.webhook_attempts,
            ),
            (
                "paycue_webhook_failures_total",
                "Webhook attempts that failed",
                &self.webhook_failures,
            ),
        ];
        for (name, help, counter) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                counter.get()
            );
        }
        out
    }
}
