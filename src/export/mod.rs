//! Export of transactions for the accountant: CSV and XLSX, one row per
//! transaction, for a date range and a filter (`listing::TxFilter`). Used
//! by `paycue export` and, through [`to_temp_file`], by the console's
//! download route.
//!
//! Decisions: every metadata key gets a column of its own, so the set of
//! keys must be known before the header is written; the export reads the
//! matching transactions twice (a first pass collects the keys, the second
//! writes the rows), a chunk at a time, so memory holds one chunk and the
//! key names, never the rows. At most `columns::MAX_META_COLUMNS` keys get
//! a column; the rest of a row's metadata (and a key first seen between the
//! passes) goes, as JSON, into a last `metadata_other` column. Amounts are
//! numbers with the currency in its own column; times are in the seller's
//! time zone (`TZ`). What must stay true: a cell is never a formula (CSV
//! text that a spreadsheet would read as one is prefixed with `'`).

use std::path::Path;

use crate::engine::Engine;
use crate::listing::TxFilter;
use crate::store::StoreError;

pub mod columns;
mod csv_out;
mod xlsx_out;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// What to export.
#[derive(Debug, Clone)]
pub struct Export {
    pub filter: TxFilter,
    pub format: Format,
    /// Times are written in this zone (the `TZ` setting).
    pub tz: jiff::tz::TimeZone,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot write the XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// Writes the export to `path`; returns the number of rows (transactions).
pub async fn to_path(engine: &Engine, export: &Export, path: &Path) -> Result<usize, ExportError> {
    let keys = columns::metadata_keys(engine, &export.filter).await?;
    let header = columns::header(&keys);
    match export.format {
        Format::Csv => csv_out::write(engine, export, &keys, &header, path).await,
        Format::Xlsx => xlsx_out::write(engine, export, &keys, &header, path).await,
    }
}

/// Writes the export to `path` as a whole or not at all: into a hidden
/// temporary file beside it (mode 0600: buyers' orders are the seller's
/// alone), renamed over `path` once complete. A failure midway (Redis gone)
/// leaves no half file and an older file at `path` as it was. A link is
/// followed (its file is replaced, the link stays); something not a plain
/// file (a pipe, `/dev/stdout`, a device) is written into as it is: renaming
/// over it would put a file in its place.
pub async fn to_file(engine: &Engine, export: &Export, path: &Path) -> Result<usize, ExportError> {
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
        && !meta.is_dir()
    {
        return to_path(engine, export, path).await;
    }
    let resolved = std::fs::canonicalize(path);
    let path = resolved.as_deref().unwrap_or(path);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let file = tempfile::Builder::new()
        .prefix(".paycue-export-")
        .tempfile_in(dir)?;
    let rows = to_path(engine, export, file.path()).await?;
    file.persist(path).map_err(|e| ExportError::Io(e.error))?;
    Ok(rows)
}

/// Writes the export to a new temporary file (removed when the handle is
/// dropped), for a caller that streams it on (an HTTP response).
pub async fn to_temp_file(
    engine: &Engine,
    export: &Export,
) -> Result<(tempfile::NamedTempFile, usize), ExportError> {
    let file = tempfile::Builder::new()
        .prefix("paycue-export-")
        .suffix(&format!(".{}", export.format.extension()))
        .tempfile()?;
    let rows = to_path(engine, export, file.path()).await?;
    Ok((file, rows))
}
