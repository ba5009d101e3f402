//! The accountant's download, `/console/export?format=csv|xlsx&…`: the
//! transactions the list's filter selects (the same fields as the
//! Transactions form, whose two export buttons send them here), written by
//! `crate::export` (one row per transaction, metadata keys as columns, times
//! in `TZ`) into a temporary file in constant memory, then sent from that
//! file a chunk at a time as an attachment (routed outside the whole-request
//! time limit: a large export takes longer than a page). A GET: it changes
//! nothing, so it needs the session but no CSRF token. What must stay true: a filter the list would refuse is
//! refused here too (400), never widened into "everything".

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Frame;

use super::ConsoleState;
use super::filter::{self, Status};
use super::guard::Seller;
use crate::export::{self, Export, Format};

/// Bytes read from the file per chunk sent.
const CHUNK: usize = 64 * 1024;

/// The export file as the response body, a chunk at a time; the temporary
/// file is removed when the body is dropped (sent, or the client left).
struct FileBody {
    file: tokio::fs::File,
    _temp: tempfile::NamedTempFile,
    buf: Vec<u8>,
}

impl HttpBody for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = &mut *self;
        this.buf.resize(CHUNK, 0);
        let mut read = tokio::io::ReadBuf::new(&mut this.buf);
        match tokio::io::AsyncRead::poll_read(Pin::new(&mut this.file), cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) if read.filled().is_empty() => Poll::Ready(None),
            Poll::Ready(Ok(())) => {
                Poll::Ready(Some(Ok(Frame::data(Bytes::copy_from_slice(read.filled())))))
            }
        }
    }
}

pub(super) async fn download(
    State(state): State<Arc<ConsoleState>>,
    Seller(_session): Seller,
    RawQuery(query): RawQuery,
) -> Response {
    let tz = state.engine.config.tz.clone();
    let (_typed, f, mut errors) = filter::parse(query.as_deref(), &tz);
    let format = match format_of(query.as_deref()) {
        Some(f) => f,
        None => {
            errors.push("Format: csv or xlsx.".into());
            Format::Csv
        }
    };
    if !errors.is_empty() {
        return (StatusCode::BAD_REQUEST, errors.join(" ")).into_response();
    }
    let expired_only = f.status == Some(Status::Expired);
    let cancelled_only = f.status == Some(Status::Cancelled);
    if expired_only || cancelled_only {
        // The export filters by stored status, where an expired order is a
        // cancelled one: say so rather than export the wrong set.
        return (
            StatusCode::BAD_REQUEST,
            "Status: export expired and cancelled orders together (choose \"all\" and the dates, or pending or confirmed).",
        )
            .into_response();
    }
    let job = Export {
        filter: f.listing(),
        format,
        tz,
    };
    let file = match export::to_temp_file(&state.engine, &job).await {
        Ok((file, _rows)) => file,
        Err(e) => {
            tracing::warn!(error = %e, "console export failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "The export could not be written; try again in a minute.",
            )
                .into_response();
        }
    };
    // Sent from the file a chunk at a time: neither the rows nor the file
    // sit in memory, however many there are.
    let body = match tokio::fs::File::open(file.path()).await {
        Ok(opened) => FileBody {
            file: opened,
            _temp: file,
            buf: Vec::new(),
        },
        Err(e) => {
            tracing::warn!(error = %e, "console export could not be read back");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let name = format!(
        "attachment; filename=\"paycue-transactions.{}\"",
        format.extension()
    );
    let mut resp = Body::new(body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// `format=csv|xlsx` (csv when absent); None for anything else.
fn format_of(query: Option<&str>) -> Option<Format> {
    let Some(q) = query else {
        return Some(Format::Csv);
    };
    let url = reqwest::Url::parse(&format!("http://x/?{q}")).ok()?;
    match url
        .query_pairs()
        .find(|(k, _)| k == "format")
        .map(|(_, v)| v.into_owned())
        .as_deref()
    {
        None | Some("csv") => Some(Format::Csv),
        Some("xlsx") => Some(Format::Xlsx),
        Some(_) => None,
    }
}
