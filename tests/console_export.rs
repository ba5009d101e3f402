//! The console's export buttons (issue 11): the Transactions filter as a CSV
//! or XLSX download, read back here (csv crate, calamine): one row per
//! transaction, the order id in its own column, only what the filter
//! selects; a bad filter or format is refused, and nothing is exported
//! without a session.

mod support;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::json;
use support::app::{Backend, TestApp, now_ms, spawn};
use support::console::{PASSWORD, Seller};

async fn app() -> TestApp {
    spawn(Backend::Memory, "console_export", |c| {
        c.console_password = Some(PASSWORD.into());
    })
    .await
    .expect("memory app")
}

async fn create(app: &TestApp, price: i64, order: &str) -> serde_json::Value {
    let (code, body) = app
        .post(
            "/transactions",
            json!({"amount": price, "metadata": {"order_id": order}}),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn the_transactions_filter_downloads_as_csv_and_xlsx() {
    let app = app().await;
    let a = create(&app, 20000, "ORD-1").await;
    let b = create(&app, 30000, "ORD-2").await;
    let _other = create(&app, 40000, "X-9").await;
    let whole = |tx: &serde_json::Value| -> i64 {
        tx["amount"]
            .to_string()
            .trim_matches('"')
            .split('.')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    app.humo_credit(1, whole(&b), "7466", now_ms()).await;

    let mut s = Seller::new(&app);
    let (code, _, body) = s.download("/console/export?format=csv").await;
    assert_ne!(code, 200, "no export without a session");
    assert!(!String::from_utf8_lossy(&body).contains("ORD-1"));
    s.login().await;

    let page = s.get("/console/transactions").await;
    assert!(
        page.body.contains("id=\"export-xlsx\""),
        "the list has the buttons"
    );

    let (code, headers, body) = s.download("/console/export?format=csv&q=ord-").await;
    assert_eq!(code, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let mut r = csv::Reader::from_reader(body.as_slice());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let col = head
        .iter()
        .position(|h| h.contains("order_id"))
        .expect("an order_id column");
    let mut orders: Vec<String> = r
        .records()
        .map(|rec| rec.unwrap()[col].to_string())
        .collect();
    orders.sort();
    assert_eq!(orders, ["ORD-1", "ORD-2"], "only what the filter selects");

    let (code, headers, body) = s
        .download("/console/export?format=xlsx&status=confirmed")
        .await;
    assert_eq!(code, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let mut book = Xlsx::new(Cursor::new(body)).expect("an XLSX file");
    let sheet = book.worksheet_range("transactions").unwrap();
    let rows: Vec<_> = sheet.rows().collect();
    assert_eq!(rows.len(), 2, "a header and the one paid order");
    let col = rows[0]
        .iter()
        .position(|c| matches!(c, Data::String(h) if h.contains("order_id")))
        .expect("an order_id column");
    assert_eq!(rows[1][col], Data::String("ORD-2".into()));
    let id = a["transaction_id"].as_str().unwrap();
    assert!(
        !rows
            .iter()
            .any(|r| r.iter().any(|c| matches!(c, Data::String(v) if v == id)))
    );

    for bad in [
        "/console/export?format=pdf",
        "/console/export?format=csv&amount=abc",
        "/console/export?format=csv&status=expired",
    ] {
        let (code, _, _) = s.download(bad).await;
        assert_eq!(code, 400, "{bad}");
    }
    app.stop().await;
}
