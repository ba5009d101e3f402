//! The records paycue keeps: transactions, the credits it saw, webhook events
//! and their delivery attempts. Plain data shared by the store, the HTTP API,
//! the matcher and the webhook worker. Times are Unix milliseconds (`Millis`).

use serde::{Deserialize, Serialize};

use crate::money::Money;

pub type Millis = i64;

pub fn now_millis() -> Millis {
    jiff::Timestamp::now().as_millisecond()
}

/// RFC 3339 text of a millisecond timestamp, for JSON output.
pub fn rfc3339(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxStatus {
    Pending,
    Confirmed,
    Cancelled,
}

impl TxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TxStatus::Pending => "pending",
            TxStatus::Confirmed => "confirmed",
            TxStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<TxStatus> {
        match s {
            "pending" => Some(TxStatus::Pending),
            "confirmed" => Some(TxStatus::Confirmed),
            "cancelled" => Some(TxStatus::Cancelled),
            _ => None,
        }
    }
}

/// Why a transaction was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CancelReason {
    Expired,
    Api,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    pub id: String,
    pub status: TxStatus,
    /// What the buyer must pay: the requested amount plus the offset.
    pub amount: Money,
    pub requested_amount: Money,
    /// The card as configured in `CARDS` (`None` when `CARDS` is unset).
    pub card: Option<String>,
    pub currency: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub ended_at: Option<Millis>,
    pub cancel_reason: Option<CancelReason>,
    /// Opaque JSON object from the shop, echoed in webhooks.
    pub metadata: Option<serde_json::Value>,
    /// The credit that confirmed it.
    pub paid_by: Option<String>,
    /// Credits for this amount that arrived after the transaction ended.
    pub late_credits: Vec<String>,
    /// The newest webhook event of this transaction.
    pub last_event: Option<String>,
    /// When the bank took the confirming credit back (the reversal message's
    /// own time). The status stays `confirmed`: this is a fact of its own.
    pub reversed_at: Option<Millis>,
    /// The reversal message's record (a `CreditRecord` of kind `reversal`).
    pub reversal: Option<String>,
    /// Set when the seller confirmed it by hand (`manual`): who and when.
    pub manual: Option<ManualMark>,
}

/// Who settled something by hand and when: the actor's label (`api`,
/// `console`, `cli@<user>`; never a key or a password) and the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualMark {
    pub by: String,
    pub at: Millis,
}

/// What a credit turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CreditOutcome {
    Confirmed,
    Late,
    Unmatched,
    /// A reversal message that took back a confirmed credit.
    Reversed,
}

/// What a bank message said: money in, or a credit taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CreditKind {
    #[default]
    Credit,
    Reversal,
}

impl CreditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CreditKind::Credit => "credit",
            CreditKind::Reversal => "reversal",
        }
    }
}

/// A credit notification as applied to the store (one bank-bot message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditRecord {
    pub id: String,
    pub kind: CreditKind,
    pub outcome: CreditOutcome,
    pub transaction_id: Option<String>,
    /// Why it matched nothing (`no_transaction`, `unknown_card`, `currency`, ...).
    pub reason: Option<String>,
    pub bank: String,
    pub amount: Money,
    pub currency: Option<String>,
    pub card_last4: Option<String>,
    pub sender_id: i64,
    pub chat_id: i64,
    pub message_id: i64,
    /// The message's own time (when the bank said the money arrived).
    pub date: Millis,
    pub received_at: Millis,
    /// The bank's message as received (at most `MAX_TEXT` characters), for
    /// the seller's console; `None` for records kept before it was stored.
    pub text: Option<String>,
}

/// Longest bank message text kept with a credit (Telegram's own limit).
pub const MAX_TEXT: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Confirm,
    Cancel,
    Late,
    /// A confirmed payment's money went back.
    Reversal,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Confirm => "confirm",
            Action::Cancel => "cancel",
            Action::Late => "late",
            Action::Reversal => "reversal",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "confirm" => Some(Action::Confirm),
            "cancel" => Some(Action::Cancel),
            "late" => Some(Action::Late),
            "reversal" => Some(Action::Reversal),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

/// One HTTP attempt at delivering an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: Millis,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// A webhook event in the outbox. The body is built from the event and its
/// transaction; the transaction's status can still change after the event
/// (an expired order confirmed by hand), so the event keeps the status it
/// was written with, and every retry sends the same bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub transaction_id: String,
    pub action: Action,
    /// The credit behind a `confirm` or `late` event (the reversal message
    /// behind a `reversal` event).
    pub credit_id: Option<String>,
    pub created_at: Millis,
    pub state: DeliveryState,
    pub attempts: Vec<Attempt>,
    /// When the worker may next try it (only while `Pending`).
    pub next_attempt_at: Option<Millis>,
    /// A `confirm` the seller gave by hand: who and when.
    pub manual: Option<ManualMark>,
    /// The transaction's status and cancel reason when this event was
    /// written: what its webhook body says (None for events stored before
    /// paycue kept them: the body then says the transaction's current one,
    /// which a hand confirm, the one change after an event, first writes
    /// into them).
    #[serde(skip)]
    pub tx_status: Option<TxStatus>,
    #[serde(skip)]
    pub tx_cancel_reason: Option<CancelReason>,
}

/// What the worker claims: the event plus what its body is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub event: Event,
    pub transaction: Transaction,
    pub credit: Option<CreditRecord>,
    /// This claim's token: `finish_attempt` with an older token (a worker
    /// whose lease ran out and whose event was claimed again) only records
    /// its attempt and leaves the newer claim in charge.
    pub claim: u64,
    /// How many of `event.attempts` came before the last redeliver: the
    /// retries are counted from there, so a redelivered event gets them again.
    pub series_from: usize,
}
