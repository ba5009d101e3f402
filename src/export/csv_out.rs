//! The CSV writer (RFC 4180, UTF-8, comma-separated, a header row).

use std::path::Path;

use super::columns::{self, Cell};
use super::{Export, ExportError};
use crate::engine::Engine;
use crate::store::StoreError;

/// Text a spreadsheet would run as a formula gets a leading `'`: one that
/// starts with `=`, `+`, `-`, `@`, tab, CR, LF or NUL (OWASP, ASVS 1.2.10),
/// also behind blanks (some spreadsheets skip them before reading `=`). A
/// shop's metadata is not trusted to be inert.
fn inert(s: &str) -> String {
    let first = s
        .chars()
        .find(|c| !matches!(c, ' ' | '\u{a0}' | '\u{3000}'));
    match (s.chars().next(), first) {
        (Some('\t' | '\r' | '\n' | '\0'), _) | (_, Some('=' | '+' | '-' | '@')) => {
            format!("'{s}")
        }
        _ => s.to_string(),
    }
}

fn field(cell: &Cell, tz: &jiff::tz::TimeZone) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) => inert(s),
        Cell::Money(m) => m.to_decimal_string(),
        Cell::Time(ms) => columns::local_time(*ms, tz)
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default(),
    }
}

pub(super) async fn write(
    engine: &Engine,
    export: &Export,
    keys: &[String],
    header: &[String],
    path: &Path,
) -> Result<usize, ExportError> {
    let mut out = csv::Writer::from_path(path)?;
    out.write_record(header.iter().map(|h| inert(h)))?;
    let mut failed = None;
    let rows = engine
        .each_transaction(&export.filter, |tx| {
            let record: Vec<String> = columns::row(tx, keys)
                .iter()
                .map(|c| field(c, &export.tz))
                .collect();
            out.write_record(&record).map_err(|e| {
                let msg = e.to_string();
                failed = Some(e);
                StoreError::Unavailable(msg)
            })
        })
        .await;
    if let Some(e) = failed {
        return Err(e.into());
    }
    let rows = rows?;
    out.flush()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_made_inert() {
        assert_eq!(super::inert("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(super::inert("@SUM(1)"), "'@SUM(1)");
        assert_eq!(super::inert("A-1001"), "A-1001");
        // OWASP / ASVS 1.2.10: NUL and LF first too, and a formula behind
        // blanks (some spreadsheets skip them before reading `=`).
        assert_eq!(super::inert("\0=1+1"), "'\0=1+1");
        assert_eq!(super::inert("\n=1+1"), "'\n=1+1");
        assert_eq!(
            super::inert("  =cmd|' /C calc'!A0"),
            "'  =cmd|' /C calc'!A0"
        );
        assert_eq!(super::inert("\u{a0}+1"), "'\u{a0}+1");
        assert_eq!(super::inert(" Order 5"), " Order 5");
    }
}
