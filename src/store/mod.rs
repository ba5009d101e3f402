//! Where transactions live. `Store` is the one interface; `RedisStore` is the
//! production implementation (each mutation one Lua script, so several paycue
//! processes can share one Redis) and `MemoryStore` the demo/test one. Both must
//! pass the same contract tests (`tests/store_contract.rs`).
//!
//! What must stay true in every implementation (the brief's invariants that
//! live in the store):
//! - two pending transactions never hold the same (card, amount);
//! - no message that can pay one pending order can also match another: an
//!   amount is held at most once per card *class* (the cards one card-less
//!   message could be for, `allocation::CardClasses`), so a credit whose
//!   message names no card finds at most one holder among its cards;
//! - the bare price is never issued (offsets start at +1, bounded by `LIMIT`),
//!   nor an amount that is a whole multiple of `ROUND_STEP` (a round list
//!   price paid by mistake confirms nobody's order); every class is tried at
//!   offset k before any class at k+1;
//! - an amount stays held for `grace` after its transaction ends;
//! - a transaction leaves `pending` once, and the state change and its outbox
//!   event are one atomic step;
//! - a (chat, message id) is applied at most once, per logged-in account:
//!   message ids of a private chat are the account's own, so per-chat state
//!   (seen ids, last applied id) lives under the account's scope (a channel's
//!   ids are the channel's own, so its state is shared); a message is marked
//!   seen only by the step that records what became of it;
//! - a confirmed credit is reversed at most once, only by a reversal message
//!   naming its (card, amount) within `REVERSAL_WINDOW_MS` of it, and only
//!   when exactly one confirmed credit fits and its order was not paid twice
//!   (a `late` credit of it in the window); the reversal and its outbox event
//!   are one atomic step and the transaction's state does not change;
//! - storage is bounded: `prune` removes what ended before a cutoff in
//!   bounded steps, never a transaction whose amount is still held, whose
//!   idempotency key may still replay it, whose credit a reversal may still
//!   take back, or whose event queued after the cutoff is still in its
//!   retries, and dedupe memory shrinks without
//!   ever accepting again a message id it removed (a chat's ids up to the
//!   highest one removed stay refused);
//! - a settlement by hand (`settle_by_hand`) confirms at most once per
//!   transaction and per credit, in the same atomic step as its outbox
//!   event and audit entry.

use async_trait::async_trait;

use crate::model::{Attempt, CreditRecord, Delivery, Millis, Transaction, TxStatus};
use crate::money::Money;

pub mod console;
pub mod memory;
pub mod redis;

pub use console::{ConsoleStore, Hits, Persistence};
pub use memory::MemoryStore;
pub use redis::RedisStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached or refuses work (out of memory,
    /// read-only, busy, loading...): the text says which. The API answers
    /// 503 with Retry-After and work resumes by itself later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Data in the store is not what paycue wrote (a bug or a foreign writer).
    #[error("store data is corrupt: {0}")]
    Corrupt(String),
}

/// A credit dated this much before its transaction was created is not a
/// payment for it (clock skew between Telegram and this host is allowed for).
pub const EARLY_TOLERANCE_MS: i64 = 2 * 60 * 1000;

/// A reversal message matches a confirmed credit dated at most this long
/// before it (72 hours: banks reverse a card credit within a day or two).
pub const REVERSAL_WINDOW_MS: i64 = 72 * 3600 * 1000;

/// Settings fixed for the store's lifetime.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// How long an amount stays held after its transaction ends.
    pub grace_ms: i64,
    /// How long an idempotency key is remembered.
    pub idempotency_ms: i64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            grace_ms: 30 * 60 * 1000,
            idempotency_ms: 24 * 3600 * 1000,
        }
    }
}

/// One (card, amount) slot that a new transaction may take. `card` is the key
/// the store holds amounts under: the configured card text, or `""` for the
/// implicit single card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub card: String,
    pub amount: Money,
}

