//! Handlers: parse the request, fetch the transaction, hand it to the view
//! and the renderer. No decisions beyond that wiring. A malformed id answers
//! exactly like an unknown one (a plain 404 page, or a JSON 404 for status).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::lang::Lang;
use super::view::{Ask, PageState, PageView, StatusView};
use super::{PayState, live, render};
use crate::http::ApiError;
use crate::model::now_millis;

/// Query parameters, read leniently: an unknown or repeated one is ignored,
/// never an error page.
fn param(query: &Option<String>, name: &str) -> Option<String> {
    let q = query.as_deref()?;
    let url = reqwest::Url::parse(&format!("http://x/?{q}")).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn lang_of(state: &PayState, query: &Option<String>, headers: &HeaderMap) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::choose(
        param(query, "lang").as_deref(),
        accept,
        state.engine.config.pay.lang,
    )
}

fn valid_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok_and(|u| u.hyphenated().to_string() == id)
}

pub(super) async fn page(
    State(state): State<Arc<PayState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&state, &query, &headers);
    if !valid_id(&id) {
        return render::not_found(lang);
    }
    let tx = match state.engine.store.get(&id).await {
        Ok(Some(tx)) => tx,
        Ok(None) => return render::not_found(lang),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let settings = &state.engine.config.pay;
    let ask = Ask {
        lang,
        return_url: param(&query, "return").and_then(|r| settings.check_return_url(&r).ok()),
        settings,
    };
    render::page(&PageView::new(&tx, &ask, now_millis()))
}

pub(super) async fn status(
    State(state): State<Arc<PayState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    if !valid_id(&id) {
        return Err(ApiError::not_found("payment"));
    }
    let wait = param(&query, "wait")
        .and_then(|w| w.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or_default()
        .min(live::MAX_WAIT);
    let since = param(&query, "since").and_then(|s| PageState::parse(&s));
    let engine = &state.engine;
    let (tx, retry_ms) = match (wait.is_zero(), state.waiters.slot()) {
        (false, Some(_slot)) => (state.waiters.wait(engine, &id, since, wait).await?, 0),
        (true, _) => (engine.store.get(&id).await?, 0),
        // Too many waiting, or stopping: answer now, ask again later.
        (false, None) => (engine.store.get(&id).await?, live::POLL_FALLBACK_MS),
    };
    let tx = tx.ok_or_else(|| ApiError::not_found("payment"))?;
    let view = StatusView::new(&tx, now_millis(), retry_ms);
    let mut resp = (StatusCode::OK, Json(json!({"status": true, "data": view}))).into_response();
    render::secure(resp.headers_mut());
    Ok(resp)
}

pub(super) async fn not_found(
    State(state): State<Arc<PayState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    render::not_found(lang_of(&state, &query, &headers))
}
