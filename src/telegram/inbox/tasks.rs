//! The inbox's helper tasks: the relay (channel filter, reconnect alarms),
//! the update reader (never cancelled) and the watchdog. Each hands its
//! findings to the inbox as events or as a fatal alarm.

use std::sync::Arc;
use std::time::Duration;

use grammers_client::client::UpdateStream;
use grammers_client::session::Session;
use grammers_client::session::updates::UpdatesLike;
use grammers_client::update::Update;
use grammers_client::{Client, tl};
use grammers_session::storages::SqliteSession;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::{Event, Health, Limits, is_fatal};
use crate::telegram::errors::TgError;
use crate::telegram::filter::ChannelFilter;
use crate::telegram::message::accept;

/// Passes updates on without those of unwatched channels, raising an alarm
/// when the home connection closed.
pub(super) async fn relay(
    mut from: mpsc::Receiver<UpdatesLike>,
    to: mpsc::Sender<UpdatesLike>,
    filter: ChannelFilter,
    alarms: mpsc::Sender<Event>,
) {
    while let Some(updates) = from.recv().await {
        if matches!(updates, UpdatesLike::ConnectionClosed) {
            let _ = alarms.try_send(Err((
                Instant::now(),
                TgError::Transient("the connection to Telegram closed".into()),
            )));
        }
        let Some(updates) = filter.updates(updates) else {
            continue;
        };
        if to.send(updates).await.is_err() {
            break;
        }
    }
}

/// Reads the update stream for good, handing on accepted messages and errors.
/// It saves grammers' update state after each message it hands on, and at
/// least every half minute of other traffic, so a restart fetches little.
pub(super) async fn read_updates(
    mut stream: UpdateStream,
    watched: Vec<i64>,
    health: Health,
    to: mpsc::Sender<Event>,
) {
    let mut synced = Instant::now();
    loop {
        let event = match stream.next().await {
            Ok(Update::NewMessage(m)) => accept(&m, &watched).map(Ok),
            Ok(_) => None,
            Err(e) => Some(Err((Instant::now(), health.classify(e)))),
        };
        let failed = matches!(event, Some(Err(_)));
        let handed_on = event.is_some();
        if let Some(event) = event
            && to.send(event).await.is_err()
        {
            return;
        }
        if failed {
            // grammers retries the pending difference on the next call.
            tokio::time::sleep(Duration::from_secs(1)).await;
        } else if handed_on || synced.elapsed() >= SYNC_EVERY {
            synced = Instant::now();
            match tokio::time::timeout(Duration::from_secs(5), stream.sync_update_state()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot save the Telegram update state"),
                Err(_) => {
                    tracing::warn!("cannot save the Telegram update state (session file busy)")
                }
            }
        }
    }
}

/// How often the update state is saved when no watched message arrives.
const SYNC_EVERY: Duration = Duration::from_secs(30);

/// Probes Telegram every `probe_every`; a probe that hangs drops the home
/// connection (the next request reconnects), and any failure raises an alarm.
pub(super) async fn watchdog(
    client: Client,
    handle: grammers_client::sender::SenderPoolHandle,
    session: Arc<SqliteSession>,
    limits: Limits,
    health: Health,
    alarms: mpsc::Sender<Event>,
    fatal: watch::Sender<Option<TgError>>,
) {
    loop {
        tokio::time::sleep(limits.probe_every).await;
        let probe = client.invoke(&tl::functions::updates::GetState {});
        let alarm = match health.timed("probe", limits.call, probe).await {
            Ok(_) => continue,
            Err(e) => e,
        };
        if matches!(alarm, TgError::Transient(_) | TgError::Closed(_))
            && let Ok(dc) = session.home_dc_id()
        {
            tracing::warn!(error = %alarm, "Telegram did not answer the probe; reconnecting");
            handle.disconnect_from_dc(dc);
        }
        if is_fatal(&alarm) {
            fatal.send_replace(Some(alarm));
            return;
        }
        let _ = alarms.try_send(Err((Instant::now(), alarm)));
    }
}