#[derive(Debug, Clone)]
pub struct NewTransaction {
    pub id: String,
    pub requested_amount: Money,
    pub currency: String,
    /// The seller's cards in classes that share amounts (none: one implicit
    /// card), the largest offset and `ROUND_STEP` (0: off): the store takes
    /// the smallest free offset +1..=+limit that is not round, every class at
    /// an offset before the offset grows (`allocation::candidates` spells the
    /// order out).
    pub cards: crate::allocation::CardClasses,
    pub limit: u32,
    pub round_step: u32,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub metadata: Option<serde_json::Value>,
    /// (key, fingerprint of the request body).
    pub idempotency: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    Created(Transaction),
    /// Same idempotency key and body: the transaction created the first time.
    Replayed(Transaction),
    /// Same idempotency key, different body.
    IdempotencyConflict,
    /// Every candidate slot is held.
    NoFreeAmount,
}

/// A parsed credit ready to be matched.
#[derive(Debug, Clone)]
pub struct IncomingCredit {
    /// Pre-generated ids so scripts stay deterministic.
    pub credit_id: String,
    pub event_id: String,
    /// Used only when the holder is still pending but past its deadline: it is
    /// cancelled (this event) before the late credit is recorded.
    pub cancel_event_id: String,
    pub bank: String,
    pub amount: Money,
    pub currency: Option<String>,
    pub card_last4: Option<String>,
    /// Store card keys this credit may belong to (already filtered by last 4).
    /// Empty: the message names a card the seller has not configured.
    pub cards: Vec<String>,
    /// The currency transactions are issued in; a credit in another is unmatched.
    pub expected_currency: String,
    pub sender_id: i64,
    pub chat_id: i64,
    /// The account scope of the chat's dedupe state (see [`Store::chat_scope`]).
    pub scope: String,
    pub message_id: i64,
    pub date: Millis,
    pub received_at: Millis,
    /// The message's text (cut at `model::MAX_TEXT` characters).
    pub text: String,
}

/// The key of a chat's per-chat state within an account scope. A channel
/// (or supergroup: Bot API ids below -10^12) numbers its messages itself, the
/// same for every account, so its state is never scoped: after a switch of
/// account the new one catches up from where the old one left and a replayed
/// post stays a duplicate. Private chats and basic groups number messages per
/// account, so theirs is.
pub fn chat_key(scope: &str, chat_id: i64) -> String {
    if chat_id < CHANNEL_IDS_BELOW {
        return chat_id.to_string();
    }
    format!("{scope}{chat_id}")
}

/// Bot API ids of channels and supergroups are `-100` followed by the bare id.
const CHANNEL_IDS_BELOW: i64 = -1_000_000_000_000;

#[derive(Debug, Clone, PartialEq)]
pub enum ApplyOutcome {
    /// This (chat, message id) was applied before: nothing changed.
    Duplicate,
    Confirmed {
        transaction: Transaction,
        credit: CreditRecord,
    },
    Late {
        transaction: Transaction,
        credit: CreditRecord,
    },
    Unmatched {
        credit: CreditRecord,
    },
    /// A reversal message took back the credit that confirmed `transaction`.
    Reversed {
        transaction: Transaction,
        credit: CreditRecord,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum CancelOutcome {
    Cancelled(Transaction),
    NotFound,
    /// Already confirmed or cancelled: nothing changed.
    NotPending(Transaction),
}

/// What one `prune` step removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Ended transactions, each with its events, attempts, credits,
    /// reversal and listing entries.
    pub transactions: usize,
    /// Unmatched credits (and reversals) not tied to a transaction.
    pub credits: usize,
    /// Message ids forgotten by dedupe (still refused: see `prune`).
    pub seen: usize,
    /// Audit entries (manual actions) older than the cutoff.
    pub audit: usize,
}

impl Pruned {
    /// Whether any kind filled its batch, so another step may find more.
    pub fn full(&self, max: usize) -> bool {
        self.transactions >= max || self.credits >= max || self.seen >= max || self.audit >= max
    }
}

/// What happens to an event after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    Delivered,
    RetryAt(Millis),
    Failed,
}

