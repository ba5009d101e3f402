//! The pump's time-driven alerts with a fake clock (`tick(started, now)`
//! with chosen times) over the in-memory alert state: webhook trouble,
//! silence and the daily summary are each queued once per change of state,
//! however often the pump looks and whatever the clock does.

use std::sync::Arc;
use std::time::Duration;

use paycue::alerts::pump::Pump;
use paycue::alerts::state::{AlertState, MemoryAlerts};
use paycue::alerts::{Alert, Hub};
use paycue::config::{Config, RawConfig};
use paycue::engine::Engine;
use paycue::store::{MemoryStore, StoreSettings};

/// 2026-12-03 14:05 in Tashkent.
const T0: i64 = 1_796_288_700_000;
const MIN: i64 = 60_000;

fn pump(raw: RawConfig) -> (Pump, Arc<MemoryAlerts>) {
    let config = Config::from_raw(&raw).unwrap();
    let engine = Engine::new(config, Arc::new(MemoryStore::new(StoreSettings::default())));
    let state = Arc::new(MemoryAlerts::new());
    let pump = Pump {
        engine,
        state: state.clone(),
        hub: Arc::new(Hub::default()),
    };
    (pump, state)
}

async fn queued(state: &MemoryAlerts, now: i64) -> Vec<Alert> {
    let taken = state.take(now + 1, 60_000, 100).await.unwrap();
    let ids: Vec<String> = taken.iter().map(|(id, _)| id.clone()).collect();
    state.done(&ids).await.unwrap();
    taken.into_iter().map(|(_, q)| q.alert).collect()
}

#[tokio::test]
async fn a_failing_webhook_is_one_alert_after_the_setting_then_one_works_again() {
    let (pump, state) = pump(RawConfig::default());
    state.webhook_failed(T0).await.unwrap();
    pump.tick(0, T0 + 4 * MIN).await.unwrap();
    assert!(
        queued(&state, T0 + 4 * MIN).await.is_empty(),
        "not failing for 5 minutes yet"
    );
    for look in 0..3 {
        pump.tick(0, T0 + (5 + look) * MIN).await.unwrap();
    }
    // The clock jumps back and forth: still one alert.
    pump.tick(0, T0 + 60 * MIN).await.unwrap();
    pump.tick(0, T0 + 6 * MIN).await.unwrap();
    assert_eq!(
        queued(&state, T0 + 60 * MIN).await,
        vec![Alert::WebhookDown { since: T0 }]
    );
}

#[tokio::test]
async fn silence_is_one_alert_only_while_caught_up() {
    let (pump, state) = pump(RawConfig {
        alert_silence: Some("1h".into()),
        ..RawConfig::default()
    });
    state.message_seen(T0).await.unwrap();
    pump.tick(0, T0 + 2 * 60 * MIN).await.unwrap();
    assert!(
        queued(&state, T0).await.is_empty(),
        "the source is not caught up"
    );
    pump.engine.mark_caught_up();
    pump.tick(0, T0 + 59 * MIN).await.unwrap();
    pump.tick(0, T0 + 61 * MIN).await.unwrap();
    pump.tick(0, T0 + 3 * 60 * MIN).await.unwrap();
    assert_eq!(
        queued(&state, T0 + 3 * 60 * MIN).await,
        vec![Alert::Silence { since: T0 }]
    );
}

#[tokio::test]
async fn the_daily_summary_counts_the_day_before_and_goes_once() {
    let (pump, state) = pump(RawConfig {
        alerts: Some("unmatched,daily".into()),
        alert_daily_at: Some("09:00".into()),
        ..RawConfig::default()
    });
    // 09:00 Tashkent on T0's day.
    let nine = T0 - (5 * 60 + 5) * MIN;
    state
        .count(nine - 60 * MIN, &[("paid", 2), ("paid_sum", 4_000_300)])
        .await
        .unwrap();
    state
        .count(nine - 23 * 60 * MIN, &[("unmatched", 1)])
        .await
        .unwrap();
    state
        .count(nine - 25 * 60 * MIN, &[("paid", 50)])
        .await
        .unwrap(); // the day before
    state.count(nine + MIN, &[("late", 9)]).await.unwrap(); // after: tomorrow's
    pump.tick(0, nine - 1).await.unwrap();
    pump.tick(0, nine + MIN).await.unwrap();
    pump.tick(0, nine + 2 * MIN).await.unwrap();
    let got = queued(&state, nine + 2 * MIN).await;
    assert_eq!(got.len(), 1, "{got:?}");
    match &got[0] {
        Alert::Daily { until, summary } => {
            assert_eq!(*until, nine);
            assert_eq!(summary.paid, 2);
            assert_eq!(summary.paid_sum.minor(), 4_000_300);
            assert_eq!(summary.unmatched, 1);
            assert_eq!(summary.late, 0);
        }
        other => panic!("{other:?}"),
    }
    // A restart (a new pump on the same state) does not send it again.
    let again = Pump {
        engine: pump.engine.clone(),
        state: state.clone(),
        hub: Arc::new(Hub::default()),
    };
    again.tick(0, nine + 3 * MIN).await.unwrap();
    assert!(queued(&state, nine + 3 * MIN).await.is_empty());
    let _ = Duration::ZERO;
}

/// The seller moves west (TZ changes from Tashkent to Moscow, two hours
/// behind) after the day's summary went at 09:00 Tashkent: the restarted
/// paycue's 09:00 Moscow is the same day, and no second summary is sent.
#[tokio::test]
async fn a_changed_time_zone_does_not_send_the_day_s_summary_twice() {
    let raw = |tz: &str| RawConfig {
        alerts: Some("daily".into()),
        alert_daily_at: Some("09:00".into()),
        tz: Some(tz.into()),
        ..RawConfig::default()
    };
    let (tashkent, state) = pump(raw("Asia/Tashkent"));
    // 09:00 Tashkent on T0's day.
    let nine = T0 - (5 * 60 + 5) * MIN;
    tashkent.tick(0, nine + MIN).await.unwrap();
    assert_eq!(queued(&state, nine + MIN).await.len(), 1);
    let moscow = Pump {
        engine: Engine::new(
            Config::from_raw(&raw("Europe/Moscow")).unwrap(),
            Arc::new(MemoryStore::new(StoreSettings::default())),
        ),
        state: state.clone(),
        hub: Arc::new(Hub::default()),
    };
    let nine_moscow = nine + 2 * 60 * MIN;
    moscow.tick(0, nine_moscow + MIN).await.unwrap();
    let again = queued(&state, nine_moscow + MIN).await;
    assert!(again.is_empty(), "a second summary the same day: {again:?}");
}
