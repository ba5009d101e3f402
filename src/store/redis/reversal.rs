//! Applying a reversal message (`lua/reverse.lua`): the bank took back a
//! credit. One script call, so the record, the mark on the transaction and
//! the `reversal` outbox event are written together or not at all.

use super::writes::credit_record;
use super::{REVERSE, RedisStore, codec, tag, tx_of};
use crate::model::{CreditKind, CreditOutcome};
use crate::store::{
    ApplyOutcome, EARLY_TOLERANCE_MS, IncomingCredit, REVERSAL_WINDOW_MS, StoreError,
};

pub(super) async fn apply_reversal(
    store: &RedisStore,
    c: IncomingCredit,
) -> Result<ApplyOutcome, StoreError> {
    let fields = codec::credit_fields(&c);
    let mut args = vec![
        crate::store::chat_key(&c.scope, c.chat_id),
        c.message_id.to_string(),
        c.credit_id.clone(),
        c.event_id.clone(),
        c.currency.clone().unwrap_or_default(),
        c.expected_currency.clone(),
        c.date.to_string(),
        c.received_at.to_string(),
        REVERSAL_WINDOW_MS.to_string(),
        EARLY_TOLERANCE_MS.to_string(),
        fields.len().to_string(),
    ];
    for (name, value) in fields {
        args.push(name.to_string());
        args.push(value);
    }
    args.extend(c.cards.iter().map(|card| codec::hold_field(card, c.amount)));
    let mut reply = codec::array(store.run(&REVERSE, &args).await?)?.into_iter();
    match tag(&mut reply)?.as_str() {
        "duplicate" => Ok(ApplyOutcome::Duplicate),
        "unmatched" => {
            let reason = tag(&mut reply)?;
            let credit = credit_record(
                &c,
                CreditKind::Reversal,
                CreditOutcome::Unmatched,
                None,
                Some(reason),
            );
            Ok(ApplyOutcome::Unmatched { credit })
        }
        "reversed" => {
            let transaction = tx_of(reply.next())?;
            let credit = credit_record(
                &c,
                CreditKind::Reversal,
                CreditOutcome::Reversed,
                Some(&transaction.id),
                None,
            );
            Ok(ApplyOutcome::Reversed {
                transaction,
                credit,
            })
        }
        other => Err(StoreError::Corrupt(format!("reverse replied {other}"))),
    }
}
