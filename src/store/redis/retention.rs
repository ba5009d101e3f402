//! Bounded storage: the retention step (`lua/prune.lua`) and the held-amount
//! counts behind `/metrics`, which read the allocation index of each
//! configured card (a fixed number of O(1) `ZCARD`s) instead of walking the
//! keyspace, so a scrape costs the same at 10 keys and at 10 million.

use redis::Value;

use super::{P, PRUNE, RedisStore, codec, map_err};
use crate::model::Millis;
use crate::store::{Pruned, StoreError};

pub(super) async fn prune(
    store: &RedisStore,
    now: Millis,
    cutoff: Millis,
    max: usize,
) -> Result<Pruned, StoreError> {
    let args = [
        now.to_string(),
        cutoff.to_string(),
        store.settings.grace_ms.to_string(),
        store.settings.idempotency_ms.to_string(),
        max.max(1).to_string(),
        crate::store::REVERSAL_WINDOW_MS.to_string(),
    ];
    let counts = codec::array(store.run(&PRUNE, &args).await?)?;
    let count = |i: usize| match counts.get(i) {
        Some(Value::Int(n)) => usize::try_from(*n).unwrap_or(0),
        _ => 0,
    };
    Ok(Pruned {
        transactions: count(0),
        credits: count(1),
        seen: count(2),
        audit: count(3),
    })
}

/// Amounts a card holds: the size of its allocation index, one sorted set
/// per minor-unit remainder (`grid:<card>|0` .. `|99`). An ended amount
/// leaves the index at most one expiry sweep (about a second) after its
/// grace, so the count includes pending and recently ended transactions.
pub(super) async fn held_counts(
    store: &RedisStore,
    cards: &[String],
) -> Result<Vec<(String, u64)>, StoreError> {
    if cards.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for card in cards {
        for frac in 0..100 {
            pipe.zcard(format!("{P}grid:{card}|{frac}"));
        }
    }
    let mut conn = store.conn().await?;
    let sizes: Vec<u64> = pipe.query_async(&mut conn).await.map_err(map_err)?;
    Ok(cards
        .iter()
        .zip(sizes.chunks(100))
        .map(|(card, chunk)| (card.clone(), chunk.iter().sum()))
        .collect())
}
