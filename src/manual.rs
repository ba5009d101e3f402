//! Settling by hand: the seller says a transaction is paid, either with a
//! credit that matched nothing (or came late) or without one (cash, another
//! channel). Both end in the same place as a matched payment: the
//! transaction is `confirmed`, a `confirm` webhook event (marked `manual`,
//! with who and when) is in the outbox, written in one atomic store step
//! with an audit entry. The API, the console and the CLI all call
//! [`Engine::confirm_by_hand`] and [`Engine::assign_credit`]; they differ
//! only in the [`Actor`] they pass.
//!
//! What must stay true (the store enforces it in the same step as the
//! write): a transaction is confirmed at most once, whoever comes first (a
//! real credit, the expiry sweep, another hand); a credit pays at most one
//! transaction; only a pending or expired transaction can be settled (one
//! the shop cancelled stays cancelled); a reversal message is never a
//! payment; a credit in another currency never pays a transaction.

use serde::{Deserialize, Serialize};

use crate::engine::{Engine, new_event_id};
use crate::model::{CreditRecord, Millis, Transaction, now_millis};
use crate::store::StoreError;

/// Who acted and from where. `by` reaches the shop's webhook (`manual_by`)
/// and the audit list; `from` only the audit list. Neither ever holds a
/// key or a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// `api`, `console` or `cli@<user>`.
    pub by: String,
    /// The client's address, or `host` for a command run on the server.
    pub from: String,
}

/// Longest `by` or `from` kept (longer is cut: they come from a user name,
/// a host name or a socket address, never from request bodies).
const MAX_LABEL: usize = 64;

fn label(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_LABEL)
        .collect();
    if clean.is_empty() {
        "unknown".into()
    } else {
        clean
    }
}

impl Actor {
    /// A call to the HTTP API (authenticated with `API_KEY`).
    pub fn api(from: impl std::fmt::Display) -> Actor {
        Actor {
            by: "api".into(),
            from: label(&from.to_string()),
        }
    }

    /// The web console (one seller password, so no user name).
    pub fn console(from: impl std::fmt::Display) -> Actor {
        Actor {
            by: "console".into(),
            from: label(&from.to_string()),
        }
    }

