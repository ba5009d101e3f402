//! A JSON request body read from its raw bytes (so a shop's amount never
//! passes through a float, and create can fingerprint exactly what was
//! sent), for the routes that change money: JSON only, since a browser
//! cannot send it cross-site without a preflight.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use super::ApiError;

/// The body's bytes and what they parse to. A missing or other
/// Content-Type is 415, malformed JSON 400, well-formed JSON of the wrong
/// shape 422; `hint` starts the detail (what to send).
pub(super) fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    hint: &str,
) -> Result<(Bytes, T), ApiError> {
    let bytes = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let is_json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON with Content-Type: application/json",
        ));
    }
    let parsed = serde_json::from_slice(&bytes).map_err(|e| {
        let status = if e.is_data() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::new(status, format!("{hint}: {e}"))
    })?;
    Ok((bytes, parsed))
}
