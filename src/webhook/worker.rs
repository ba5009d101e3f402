//! The delivery worker pool (the outbox consumer). Each worker claims one due
//! event with a lease, POSTs it, and records the attempt. If the process dies
//! mid-delivery the lease runs out and the event is claimed again (by this
//! process after a restart, or by another one): at-least-once, same event id.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::engine::Engine;
use crate::model::{Attempt, Delivery, now_millis};
use crate::store::AttemptResult;

/// How long a claimed event is hidden from other workers beyond the attempt's
/// own timeout.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// How often idle workers look for events written by other processes or whose
/// retry time has come (events written here wake them at once).
const POLL: Duration = Duration::from_millis(500);

pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("paycue/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Runs `WORKERS` workers until shutdown. Without `WEBHOOK_URL` no worker runs
/// and events wait in the outbox until one is configured.
pub async fn run_pool(engine: Arc<Engine>, shutdown: watch::Receiver<bool>) {
    let Some(url) = engine.config.webhook_url.clone() else {
        tracing::warn!(
            "WEBHOOK_URL is not set: webhook events are kept in the outbox and sent once it is set"
        );
        return;
    };
    let client = http_client(engine.config.webhook_timeout);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..engine.config.workers {
        workers.spawn(work(
            engine.clone(),
            client.clone(),
            url.clone(),
            shutdown.clone(),
        ));
    }
    while workers.join_next().await.is_some() {}
}

async fn work(
    engine: Arc<Engine>,
    client: reqwest::Client,
    url: reqwest::Url,
    mut shutdown: watch::Receiver<bool>,
) {
    let lease = (engine.config.webhook_timeout + LEASE_MARGIN).as_millis() as i64;
    loop {
        if *shutdown.borrow() {
            return;
        }
        // Register interest before looking, so a wake-up between the look and
        // the wait is not lost.
        let notified = engine.outbox.notified();
        match engine.store.claim_event(now_millis(), lease).await {
            Ok(Some(delivery)) => {
                deliver(&engine, &client, &url, delivery).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the outbox; retrying"),
        }
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

/// One attempt. The outcome is recorded even if the shop is down; if the
/// store is down too, the lease expires and the event is tried again.
pub async fn deliver(engine: &Engine, client: &reqwest::Client, url: &reqwest::Url, d: Delivery) {
    let body = super::body(&d);
    let event_id = d.event.id.clone();
    let timestamp = now_millis() / 1000;
    let mut req = client
        .post(url.clone())
        .header("content-type", "application/json")
        .header("webhook-id", &event_id)
        .header("webhook-timestamp", timestamp.to_string());
    if let Some(key) = &engine.config.webhook_secret {
        req = req.header(
            "webhook-signature",
            super::sign(key, &event_id, timestamp, &body),
        );
    }
    let started = Instant::now();
    let at = now_millis();
    let sent = req.body(body).send().await;
    let took = started.elapsed();
    let duration_ms = took.as_millis() as i64;
    let (status_code, error) = match &sent {
        Ok(resp) => (
            Some(resp.status().as_u16()),
            (!resp.status().is_success()).then(|| format!("HTTP {}", resp.status())),
        ),
        Err(e) => (None, Some(describe(e))),
    };
    engine.metrics.webhook_attempts.inc();
    engine.metrics.delivery(took);
    // Counted from the last redeliver: a redelivered event gets its retries
    // again, even one that had `failed`.
    let attempt_no = d.event.attempts.len().saturating_sub(d.series_from) as u32 + 1;
    let mut gave_up = None;
    let result = if error.is_none() {
        observe_credit_to_webhook(engine, &d);
        engine
            .alerts
            .send(crate::alerts::Fact::WebhookDelivered { at });
        tracing::info!(transaction_id = %d.transaction.id, event_id, action = d.event.action.as_str(), duration_ms, "webhook delivered");
        AttemptResult::Delivered
    } else {
        engine.metrics.webhook_failures.inc();
        engine
            .alerts
            .send(crate::alerts::Fact::WebhookFailed { at });
        if attempt_no > engine.config.webhook_retries {
            gave_up = Some(crate::alerts::Fact::WebhookGaveUp {
                event_id: event_id.clone(),
                series: d.series_from,
                transaction_id: d.transaction.id.clone(),
                action: d.event.action.as_str().to_string(),
                metadata: d.transaction.metadata.clone(),
                at,
            });
            tracing::error!(transaction_id = %d.transaction.id, event_id, error = ?error, attempts = attempt_no, "webhook failed; retries exhausted");
            AttemptResult::Failed
        } else {
            let backoff = &engine.config.webhook_backoff;
            let delay = backoff
                .get(attempt_no as usize - 1)
                .or(backoff.last())
                .copied()
                .unwrap_or(Duration::from_secs(5));
            tracing::warn!(transaction_id = %d.transaction.id, event_id, error = ?error, retry_in = ?delay, "webhook attempt failed");
            AttemptResult::RetryAt(now_millis() + delay.as_millis() as i64)
        }
    };
    let attempt = Attempt {
        at,
        status_code,
        error,
        duration_ms,
    };
    let stands = match engine
        .store
        .finish_attempt(&event_id, d.claim, attempt, result)
        .await
    {
        Ok(stands) => stands,
        Err(e) => {
            tracing::warn!(transaction_id = %d.transaction.id, event_id, error = %e, "cannot record the webhook attempt; it will be retried after its lease");
            // Maybe recorded after all (only the answer was lost): better a
            // repeated alert (its key dedupes a retried give-up) than none.
            true
        }
    };
    // Given up only if the store agreed: a redeliver asked for during the
    // attempt queued it again (with its retries), and a newer claim decides
    // (and alerts) for itself.
    if let (true, Some(fact)) = (stands, gave_up) {
        engine.metrics.webhook_exhausted.inc();
        engine.alerts.send(fact);
    }
}

/// Credit received -> shop answered 2xx, for the first success of a
/// `confirm` or `late` event only: a redelivery asked for hours later is not
/// latency.
fn observe_credit_to_webhook(engine: &Engine, d: &Delivery) {
    let Some(credit) = &d.credit else { return };
    let delivered_before = d.event.attempts.iter().any(|a| a.error.is_none());
    if !delivered_before {
        let ms = (now_millis() - credit.received_at).max(0);
        engine
            .metrics
            .credit_to_webhook(Duration::from_millis(ms as u64));
    }
}

/// A short reason without the URL (it may carry credentials).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        let source = std::error::Error::source(e)
            .map(|s| s.to_string())
            .unwrap_or_default();
        format!("request failed: {source}")
    }
}
