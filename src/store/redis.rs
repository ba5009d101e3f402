//! The production store: every mutation is one Lua script (files in `lua/`,
//! each prefixed with `lua/lib.lua`), so it is atomic even with several paycue
//! processes sharing one Redis. Reads that need no atomicity are plain
//! pipelined commands.
//!
//! Connecting is lazy and self-healing: `open` does not touch the network;
//! the first command connects, and after Redis goes away the connection
//! manager reconnects while callers get `StoreError::Unavailable` (HTTP 503)
//! instead of hanging. Scripts are sent by SHA and reloaded automatically
//! when a restarted Redis no longer knows them.
//!
//! Keys (all under `paycue:`): `tx:<id>` (hash) with `tx:<id>:events` (list
//! of event ids); `hold:<card>|<minor amount>` -> `<tx id>|<release ms, or
//! empty while pending>` (expiring by itself at the release); `deadlines` (zset of pending transactions by deadline); `txs:all`,
//! `txs:<status>` and `credits:<late|unmatched>` (zsets by the `seq` counter,
//! for listings); `credit:<id>`, `event:<id>` (hashes) and
//! `event:<id>:attempts` (list of JSON); `outbox` (zset of undelivered event
//! ids by due time); `seen:<chat>` (set of message ids) and `last_message`
//! (hash chat -> highest id); `idem:<key>` (string with a 24 h TTL).

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};
use tokio::sync::OnceCell;

use super::redis_codec::{self as codec, Fields};
use super::{
    ApplyOutcome, AttemptResult, CancelOutcome, CreateOutcome, IncomingCredit, NewTransaction,
    Store, StoreError, StoreSettings,
};
use crate::model::{
    Attempt, CreditOutcome, CreditRecord, Delivery, Event, Millis, Transaction, TxStatus,
};
use crate::store::memory::EARLY_TOLERANCE_MS;

const P: &str = "paycue:";
/// Candidate slots sent to the first create script call; each further call
/// takes four times as many, up to `MAX_PAGE` (Lua's unpack() stack limit is
/// about 8000).
const FIRST_PAGE: usize = 32;
const MAX_PAGE: usize = 2048;

/// `slots` cut into pages of 32, 128, 512, 2048, 2048, ...
fn pages<T>(slots: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = slots;
    let mut size = FIRST_PAGE;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (page, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        size = (size * 4).min(MAX_PAGE);
        Some(page)
    })
}

macro_rules! script {
    ($file:literal) => {
        LazyLock::new(|| {
            Script::new(concat!(
                include_str!("lua/lib.lua"),
                "\n",
                include_str!(concat!("lua/", $file))
            ))
        })
    };
}

static CREATE: LazyLock<Script> = script!("create.lua");
static APPLY: LazyLock<Script> = script!("apply.lua");
static MARK_SEEN: LazyLock<Script> = script!("mark_seen.lua");
static CANCEL: LazyLock<Script> = script!("cancel.lua");
static EXPIRE: LazyLock<Script> = script!("expire.lua");
static CLAIM: LazyLock<Script> = script!("claim.lua");
static FINISH: LazyLock<Script> = script!("finish.lua");
static REDELIVER: LazyLock<Script> = script!("redeliver.lua");

pub struct RedisStore {
    client: Result<redis::Client, String>,
    conn: OnceCell<ConnectionManager>,
    settings: StoreSettings,
}

impl RedisStore {
    /// Does not connect yet: the first command does, and reconnects after.
    /// A malformed URL is reported by every call (config validates it first).
    pub fn open(url: &str, settings: StoreSettings) -> RedisStore {
        RedisStore {
            client: redis::Client::open(url).map_err(|e| e.to_string()),
            conn: OnceCell::new(),
            settings,
        }
    }

