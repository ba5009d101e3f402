//! Alerts to the seller's own Telegram: money that matched nothing, a late
//! payment, a reversal, webhook trouble, silence of the bank chats, and an
//! optional daily summary. The engine and the webhook worker hand facts to
//! [`Hub`] without waiting (a full hub drops a fact rather than slow matching
//! down); the pump (`pump`) turns facts and the passing of time into queued
//! alerts through the pure rules of `decide`; the sender (`send`) takes due
//! alerts from the queue, words them (`text`) and delivers them through a
//! [`send::Sink`]: the seller's Telegram, or the log with `--source stdin`.
//!
//! What must stay true:
//! - each alert is queued at most once: queueing claims its key in the alert
//!   state (`state`, Redis in production) in the same atomic step, so a
//!   restart does not repeat it and two processes queue it once;
//! - a queued alert is not forgotten: it leaves the queue only once sent, and
//!   a sender that dies mid-send leaves it to be taken again after a lease
//!   (so a crash right after a send may repeat it; it never loses one);
//! - a flood is bounded: alerts of one kind that are due together become one
//!   message with a count;
//! - no secret reaches an alert: no API key, webhook secret or URL, and card
//!   numbers appear as their last four digits only.

use serde::{Deserialize, Serialize};

use crate::config::AlertKind;
use crate::model::Millis;
use crate::money::Money;

pub mod decide;
mod hub;
mod mask;
pub mod pump;
pub mod send;
pub mod state;
pub mod text;

pub use hub::{Fact, Hub};

use std::sync::Arc;

use tokio::sync::watch;

use crate::engine::Engine;
use send::Sink;
use state::AlertState;

/// How alerts are worded for this configuration.
pub fn style(config: &crate::config::Config) -> text::Style {
    text::Style {
        lang: config.alerts.lang,
        timezone: config.alerts.timezone.clone(),
        currency: config.currency.clone(),
        console: console_link(config),
    }
}

/// Where the seller assigns a credit when the console is on: its credits
/// page, at `PUBLIC_URL` if set, else at `HOST:PORT`.
fn console_link(config: &crate::config::Config) -> Option<String> {
    config.console.password.as_ref()?;
    let base = match &config.pay.public_url {
        Some(url) => url.as_str().trim_end_matches('/').to_string(),
        None => format!(
            "http://{}",
            std::net::SocketAddr::new(config.host, config.port)
        ),
    };
    Some(format!("{base}/console/credits"))
}

/// Starts the pump and the sender; they stop on `shutdown`. With `ALERTS=off`
/// nothing runs and the engine builds no facts.
pub fn spawn(
    engine: Arc<Engine>,
    state: Arc<dyn AlertState>,
    sink: Arc<dyn Sink>,
    shutdown: watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    if engine.config.alerts.kinds.is_empty() {
        return None;
    }
    let facts = engine.alerts.take()?;
    let pump = pump::Pump {
        engine: engine.clone(),
        state: state.clone(),
        hub: engine.alerts.clone(),
    };
    let sender = send::Sender {
        state,
        sink,
        style: style(&engine.config),
        engine: engine.clone(),
    };
    let hub = engine.alerts.clone();
    Some(tokio::spawn(async move {
        let pump = tokio::spawn(pump.run(facts, shutdown.clone()));
        sender.run(hub, shutdown).await;
        let _ = pump.await;
    }))
}

/// One alert as queued: what text.rs needs to word it, nothing secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Alert {
    /// A credit that matched no order.
    Unmatched { credit: CreditView, reason: String },
    /// A payment for an order that had already ended.
    Late {
        credit: CreditView,
        transaction_id: String,
        order: Option<String>,
        due: Millis,
    },
    /// The bank took back a confirmed payment.
    Reversal {
        credit: CreditView,
        transaction_id: String,
        order: Option<String>,
        paid_at: Option<Millis>,
    },
    /// The shop's endpoint has failed since `since`.
    WebhookDown { since: Millis },
    /// The endpoint answered 2xx again at `at` (after failing since `since`).
    WebhookUp { since: Millis, at: Millis },
    /// An event was given up after its last retry.
    WebhookGaveUp {
        event_id: String,
        transaction_id: String,
        action: String,
        order: Option<String>,
    },
    /// No message from any watched chat since `since`.
    Silence { since: Millis },
    /// Messages came again at `at` after silence since `since`.
    SilenceOver { since: Millis, at: Millis },
    /// The daily summary of the day ending at `until`.
    Daily { until: Millis, summary: Summary },
    /// `paycue check --send-test`.
    Test { at: Millis },
}

impl Alert {
    /// The `ALERTS` word that turns this alert on (`None`: always sent).
    pub fn kind(&self) -> Option<AlertKind> {
        Some(match self {
            Alert::Unmatched { .. } => AlertKind::Unmatched,
            Alert::Late { .. } => AlertKind::Late,
            Alert::Reversal { .. } => AlertKind::Reversal,
            Alert::WebhookDown { .. } | Alert::WebhookUp { .. } | Alert::WebhookGaveUp { .. } => {
                AlertKind::Webhook
            }
            Alert::Silence { .. } | Alert::SilenceOver { .. } => AlertKind::Silence,
            Alert::Daily { .. } => AlertKind::Daily,
            Alert::Test { .. } => return None,
        })
    }

