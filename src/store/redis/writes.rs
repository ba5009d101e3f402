//! Mutations of transactions: create (allocation of a unique amount), cancel,
//! the expiry sweep, and applying a bank message. Each is one Lua script call,
//! so what it changes is atomic.

use redis::Value;

use super::codec;
use super::{APPLY, CANCEL, CREATE, EXPIRE, MARK_SEEN, RedisStore, tag, tx_of};
use crate::allocation::CardClasses;
use crate::model::{CreditKind, CreditOutcome, CreditRecord, Millis, Transaction, TxStatus};
use crate::money::{Money, SCALE};
use crate::store::{
    ApplyOutcome, CancelOutcome, CreateOutcome, EARLY_TOLERANCE_MS, IncomingCredit, NewTransaction,
    StoreError,
};

pub(super) async fn create(
    store: &RedisStore,
    new: NewTransaction,
) -> Result<CreateOutcome, StoreError> {
    let (ikey, ifp) = new.idempotency.clone().unwrap_or_default();
    let price = new.requested_amount.minor();
    let classes = new.cards.classes();
    let mut args = vec![
        new.id.clone(),
        price.to_string(),
        new.currency.clone(),
        new.created_at.to_string(),
        new.expires_at.to_string(),
        new.metadata
            .as_ref()
            .map(|m| m.to_string())
            .unwrap_or_default(),
        ikey,
        ifp,
        store.settings.idempotency_ms.to_string(),
        (price / SCALE).to_string(),
        (price % SCALE).to_string(),
        new.limit.to_string(),
        new.round_step.to_string(),
    ];
    for class in &classes {
        args.push(class.len().to_string());
        args.extend(class.iter().cloned());
    }
    let mut reply = codec::array(store.run(&CREATE, &args).await?)?.into_iter();
    match tag(&mut reply)?.as_str() {
        "created" => {
            let class = tag(&mut reply)?
                .parse::<usize>()
                .ok()
                .and_then(|i| classes.get(i));
            let offset = tag(&mut reply)?.parse::<u32>().ok();
            let card = class
                .zip(offset)
                .and_then(|(class, k)| CardClasses::card_at(class, k));
            let amount = offset.and_then(|k| price.checked_add(i64::from(k).checked_mul(SCALE)?));
            let (Some(card), Some(amount)) = (card, amount) else {
                return Err(StoreError::Corrupt("create replied a bad slot".into()));
            };
            Ok(CreateOutcome::Created(Transaction {
                id: new.id,
                status: TxStatus::Pending,
                amount: Money::from_minor(amount),
                requested_amount: new.requested_amount,
                card: (!card.is_empty()).then(|| card.clone()),
                currency: new.currency,
                created_at: new.created_at,
                expires_at: new.expires_at,
                ended_at: None,
                cancel_reason: None,
                metadata: new.metadata,
                paid_by: None,
                late_credits: Vec::new(),
                last_event: None,
                reversed_at: None,
                reversal: None,
                manual: None,
            }))
        }
        "replayed" => Ok(CreateOutcome::Replayed(tx_of(reply.next())?)),
        "conflict" => Ok(CreateOutcome::IdempotencyConflict),
        "nofree" => Ok(CreateOutcome::NoFreeAmount),
        other => Err(StoreError::Corrupt(format!("create replied {other}"))),
    }
}

pub(super) async fn cancel(
    store: &RedisStore,
    id: &str,
    event_id: &str,
    now: Millis,
) -> Result<CancelOutcome, StoreError> {
    let args = [
        id.to_string(),
        event_id.to_string(),
        now.to_string(),
        store.grace(),
    ];
    let mut reply = codec::array(store.run(&CANCEL, &args).await?)?.into_iter();
    match tag(&mut reply)?.as_str() {
        "notfound" => Ok(CancelOutcome::NotFound),
        "notpending" => Ok(CancelOutcome::NotPending(tx_of(reply.next())?)),
        "cancelled" => Ok(CancelOutcome::Cancelled(tx_of(reply.next())?)),
        other => Err(StoreError::Corrupt(format!("cancel replied {other}"))),
    }
}

