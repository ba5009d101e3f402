//! Lookups and listings: plain (pipelined) reads that need no atomicity.
//! Listings are newest first by the `seq` counter the scripts write.

use redis::Value;

use super::codec::{self, Fields};
use super::{P, RedisStore};
use crate::model::{CreditOutcome, CreditRecord, Transaction, TxStatus};
use crate::store::StoreError;

pub(super) async fn get(store: &RedisStore, id: &str) -> Result<Option<Transaction>, StoreError> {
    let fields = Fields::from_value(
        store
            .query(redis::cmd("HGETALL").arg(format!("{P}tx:{id}")))
            .await?,
    )?;
    if fields.is_empty() {
        return Ok(None);
    }
    codec::transaction(&fields).map(Some)
}

pub(super) async fn list(
    store: &RedisStore,
    status: Option<TxStatus>,
    limit: usize,
) -> Result<Vec<Transaction>, StoreError> {
    let index = status.map(TxStatus::as_str).unwrap_or("all");
    let ids = newest(store, &format!("{P}txs:{index}"), limit).await?;
    let keys: Vec<String> = ids.iter().map(|id| format!("{P}tx:{id}")).collect();
    // A record removed by hand leaves its id in the index: skip it.
    store
        .hashes(&keys)
        .await?
        .iter()
        .filter(|f| !f.is_empty())
        .map(codec::transaction)
        .collect()
}

pub(super) async fn last_message_id(
    store: &RedisStore,
    chat_key: &str,
) -> Result<Option<i64>, StoreError> {
    let v = store
        .query(
            redis::cmd("HGET")
                .arg(format!("{P}last_message"))
                .arg(chat_key),
        )
        .await?;
    match v {
        Value::Nil => Ok(None),
        other => codec::string(other)?
            .parse()
            .map(Some)
            .map_err(|_| StoreError::Corrupt("last message id is not a number".into())),
    }
}

pub(super) async fn list_credits(
    store: &RedisStore,
    outcome: CreditOutcome,
    limit: usize,
) -> Result<Vec<CreditRecord>, StoreError> {
    let index = match outcome {
        CreditOutcome::Late => "late",
        CreditOutcome::Unmatched => "unmatched",
        CreditOutcome::Reversed => "reversed",
        // Confirmed credits are reached through their transaction.
        CreditOutcome::Confirmed => return Ok(Vec::new()),
    };
    let ids = newest(store, &format!("{P}credits:{index}"), limit).await?;
    let keys: Vec<String> = ids.iter().map(|id| format!("{P}credit:{id}")).collect();
    // A record removed by hand leaves its id in the index: skip it.
    store
        .hashes(&keys)
        .await?
        .iter()
        .filter(|f| !f.is_empty())
        .map(codec::credit)
        .collect()
}

/// A write, not a PING: Redis answers PING while it refuses every write
/// (out of memory, read-only replica, failed save), and paycue is of no use
/// then. The key expires by itself.
pub(super) async fn ping(store: &RedisStore) -> Result<(), StoreError> {
    let probe = redis::cmd("SET")
        .arg(format!("{P}health"))
        .arg(crate::model::now_millis())
        .arg("PX")
        .arg(60_000)
        .to_owned();
    store.query(&probe).await.map(|_| ())
}

/// Members of a sorted set, highest score (newest) first.
async fn newest(store: &RedisStore, key: &str, limit: usize) -> Result<Vec<String>, StoreError> {
    let stop = limit.saturating_sub(1) as i64;
    let cmd = redis::cmd("ZREVRANGE").arg(key).arg(0).arg(stop).to_owned();
    codec::strings(store.query(&cmd).await?)
}
