//! The seller's console in a real headless Chromium on a 360x640 phone
//! screen (see `support::browser`): logging in (a wrong password refused,
//! the limit after 10 wrong ones), finding a transaction by its order id,
//! forms whose CSRF token was removed or changed refused, and the pages
//! fitting the phone. With `PAYCUE_SCREENSHOTS=dir` the main views are saved
//! there (`docs/screenshots/` in the repository).

mod support;

use fantoccini::Locator;
use paycue::config::RawConfig;
use serde_json::{Value, json};
use support::app::{Backend, TestApp, now_ms, spawn};
use support::browser::Browser;
use support::console::PASSWORD;

/// One browser at a time: the machine is small and the tests are heavy.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn tune(c: &mut RawConfig) {
    c.console_password = Some(PASSWORD.into());
    c.cards = Some("8600123412347466,9860000011115982".into());
}

async fn screenshot(b: &Browser, name: &str) {
    let dir = match std::env::var("PAYCUE_SCREENSHOTS") {
        Ok(d) if !d.is_empty() => std::path::PathBuf::from(d),
        _ => std::env::temp_dir().join("paycue-screenshots"),
    };
    b.screenshot(&dir.join(format!("{name}.png"))).await;
}

async fn open(b: &Browser, app: &TestApp, path: &str) {
    b.client
        .goto(&format!("{}{path}", app.base))
        .await
        .expect("page opens");
}

