//! The webhook outbox: claiming a due event under a lease, recording an
//! attempt, queueing an event again, and reading a transaction's events. An
//! event's body is built from records that never change, so every retry sends
//! the same bytes under the same id.

use redis::Value;

use super::codec::{self, Fields};
use super::{CLAIM, FINISH, P, REDELIVER, RedisStore, map_err, tx_of};
use crate::model::{Attempt, Delivery, Event, Millis};
use crate::store::{AttemptResult, StoreError};

pub(super) async fn claim_event(
    store: &RedisStore,
    now: Millis,
    lease_ms: i64,
) -> Result<Option<Delivery>, StoreError> {
    let args = [now.to_string(), lease_ms.to_string()];
    let mut reply = codec::array(store.run(&CLAIM, &args).await?)?.into_iter();
    let (Some(event), Some(attempts), Some(tx), Some(credit), Some(claim), Some(series)) = (
        reply.next(),
        reply.next(),
        reply.next(),
        reply.next(),
        reply.next(),
        reply.next(),
    ) else {
        return Ok(None);
    };
    let count = |v: Value, what: &str| match v {
        Value::Int(n) if n >= 0 => Ok(n as u64),
        other => Err(StoreError::Corrupt(format!("{what}: {other:?}"))),
    };
    let claim = count(claim, "claim token")?;
    let series_from = count(series, "series")? as usize;
    let event = codec::event(&Fields::from_value(event)?, codec::strings(attempts)?)?;
    let credit = Fields::from_value(credit)?;
    Ok(Some(Delivery {
        event,
        transaction: tx_of(Some(tx))?,
        credit: if credit.is_empty() {
            None
        } else {
            Some(codec::credit(&credit)?)
        },
        claim,
        series_from,
    }))
}

pub(super) async fn finish_attempt(
    store: &RedisStore,
    event_id: &str,
    claim: u64,
    attempt: Attempt,
    result: AttemptResult,
) -> Result<bool, StoreError> {
    let json = serde_json::to_string(&attempt)
        .map_err(|e| StoreError::Corrupt(format!("attempt: {e}")))?;
    let (result, at) = match result {
        AttemptResult::Delivered => ("delivered", 0),
        AttemptResult::RetryAt(at) => ("retry", at),
        AttemptResult::Failed => ("failed", 0),
    };
    let args = [
        event_id.to_string(),
        claim.to_string(),
        json,
        result.to_string(),
        at.to_string(),
        crate::model::now_millis().to_string(),
    ];
    // finish.lua answers 1 when this attempt's result stands.
    let stands = store.run(&FINISH, &args).await?;
    Ok(matches!(stands, redis::Value::Int(1)))
}

pub(super) async fn redeliver(
    store: &RedisStore,
    transaction_id: &str,
    now: Millis,
) -> Result<Option<String>, StoreError> {
    let args = [transaction_id.to_string(), now.to_string()];
    match store.run(&REDELIVER, &args).await? {
        Value::Nil => Ok(None),
        other => codec::string(other).map(Some),
    }
}

pub(super) async fn events(
    store: &RedisStore,
    transaction_id: &str,
) -> Result<Vec<Event>, StoreError> {
    let list = redis::cmd("LRANGE")
        .arg(format!("{P}tx:{transaction_id}:events"))
        .arg(0)
        .arg(-1)
        .to_owned();
    let ids = codec::strings(store.query(&list).await?)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for id in &ids {
        pipe.hgetall(format!("{P}event:{id}"));
        pipe.lrange(format!("{P}event:{id}:attempts"), 0, -1);
    }
    let mut conn = store.conn().await?;
    let replies: Vec<Value> = pipe.query_async(&mut conn).await.map_err(map_err)?;
    let mut it = replies.into_iter();
    let mut out = Vec::with_capacity(ids.len());
    while let (Some(event), Some(attempts)) = (it.next(), it.next()) {
        out.push(codec::event(
            &Fields::from_value(event)?,
            codec::strings(attempts)?,
        )?);
    }
    Ok(out)
}
