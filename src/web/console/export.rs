//! The accountant's download, `/console/export?format=csv|xlsx&…`: the
//! transactions the list's filter selects (the same fields as the
//! Transactions form, whose two export buttons send them here), written by
//! `crate::export` (one row per transaction, metadata keys as columns, times
//! in `TZ`) into a temporary file in constant memory, then sent as an
//! attachment. A GET: it changes nothing, so it needs the session but no
//! CSRF token. What must stay true: a filter the list would refuse is
//! refused here too (400), never widened into "everything".

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ConsoleState;
use super::filter::{self, Status};
use super::guard::Seller;
use crate::export::{self, Export, Format};
use crate::listing::TxFilter;

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
        filter: TxFilter {
            status: f.status.map(Status::stored),
            from: f.from,
            to: f.to,
            card: f.card,
            amount: f.amount,
            text: f.text,
        },
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
    // The finished file is read back whole: the export itself is written in
    // constant memory; `paycue export --out` avoids even this copy.
    let bytes = match tokio::fs::read(file.path()).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "console export could not be read back");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let name = format!(
        "attachment; filename=\"paycue-transactions.{}\"",
        format.extension()
    );
    let mut resp = (StatusCode::OK, bytes).into_response();
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
