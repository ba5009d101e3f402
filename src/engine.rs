//! The payment engine: what the HTTP API and the message sources call. It turns
//! requests into store operations (allocation, matching, expiry) and wakes the
//! webhook workers when an event is written. It holds no state of its own
//! beyond the catch-up gate: everything durable is in the store.

use std::sync::Arc;

use tokio::sync::{Notify, watch};

use crate::allocation;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::model::{Millis, now_millis};
use crate::money::Money;
use crate::parsers::Kind;
use crate::store::{
    ApplyOutcome, CancelOutcome, CreateOutcome, IncomingCredit, NewTransaction, Store, StoreError,
};

/// A message from a bank bot (or a forwarded SMS), whatever its source:
/// Telegram and `--source stdin` hand on exactly this.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct IncomingMessage {
    pub sender_id: i64,
    /// The chat it arrived in; for a bank bot's private chat, the bot's id.
    #[serde(default)]
    pub chat_id: Option<i64>,
    pub message_id: i64,
    /// Unix milliseconds; the message's own time.
    pub date: Millis,
    pub text: String,
}

impl IncomingMessage {
    pub fn chat(&self) -> i64 {
        self.chat_id.unwrap_or(self.sender_id)
    }
}

/// What became of a message. (Returned once per message, never stored in
/// bulk, so the size difference between variants does not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum IngestOutcome {
    /// Not from a watched sender: ignored, not even marked seen.
    Untrusted,
    Duplicate,
    /// Not a credit (debit, reversal, info, unknown...).
    NotCredit(Kind),
    Applied(ApplyOutcome),
}

impl IngestOutcome {
    /// A short name for log lines. Logs carry this and the transaction id,
    /// never the whole outcome (it holds the shop's metadata).
    pub fn label(&self) -> &'static str {
        match self {
            IngestOutcome::Untrusted => "untrusted",
            IngestOutcome::Duplicate => "duplicate",
            IngestOutcome::NotCredit(_) => "not_credit",
            IngestOutcome::Applied(ApplyOutcome::Confirmed { .. }) => "confirmed",
            IngestOutcome::Applied(ApplyOutcome::Late { .. }) => "late",
            IngestOutcome::Applied(ApplyOutcome::Unmatched { .. }) => "unmatched",
            IngestOutcome::Applied(ApplyOutcome::Reversed { .. }) => "reversed",
            IngestOutcome::Applied(ApplyOutcome::Duplicate) => "duplicate",
        }
    }

    pub fn transaction_id(&self) -> Option<&str> {
        match self {
            IngestOutcome::Applied(
                ApplyOutcome::Confirmed { transaction, .. }
                | ApplyOutcome::Late { transaction, .. }
                | ApplyOutcome::Reversed { transaction, .. },
            ) => Some(&transaction.id),
            _ => None,
        }
    }
}

/// What a shop asked for.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub amount: Money,
    pub metadata: Option<serde_json::Value>,
    /// (Idempotency-Key, fingerprint of the body).
    pub idempotency: Option<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("amount is too large (the maximum is {0})")]
    TooLarge(Money),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Engine {
    pub config: Config,
    pub store: Arc<dyn Store>,
    /// Woken whenever an event is written, so a worker picks it up at once.
    pub outbox: Notify,
    pub metrics: Metrics,
    caught_up: watch::Sender<bool>,
    /// The logged-in account's scope of per-chat state (`Store::chat_scope`);
    /// empty for sources without an account (stdin).
    scope: std::sync::RwLock<String>,
    /// `CARDS` grouped for allocation (computed once).
    classes: allocation::CardClasses,
    /// This process's name on its expiry hold (`Store::hold_expiry`).
    pub(crate) holder: String,
    /// Whether a message source is connected (Telegram logged in and
    /// following, or stdin open), for the console.
    connected: std::sync::atomic::AtomicBool,
    /// When this process last received a message from a watched chat (Unix
    /// ms; 0: none since start), for the console.
    last_message_at: std::sync::atomic::AtomicI64,
}

