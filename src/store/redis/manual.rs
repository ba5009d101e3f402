//! Settling by hand (`lua/manual.lua`) and the audit list it appends to:
//! the sorted set `audit` of JSON entries scored by their time, trimmed by
//! `prune.lua` after `RETENTION`.

use super::codec::{self, Fields};
use super::{MANUAL, P, RedisStore, tag, tx_of};
use crate::manual::{AuditEntry, ManualOutcome};
use crate::store::StoreError;

pub(super) async fn settle_by_hand(
    store: &RedisStore,
    entry: &AuditEntry,
    paid_cards: &[String],
) -> Result<ManualOutcome, StoreError> {
    // The script reads an empty credit id as "no credit" (mark paid).
    if entry.credit_id.as_deref() == Some("") {
        return Ok(ManualOutcome::NoCredit);
    }
    let json = serde_json::to_string(entry)
        .map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))?;
    let mut args = vec![
        entry.transaction_id.clone(),
        entry.credit_id.clone().unwrap_or_default(),
        entry.event_id.clone(),
        entry.at.to_string(),
        store.grace(),
        entry.by.clone(),
        json,
    ];
    args.extend(paid_cards.iter().cloned());
    let mut reply = codec::array(store.run(&MANUAL, &args).await?)?.into_iter();
    match tag(&mut reply)?.as_str() {
        "settled" => {
            let transaction = tx_of(reply.next())?;
            let credit = Fields::from_value(reply.next().unwrap_or(redis::Value::Nil))?;
            let credit = if credit.is_empty() {
                None
            } else {
                Some(codec::credit(&credit)?)
            };
            Ok(ManualOutcome::Settled {
                transaction,
                credit,
            })
        }
        "notx" => Ok(ManualOutcome::NoTransaction),
        "nocredit" => Ok(ManualOutcome::NoCredit),
        "confirmed" => Ok(ManualOutcome::AlreadyConfirmed(tx_of(reply.next())?)),
        "cancelled" => Ok(ManualOutcome::CancelledByShop(tx_of(reply.next())?)),
        "taken" => {
            let credit = Fields::from_value(reply.next().unwrap_or(redis::Value::Nil))?;
            Ok(ManualOutcome::CreditTaken(codec::credit(&credit)?))
        }
        "reversal" => Ok(ManualOutcome::NotACredit),
        "currency" => Ok(ManualOutcome::Currency {
            credit: tag(&mut reply)?,
            transaction: tag(&mut reply)?,
        }),
        other => Err(StoreError::Corrupt(format!("manual replied {other}"))),
    }
}

pub(super) async fn audit(store: &RedisStore, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let cmd = redis::cmd("ZREVRANGE")
        .arg(format!("{P}audit"))
        .arg(0)
        .arg(limit - 1)
        .to_owned();
    codec::strings(store.query(&cmd).await?)?
        .iter()
        .map(|s| {
            serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))
        })
        .collect()
}
