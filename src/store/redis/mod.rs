//! The production store: every mutation is one Lua script (files in `lua/`,
//! each prefixed with `lua/lib.lua`), so it is atomic even with several paycue
//! processes sharing one Redis. Reads that need no atomicity are plain
//! pipelined commands. This file holds the connection and the `Store` impl;
//! `writes` (allocation, matching, expiry), `outbox` (webhook events) and
//! `reads` (lookups and listings) hold the bodies, `codec` the record layout.
//!
//! Connecting is lazy and self-healing: `open` does not touch the network;
//! the first command connects, and after Redis goes away the connection
//! manager reconnects while callers get `StoreError::Unavailable` (HTTP 503)
//! instead of hanging. Scripts are sent by SHA and reloaded automatically
//! when a restarted Redis no longer knows them.
//!
//! Keys (all under `paycue:`): `tx:<id>` (hash) with `tx:<id>:events` (list
//! of event ids); `hold:<card>|<minor amount>` -> `<tx id>|<release ms, or
//! empty while pending>` (expiring by itself at the release);
//! `grid:<card>|<minor remainder>` (zset of the amounts taken on a card, by
//! whole units: the allocation index) with `hold_release` (zset of ended
//! holds by release time, to clean the index); `deadlines`
//! (zset of pending transactions by deadline); `txs:all`,
//! `txs:<status>` and `credits:<late|unmatched|reversed>` (zsets by the `seq` counter,
//! for listings); `credit:<id>`, `event:<id>` (hashes) and
//! `event:<id>:attempts` (list of JSON); `paid:<card>|<minor amount>` (zset
//! of the confirming credits of that slot by their date, not yet reversed:
//! what a reversal message is matched against); `outbox` (zset of undelivered event
//! ids by due time); `seen_at:<chat>` (zset of applied message ids by when)
//! with `seen_floor` (hash chat -> highest id retention removed: ids up to
//! it count as seen; `seen:<chat>` sets of older versions are read and moved
//! over) and `last_message` (hash chat -> highest id); `expiry_hold:<holder>`
//! (expiring) listed in `expiry_holders` (set); `idem:<key>` (string
//! with a 24 h TTL); `audit` (zset of JSON entries of manual actions by
//! time, `manual.lua`). `prune.lua` removes what ended before `RETENTION`.

use std::sync::LazyLock;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::{Script, Value};

use super::{
    ApplyOutcome, AttemptResult, CancelOutcome, CreateOutcome, IncomingCredit, NewTransaction,
    Pruned, Store, StoreError, StoreSettings,
};
use crate::model::{
    Attempt, CreditOutcome, CreditRecord, Delivery, Event, Millis, Transaction, TxStatus,
};
use codec::Fields;
use errors::map_err;
pub use link::Link;

mod codec;
mod console;
mod errors;
mod link;
mod manual;
mod outbox;
mod reads;
mod retention;
mod reversal;
mod scan;
mod writes;

/// Every key paycue writes starts with this.
const P: &str = "paycue:";

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

pub(super) static CREATE: LazyLock<Script> = script!("create.lua");
static APPLY: LazyLock<Script> = script!("apply.lua");
static MARK_SEEN: LazyLock<Script> = script!("mark_seen.lua");
static CANCEL: LazyLock<Script> = script!("cancel.lua");
static EXPIRE: LazyLock<Script> = script!("expire.lua");
static CLAIM: LazyLock<Script> = script!("claim.lua");
static FINISH: LazyLock<Script> = script!("finish.lua");
static REDELIVER: LazyLock<Script> = script!("redeliver.lua");
static REVERSE: LazyLock<Script> = script!("reverse.lua");
static PRUNE: LazyLock<Script> = script!("prune.lua");
static EXPIRY_HOLD: LazyLock<Script> = script!("expiry_hold.lua");
static MANUAL: LazyLock<Script> = script!("manual.lua");

/// What a Redis error means for paycue (for other Redis users: the alert state).
pub fn map_redis_error(e: redis::RedisError) -> StoreError {
    map_err(e)
}

pub struct RedisStore {
    link: Link,
    settings: StoreSettings,
}

impl RedisStore {
    /// Does not connect yet: the first command does, and reconnects after.
    /// A malformed URL is reported by every call (config validates it first).
    pub fn open(url: &str, settings: StoreSettings) -> RedisStore {
        RedisStore {
            link: Link::open(url),
            settings,
        }
    }

    async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        self.link.get().await
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

#[async_trait]
impl Store for RedisStore {
    async fn create(&self, new: NewTransaction) -> Result<CreateOutcome, StoreError> {
        writes::create(self, new).await
    }

    async fn get(&self, id: &str) -> Result<Option<Transaction>, StoreError> {
        reads::get(self, id).await
    }

    async fn list(
        &self,
        status: Option<TxStatus>,
        limit: usize,
    ) -> Result<Vec<Transaction>, StoreError> {
        reads::list(self, status, limit).await
    }