fn text(v: Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

async fn fits_the_phone(b: &Browser, what: &str) {
    assert_eq!(
        b.eval("document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        json!(true),
        "{what} scrolls sideways at 360 px"
    );
}

/// Clicks `css` and waits for the next page to load.
async fn click(b: &Browser, css: &str) {
    b.eval("(window.beforeClick = true)").await;
    b.client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
    b.until(
        "window.beforeClick !== true && document.readyState === 'complete'",
        std::time::Duration::from_secs(10),
        "the next page loads",
    )
    .await;
}

async fn login(b: &Browser, app: &TestApp, password: &str) {
    open(b, app, "/console/login").await;
    let field = b.client.find(Locator::Id("password")).await.unwrap();
    field.send_keys(password).await.unwrap();
    click(b, "#login").await;
}

async fn path(b: &Browser) -> String {
    text(b.eval("location.pathname").await)
}

async fn create(app: &TestApp, price: i64, meta: Value) -> Value {
    let (code, body) = app
        .post("/transactions", json!({"amount": price, "metadata": meta}))
        .await;
    assert_eq!(code, 201, "{body}");
    body["data"].clone()
}

fn whole(tx: &Value) -> i64 {
    tx["amount"]
        .to_string()
        .trim_matches('"')
        .split('.')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn last4(tx: &Value) -> String {
    let c = tx["card"].as_str().unwrap();
    c[c.len() - 4..].to_string()
}

#[tokio::test]
async fn log_in_and_find_a_transaction_by_its_order_id() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(b) = Browser::start("console_browser_find", true).await else {
        return;
    };
    let app = spawn(Backend::Memory, "console_browser_find", tune)
        .await
        .unwrap();
    let mut wanted = Value::Null;
    for (i, price) in [120_000, 45_000, 20_000, 310_000, 75_500]
        .iter()
        .enumerate()
    {
        let tx = create(
            &app,
            *price,
            json!({"order_id": format!("ORD-10{i}"), "customer": "Dilnoza"}),
        )
        .await;
        if i == 2 {
            wanted = tx.clone();
        }
        if i % 2 == 0 {
            app.humo_credit(i as i64 + 1, whole(&tx), &last4(&tx), now_ms())
                .await;
        }
    }
    app.humo_credit(99, 5_000, "7466", now_ms()).await; // unmatched

    open(&b, &app, "/console").await;
    assert_eq!(path(&b).await, "/console/login", "sent to the login form");
    screenshot(&b, "console-login").await;

    login(&b, &app, "not the password at all").await;
    assert_eq!(
        text(b.eval("document.getElementById('error').textContent").await),
        "Wrong password."
    );
    open(&b, &app, "/console").await;
    assert_eq!(path(&b).await, "/console/login", "still logged out");

    login(&b, &app, PASSWORD).await;
    assert_eq!(path(&b).await, "/console");
    fits_the_phone(&b, "the overview").await;
    assert_eq!(
        text(
            b.eval("document.getElementById('today-pending').textContent")
                .await
        ),
        "2"
    );
    screenshot(&b, "console-overview").await;

    click(&b, "nav a[href='/console/transactions']").await;
    assert_eq!(path(&b).await, "/console/transactions");
    fits_the_phone(&b, "the transaction list").await;
    screenshot(&b, "console-transactions").await;
    let q = b.client.find(Locator::Id("q")).await.unwrap();
    q.send_keys("ord-102").await.unwrap();
    click(&b, "#search").await;
    let rows = b
        .eval("[...document.querySelectorAll('tr[data-tx]')].map(r => r.dataset.tx)")
        .await;
    let id = wanted["transaction_id"].as_str().unwrap();
    assert_eq!(rows, json!([id]), "exactly the order asked for");
    click(&b, &format!("tr[data-tx='{id}'] a")).await;
    assert_eq!(path(&b).await, format!("/console/transactions/{id}"));
    assert_eq!(
        text(
            b.eval("document.getElementById('status').textContent")
                .await
        ),
        "confirmed"
    );
    fits_the_phone(&b, "a transaction").await;
    screenshot(&b, "console-transaction").await;
    b.close().await;
    app.stop().await;
}

#[tokio::test]
async fn forms_without_their_token_are_refused_and_guessing_is_stopped() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(b) = Browser::start("console_browser_csrf", true).await else {
        return;
    };
    let app = spawn(Backend::Memory, "console_browser_csrf", tune)
        .await
        .unwrap();
    let tx = create(&app, 20_000, json!({"order_id": "C-1"})).await;
    app.humo_credit(1, whole(&tx), &last4(&tx), now_ms()).await;
    let id = tx["transaction_id"].as_str().unwrap();
    login(&b, &app, PASSWORD).await;
    let detail = format!("/console/transactions/{id}");
    for tamper in [
        "document.querySelector('form.action input[name=csrf]').remove()",
        "document.querySelector('form.action input[name=csrf]').value = 'f'.repeat(64)",
    ] {
        open(&b, &app, &detail).await;
        b.eval(tamper).await;
        click(&b, "#redeliver").await;
        assert_eq!(
            text(b.eval("document.querySelector('h1').textContent").await),
            "Action refused",
            "{tamper}"
        );
    }
    // The untouched form works.
    open(&b, &app, &detail).await;
    click(&b, "#redeliver").await;
    assert!(b.eval("!!document.getElementById('done')").await == json!(true));

    // Log out, then guess: the 11th attempt is refused even when right.
    click(&b, "form.logout button").await;
    assert_eq!(path(&b).await, "/console/login");
    for i in 0..paycue::web::console::IP_FAILURES {
        login(&b, &app, &format!("guess {i:03} of many")).await;
        assert_eq!(
            text(b.eval("document.getElementById('error').textContent").await),
            "Wrong password.",
            "guess {i}"
        );
    }
    login(&b, &app, PASSWORD).await;
    let error = text(b.eval("document.getElementById('error').textContent").await);
    assert!(error.starts_with("Too many wrong passwords"), "{error}");
    assert_eq!(path(&b).await, "/console/login");
    b.close().await;
    app.stop().await;
}

#[tokio::test]
async fn assign_an_unmatched_credit_once_and_see_the_manual_webhook() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(b) = Browser::start("console_browser_assign", true).await else {
        return;
    };
    let mut app = spawn(Backend::Memory, "console_browser_assign", tune)
        .await
        .unwrap();
    let first = create(&app, 150_000, json!({"order_id": "ORD-2001"})).await;
    let second = create(&app, 150_000, json!({"order_id": "ORD-2002"})).await;
    // The buyer paid the price asked, not the unique amount: no match.
    app.humo_credit(7, 150_000, &last4(&first), now_ms()).await;
    let (id1, id2) = (
        first["transaction_id"].as_str().unwrap(),
        second["transaction_id"].as_str().unwrap(),
    );
    login(&b, &app, PASSWORD).await;
    open(&b, &app, "/console/credits").await;
    fits_the_phone(&b, "the credits page").await;
    screenshot(&b, "console-credits").await;
    // A second tab on the same page, left open (a stale page).
    let main = b.client.window().await.unwrap();
    let stale = b.client.new_window(true).await.unwrap().handle;
    b.client.switch_to_window(stale.clone()).await.unwrap();
    open(&b, &app, "/console/credits").await;
    b.client.switch_to_window(main).await.unwrap();

    click(&b, &format!("button.assign[data-tx='{id1}']")).await;
    assert_eq!(path(&b).await, format!("/console/transactions/{id1}"));
    assert_eq!(
        text(
            b.eval("document.getElementById('status').textContent")
                .await
        ),
        "confirmed"
    );
    assert!(
        text(
            b.eval("document.getElementById('manual').textContent")
                .await
        )
        .starts_with("by console at")
    );
    let hook = app.receiver.next().await.json();
    assert_eq!(hook["action"], "confirm");
    assert_eq!(hook["transaction_id"], id1);
    assert_eq!(hook["manual"], true);
    screenshot(&b, "console-assigned").await;

    // The stale tab tries to give the same credit to the other order.
    b.client.switch_to_window(stale).await.unwrap();
    click(&b, &format!("button.assign[data-tx='{id2}']")).await;
    assert_eq!(
        text(b.eval("document.querySelector('h1').textContent").await),
        "Not settled"
    );
    assert!(
        text(
            b.eval("document.getElementById('notice').textContent")
                .await
        )
        .contains("already pays")
    );
    app.receiver
        .assert_quiet(std::time::Duration::from_millis(500))
        .await;
    let (_, tx2) = app.get(&format!("/transactions/{id2}")).await;
    assert_eq!(tx2["data"]["status"], "pending");
    b.close().await;
    app.stop().await;
}

