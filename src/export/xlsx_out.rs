//! The XLSX writer, in rust_xlsxwriter's constant-memory mode: each row is
//! flushed to a temporary file as soon as the next one starts, so memory
//! does not grow with the number of rows. Amounts are numbers (two
//! decimals), times real Excel date-times in the seller's zone, text is
//! written as text (never a formula).

use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

use super::columns::{self, Cell};
use super::{Export, ExportError};
use crate::engine::Engine;
use crate::store::StoreError;

/// Excel's rows per sheet; more rows than this are refused.
const MAX_ROWS: usize = 1_048_575;

fn datetime(ms: i64, tz: &jiff::tz::TimeZone) -> Option<ExcelDateTime> {
    let t = columns::local_time(ms, tz)?;
    ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)
        .and_then(|d| d.and_hms(t.hour() as u16, t.minute() as u8, t.second() as u8))
        .ok()
}

pub(super) async fn write(
    engine: &Engine,
    export: &Export,
    keys: &[String],
    header: &[String],
    path: &Path,
) -> Result<usize, ExportError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let sheet = workbook.add_worksheet_with_constant_memory();
    sheet.set_name("transactions")?;
    for (col, name) in header.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, name, &bold)?;
    }
    let mut row: u32 = 0;
    let mut failed: Option<XlsxError> = None;
    let rows = engine
        .each_transaction(&export.filter, |tx| {
            if row as usize >= MAX_ROWS {
                failed = Some(XlsxError::RowColumnLimitError);
                return Err(StoreError::Unavailable(
                    "too many rows for one sheet".into(),
                ));
            }
            row += 1;
            for (col, cell) in columns::row(tx, keys).iter().enumerate() {
                let col = col as u16;
                let written = match cell {
                    Cell::Empty => Ok(()),
                    Cell::Text(s) => sheet.write_string(row, col, s).map(|_| ()),
                    // Excel numbers are doubles: exact for amounts up to
                    // 15 significant digits.
                    Cell::Money(m) => sheet
                        .write_number_with_format(row, col, m.minor() as f64 / 100.0, &money)
                        .map(|_| ()),
                    Cell::Time(ms) => match datetime(*ms, &export.tz) {
                        Some(t) => sheet
                            .write_datetime_with_format(row, col, &t, &when)
                            .map(|_| ()),
                        None => Ok(()),
                    },
                };
                if let Err(e) = written {
                    let msg = e.to_string();
                    failed = Some(e);
                    return Err(StoreError::Unavailable(msg));
                }
            }
            Ok(())
        })
        .await;
    if let Some(e) = failed {
        return Err(e.into());
    }
    let rows = rows?;
    let path = path.to_path_buf();
    // Compressing the workbook is CPU work: off the async threads.
    tokio::task::spawn_blocking(move || workbook.save(&path))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
    Ok(rows)
}