pub(super) async fn expire_due(
    store: &RedisStore,
    now: Millis,
    event_ids: &[String],
) -> Result<Vec<Transaction>, StoreError> {
    let mut args = vec![now.to_string(), store.grace()];
    args.extend(event_ids.iter().cloned());
    codec::array(store.run(&EXPIRE, &args).await?)?
        .into_iter()
        .map(|v| tx_of(Some(v)))
        .collect()
}

pub(super) async fn mark_seen(
    store: &RedisStore,
    chat_key: &str,
    message_id: i64,
) -> Result<bool, StoreError> {
    let now = crate::model::now_millis();
    let args = [
        chat_key.to_string(),
        message_id.to_string(),
        now.to_string(),
    ];
    Ok(matches!(store.run(&MARK_SEEN, &args).await?, Value::Int(1)))
}

pub(super) async fn apply_credit(
    store: &RedisStore,
    c: IncomingCredit,
) -> Result<ApplyOutcome, StoreError> {
    let fields = codec::credit_fields(&c);
    let mut args = vec![
        crate::store::chat_key(&c.scope, c.chat_id),
        c.message_id.to_string(),
        c.credit_id.clone(),
        c.event_id.clone(),
        c.cancel_event_id.clone(),
        c.amount.minor().to_string(),
        c.currency.clone().unwrap_or_default(),
        c.expected_currency.clone(),
        c.date.to_string(),
        c.received_at.to_string(),
        store.grace(),
        EARLY_TOLERANCE_MS.to_string(),
        fields.len().to_string(),
    ];
    for (name, value) in fields {
        args.push(name.to_string());
        args.push(value);
    }
    args.extend(c.cards.iter().map(|card| codec::hold_field(card, c.amount)));
    let mut reply = codec::array(store.run(&APPLY, &args).await?)?.into_iter();
    match tag(&mut reply)?.as_str() {
        "duplicate" => Ok(ApplyOutcome::Duplicate),
        "unmatched" => {
            let reason = tag(&mut reply)?;
            let credit = credit_record(
                &c,
                CreditKind::Credit,
                CreditOutcome::Unmatched,
                None,
                Some(reason),
            );
            Ok(ApplyOutcome::Unmatched { credit })
        }
        "confirmed" => {
            let transaction = tx_of(reply.next())?;
            let credit = credit_record(
                &c,
                CreditKind::Credit,
                CreditOutcome::Confirmed,
                Some(&transaction.id),
                None,
            );
            Ok(ApplyOutcome::Confirmed {
                transaction,
                credit,
            })
        }
        "late" => {
            let transaction = tx_of(reply.next())?;
            let credit = credit_record(
                &c,
                CreditKind::Credit,
                CreditOutcome::Late,
                Some(&transaction.id),
                None,
            );
            Ok(ApplyOutcome::Late {
                transaction,
                credit,
            })
        }
        other => Err(StoreError::Corrupt(format!("apply replied {other}"))),
    }
}

/// The credit record as the script wrote it.
pub(super) fn credit_record(
    c: &IncomingCredit,
    kind: CreditKind,
    outcome: CreditOutcome,
    tx: Option<&str>,
    reason: Option<String>,
) -> CreditRecord {
    CreditRecord {
        id: c.credit_id.clone(),
        kind,
        outcome,
        transaction_id: tx.map(str::to_string),
        reason,
        bank: c.bank.clone(),
        amount: c.amount,
        currency: c.currency.clone(),
        card_last4: c.card_last4.clone(),
        sender_id: c.sender_id,
        chat_id: c.chat_id,
        message_id: c.message_id,
        date: c.date,
        received_at: c.received_at,
        text: Some(c.text.clone()),
    }
}
