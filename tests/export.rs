//! Export (issue 11): CSV and XLSX read back (csv crate, calamine): one row
//! per transaction, every metadata key its own column, amounts numbers with
//! the currency, times in the seller's zone (`TZ`), formulas made inert,
//! the date range honoured; and 100 000 rows streamed (row count checked).

mod support;

use std::sync::Arc;

use calamine::{Data, Reader, Xlsx, open_workbook};
use paycue::config::{Config, RawConfig};
use paycue::engine::{CreateRequest, Engine};
use paycue::export::{Export, Format};
use paycue::listing::{FilterQuery, TxFilter};
use paycue::money::Money;
use paycue::store::{MemoryStore, Store};
use serde_json::json;
use support::app::{Backend, TestApp, spawn};

support::both!(csv_and_xlsx_read_back);

async fn create(
    engine: &Engine,
    price: i64,
    meta: serde_json::Value,
) -> paycue::model::Transaction {
    match engine
        .create(CreateRequest {
            amount: Money::from_major(price),
            metadata: Some(meta),
            idempotency: None,
        })
        .await
        .unwrap()
    {
        paycue::store::CreateOutcome::Created(tx) => tx,
        other => panic!("{other:?}"),
    }
}

fn export(app: &TestApp, format: Format, filter: TxFilter) -> Export {
    Export {
        filter,
        format,
        tz: app.engine.config.tz.clone(),
    }
}

async fn csv_and_xlsx_read_back(b: Backend) {
    let Some(app) = spawn(b, "export_read_back", |c| {
        c.cards = Some("9860****7466".into());
        c.tz = Some("Asia/Almaty".into());
    })
    .await
    else {
        return;
    };
    let e = &app.engine;
    let a = create(
        e,
        20000,
        json!({"order_id": "A-1", "buyer": "=HYPERLINK(\"http://evil\")"}),
    )
    .await;
    let bb = create(e, 150, json!({"order_id": "B-2", "note": {"gift": true}})).await;
    e.confirm_by_hand(&bb.id, &paycue::manual::Actor::cli("alice", "h"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    let path = dir.path().join("t.csv");
    let rows = paycue::export::to_path(e, &export(&app, Format::Csv, TxFilter::default()), &path)
        .await
        .unwrap();
    assert_eq!(rows, 2);
    let mut r = csv::Reader::from_path(&path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    for col in [
        "transaction_id",
        "amount",
        "currency",
        "created_at",
        "manual_by",
        "metadata.order_id",
        "metadata.buyer",
        "metadata.note",
        "metadata_other",
    ] {
        assert!(header.contains(&col.to_string()), "{col} in {header:?}");
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2);
    // Newest first: B then A.
    assert_eq!(&records[0][col("transaction_id")], bb.id.as_str());
    assert_eq!(&records[0][col("amount")], "151.00");
    assert_eq!(&records[0][col("currency")], "UZS");
    assert_eq!(&records[0][col("status")], "confirmed");
    assert_eq!(&records[0][col("manual_by")], "cli@alice");
    assert_eq!(&records[0][col("metadata.note")], r#"{"gift":true}"#);
    assert_eq!(
        &records[1][col("metadata.buyer")],
        "'=HYPERLINK(\"http://evil\")"
    );
    assert_eq!(&records[1][col("metadata.note")], "");
    let almaty = jiff::tz::TimeZone::get("Asia/Almaty").unwrap();
    let local_dt = jiff::Timestamp::from_millisecond(a.created_at)
        .unwrap()
        .to_zoned(almaty)
        .datetime();
    let local = local_dt.strftime("%Y-%m-%d %H:%M:%S").to_string();
    assert_eq!(&records[1][col("created_at")], local.as_str());

    let path = dir.path().join("t.xlsx");
    let rows = paycue::export::to_path(e, &export(&app, Format::Xlsx, TxFilter::default()), &path)
        .await
        .unwrap();
    assert_eq!(rows, 2);
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let sheet = book.worksheet_range("transactions").unwrap();
    let grid: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    assert_eq!(grid.len(), 3, "header and two rows");
    let xh: Vec<String> = grid[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(xh, header, "the same columns as the CSV");
    assert_eq!(grid[1][col("amount")], Data::Float(151.0));
    assert_eq!(grid[2][col("amount")], Data::Float(20001.0));
    assert_eq!(
        grid[2][col("metadata.buyer")],
        Data::String("=HYPERLINK(\"http://evil\")".into())
    );
    match &grid[2][col("created_at")] {
        Data::DateTime(d) => {
            // Excel's serial: days since 1899-12-30, in local time.
            let epoch = jiff::civil::datetime(1899, 12, 30, 0, 0, 0, 0);
            let want = local_dt.duration_since(epoch).as_secs();
            let got = (d.as_f64() * 86_400.0).round() as i64;
            assert_eq!(got, want, "local {local}");
        }
        other => panic!("created_at is {other:?}"),
    }

    // The date range and filters are honoured.
    let only = FilterQuery {
        q: Some("a-1".into()),
        ..Default::default()
    }
    .parse(&app.engine.config.tz)
    .unwrap();
    let path = dir.path().join("only.csv");
    assert_eq!(
        paycue::export::to_path(e, &export(&app, Format::Csv, only), &path)
            .await
            .unwrap(),
        1
    );
    let past = FilterQuery {
        from: Some("2001-01-01".into()),
        to: Some("2001-12-31".into()),
        ..Default::default()
    }
    .parse(&app.engine.config.tz)
    .unwrap();
    let (file, rows) = paycue::export::to_temp_file(e, &export(&app, Format::Xlsx, past))
        .await
        .unwrap();
    assert_eq!(rows, 0);
    let mut book: Xlsx<_> = open_workbook(file.path()).unwrap();
    assert_eq!(
        book.worksheet_range("transactions").unwrap().rows().count(),
        1,
        "header only"
    );
    app.stop().await;
}

/// 100 000 transactions exported in both formats; each file read back has
/// a header and 100 000 rows. (Timing and memory are measured by hand, see
/// README "Performance"; nothing here depends on them.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_rows() {
    const N: i64 = 100_000;
    let config = Config::from_raw(&RawConfig::default()).unwrap();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(Default::default()));
    let engine = Engine::new(config, store);
    for i in 0..N {
        create(
            &engine,
            1000 + i * 1000,
            json!({"order_id": format!("O-{i}"), "k": i % 7}),
        )
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let tz = engine.config.tz.clone();
    for format in [Format::Csv, Format::Xlsx] {
        let path = dir.path().join(format!("all.{}", format.extension()));
        let ex = Export {
            filter: TxFilter::default(),
            format,
            tz: tz.clone(),
        };
        let rows = paycue::export::to_path(&engine, &ex, &path).await.unwrap();
        assert_eq!(rows, N as usize);
        let read = match format {
            Format::Csv => csv::Reader::from_path(&path).unwrap().records().count(),
            Format::Xlsx => {
                let mut book: Xlsx<_> = open_workbook(&path).unwrap();
                book.worksheet_range("transactions").unwrap().rows().count() - 1
            }
        };
        assert_eq!(read, N as usize, "{format:?}");
    }
}