impl Engine {
    pub fn new(config: Config, store: Arc<dyn Store>) -> Arc<Engine> {
        Arc::new(Engine {
            store,
            outbox: Notify::new(),
            metrics: Metrics::default(),
            caught_up: watch::channel(false).0,
            scope: std::sync::RwLock::new(String::new()),
            classes: allocation::CardClasses::of(&config.cards),
            config,
            holder: uuid::Uuid::new_v4().to_string(),
            connected: false.into(),
            last_message_at: 0.into(),
        })
    }

    pub async fn create(&self, req: CreateRequest) -> Result<CreateOutcome, CreateError> {
        let max = self.config.max_amount();
        // max_amount leaves room for price + LIMIT, so no candidate overflows.
        if req.amount > max {
            return Err(CreateError::TooLarge(max));
        }
        let now = now_millis();
        let new = NewTransaction {
            id: uuid::Uuid::new_v4().to_string(),
            requested_amount: req.amount,
            currency: self.config.currency.clone(),
            cards: self.classes.clone(),
            limit: self.config.limit,
            round_step: self.config.round_step,
            created_at: now,
            expires_at: now + self.config.tx_ttl.as_millis() as i64,
            metadata: req.metadata,
            idempotency: req.idempotency,
        };
        let outcome = self.store.create(new).await?;
        match &outcome {
            CreateOutcome::Created(tx) => {
                self.metrics.created.inc();
                tracing::info!(transaction_id = %tx.id, amount = %tx.amount, card = tx.card.as_deref().unwrap_or("default"), "transaction created");
            }
            CreateOutcome::NoFreeAmount => {
                self.metrics.no_free_amount.inc();
                tracing::warn!(requested_amount = %req.amount, limit = self.config.limit, "no free amount near the price");
            }
            CreateOutcome::Replayed(_) | CreateOutcome::IdempotencyConflict => {}
        }
        Ok(outcome)
    }

    pub async fn cancel(&self, id: &str) -> Result<CancelOutcome, StoreError> {
        let outcome = self.store.cancel(id, &new_event_id(), now_millis()).await?;
        if let CancelOutcome::Cancelled(tx) = &outcome {
            self.metrics.cancelled("api");
            tracing::info!(transaction_id = %tx.id, "transaction cancelled by API");
            self.outbox.notify_waiters();
        }
        Ok(outcome)
    }

    /// Parser -> matcher -> store, for one message from any source.
    pub async fn ingest(&self, msg: &IncomingMessage) -> Result<IngestOutcome, StoreError> {
        if !self.config.watch_ids.contains(&msg.sender_id)
            && !self.config.watch_ids.contains(&msg.chat())
        {
            tracing::debug!(
                sender_id = msg.sender_id,
                "message from an unwatched sender ignored"
            );
            return Ok(IngestOutcome::Untrusted);
        }
        self.last_message_at
            .fetch_max(now_millis(), std::sync::atomic::Ordering::Relaxed);
        let note =
            self.config
                .formats
                .parse(Some(msg.sender_id), Some(msg.chat()), None, &msg.text);
        self.metrics.message(note.kind.as_str());
        // A refund of the seller's own spending (a reversal that gives money
        // back to the card) neither pays an order nor takes a payment back.
        let (Kind::Credit | Kind::Reversal, Some(amount), false) =
            (note.kind, note.amount, note.refund)
        else {
            let fresh = self
                .store
                .mark_seen(&self.scope(), msg.chat(), msg.message_id)
                .await?;
            tracing::debug!(message_id = msg.message_id, kind = ?note.kind, "not a credit");
            return Ok(if fresh {
                IngestOutcome::NotCredit(note.kind)
            } else {
                IngestOutcome::Duplicate
            });
        };
        if note.kind == Kind::Credit {
            self.metrics.credits_parsed.inc();
        }
        let credit = IncomingCredit {
            credit_id: uuid::Uuid::new_v4().to_string(),
            event_id: new_event_id(),
            cancel_event_id: new_event_id(),
            bank: note.bank.as_str().to_string(),
            amount,
            currency: note.currency.clone(),
            card_last4: note.card.clone(),
            cards: allocation::message_cards(
                &self.config.cards,
                note.bank.as_str(),
                note.card.as_deref(),
            ),
            expected_currency: self.config.currency.clone(),
            sender_id: msg.sender_id,
            chat_id: msg.chat(),
            scope: self.scope(),
            message_id: msg.message_id,
            date: msg.date,
            received_at: now_millis(),
            text: msg.text.chars().take(crate::model::MAX_TEXT).collect(),
        };
        // A reversal (the bank took a credit back) is matched against the
        // confirmed credits, never against pending orders.
        let outcome = if note.kind == Kind::Reversal {
            self.store.apply_reversal(credit).await?
        } else {
            self.store.apply_credit(credit).await?
        };
        self.observe(&outcome);
        Ok(match outcome {
            ApplyOutcome::Duplicate => IngestOutcome::Duplicate,
            other => IngestOutcome::Applied(other),
        })
    }