    /// A short name for logs and the metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Alert::Unmatched { .. } => "unmatched",
            Alert::Late { .. } => "late",
            Alert::Reversal { .. } => "reversal",
            Alert::WebhookDown { .. } => "webhook_down",
            Alert::WebhookUp { .. } => "webhook_up",
            Alert::WebhookGaveUp { .. } => "webhook_gave_up",
            Alert::Silence { .. } => "silence",
            Alert::SilenceOver { .. } => "silence_over",
            Alert::Daily { .. } => "daily",
            Alert::Test { .. } => "test",
        }
    }
}

/// A credit as an alert shows it: the card as its last four digits only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditView {
    pub id: String,
    #[serde(with = "minor")]
    pub amount: Money,
    pub currency: Option<String>,
    pub card_last4: Option<String>,
    pub bank: String,
    /// The message's own time.
    pub date: Millis,
    /// The bank's text, card numbers masked, cut short (none when the alert
    /// was rebuilt from the store after a restart: the text is not kept).
    pub text: Option<String>,
}

/// What the daily summary counts (sums in the shop's currency).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub paid: u64,
    #[serde(with = "minor")]
    pub paid_sum: Money,
    pub unmatched: u64,
    pub late: u64,
    pub webhook_failures: u64,
    pub currency: String,
}

/// A queued alert: its key (what makes it once) and when it was queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    pub key: String,
    pub alert: Alert,
    pub queued_at: Millis,
}

/// Money in a queued alert as integer minor units: `Money`'s own JSON form
/// (an exact decimal, positive) cannot pass through serde's buffering of a
/// tagged enum, and a summary's sum may be zero.
mod minor {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::money::Money;

    pub fn serialize<S: Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(m.minor())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        i64::deserialize(d).map(Money::from_minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With the console on, an unmatched credit links to its credits page
    /// (at PUBLIC_URL); without it, the alert shows the command.
    #[test]
    fn unmatched_alerts_point_at_the_console_when_it_is_on() {
        use crate::config::{Config, RawConfig};
        let credit = CreditView {
            id: "c1".into(),
            amount: Money::from_major(20_001),
            currency: None,
            card_last4: Some("7466".into()),
            bank: "humo".into(),
            date: 0,
            text: None,
        };
        let m = decide::Message {
            label: "unmatched",
            alerts: vec![(
                "k".into(),
                Queued {
                    key: "k".into(),
                    alert: Alert::Unmatched {
                        credit,
                        reason: "no_transaction".into(),
                    },
                    queued_at: 0,
                },
            )],
        };
        let off = Config::from_raw(&RawConfig::default()).unwrap();
        let text = text::message(&m, &style(&off));
        assert!(text.contains("paycue assign c1 <transaction id>"), "{text}");
        let on = Config::from_raw(&RawConfig {
            console_password: Some("a long console password".into()),
            public_url: Some("https://pay.shop.example".into()),
            ..RawConfig::default()
        })
        .unwrap();
        let text = text::message(&m, &style(&on));
        assert!(
            text.contains("https://pay.shop.example/console/credits"),
            "{text}"
        );
        assert!(!text.contains("paycue assign"), "{text}");
    }

    /// Every alert survives the trip through the queue's JSON (Redis).
    #[test]
    fn every_alert_reads_back_from_its_json() {
        let credit = CreditView {
            id: "c1".into(),
            amount: Money::from_minor(2_000_150),
            currency: Some("UZS".into()),
            card_last4: Some("7466".into()),
            bank: "humo".into(),
            date: 1,
            text: Some("«➕ 20.001,50»".into()),
        };
        let alerts = vec![
            Alert::Unmatched {
                credit: credit.clone(),
                reason: "no_transaction".into(),
            },
            Alert::Late {
                credit: credit.clone(),
                transaction_id: "t".into(),
                order: Some("7".into()),
                due: 2,
            },
            Alert::Reversal {
                credit,
                transaction_id: "t".into(),
                order: None,
                paid_at: Some(3),
            },
            Alert::WebhookDown { since: 4 },
            Alert::WebhookUp { since: 4, at: 5 },
            Alert::WebhookGaveUp {
                event_id: "e".into(),
                transaction_id: "t".into(),
                action: "confirm".into(),
                order: None,
            },
            Alert::Silence { since: 6 },
            Alert::SilenceOver { since: 6, at: 7 },
            Alert::Daily {
                until: 8,
                summary: Summary::default(),
            },
            Alert::Test { at: 9 },
        ];
        for alert in alerts {
            let q = Queued {
                key: "k".into(),
                alert,
                queued_at: 10,
            };
            let json = serde_json::to_string(&q).unwrap();
            let back: Queued =
                serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(back, q);
        }
    }
}
