//! The alert state, on memory and on a real Redis: an alert is queued once
//! (a second process, or the same one after a restart, is refused), two
//! senders never take one alert at once, a taken alert comes back after its
//! lease (the sender died mid-send), and Redis refusing writes is an error,
//! never a silent "already sent".

mod support;

use std::sync::Arc;

use paycue::alerts::state::{AlertState, MemoryAlerts, RedisAlerts};
use paycue::alerts::{Alert, Queued};
use paycue::model::now_millis;
use paycue::store::StoreError;
use support::RedisServer;

enum Backend {
    Memory,
    Redis,
}

/// Two handles on one state (two processes), and the server if any.
type Handles = (
    Arc<dyn AlertState>,
    Arc<dyn AlertState>,
    Option<RedisServer>,
);

fn open(b: &Backend, test: &str) -> Option<Handles> {
    match b {
        Backend::Memory => {
            let m: Arc<dyn AlertState> = Arc::new(MemoryAlerts::new());
            Some((m.clone(), m, None))
        }
        Backend::Redis => {
            let server = RedisServer::start(test)?;
            let a = Arc::new(RedisAlerts::open(&server.url()));
            let b = Arc::new(RedisAlerts::open(&server.url()));
            Some((a, b, Some(server)))
        }
    }
}

fn test_alert(key: &str, at: i64) -> Queued {
    Queued {
        key: key.into(),
        alert: Alert::Test { at },
        queued_at: at,
    }
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod memory { $( #[tokio::test] async fn $name() { super::$name(super::Backend::Memory).await } )* }
        mod redis { $( #[tokio::test] async fn $name() { super::$name(super::Backend::Redis).await } )* }
    };
}

both!(
    an_alert_is_queued_once_across_processes,
    two_senders_never_take_one_alert,
    a_taken_alert_comes_back_after_its_lease,
    webhook_failing_since_is_the_first_failure,
    last_message_keeps_the_latest,
    daily_counters_add_up_over_the_window,
);

async fn an_alert_is_queued_once_across_processes(b: Backend) {
    let Some((a, other, _redis)) = open(&b, "alerts_once") else {
        return;
    };
    let now = now_millis();
    assert!(a.enqueue(&test_alert("k1", now)).await.unwrap());
    assert!(!other.enqueue(&test_alert("k1", now + 5)).await.unwrap());
    assert!(!a.enqueue(&test_alert("k1", now + 9)).await.unwrap());
    assert!(a.claimed("k1").await.unwrap());
    assert!(!a.claimed("k2").await.unwrap());
    assert_eq!(a.pending().await.unwrap(), 1);
    // Sent and done: still claimed, so deciding it again queues nothing.
    let taken = a.take(now + 10, 60_000, 100).await.unwrap();
    assert_eq!(taken.len(), 1);
    a.done(&[taken[0].0.clone()]).await.unwrap();
    assert_eq!(a.pending().await.unwrap(), 0);
    assert!(!other.enqueue(&test_alert("k1", now + 20)).await.unwrap());
    assert_eq!(other.pending().await.unwrap(), 0);
}

async fn two_senders_never_take_one_alert(b: Backend) {
    let Some((a, other, _redis)) = open(&b, "alerts_take") else {
        return;
    };
    let now = now_millis();
    for i in 0..200 {
        a.enqueue(&test_alert(&format!("k{i}"), now)).await.unwrap();
    }
    let (x, y) = tokio::join!(a.take(now, 60_000, 150), other.take(now, 60_000, 150));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.len() + y.len(), 200);
    let mut ids: Vec<String> = x.iter().chain(y.iter()).map(|(id, _)| id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200, "an alert was taken twice");
}

async fn a_taken_alert_comes_back_after_its_lease(b: Backend) {
    let Some((a, other, _redis)) = open(&b, "alerts_lease") else {
        return;
    };
    let now = now_millis();
    a.enqueue(&test_alert("k", now)).await.unwrap();
    assert_eq!(a.take(now, 60_000, 10).await.unwrap().len(), 1);
    // The sender died: nobody sees it during the lease...
    assert!(
        other
            .take(now + 59_999, 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // ...and the next sender takes it after.
    let again = other.take(now + 60_000, 60_000, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].1, test_alert("k", now));
    // Put back for later: due then, not before.
    other
        .later(&["k".to_string()], now + 200_000)
        .await
        .unwrap();
    assert!(a.take(now + 199_999, 60_000, 10).await.unwrap().is_empty());
    assert_eq!(a.take(now + 200_000, 60_000, 10).await.unwrap().len(), 1);
}

async fn webhook_failing_since_is_the_first_failure(b: Backend) {
    let Some((a, other, _redis)) = open(&b, "alerts_webhook") else {
        return;
    };
    assert_eq!(a.webhook_failing().await.unwrap(), None);
    assert_eq!(a.webhook_failed(1000).await.unwrap(), 1000);
    assert_eq!(other.webhook_failed(2000).await.unwrap(), 1000);
    assert_eq!(other.webhook_ok().await.unwrap(), Some(1000));
    assert_eq!(a.webhook_ok().await.unwrap(), None);
    assert_eq!(a.webhook_failed(3000).await.unwrap(), 3000);
}

async fn last_message_keeps_the_latest(b: Backend) {
    let Some((a, other, _redis)) = open(&b, "alerts_last") else {
        return;
    };
    assert_eq!(a.message_seen(5000).await.unwrap(), None);
    assert_eq!(other.message_seen(4000).await.unwrap(), Some(5000));
    assert_eq!(a.last_message().await.unwrap(), Some(5000));
    assert_eq!(a.message_seen(6000).await.unwrap(), Some(5000));
    assert_eq!(a.started(10).await.unwrap(), 10);
    assert_eq!(other.started(20).await.unwrap(), 10);
}

async fn daily_counters_add_up_over_the_window(b: Backend) {
    let Some((a, other, _redis)) = open(&b, "alerts_counts") else {
        return;
    };
    let day = 24 * 3600 * 1000;
    let until = 1_764_738_000_000; // a whole 5 minutes
    a.count(until - day, &[("paid", 1), ("paid_sum", 2_000_100)])
        .await
        .unwrap();
    other
        .count(until - 1, &[("paid", 1), ("paid_sum", 100)])
        .await
        .unwrap();
    a.count(until, &[("paid", 7)]).await.unwrap(); // the next day's
    a.count(until - day - 1, &[("paid", 9)]).await.unwrap(); // the day before's
    let c = other.counts(until - day, until).await.unwrap();
    assert_eq!(c.get("paid"), Some(&2));
    assert_eq!(c.get("paid_sum"), Some(&2_000_200));
}

/// Redis refusing writes (out of memory) is an error the caller retries,
/// never a "claimed before" that would lose the alert.
#[tokio::test]
async fn redis_refusing_writes_is_an_error_not_a_refusal() {
    let Some(redis) = RedisServer::start("alerts_oom") else {
        return;
    };
    let state = RedisAlerts::open(&redis.url());
    let now = now_millis();
    assert!(state.enqueue(&test_alert("before", now)).await.unwrap());
    let client = ::redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = ::redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg("1")
        .query_async(&mut conn)
        .await
        .unwrap();
    match state.enqueue(&test_alert("during", now)).await {
        Err(StoreError::Unavailable(why)) => assert!(why.contains("memory"), "{why}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let _: () = ::redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg("0")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        state.enqueue(&test_alert("during", now)).await.unwrap(),
        "the refused alert was not claimed"
    );
}
