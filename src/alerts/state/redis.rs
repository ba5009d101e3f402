//! Alert state in Redis, under `paycue:alert:`: `claim:<key>` (string, lapses
//! after `CLAIM_TTL_MS`), `queue` (zset of alert keys by due time) with
//! `item:<key>` (the alert as JSON), `webhook_since`, `last_message` and
//! `started` (strings, ms), and `count:<bucket>` (hash of counters, lapsing
//! after two days). Queueing (claim + queue) and taking (read + lease) are
//! one Lua script each, so two processes never queue or take one alert twice.

use std::collections::HashMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::{Script, Value};

use super::{AlertState, CLAIM_TTL_MS, Taken, bucket};
use crate::alerts::Queued;
use crate::model::Millis;
use crate::store::StoreError;
use crate::store::redis::{Link, map_redis_error};

const P: &str = "paycue:alert:";

/// Counters outlive the summary that reads them by a day.
const COUNT_TTL_MS: i64 = 2 * 24 * 3600 * 1000;

/// ARGV: prefix, key, claim ttl, due, json. Claim and queue, or nothing.
static ENQUEUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local p = ARGV[1]
if not redis.call('SET', p .. 'claim:' .. ARGV[2], '1', 'NX', 'PX', ARGV[3]) then
  return 0
end
redis.call('SET', p .. 'item:' .. ARGV[2], ARGV[5])
redis.call('ZADD', p .. 'queue', ARGV[4], ARGV[2])
return 1
",
    )
});

/// ARGV: prefix, now, lease, max. Due keys with their JSON, leased.
static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local p = ARGV[1]
local keys = redis.call('ZRANGEBYSCORE', p .. 'queue', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, k in ipairs(keys) do
  local item = redis.call('GET', p .. 'item:' .. k)
  if item then
    redis.call('ZADD', p .. 'queue', tonumber(ARGV[2]) + tonumber(ARGV[3]), k)
    table.insert(out, k)
    table.insert(out, item)
  else
    redis.call('ZREM', p .. 'queue', k)
  end
end
return out
",
    )
});

/// ARGV: prefix, at. Keeps the later time, answers the one before.
static SEEN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local k = ARGV[1] .. 'last_message'
local before = redis.call('GET', k)
if not before or tonumber(before) < tonumber(ARGV[2]) then
  redis.call('SET', k, ARGV[2])
end
return before
",
    )
});

pub struct RedisAlerts {
    link: Link,
}

impl RedisAlerts {
    /// Does not connect yet; the first command does (and reconnects after).
    pub fn open(url: &str) -> RedisAlerts {
        RedisAlerts {
            link: Link::open(url),
        }
    }

    async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        self.link.get().await
    }

    async fn script(&self, script: &Script, args: &[String]) -> Result<Value, StoreError> {
        let mut conn = self.conn().await?;
        let mut call = script.prepare_invoke();
        call.arg(P);
        for a in args {
            call.arg(a);
        }
        call.invoke_async(&mut conn).await.map_err(map_redis_error)
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        let mut conn = self.conn().await?;
        cmd.query_async(&mut conn).await.map_err(map_redis_error)
    }

    async fn millis(&self, cmd: &redis::Cmd) -> Result<Option<Millis>, StoreError> {
        let v: Option<String> = self.query(cmd).await?;
        v.map(|s| parse_ms(&s)).transpose()
    }
}

fn parse_ms(s: &str) -> Result<Millis, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("alert state: '{s}' is not a time")))
}

fn key(name: &str) -> String {
    format!("{P}{name}")
}

#[async_trait]
impl AlertState for RedisAlerts {
    async fn enqueue(&self, q: &Queued) -> Result<bool, StoreError> {
        let json =
            serde_json::to_string(q).map_err(|e| StoreError::Corrupt(format!("alert: {e}")))?;
        let args = [
            q.key.clone(),
            CLAIM_TTL_MS.to_string(),
            q.queued_at.to_string(),
            json,
        ];
        let v = self.script(&ENQUEUE, &args).await?;
        Ok(matches!(v, Value::Int(1)))
    }

    async fn claimed(&self, k: &str) -> Result<bool, StoreError> {
        self.query(redis::cmd("EXISTS").arg(key(&format!("claim:{k}"))))
            .await
    }

