//! Redis for `paycue check`: can paycue reach it, which version, will it keep
//! paycue's data across a restart (AOF), and will it never evict paycue's
//! keys. Read-only: INFO and CONFIG GET.

use std::time::Duration;

use redis::{ErrorKind, InfoDict};

use super::Report;
use crate::config::{Config, redact_url};

const LIMIT: Duration = Duration::from_secs(5);

const AOF_FIX: &str = "redis-cli CONFIG SET appendonly yes && redis-cli CONFIG REWRITE (or set `appendonly yes` in /etc/redis/redis.conf and restart Redis)";

/// What paycue needs to know about a Redis.
struct Facts {
    info: InfoDict,
    /// `CONFIG GET save`: RDB snapshot rules (`""` = none); None if CONFIG
    /// is disabled (managed Redis services often rename it).
    save: Option<String>,
}

async fn facts(url: &str) -> redis::RedisResult<Facts> {
    let client = redis::Client::open(url)?;
    let mut con = client.get_multiplexed_async_connection().await?;
    let info: InfoDict = redis::cmd("INFO").query_async(&mut con).await?;
    let save = redis::cmd("CONFIG")
        .arg("GET")
        .arg("save")
        .query_async::<Vec<String>>(&mut con)
        .await
        .ok()
        .and_then(|pair| pair.get(1).cloned());
    Ok(Facts { info, save })
}

pub async fn check(report: &mut Report, config: &Config) {
    let shown = redact_url(&config.redis_url);
    let facts = match tokio::time::timeout(LIMIT, facts(&config.redis_url)).await {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => {
            let (detail, fix) = explain(&e);
            report.fail("redis", format!("{shown}: {detail}"), fix);
            report.skip("redis data", "not checked: Redis did not answer");
            return;
        }
        Err(_) => {
            report.fail(
                "redis",
                format!("{shown}: no answer within {} s", LIMIT.as_secs()),
                "check REDIS_ADDR and that nothing (a firewall) blocks the port",
            );
            report.skip("redis data", "not checked: Redis did not answer");
            return;
        }
    };
    let version: String = facts.info.get("redis_version").unwrap_or_default();
    if older_than_6(&version) {
        report.warn(
            "redis",
            format!("Redis {version} at {shown} is older than 6.0, which paycue's scripts are written for"),
            "upgrade Redis (Debian 12 and Ubuntu 22.04 ship 7.0 and 6.0)",
        );
    } else {
        report.ok("redis", format!("Redis {version} at {shown}"));
    }
    persistence(report, &facts);
    eviction(report, &facts.info);
}

/// `5.0.7` -> true; an unreadable version is not held against Redis.
fn older_than_6(version: &str) -> bool {
    version
        .split('.')
        .next()
        .and_then(|major| major.parse::<u32>().ok())
        .is_some_and(|major| major < 6)
}

/// Transactions, held amounts and undelivered webhook events live only in
/// Redis, so a Redis restart without persistence loses them.
fn persistence(report: &mut Report, facts: &Facts) {
    let aof = facts.info.get::<i64>("aof_enabled") == Some(1);
    let rdb = facts.save.as_deref().map(str::trim);
    match (aof, rdb) {
        (true, _) => report.ok("persistence", "AOF on: paycue's data survives a restart"),
        (false, Some("")) => report.warn(
            "persistence",
            "OFF: a Redis restart loses every transaction, held amount and undelivered webhook",
            AOF_FIX,
        ),
        (false, Some(rules)) => report.warn(
            "persistence",
            format!("RDB snapshots only (save {rules}): a crash loses what was written since the last snapshot"),
            AOF_FIX,
        ),
        (false, None) => report.warn(
            "persistence",
            "AOF off (snapshot settings unknown: CONFIG is disabled on this Redis)",
            "enable AOF (appendonly yes) in your Redis configuration or provider's console",
        ),
    }
}

/// With a memory limit and an evicting policy, Redis may delete paycue's keys.
fn eviction(report: &mut Report, info: &InfoDict) {
    let maxmemory = info.get::<u64>("maxmemory").unwrap_or(0);
    let policy: String = info.get("maxmemory_policy").unwrap_or_default();
    if maxmemory > 0 && !policy.is_empty() && policy != "noeviction" {
        report.warn(
            "redis memory",
            format!(
                "maxmemory-policy is {policy}: when full, Redis deletes keys, paycue's included"
            ),
            "redis-cli CONFIG SET maxmemory-policy noeviction && redis-cli CONFIG REWRITE",
        );
    }
}

/// A Redis error in the seller's words, with the fix. The URL (which may hold
/// a password) is never part of the error text.
fn explain(e: &redis::RedisError) -> (String, String) {
    let text = e.to_string();
    let kind = e.kind();
    if kind == ErrorKind::AuthenticationFailed
        || text.contains("NOAUTH")
        || text.contains("WRONGPASS")
    {
        return (
            format!("authentication failed ({text})"),
            "put the password in REDIS_ADDR: redis://:PASSWORD@host:6379 (redis://USER:PASSWORD@... with ACL users)".into(),
        );
    }
    if text.contains("Permission denied") {
        return (
            format!("permission denied ({text})"),
            "let the paycue user open the socket: add it to the redis group (SupplementaryGroups=redis in the unit)".into(),
        );
    }
    if kind == ErrorKind::InvalidClientConfig {
        return (
            format!("REDIS_ADDR is not usable ({text})"),
            "write host:port or redis://[:password@]host:port/db".into(),
        );
    }
    (
        format!("cannot connect ({text})"),
        "start Redis (systemctl start redis-server) or point REDIS_ADDR at it".into(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_before_6_are_flagged() {
        assert!(super::older_than_6("5.0.7"));
        assert!(!super::older_than_6("6.0.16"));
        assert!(!super::older_than_6("7.0.15"));
        assert!(!super::older_than_6(""));
    }
}
