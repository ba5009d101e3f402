//! The whole-request time limit (`HTTP_REQUEST_TIMEOUT`): a request whose
//! body trickles in, or whose answer waits too long on the store, is
//! answered 408 and its connection closed, so a slow client holds a
//! connection for a bounded time only.
//!
//! It is a layer of the API router (`http::router`), not of the server: a
//! long-lived answer (a live status stream) is a route merged after this
//! layer, so it is not cut; the connection cap, the header-read timeout and
//! the bounded shutdown still apply to it (see `server`).

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

pub async fn request_timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            let mut resp = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request was not complete within {} s (a slow upload, or storage too slow); a create may have happened: retry with the same Idempotency-Key",
                    limit.as_secs_f64()
                ),
            )
            .into_response();
            // The body may be half read: the connection cannot be reused.
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            resp
        }
    }
}