    async fn take(&self, now: Millis, lease_ms: i64, max: usize) -> Result<Vec<Taken>, StoreError> {
        let args = [now.to_string(), lease_ms.to_string(), max.to_string()];
        let v = self.script(&TAKE, &args).await?;
        let items: Vec<String> = redis::from_redis_value(&v).map_err(map_redis_error)?;
        let mut out = Vec::with_capacity(items.len() / 2);
        for pair in items.chunks(2) {
            let [id, json] = pair else { break };
            match serde_json::from_str::<Queued>(json) {
                Ok(q) => out.push((id.clone(), q)),
                // Written by another paycue version: drop it rather than
                // retry it forever.
                Err(e) => {
                    tracing::warn!(alert = %id, error = %e, "an unreadable queued alert is dropped");
                    self.done(std::slice::from_ref(id)).await?;
                }
            }
        }
        Ok(out)
    }

    async fn done(&self, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("ZREM")
            .arg(key("queue"))
            .arg(ids)
            .ignore();
        for id in ids {
            pipe.cmd("DEL").arg(key(&format!("item:{id}"))).ignore();
        }
        let mut conn = self.conn().await?;
        pipe.query_async::<()>(&mut conn)
            .await
            .map_err(map_redis_error)
    }

    async fn later(&self, ids: &[String], at: Millis) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("ZADD");
        // XX: an alert another sender finished meanwhile stays finished.
        cmd.arg(key("queue")).arg("XX");
        for id in ids {
            cmd.arg(at).arg(id);
        }
        self.query::<()>(&cmd).await
    }

    async fn is_queued(&self, k: &str) -> Result<bool, StoreError> {
        let score: Option<f64> = self
            .query(redis::cmd("ZSCORE").arg(key("queue")).arg(k))
            .await?;
        Ok(score.is_some())
    }

    async fn pending(&self) -> Result<u64, StoreError> {
        self.query(redis::cmd("ZCARD").arg(key("queue"))).await
    }

    async fn webhook_failed(&self, at: Millis) -> Result<Millis, StoreError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(key("webhook_since"))
            .arg(at)
            .arg("NX")
            .ignore()
            .cmd("GET")
            .arg(key("webhook_since"));
        let mut conn = self.conn().await?;
        let (since,): (Option<String>,) =
            pipe.query_async(&mut conn).await.map_err(map_redis_error)?;
        since.map_or(Ok(at), |s| parse_ms(&s))
    }

    async fn webhook_ok(&self) -> Result<Option<Millis>, StoreError> {
        self.millis(redis::cmd("GETDEL").arg(key("webhook_since")))
            .await
    }

    async fn webhook_failing(&self) -> Result<Option<Millis>, StoreError> {
        self.millis(redis::cmd("GET").arg(key("webhook_since")))
            .await
    }

    async fn message_seen(&self, at: Millis) -> Result<Option<Millis>, StoreError> {
        let v = self.script(&SEEN, &[at.to_string()]).await?;
        let before: Option<String> = redis::from_redis_value(&v).map_err(map_redis_error)?;
        before.map(|s| parse_ms(&s)).transpose()
    }

    async fn last_message(&self) -> Result<Option<Millis>, StoreError> {
        self.millis(redis::cmd("GET").arg(key("last_message")))
            .await
    }

    async fn started(&self, now: Millis) -> Result<Millis, StoreError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(key("started"))
            .arg(now)
            .arg("NX")
            .ignore()
            .cmd("GET")
            .arg(key("started"));
        let mut conn = self.conn().await?;
        let (v,): (Option<String>,) = pipe.query_async(&mut conn).await.map_err(map_redis_error)?;
        v.map_or(Ok(now), |s| parse_ms(&s))
    }

    async fn count(&self, at: Millis, counts: &[(&str, i64)]) -> Result<(), StoreError> {
        let k = key(&format!("count:{}", bucket(at)));
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (field, by) in counts {
            pipe.cmd("HINCRBY").arg(&k).arg(*field).arg(*by).ignore();
        }
        pipe.cmd("PEXPIRE").arg(&k).arg(COUNT_TTL_MS).ignore();
        let mut conn = self.conn().await?;
        pipe.query_async::<()>(&mut conn)
            .await
            .map_err(map_redis_error)
    }

    async fn counts(
        &self,
        from: Millis,
        until: Millis,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let mut pipe = redis::pipe();
        for b in bucket(from)..bucket(until) {
            pipe.cmd("HGETALL").arg(key(&format!("count:{b}")));
        }
        let mut conn = self.conn().await?;
        let maps: Vec<HashMap<String, i64>> =
            pipe.query_async(&mut conn).await.map_err(map_redis_error)?;
        let mut sum: HashMap<String, i64> = HashMap::new();
        for (k, v) in maps.into_iter().flatten() {
            *sum.entry(k).or_default() += v;
        }
        Ok(sum)
    }
}
