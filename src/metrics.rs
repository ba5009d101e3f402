//! What paycue counts, for `GET /metrics` (the OpenMetrics text format that
//! Prometheus scrapes; the `prometheus-client` crate does the encoding).
//!
//! Counters and histograms count what this process did since it started: with
//! several paycue processes on one Redis, sum them in Prometheus. The amount
//! gauges are different: they are read from the store at every scrape, so they
//! describe the whole shop, whichever process answers.
//!
//! Label values come from small fixed sets (reasons, kinds, actions, the last
//! 4 digits of configured cards), never from request data, so the number of
//! series stays bounded.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// One label, `{name="value"}`; which name is fixed per metric.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CardLabel {
    /// Last 4 digits of the configured card, or `default` with `CARDS` unset.
    pub card: String,
}

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Webhook attempt durations: a local receiver answers in milliseconds, a
/// slow shop in seconds, and `WEBHOOK_TIMEOUT` (10 s) caps it.
const DELIVERY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Credit to delivered webhook: milliseconds normally, minutes when the shop
/// was down and paycue retried (the default backoff reaches 10 minutes).
const CREDIT_TO_WEBHOOK_BUCKETS: [f64; 16] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub created: Counter,
    pub confirmed: Counter,
    cancelled: Family<ReasonLabel, Counter>,
    pub late: Counter,
    pub reversed: Counter,
    pub no_free_amount: Counter,
    messages: Family<KindLabel, Counter>,
    pub credits_parsed: Counter,
    pub matched: Counter,
    unmatched: Family<ReasonLabel, Counter>,
    pub webhook_attempts: Counter,
    pub webhook_failures: Counter,
    pub webhook_exhausted: Counter,
    delivery_seconds: Histogram,
    credit_to_webhook_seconds: Histogram,
    store_up: Gauge,
    held: Family<CardLabel, Gauge>,
    free: Family<CardLabel, Gauge>,
    alerts_queued: Family<KindLabel, Counter>,
    alerts_sent: Family<KindLabel, Counter>,
    alerts_failed: Family<KindLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::with_prefix("paycue"),
            created: Counter::default(),
            confirmed: Counter::default(),
            cancelled: Family::default(),
            late: Counter::default(),
            reversed: Counter::default(),
            no_free_amount: Counter::default(),
            messages: Family::default(),
            credits_parsed: Counter::default(),
            matched: Counter::default(),
            unmatched: Family::default(),
            webhook_attempts: Counter::default(),
            webhook_failures: Counter::default(),
            webhook_exhausted: Counter::default(),
            delivery_seconds: Histogram::new(DELIVERY_BUCKETS),
            credit_to_webhook_seconds: Histogram::new(CREDIT_TO_WEBHOOK_BUCKETS),
            store_up: Gauge::default(),
            held: Family::default(),
            free: Family::default(),
            alerts_queued: Family::default(),
            alerts_sent: Family::default(),
            alerts_failed: Family::default(),
        };
        let r = &mut m.registry;
        let counters = [
            ("transactions_created", "Transactions created", &m.created),
            (
                "transactions_confirmed",
                "Transactions confirmed by a credit",
                &m.confirmed,
            ),
            (
                "transactions_late",
                "Credits for a transaction that had already ended (late payments)",
                &m.late,
            ),
            (
                "transactions_reversed",
                "Confirmed payments the bank took back (a reversal message matched their credit)",
                &m.reversed,
            ),
            (
                "create_no_free_amount",
                "Create requests refused with 409: every amount near the price was held",
                &m.no_free_amount,
            ),
            (
                "credits_parsed",
                "Credit notifications read",
                &m.credits_parsed,
            ),
            (
                "credits_matched",
                "Credits that confirmed a pending transaction",
                &m.matched,
            ),
            (
                "webhook_attempts",
                "Webhook delivery attempts",
                &m.webhook_attempts,
            ),
            (
                "webhook_failures",
                "Webhook attempts that failed (not 2xx, timeout, connection)",
                &m.webhook_failures,
            ),
            (
                "webhook_exhausted",
                "Webhook events marked failed after their last retry",
                &m.webhook_exhausted,
            ),
        ];
        for (name, help, counter) in counters {
            r.register(name, help, counter.clone());
        }
        let by_label = [
            (
                "transactions_cancelled",
                "Transactions cancelled, by reason (expired, api)",
                &m.cancelled,
            ),
            (
                "credits_unmatched",
                "Credits that matched no transaction, by reason",
                &m.unmatched,
            ),
        ];
        for (name, help, family) in by_label {
            r.register(name, help, family.clone());
        }
        r.register(
            "messages_parsed",
            "Messages from watched senders, by what the parser made of them",
            m.messages.clone(),
        );
        r.register(
            "alerts_queued",
            "Alerts to the seller queued by this process, by kind (each once)",
            m.alerts_queued.clone(),
        );
        r.register(
            "alerts_sent",
            "Alerts delivered by this process (to Telegram, or the log with --source stdin), by kind; a message about many counts each",
            m.alerts_sent.clone(),
        );
        r.register(
            "alerts_send_failures",
            "Alert messages whose send failed (retried later), by kind",
            m.alerts_failed.clone(),
        );
        r.register_with_unit(
            "webhook_delivery",
            "Duration of one webhook attempt",
            Unit::Seconds,
            m.delivery_seconds.clone(),
        );
        r.register_with_unit(
            "credit_to_webhook",
            "From a credit message received to its webhook answered 2xx",
            Unit::Seconds,
            m.credit_to_webhook_seconds.clone(),
        );
        r.register(
            "store_up",
            "1 if the store (Redis) answered at this scrape, else 0",
            m.store_up.clone(),
        );
        r.register(
            "amounts_held",
            "Amounts held by pending or recently ended transactions, per card",
            m.held.clone(),
        );
        r.register(
            "amounts_free",
            "Amounts still free per card for any price: LIMIT minus held (a lower bound)",
            m.free.clone(),
        );
        m
    }

    pub fn cancelled(&self, reason: &str) {
        let label = ReasonLabel {
            reason: reason.to_string(),
        };
        self.cancelled.get_or_create(&label).inc();
    }

    /// One message from a watched sender; `kind` as the parser named it.
    pub fn message(&self, kind: &str) {
        let label = KindLabel {
            kind: kind.to_string(),
        };
        self.messages.get_or_create(&label).inc();
    }

    pub fn unmatched(&self, reason: &str) {
        let label = ReasonLabel {
            reason: reason.to_string(),
        };
        self.unmatched.get_or_create(&label).inc();
    }

    pub fn alert_queued(&self, kind: &str) {
        self.alerts_queued.get_or_create(&kind_label(kind)).inc();
    }

    /// A message covering `count` alerts was delivered.
    pub fn alert_sent(&self, kind: &str, count: u64) {
        self.alerts_sent
            .get_or_create(&kind_label(kind))
            .inc_by(count);
    }

    pub fn alert_failed(&self, kind: &str) {
        self.alerts_failed.get_or_create(&kind_label(kind)).inc();
    }

    pub fn delivery(&self, took: Duration) {
        self.delivery_seconds.observe(took.as_secs_f64());
    }

    pub fn credit_to_webhook(&self, took: Duration) {
        self.credit_to_webhook_seconds.observe(took.as_secs_f64());
    }

    /// Sets the per-card amount gauges from the store's held counts (`None`:
    /// the store did not answer; the gauges are dropped rather than left
    /// stale). `cards` are the configured cards, empty for the implicit one.
    pub fn set_amounts(&self, cards: &[String], limit: u32, held: Option<&[(String, u64)]>) {
        self.held.clear();
        self.free.clear();
        let Some(held) = held else {
            self.store_up.set(0);
            return;
        };
        self.store_up.set(1);
        let implicit = [String::new()];
        let keys: &[String] = if cards.is_empty() { &implicit } else { cards };
        for key in keys {
            let n = held
                .iter()
                .find(|(card, _)| card == key)
                .map_or(0, |(_, n)| *n);
            let label = CardLabel {
                card: crate::config::card_last4(key).unwrap_or_else(|| "default".into()),
            };
            self.held.get_or_create(&label).set(saturating_i64(n));
            let free = u64::from(limit).saturating_sub(n);
            self.free.get_or_create(&label).set(saturating_i64(free));
        }
    }

    /// The exposition text (ends with `# EOF`).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn kind_label(kind: &str) -> KindLabel {
    KindLabel {
        kind: kind.to_string(),
    }
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
