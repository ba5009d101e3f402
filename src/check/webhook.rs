//! `WEBHOOK_URL` for `paycue check`: does the shop's endpoint answer, and,
//! with `--send-test`, does it accept a signed event? The request goes out
//! through the delivery workers' own client (same timeout, no redirects,
//! same User-Agent), so what passes here passes for real deliveries.
//!
//! The test event is `{"action": "test", "event_id", "occurred_at",
//! "transaction_id": null, "amount": null}`, signed like every event and
//! documented in the OpenAPI document's webhooks. Receivers should answer
//! 2xx to actions they do not handle.

use std::time::Instant;

use serde_json::json;

use super::Report;
use crate::config::{Config, redact_url};
use crate::model::{now_millis, rfc3339};

pub async fn check(report: &mut Report, config: &Config, send_test: bool) {
    let Some(url) = &config.webhook_url else {
        report.warn(
            "webhook",
            "WEBHOOK_URL is not set: events wait in the outbox until it is",
            "set WEBHOOK_URL to the shop's endpoint (https://shop.example/paycue)",
        );
        return;
    };
    if config.webhook_secret.is_none() {
        report.warn(
            "webhook signing",
            "WEBHOOK_SECRET is not set: the shop cannot tell paycue's webhooks from forged ones",
            "set WEBHOOK_SECRET=whsec_$(openssl rand -base64 32) and give the same value to the shop",
        );
    }
    let shown = redact_url(url.as_str());
    let client = crate::webhook::worker::http_client(config.webhook_timeout);
    let started = Instant::now();
    let sent = if send_test {
        test_event(client.post(url.clone()), config).send().await
    } else {
        client.get(url.clone()).send().await
    };
    let ms = started.elapsed().as_millis();
    let code = match sent {
        Ok(resp) => resp.status(),
        Err(e) => {
            let why = if e.is_timeout() {
                format!(
                    "no answer within {:?} (WEBHOOK_TIMEOUT)",
                    config.webhook_timeout
                )
            } else if e.is_connect() {
                format!("cannot connect ({})", root_cause(&e))
            } else {
                format!("request failed ({})", root_cause(&e))
            };
            report.fail(
                "webhook",
                format!("{shown}: {why}"),
                "check that the shop's server is up and reachable from this machine (curl -v the URL)",
            );
            return;
        }
    };
    let redirect_fix = "set WEBHOOK_URL to the final address: paycue does not follow redirects";
    match (send_test, code.as_u16()) {
        (_, 300..=399) => report.fail("webhook", format!("{shown} redirects (HTTP {code})"), redirect_fix),
        (true, 200..=299) => report.ok(
            "webhook",
            format!("{shown} accepted a signed test event (HTTP {}, {ms} ms)", code.as_u16()),
        ),
        (true, 401 | 403) => report.fail(
            "webhook",
            format!("{shown} refused the signed test event (HTTP {code})"),
            "the shop must verify with the same WEBHOOK_SECRET as paycue",
        ),
        (true, _) => report.fail(
            "webhook",
            format!("{shown} answered the test event with HTTP {code}"),
            "the shop must answer 2xx to events it accepts, and to actions it does not handle (like test)",
        ),
        (false, 500..=599) => report.warn(
            "webhook",
            format!("{shown} answers, with HTTP {code} to a GET"),
            "run `paycue check --send-test` to see how it answers a real (signed) POST",
        ),
        (false, _) => report.ok(
            "webhook",
            format!("{shown} answers (HTTP {} to a GET in {ms} ms; `--send-test` POSTs a signed event)", code.as_u16()),
        ),
    }
}

/// The innermost error (`dns error: ...`, `Connection refused`): the outer
/// ones repeat the URL, which may carry credentials.
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A signed `test` event, built like the worker's deliveries.
fn test_event(req: reqwest::RequestBuilder, config: &Config) -> reqwest::RequestBuilder {
    let id = crate::engine::new_event_id();
    let now = now_millis();
    let body = json!({
        "action": "test",
        "event_id": id,
        "occurred_at": rfc3339(now),
        "transaction_id": null,
        "amount": null,
    })
    .to_string();
    let timestamp = now / 1000;
    let mut req = req
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string());
    if let Some(key) = &config.webhook_secret {
        req = req.header(
            "webhook-signature",
            crate::webhook::sign(key, &id, timestamp, &body),
        );
    }
    req.body(body)
}