#[async_trait]
pub trait Store: ConsoleStore + Send + Sync + 'static {
    /// Reserves the first free candidate slot and stores a pending transaction,
    /// in one atomic step.
    async fn create(&self, new: NewTransaction) -> Result<CreateOutcome, StoreError>;

    async fn get(&self, id: &str) -> Result<Option<Transaction>, StoreError>;

    /// Newest first.
    async fn list(
        &self,
        status: Option<TxStatus>,
        limit: usize,
    ) -> Result<Vec<Transaction>, StoreError>;

    /// Cancels a pending transaction on request (`cancel` event, reason `api`).
    async fn cancel(
        &self,
        id: &str,
        event_id: &str,
        now: Millis,
    ) -> Result<CancelOutcome, StoreError>;

    /// Cancels pending transactions whose deadline is before `now`, at most
    /// `event_ids.len()` of them, each with one of the given event ids.
    async fn expire_due(
        &self,
        now: Millis,
        event_ids: &[String],
    ) -> Result<Vec<Transaction>, StoreError>;

    /// Marks a message seen without applying anything (debits, info, ...), so a
    /// replay is reported as a duplicate and the chat's last message id moves on.
    /// Returns false if it was seen before.
    async fn mark_seen(
        &self,
        scope: &str,
        chat_id: i64,
        message_id: i64,
    ) -> Result<bool, StoreError>;

    /// Dedupes by (chat, message id), then confirms the pending transaction that
    /// holds (card, amount), or records a late or unmatched credit.
    async fn apply_credit(&self, credit: IncomingCredit) -> Result<ApplyOutcome, StoreError>;

    /// Dedupes by (chat, message id), then records a reversal message on the
    /// one transaction whose confirming credit it takes back (same card and
    /// amount, dated within `REVERSAL_WINDOW_MS` before it, not reversed
    /// yet) with a `reversal` event; with no such credit, or more than one
    /// (a `late` second payment of the order counts), it is recorded
    /// unmatched (`no_credit`, `ambiguous_credit`, ...).
    async fn apply_reversal(&self, reversal: IncomingCredit) -> Result<ApplyOutcome, StoreError>;

    /// The highest message id applied or seen in a chat (for catch-up).
    async fn last_message_id(&self, scope: &str, chat_id: i64) -> Result<Option<i64>, StoreError>;

    /// The scope of `account`'s per-chat state: `""` for the first account
    /// ever asked about (it owns the per-chat state written before scopes
    /// existed, so an upgrade keeps its place), `"<account>:"` for any other.
    async fn chat_scope(&self, account: i64) -> Result<String, StoreError>;

    /// Credits of one outcome (`Late`, `Unmatched` or `Reversed`), newest
    /// first (`Confirmed`: none, they are reached through their transaction).
    async fn list_credits(
        &self,
        outcome: crate::model::CreditOutcome,
        limit: usize,
    ) -> Result<Vec<CreditRecord>, StoreError>;

    /// Takes the oldest due event and hides it from other workers until
    /// `now + lease_ms` (if the worker dies, it becomes due again then).
    async fn claim_event(&self, now: Millis, lease_ms: i64)
    -> Result<Option<Delivery>, StoreError>;

    /// Records one attempt and what happens next, for the claim `claim` (the
    /// `Delivery::claim` of the attempt). If the event was claimed again since
    /// (this claim's lease ran out), the attempt is only recorded: the newer
    /// claim decides what happens next and keeps the event hidden meanwhile.
    /// Answers whether `result` stands: false if a newer claim decides, or a
    /// redeliver asked for during the attempt queued the event again (an
    /// event `Failed` that way was not given up).
    async fn finish_attempt(
        &self,
        event_id: &str,
        claim: u64,
        attempt: Attempt,
        result: AttemptResult,
    ) -> Result<bool, StoreError>;

    /// Queues the transaction's last event again (same event id). None: no such
    /// transaction or it has no event yet.
    async fn redeliver(
        &self,
        transaction_id: &str,
        now: Millis,
    ) -> Result<Option<String>, StoreError>;

    /// Up to `count` transactions (of `status`, or all) created before the
    /// one with counter `before` (none: the newest), newest first, each with
    /// its creation counter; `more` when the listing goes on past them.
    async fn scan(
        &self,
        status: Option<TxStatus>,
        before: Option<crate::listing::Cursor>,
        count: usize,
    ) -> Result<crate::listing::Scanned, StoreError>;

    /// The events of a transaction, oldest first, with their attempts.
    async fn events(&self, transaction_id: &str) -> Result<Vec<crate::model::Event>, StoreError>;

    /// How many (card, amount) slots are held (pending or in their grace),
    /// per card key, for the given card keys (`""` the implicit card). Costs
    /// the same however much the store holds (it backs `/metrics`).
    async fn held_counts(&self, cards: &[String]) -> Result<Vec<(String, u64)>, StoreError>;

    /// One bounded retention step, at most `max` of each kind: removes the
    /// transactions that ended before `cutoff` (once their hold's grace,
    /// idempotency window and, confirmed and not reversed, the reversal
    /// window are over at `now`, and no event queued after `cutoff` is
    /// still pending) with everything hanging off
    /// them (events, attempts, credits, reversal, listing entries), the
    /// unmatched credits received before `cutoff`, and the dedupe entries of
    /// messages applied before `cutoff`. A removed message id is still
    /// refused: each chat keeps the highest id it removed, and ids up to it
    /// count as seen (catch-up resumes after the chat's last id, so it never
    /// asks for them; a replay of one is refused).
    async fn prune(&self, now: Millis, cutoff: Millis, max: usize) -> Result<Pruned, StoreError>;

    /// Settles a transaction by hand as `entry` says (`manual`): checks
    /// that the transaction is pending or expired and the credit, if any,
    /// matched nothing or came late, then confirms the transaction, gives
    /// it the credit, queues a `confirm` event marked manual (id
    /// `entry.event_id`) and appends `entry` to the audit list, in one
    /// atomic step. Refused: nothing changed. A credit given this way is
    /// also indexed for reversals (as `apply_credit` indexes a confirmed
    /// one) under its own amount and date and the card of `paid_cards` (the
    /// cards its message may be for) that the transaction holds, else the
    /// first of them; none: not indexed.
    async fn settle_by_hand(
        &self,
        entry: &crate::manual::AuditEntry,
        paid_cards: &[String],
    ) -> Result<crate::manual::ManualOutcome, StoreError>;

    /// One credit record by its id.
    async fn credit(&self, id: &str) -> Result<Option<CreditRecord>, StoreError>;

    /// The audit list, newest first (`prune` drops entries older than its
    /// cutoff).
    async fn audit(&self, limit: usize) -> Result<Vec<crate::manual::AuditEntry>, StoreError>;

    /// Whether the store takes writes now (`/health`): Redis answering but
    /// refusing writes is `Unavailable`.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Holds the expiry sweep of every process sharing this store for `ttl_ms`
    /// from now, under `holder`'s name: a message source of that process is
    /// behind (reconnecting, catching up, waiting out a flood limit), so a
    /// payment may be on its way. The holder refreshes it while behind; if it
    /// dies, the hold lapses by itself.
    async fn hold_expiry(&self, holder: &str, ttl_ms: i64) -> Result<(), StoreError>;

    /// Ends `holder`'s hold early (its source is live again); the holds of
    /// other processes stay.
    async fn release_expiry(&self, holder: &str) -> Result<(), StoreError>;

    /// True while some process holds the expiry sweep.
    async fn expiry_held(&self) -> Result<bool, StoreError>;
}