    async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        let client = self.client.as_ref().map_err(|e| unavailable(e.clone()))?;
        let conn = self
            .conn
            .get_or_try_init(|| async {
                // Fail fast while Redis is away: the API answers 503 and the
                // next call tries again, rather than requests piling up.
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Duration::from_secs(2))
                    .set_response_timeout(Duration::from_secs(5))
                    .set_number_of_retries(1)
                    .set_max_delay(500);
                ConnectionManager::new_with_config(client.clone(), config)
                    .await
                    .map_err(map_err)
            })
            .await?;
        Ok(conn.clone())
    }

    async fn run(&self, script: &Script, args: &[String]) -> Result<Value, StoreError> {
        let mut conn = self.conn().await?;
        let mut call = script.prepare_invoke();
        for a in args {
            call.arg(a);
        }
        call.invoke_async(&mut conn).await.map_err(map_err)
    }

    async fn query(&self, cmd: &redis::Cmd) -> Result<Value, StoreError> {
        let mut conn = self.conn().await?;
        cmd.query_async(&mut conn).await.map_err(map_err)
    }

    /// HGETALL of many keys in one round trip.
    async fn hashes(&self, keys: &[String]) -> Result<Vec<Fields>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for k in keys {
            pipe.hgetall(k);
        }
        let mut conn = self.conn().await?;
        let replies: Vec<Value> = pipe.query_async(&mut conn).await.map_err(map_err)?;
        replies.into_iter().map(Fields::from_value).collect()
    }

    fn grace(&self) -> String {
        self.settings.grace_ms.to_string()
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Our scripts signal broken data with a `PAYCUE_CORRUPT` error reply and a
/// script bug shows as a script error; everything else (refused, dropped,
/// timed out, loading) means Redis is not reachable right now.
fn map_err(e: redis::RedisError) -> StoreError {
    let text = e.to_string();
    if e.code() == Some("PAYCUE_CORRUPT") || text.contains("user_script") {
        StoreError::Corrupt(text)
    } else {
        StoreError::Unavailable(text)
    }
}

fn tag(items: &mut std::vec::IntoIter<Value>) -> Result<String, StoreError> {
    items
        .next()
        .map(codec::string)
        .transpose()?
        .ok_or_else(|| StoreError::Corrupt("empty script reply".into()))
}

fn tx_of(v: Option<Value>) -> Result<Transaction, StoreError> {
    let fields = Fields::from_value(v.unwrap_or(Value::Nil))?;
    codec::transaction(&fields)
}

/// The credit record as the script wrote it.
fn credit_record(
    c: &IncomingCredit,
    outcome: CreditOutcome,
    tx: Option<&str>,
    reason: Option<String>,
) -> CreditRecord {
    CreditRecord {
        id: c.credit_id.clone(),
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
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn create(&self, new: NewTransaction) -> Result<CreateOutcome, StoreError> {
        let (ikey, ifp) = new.idempotency.clone().unwrap_or_default();
        let header = [
            new.id.clone(),
            new.requested_amount.minor().to_string(),
            new.currency.clone(),
            new.created_at.to_string(),
            new.expires_at.to_string(),
            new.metadata
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_default(),
            ikey,
            ifp,
            self.settings.idempotency_ms.to_string(),
        ];
        // Candidates go in growing pages, smallest first: the usual case (a
        // free slot among the first few dozen) is one small script call
        // whatever LIMIT is, and a crowded price costs a few calls, not one per
        // held amount. Each page is atomic on its own, which is all uniqueness
        // needs.
        for (page_no, page) in pages(&new.candidates).enumerate() {
            let mut args = header.to_vec();
            args.extend(page.iter().map(|s| codec::hold_field(&s.card, s.amount)));
            let mut reply = codec::array(self.run(&CREATE, &args).await?)?.into_iter();
            match tag(&mut reply)?.as_str() {
                "nofree" => continue,
                "created" => {
                    let slot = tag(&mut reply)?
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| page.get(i))
                        .ok_or_else(|| StoreError::Corrupt("bad slot index".into()))?;
                    tracing::trace!(page = page_no, "amount reserved");
                    return Ok(CreateOutcome::Created(Transaction {
                        id: new.id,
                        status: TxStatus::Pending,
                        amount: slot.amount,
                        requested_amount: new.requested_amount,
                        card: (!slot.card.is_empty()).then(|| slot.card.clone()),
                        currency: new.currency,
                        created_at: new.created_at,
                        expires_at: new.expires_at,
                        ended_at: None,
                        cancel_reason: None,
                        metadata: new.metadata,
                        paid_by: None,
                        late_credits: Vec::new(),
                        last_event: None,
                    }));
                }
                "replayed" => return Ok(CreateOutcome::Replayed(tx_of(reply.next())?)),
                "conflict" => return Ok(CreateOutcome::IdempotencyConflict),
                other => return Err(StoreError::Corrupt(format!("create replied {other}"))),
            }
        }
        Ok(CreateOutcome::NoFreeAmount)
    }

    async fn get(&self, id: &str) -> Result<Option<Transaction>, StoreError> {
        let fields = Fields::from_value(
            self.query(redis::cmd("HGETALL").arg(format!("{P}tx:{id}")))
                .await?,
        )?;
        if fields.is_empty() {
            return Ok(None);
        }
        codec::transaction(&fields).map(Some)
    }

    async fn list(
        &self,
        status: Option<TxStatus>,
        limit: usize,
    ) -> Result<Vec<Transaction>, StoreError> {
        let index = status.map(TxStatus::as_str).unwrap_or("all");
        let ids = self.newest(&format!("{P}txs:{index}"), limit).await?;
        let keys: Vec<String> = ids.iter().map(|id| format!("{P}tx:{id}")).collect();
        // A record removed by hand leaves its id in the index: skip it.
        self.hashes(&keys)
            .await?
            .iter()
            .filter(|f| !f.is_empty())
            .map(codec::transaction)
            .collect()
    }

    async fn cancel(
        &self,
        id: &str,
        event_id: &str,
        now: Millis,
    ) -> Result<CancelOutcome, StoreError> {
        let args = [
            id.to_string(),
            event_id.to_string(),
            now.to_string(),
            self.grace(),
        ];
        let mut reply = codec::array(self.run(&CANCEL, &args).await?)?.into_iter();
        match tag(&mut reply)?.as_str() {
            "notfound" => Ok(CancelOutcome::NotFound),
            "notpending" => Ok(CancelOutcome::NotPending(tx_of(reply.next())?)),
            "cancelled" => Ok(CancelOutcome::Cancelled(tx_of(reply.next())?)),
            other => Err(StoreError::Corrupt(format!("cancel replied {other}"))),
        }
    }

    async fn expire_due(
        &self,
        now: Millis,
        event_ids: &[String],
    ) -> Result<Vec<Transaction>, StoreError> {
        let mut args = vec![now.to_string(), self.grace()];
        args.extend(event_ids.iter().cloned());
        codec::array(self.run(&EXPIRE, &args).await?)?
            .into_iter()
            .map(|v| tx_of(Some(v)))
            .collect()
    }

    async fn mark_seen(&self, chat_id: i64, message_id: i64) -> Result<bool, StoreError> {
        let args = [chat_id.to_string(), message_id.to_string()];
        Ok(matches!(self.run(&MARK_SEEN, &args).await?, Value::Int(1)))
    }

    async fn apply_credit(&self, c: IncomingCredit) -> Result<ApplyOutcome, StoreError> {
        let fields = codec::credit_fields(&c);
        let mut args = vec![
            c.chat_id.to_string(),
            c.message_id.to_string(),
            c.credit_id.clone(),
            c.event_id.clone(),
            c.cancel_event_id.clone(),
            c.amount.minor().to_string(),
            c.currency.clone().unwrap_or_default(),
            c.expected_currency.clone(),
            c.date.to_string(),
            c.received_at.to_string(),
            self.grace(),
            EARLY_TOLERANCE_MS.to_string(),
            fields.len().to_string(),
        ];
        for (name, value) in fields {
            args.push(name.to_string());
            args.push(value);
        }
        args.extend(c.cards.iter().map(|card| codec::hold_field(card, c.amount)));
        let mut reply = codec::array(self.run(&APPLY, &args).await?)?.into_iter();
        match tag(&mut reply)?.as_str() {
            "duplicate" => Ok(ApplyOutcome::Duplicate),
            "unmatched" => {
                let reason = tag(&mut reply)?;
                let credit = credit_record(&c, CreditOutcome::Unmatched, None, Some(reason));
                Ok(ApplyOutcome::Unmatched { credit })
            }
            "confirmed" => {
                let transaction = tx_of(reply.next())?;
                let credit =
                    credit_record(&c, CreditOutcome::Confirmed, Some(&transaction.id), None);
                Ok(ApplyOutcome::Confirmed {
                    transaction,
                    credit,
                })
            }
            "late" => {
                let transaction = tx_of(reply.next())?;
                let credit = credit_record(&c, CreditOutcome::Late, Some(&transaction.id), None);
                Ok(ApplyOutcome::Late {
                    transaction,
                    credit,
                })
            }
            other => Err(StoreError::Corrupt(format!("apply replied {other}"))),
        }
    }

    async fn last_message_id(&self, chat_id: i64) -> Result<Option<i64>, StoreError> {
        let v = self
            .query(
                redis::cmd("HGET")
                    .arg(format!("{P}last_message"))
                    .arg(chat_id),
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

    async fn list_credits(
        &self,
        outcome: CreditOutcome,
        limit: usize,
    ) -> Result<Vec<CreditRecord>, StoreError> {
        let index = match outcome {
            CreditOutcome::Late => "late",
            CreditOutcome::Unmatched => "unmatched",
            // Confirmed credits are reached through their transaction.
            CreditOutcome::Confirmed => return Ok(Vec::new()),
        };
        let ids = self.newest(&format!("{P}credits:{index}"), limit).await?;
        let keys: Vec<String> = ids.iter().map(|id| format!("{P}credit:{id}")).collect();
        // A record removed by hand leaves its id in the index: skip it.
        self.hashes(&keys)
            .await?
            .iter()
            .filter(|f| !f.is_empty())
            .map(codec::credit)
            .collect()
    }

    async fn claim_event(
        &self,
        now: Millis,
        lease_ms: i64,
    ) -> Result<Option<Delivery>, StoreError> {
        let args = [now.to_string(), lease_ms.to_string()];
        let mut reply = codec::array(self.run(&CLAIM, &args).await?)?.into_iter();
        let (Some(event), Some(attempts), Some(tx), Some(credit)) =
            (reply.next(), reply.next(), reply.next(), reply.next())
        else {
            return Ok(None);
        };
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
        }))
    }

    async fn finish_attempt(
        &self,
        event_id: &str,
        attempt: Attempt,
        result: AttemptResult,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(&attempt)
            .map_err(|e| StoreError::Corrupt(format!("attempt: {e}")))?;
        let (result, at) = match result {
            AttemptResult::Delivered => ("delivered", 0),
            AttemptResult::RetryAt(at) => ("retry", at),
            AttemptResult::Failed => ("failed", 0),
        };
        let args = [
            event_id.to_string(),
            json,
            result.to_string(),
            at.to_string(),
        ];
        self.run(&FINISH, &args).await.map(|_| ())
    }

    async fn redeliver(
        &self,
        transaction_id: &str,
        now: Millis,
    ) -> Result<Option<String>, StoreError> {
        let args = [transaction_id.to_string(), now.to_string()];
        match self.run(&REDELIVER, &args).await? {
            Value::Nil => Ok(None),
            other => codec::string(other).map(Some),
        }
    }

    async fn events(&self, transaction_id: &str) -> Result<Vec<Event>, StoreError> {
        let list = redis::cmd("LRANGE")
            .arg(format!("{P}tx:{transaction_id}:events"))
            .arg(0)
            .arg(-1)
            .to_owned();
        let ids = codec::strings(self.query(&list).await?)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.hgetall(format!("{P}event:{id}"));
            pipe.lrange(format!("{P}event:{id}:attempts"), 0, -1);
        }
        let mut conn = self.conn().await?;
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

    async fn held_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        // A scan over the hold keys: only for metrics, and bounded by the
        // number of amounts held (pending or in their grace window).
        let now = crate::model::now_millis();
        let prefix = format!("{P}hold:");
        let mut conn = self.conn().await?;
        let mut counts = std::collections::BTreeMap::<String, u64>::new();
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{prefix}*"))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(map_err)?;
            if !keys.is_empty() {
                let values: Vec<Option<String>> = redis::cmd("MGET")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await
                    .map_err(map_err)?;
                for (key, value) in keys.iter().zip(values) {
                    let release = value.as_deref().and_then(|v| v.rsplit_once('|'));
                    let held = release.is_some_and(|(_, r)| {
                        r.is_empty() || r.parse::<i64>().is_ok_and(|r| r > now)
                    });
                    if held {
                        let field = key.strip_prefix(&prefix).unwrap_or(key);
                        *counts
                            .entry(codec::hold_card(field).to_string())
                            .or_default() += 1;
                    }
                }
            }
            if next == 0 {
                return Ok(counts.into_iter().collect());
            }
            cursor = next;
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.query(&redis::cmd("PING")).await.map(|_| ())
    }
}

impl RedisStore {
    /// Members of a sorted set, highest score (newest) first.
    async fn newest(&self, key: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        let stop = limit.saturating_sub(1) as i64;
        let cmd = redis::cmd("ZREVRANGE").arg(key).arg(0).arg(stop).to_owned();
        codec::strings(self.query(&cmd).await?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pages_grow_and_cover_every_slot_in_order() {
        let slots: Vec<usize> = (0..5000).collect();
        let sizes: Vec<usize> = super::pages(&slots).map(<[usize]>::len).collect();
        assert_eq!(sizes, vec![32, 128, 512, 2048, 2048, 232]);
        let joined: Vec<usize> = super::pages(&slots).flatten().copied().collect();
        assert_eq!(joined, slots);
        assert_eq!(super::pages::<usize>(&[]).count(), 0);
    }
}
