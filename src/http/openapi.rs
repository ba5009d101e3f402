//! `GET /openapi.json`: the OpenAPI 3.1 description of the API and of the
//! webhook payloads, for shop developers and their code generators.
//!
//! The document is written by hand in `openapi.json` beside this file and
//! served as-is. What keeps it true is `tests/openapi.rs`: every route the
//! router registers must be documented, every documented operation must
//! answer on the real app, and real answers and real webhook bodies must
//! validate against the documented schemas (objects are closed with
//! `additionalProperties: false`, so a new field fails until documented).

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The document's text.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// Served without the API key: it describes the API, it reveals nothing.
pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response()
}