#[tokio::test]
async fn export_the_filtered_list_and_open_the_xlsx() {
    use calamine::{Reader, Xlsx, open_workbook};
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(b) = Browser::start("console_browser_export", true).await else {
        return;
    };
    let app = spawn(Backend::Memory, "console_browser_export", tune)
        .await
        .unwrap();
    for i in 0..4 {
        let tx = create(
            &app,
            30_000 + i,
            json!({"order_id": format!("XL-{i}"), "city": "Samarqand"}),
        )
        .await;
        if i < 2 {
            app.humo_credit(i + 1, whole(&tx), &last4(&tx), now_ms())
                .await;
        }
    }
    create(&app, 55_000, json!({"order_id": "NOT-THIS"})).await;
    let downloads = tempfile::tempdir().unwrap();
    b.cdp(
        "Browser.setDownloadBehavior",
        json!({"behavior": "allow", "downloadPath": downloads.path().to_str().unwrap()}),
    )
    .await;
    login(&b, &app, PASSWORD).await;
    open(&b, &app, "/console/transactions").await;
    let q = b.client.find(Locator::Id("q")).await.unwrap();
    q.send_keys("xl-").await.unwrap();
    b.client
        .find(Locator::Id("export-xlsx"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let file = loop {
        let done = std::fs::read_dir(downloads.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "xlsx"));
        if let Some(f) = done {
            break f;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no XLSX downloaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let mut book: Xlsx<_> = open_workbook(&file).expect("the download opens as XLSX");
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(
        rows.len(),
        1 + 4,
        "a header and the 4 orders searched for: {rows:?}"
    );
    let col = |name: &str| {
        rows[0]
            .iter()
            .position(|h| h.contains(name))
            .unwrap_or_else(|| panic!("a {name} column in {:?}", rows[0]))
    };
    let (order, city, status) = (col("order_id"), col("city"), col("status"));
    let mut orders: Vec<&str> = rows[1..].iter().map(|r| r[order].as_str()).collect();
    orders.sort();
    assert_eq!(orders, ["XL-0", "XL-1", "XL-2", "XL-3"]);
    assert!(rows[1..].iter().all(|r| r[city] == "Samarqand"));
    let confirmed = rows[1..]
        .iter()
        .filter(|r| r[status] == "confirmed")
        .count();
    assert_eq!(confirmed, 2);
    b.close().await;
    app.stop().await;
}
