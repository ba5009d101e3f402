//! API key check: `X-API-Key: <key>`, `Authorization: Bearer <key>`, or Basic
//! auth with the key as the password (any user name). Constant-time compare.
//! With no `API_KEY` configured (loopback only; see config) every request passes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::engine::Engine;

pub async fn require_key(State(engine): State<Arc<Engine>>, req: Request, next: Next) -> Response {
    match &engine.config.api_key {
        Some(key)
            if !presented_keys(req.headers())
                .iter()
                .any(|k| k.as_bytes().ct_eq(key.as_bytes()).into()) =>
        {
            let mut resp = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing or wrong API key (send X-API-Key or Authorization: Bearer)",
            )
            .into_response();
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer, Basic realm=\"paycue\""),
            );
            resp
        }
        _ => next.run(req).await,
    }
}

fn presented_keys(headers: &HeaderMap) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(v) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        keys.push(v.trim().to_string());
    }
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let auth = auth.trim();
        if let Some(token) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
        {
            keys.push(token.trim().to_string());
        } else if let Some(b64) = auth
            .strip_prefix("Basic ")
            .or_else(|| auth.strip_prefix("basic "))
            && let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim())
            && let Ok(text) = String::from_utf8(raw)
            && let Some((_, password)) = text.split_once(':')
        {
            keys.push(password.to_string());
        }
    }
    keys
}
