//! The console's sessions and login counters in Redis: `console:session:<key>`
//! (a string with a TTL) and `console:hits:<key>` (a counter whose TTL is its
//! window, set by the hit that creates it, in one MULTI so two processes
//! never leave a counter without a TTL).

use async_trait::async_trait;
use std::sync::LazyLock;

use redis::{Script, Value};

use super::codec;
use super::{P, RedisStore};
use crate::store::{ConsoleStore, Hits, Persistence, StoreError};

/// DECR that never creates a counter (one whose window ended stays gone:
/// a counter without a TTL would lock logins out for good).
static UNHIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "local n = tonumber(redis.call('GET', ARGV[1]) or '0') \
         if n > 0 then redis.call('DECR', ARGV[1]) end return 0",
    )
});

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

#[async_trait]
impl ConsoleStore for RedisStore {
    async fn session_put(&self, key: &str, value: &str, ttl_ms: i64) -> Result<(), StoreError> {
        let cmd = redis::cmd("SET")
            .arg(format!("{P}console:session:{key}"))
            .arg(value)
            .arg("PX")
            .arg(ttl_ms.max(1))
            .to_owned();
        self.query(&cmd).await.map(|_| ())
    }

    async fn session_touch(&self, key: &str, ttl_ms: i64) -> Result<bool, StoreError> {
        // PEXPIRE, not SET: it only renews a key that exists (a logout
        // between reading the session and renewing it is not undone), and
        // Redis allows it when out of memory.
        let cmd = redis::cmd("PEXPIRE")
            .arg(format!("{P}console:session:{key}"))
            .arg(ttl_ms.max(1))
            .to_owned();
        Ok(int(&self.query(&cmd).await?) == Some(1))
    }

    async fn session_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let cmd = redis::cmd("GET")
            .arg(format!("{P}console:session:{key}"))
            .to_owned();
        match self.query(&cmd).await? {
            Value::Nil => Ok(None),
            v => codec::string(v).map(Some),
        }
    }

    async fn session_drop(&self, key: &str) -> Result<(), StoreError> {
        let cmd = redis::cmd("DEL")
            .arg(format!("{P}console:session:{key}"))
            .to_owned();
        self.query(&cmd).await.map(|_| ())
    }

    async fn hit(&self, key: &str, window_ms: i64) -> Result<Hits, StoreError> {
        let key = format!("{P}console:hits:{key}");
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(&key)
            .arg(0)
            .arg("PX")
            .arg(window_ms.max(1))
            .arg("NX")
            .ignore()
            .cmd("INCR")
            .arg(&key)
            .cmd("PTTL")
            .arg(&key);
        let mut conn = self.conn().await?;
        let replies: Vec<Value> = pipe
            .query_async(&mut conn)
            .await
            .map_err(super::errors::map_err)?;
        hits_of(&replies)
    }

    async fn unhit(&self, key: &str) -> Result<(), StoreError> {
        let key = format!("{P}console:hits:{key}");
        self.run(&UNHIT, &[key]).await.map(|_| ())
    }

    async fn persistence(&self) -> Result<Persistence, StoreError> {
        let info = codec::string(self.query(redis::cmd("INFO").arg("persistence")).await?)?;
        if info.lines().any(|l| l.trim() == "aof_enabled:1") {
            return Ok(Persistence::Aof);
        }
        let save = redis::cmd("CONFIG").arg("GET").arg("save").to_owned();
        // CONFIG is often renamed or refused on managed Redis.
        let Ok(reply) = self.query(&save).await else {
            return Ok(Persistence::Unknown);
        };
        let rules = codec::strings(reply).unwrap_or_default();
        Ok(match rules.get(1).map(|r| r.trim()) {
            Some("") => Persistence::Off,
            Some(_) => Persistence::Snapshots,
            None => Persistence::Unknown,
        })
    }
}

/// (count, PTTL) replies; a missing counter reads as zero hits.
fn hits_of(replies: &[Value]) -> Result<Hits, StoreError> {
    let count = replies.first().and_then(int).unwrap_or(0);
    let ttl = replies.get(1).and_then(int).unwrap_or(-2);
    if count < 0 {
        return Err(StoreError::Corrupt("a login counter is negative".into()));
    }
    Ok(Hits {
        count: count as u64,
        resets_in_ms: ttl.max(0),
    })
}
