//! Paging through transactions newest first (`Store::scan`): the listing
//! indexes `txs:all` / `txs:<status>` are sorted sets scored by the
//! creation counter, so a page is one `ZREVRANGEBYSCORE` below the cursor
//! plus one pipelined `HGETALL` per transaction.

use redis::Value;

use super::codec;
use super::{P, RedisStore};
use crate::listing::{Cursor, Scanned};
use crate::model::TxStatus;
use crate::store::StoreError;

pub(super) async fn scan(
    store: &RedisStore,
    status: Option<TxStatus>,
    before: Option<Cursor>,
    count: usize,
) -> Result<Scanned, StoreError> {
    let index = status.map(TxStatus::as_str).unwrap_or("all");
    let max = match before {
        Some(seq) => format!("({seq}"),
        None => "+inf".into(),
    };
    // One more than asked, to know whether the index goes on.
    let cmd = redis::cmd("ZREVRANGEBYSCORE")
        .arg(format!("{P}txs:{index}"))
        .arg(max)
        .arg("-inf")
        .arg("WITHSCORES")
        .arg("LIMIT")
        .arg(0)
        .arg(count + 1)
        .to_owned();
    let flat = codec::array(store.query(&cmd).await?)?;
    let mut ids = Vec::with_capacity(count);
    let mut it = flat.into_iter();
    while let (Some(id), Some(score)) = (it.next(), it.next()) {
        let score = match score {
            Value::Double(d) => d.to_string(),
            other => codec::string(other)?,
        };
        let seq: Cursor = score
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("listing score {score}")))?;
        ids.push((seq, codec::string(id)?));
    }
    let more = ids.len() > count;
    ids.truncate(count);
    let keys: Vec<String> = ids.iter().map(|(_, id)| format!("{P}tx:{id}")).collect();
    let hashes = store.hashes(&keys).await?;
    let mut transactions = Vec::with_capacity(ids.len());
    for ((seq, _), fields) in ids.into_iter().zip(hashes) {
        // A record removed by hand leaves its id in the index: skip it.
        if !fields.is_empty() {
            transactions.push((seq, codec::transaction(&fields)?));
        }
    }
    Ok(Scanned { transactions, more })
}