    fn observe(&self, outcome: &ApplyOutcome) {
        match outcome {
            ApplyOutcome::Duplicate => {}
            ApplyOutcome::Confirmed {
                transaction,
                credit,
            } => {
                self.metrics.confirmed.inc();
                self.metrics.matched.inc();
                tracing::info!(transaction_id = %transaction.id, credit_id = %credit.id, amount = %credit.amount, "payment confirmed");
                self.outbox.notify_waiters();
            }
            ApplyOutcome::Late {
                transaction,
                credit,
            } => {
                self.metrics.late.inc();
                tracing::warn!(transaction_id = %transaction.id, credit_id = %credit.id, amount = %credit.amount, "late payment for an ended transaction");
                self.outbox.notify_waiters();
            }
            ApplyOutcome::Reversed {
                transaction,
                credit,
            } => {
                self.metrics.reversed.inc();
                tracing::warn!(transaction_id = %transaction.id, credit_id = %credit.id, amount = %credit.amount, "the bank reversed a confirmed payment");
                self.outbox.notify_waiters();
            }
            ApplyOutcome::Unmatched { credit } => {
                self.metrics
                    .unmatched(credit.reason.as_deref().unwrap_or("unknown"));
                tracing::warn!(credit_id = %credit.id, kind = credit.kind.as_str(), amount = %credit.amount, card = credit.card_last4.as_deref().unwrap_or("none"), reason = credit.reason.as_deref().unwrap_or("unknown"), "credit matches no transaction");
            }
        }
    }

    /// Per-chat state from now on belongs to this account scope.
    pub fn set_scope(&self, scope: String) {
        if let Ok(mut s) = self.scope.write() {
            *s = scope;
        }
    }

    pub fn scope(&self) -> String {
        self.scope.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// The last message id applied in `chat` under the current scope.
    pub async fn last_applied(&self, chat: i64) -> Result<Option<i64>, StoreError> {
        self.store.last_message_id(&self.scope(), chat).await
    }

    /// Opens the expiry gate: every message source has caught up and is live.
    pub fn mark_caught_up(&self) {
        self.caught_up.send_replace(true);
    }

    /// Closes the expiry gate: a source is behind (reconnecting, catching up,
    /// waiting out a flood limit), so a payment may be on its way.
    pub fn mark_behind(&self) {
        self.caught_up.send_replace(false);
    }

    pub fn is_caught_up(&self) -> bool {
        *self.caught_up.borrow()
    }

    /// A message source connected (true) or lost its connection (false).
    pub fn set_connected(&self, connected: bool) {
        self.connected
            .store(connected, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn is_connected(&self) -> bool {
        self.connected.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// When this process last received a message from a watched chat.
    pub fn last_message_at(&self) -> Option<Millis> {
        match self
            .last_message_at
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            0 => None,
            at => Some(at),
        }
    }

    /// Queues the transaction's last webhook event again (same event id)
    /// and wakes a worker. None: no such transaction, or no event yet.
    pub async fn redeliver(&self, id: &str) -> Result<Option<String>, StoreError> {
        let queued = self.store.redeliver(id, now_millis()).await?;
        if let Some(event_id) = &queued {
            tracing::info!(transaction_id = %id, event_id = %event_id, "webhook queued again");
            self.outbox.notify_waiters();
        }
        Ok(queued)
    }

    /// Watches the expiry gate (true: every source is live).
    pub(crate) fn gate(&self) -> watch::Receiver<bool> {
        self.caught_up.subscribe()
    }
}

/// Event ids look like Standard Webhooks message ids.
pub fn new_event_id() -> String {
    format!("evt_{}", uuid::Uuid::now_v7().simple())
}