    /// A `paycue` command run by `user` on `host`.
    pub fn cli(user: &str, host: &str) -> Actor {
        Actor {
            by: format!("cli@{}", label(user)),
            from: label(host),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditAction {
    /// Marked paid without a credit.
    Confirm,
    /// Paid with a credit that matched nothing or came late.
    Assign,
}

/// One manual action, as kept in the audit list (newest first when read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub at: Millis,
    pub action: AuditAction,
    pub transaction_id: String,
    pub credit_id: Option<String>,
    /// The `confirm` event it queued.
    pub event_id: String,
    pub by: String,
    pub from: String,
}

/// What the store made of a manual settlement.
#[derive(Debug, Clone, PartialEq)]
// Returned once per request, never stored in bulk: the size difference
// between variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum ManualOutcome {
    Settled {
        transaction: Transaction,
        credit: Option<CreditRecord>,
    },
    NoTransaction,
    NoCredit,
    /// Confirmed already (by a credit or by hand): nothing changed.
    AlreadyConfirmed(Transaction),
    /// Cancelled by the shop (`POST .../cancel`): it stays cancelled.
    CancelledByShop(Transaction),
    /// The credit already pays a transaction.
    CreditTaken(CreditRecord),
    /// The record is a reversal message, not money in.
    NotACredit,
    /// The credit's currency is not the transaction's.
    Currency {
        credit: String,
        transaction: String,
    },
}

/// A settled transaction and the credit that paid it (none: marked paid).
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    pub transaction: Transaction,
    pub credit: Option<CreditRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManualError {
    #[error("transaction not found")]
    NoTransaction,
    #[error("credit not found")]
    NoCredit,
    #[error("transaction {} is already confirmed{}", .0.id, how(.0))]
    AlreadyConfirmed(Box<Transaction>),
    #[error("transaction {} was cancelled by the shop; only a pending or expired transaction can be settled by hand", .0.id)]
    CancelledByShop(Box<Transaction>),
    #[error("credit {} already pays transaction {}", .0.id, .0.transaction_id.as_deref().unwrap_or("?"))]
    CreditTaken(Box<CreditRecord>),
    #[error("this record is a reversal (money taken back), not a payment")]
    NotACredit,
    #[error("the credit is in {credit} but the transaction in {transaction}")]
    Currency { credit: String, transaction: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn how(tx: &Transaction) -> String {
    match (&tx.manual, &tx.paid_by) {
        (Some(m), _) => format!(" (by hand: {} at {})", m.by, crate::model::rfc3339(m.at)),
        (None, Some(credit)) => format!(" (paid by credit {credit})"),
        (None, None) => String::new(),
    }
}

impl Engine {
    /// Marks a pending or expired transaction paid without a credit.
    pub async fn confirm_by_hand(
        &self,
        tx_id: &str,
        actor: &Actor,
    ) -> Result<Settled, ManualError> {
        self.settle(AuditAction::Confirm, tx_id, None, actor).await
    }

    /// Pays a pending or expired transaction with a credit that matched
    /// nothing or came late.
    pub async fn assign_credit(
        &self,
        credit_id: &str,
        tx_id: &str,
        actor: &Actor,
    ) -> Result<Settled, ManualError> {
        // A blank id names no credit (`paycue assign "$UNSET" TX`): never
        // a settlement without money.
        if credit_id.trim().is_empty() {
            return Err(ManualError::NoCredit);
        }
        self.settle(AuditAction::Assign, tx_id, Some(credit_id), actor)
            .await
    }

    /// The newest manual actions first, at most `limit`.
    pub async fn audit(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.store.audit(limit).await
    }

    async fn settle(
        &self,
        action: AuditAction,
        tx_id: &str,
        credit_id: Option<&str>,
        actor: &Actor,
    ) -> Result<Settled, ManualError> {
        let entry = AuditEntry {
            id: uuid::Uuid::now_v7().to_string(),
            at: now_millis(),
            action,
            transaction_id: tx_id.to_string(),
            credit_id: credit_id.map(str::to_string),
            event_id: new_event_id(),
            by: actor.by.clone(),
            from: actor.from.clone(),
        };
        // The cards the credit's message may be for, so that a reversal of
        // it finds the transaction it now pays (as for a matched credit).
        let paid_cards = match credit_id {
            Some(id) => match self.store.credit(id).await? {
                Some(c) => crate::allocation::message_cards(
                    &self.config.cards,
                    &c.bank,
                    c.card_last4.as_deref(),
                ),
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        match self.store.settle_by_hand(&entry, &paid_cards).await? {
            ManualOutcome::Settled {
                transaction,
                credit,
            } => {
                tracing::info!(transaction_id = %transaction.id, credit_id = credit.as_ref().map(|c| c.id.as_str()).unwrap_or("none"), by = %actor.by, from = %actor.from, "transaction confirmed by hand");
                self.outbox.notify_waiters();
                Ok(Settled {
                    transaction,
                    credit,
                })
            }
            ManualOutcome::NoTransaction => Err(ManualError::NoTransaction),
            ManualOutcome::NoCredit => Err(ManualError::NoCredit),
            ManualOutcome::AlreadyConfirmed(tx) => Err(ManualError::AlreadyConfirmed(Box::new(tx))),
            ManualOutcome::CancelledByShop(tx) => Err(ManualError::CancelledByShop(Box::new(tx))),
            ManualOutcome::CreditTaken(c) => Err(ManualError::CreditTaken(Box::new(c))),
            ManualOutcome::NotACredit => Err(ManualError::NotACredit),
            ManualOutcome::Currency {
                credit,
                transaction,
            } => Err(ManualError::Currency {
                credit,
                transaction,
            }),
        }
    }
}