    async fn cancel(
        &self,
        id: &str,
        event_id: &str,
        now: Millis,
    ) -> Result<CancelOutcome, StoreError> {
        writes::cancel(self, id, event_id, now).await
    }

    async fn expire_due(
        &self,
        now: Millis,
        event_ids: &[String],
    ) -> Result<Vec<Transaction>, StoreError> {
        writes::expire_due(self, now, event_ids).await
    }

    async fn mark_seen(
        &self,
        scope: &str,
        chat_id: i64,
        message_id: i64,
    ) -> Result<bool, StoreError> {
        writes::mark_seen(self, &crate::store::chat_key(scope, chat_id), message_id).await
    }

    async fn apply_credit(&self, c: IncomingCredit) -> Result<ApplyOutcome, StoreError> {
        writes::apply_credit(self, c).await
    }

    async fn apply_reversal(&self, c: IncomingCredit) -> Result<ApplyOutcome, StoreError> {
        reversal::apply_reversal(self, c).await
    }

    async fn last_message_id(&self, scope: &str, chat_id: i64) -> Result<Option<i64>, StoreError> {
        reads::last_message_id(self, &crate::store::chat_key(scope, chat_id)).await
    }

    async fn chat_scope(&self, account: i64) -> Result<String, StoreError> {
        let key = format!("{P}chat_owner");
        let claim = redis::cmd("SET")
            .arg(&key)
            .arg(account)
            .arg("NX")
            .to_owned();
        self.query(&claim).await?;
        let owner = codec::string(self.query(&redis::cmd("GET").arg(&key).to_owned()).await?)?;
        Ok(if owner == account.to_string() {
            String::new()
        } else {
            format!("{account}:")
        })
    }

    async fn list_credits(
        &self,
        outcome: CreditOutcome,
        limit: usize,
    ) -> Result<Vec<CreditRecord>, StoreError> {
        reads::list_credits(self, outcome, limit).await
    }

    async fn claim_event(
        &self,
        now: Millis,
        lease_ms: i64,
    ) -> Result<Option<Delivery>, StoreError> {
        outbox::claim_event(self, now, lease_ms).await
    }

    async fn finish_attempt(
        &self,
        event_id: &str,
        claim: u64,
        attempt: Attempt,
        result: AttemptResult,
    ) -> Result<bool, StoreError> {
        outbox::finish_attempt(self, event_id, claim, attempt, result).await
    }

    async fn redeliver(
        &self,
        transaction_id: &str,
        now: Millis,
    ) -> Result<Option<String>, StoreError> {
        outbox::redeliver(self, transaction_id, now).await
    }

    async fn scan(
        &self,
        status: Option<TxStatus>,
        before: Option<crate::listing::Cursor>,
        count: usize,
    ) -> Result<crate::listing::Scanned, StoreError> {
        scan::scan(self, status, before, count).await
    }

    async fn events(&self, transaction_id: &str) -> Result<Vec<Event>, StoreError> {
        outbox::events(self, transaction_id).await
    }

    async fn held_counts(&self, cards: &[String]) -> Result<Vec<(String, u64)>, StoreError> {
        retention::held_counts(self, cards).await
    }

    async fn prune(&self, now: Millis, cutoff: Millis, max: usize) -> Result<Pruned, StoreError> {
        retention::prune(self, now, cutoff, max).await
    }

    async fn settle_by_hand(
        &self,
        entry: &crate::manual::AuditEntry,
        paid_cards: &[String],
    ) -> Result<crate::manual::ManualOutcome, StoreError> {
        manual::settle_by_hand(self, entry, paid_cards).await
    }

    async fn credit(&self, id: &str) -> Result<Option<CreditRecord>, StoreError> {
        let mut found = self.hashes(&[format!("{P}credit:{id}")]).await?;
        match found.pop() {
            Some(f) if !f.is_empty() => Ok(Some(codec::credit(&f)?)),
            _ => Ok(None),
        }
    }

    async fn audit(&self, limit: usize) -> Result<Vec<crate::manual::AuditEntry>, StoreError> {
        manual::audit(self, limit).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        reads::ping(self).await
    }

    async fn hold_expiry(&self, holder: &str, ttl_ms: i64) -> Result<(), StoreError> {
        let args = ["hold".into(), holder.into(), ttl_ms.max(1).to_string()];
        self.run(&EXPIRY_HOLD, &args).await.map(|_| ())
    }

    async fn release_expiry(&self, holder: &str) -> Result<(), StoreError> {
        let args = ["release".into(), holder.into()];
        self.run(&EXPIRY_HOLD, &args).await.map(|_| ())
    }

    async fn expiry_held(&self) -> Result<bool, StoreError> {
        let args = ["held".into(), String::new()];
        Ok(matches!(self.run(&EXPIRY_HOLD, &args).await?, Value::Int(n) if n > 0))
    }
}
