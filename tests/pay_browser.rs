//! The payment page in a real headless Chromium on a 360x640 phone screen
//! (see `support::browser`): amount and card, copy, the page turning to paid
//! without reload when a credit goes through the `--source stdin` path, the
//! countdown with the phone's clock an hour off, expiry, every language, the
//! page without JavaScript, and a phone that slept while another paycue
//! process confirmed the payment. With `PAYCUE_SCREENSHOTS=dir` the main
//! states are saved there (`docs/screenshots/` in the repository).

mod support;

use std::sync::Arc;
use std::time::Duration;

use fantoccini::Locator;
use paycue::config::{Config, RawConfig};
use paycue::engine::Engine;
use paycue::store::RedisStore;
use serde_json::{Value, json};
use support::app::{Backend, TestApp, humo_text, settings, spawn};
use support::browser::Browser;

const CARD: &str = "8600123412347466";

/// One browser at a time: the machine is small and the tests are heavy.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn tune(c: &mut RawConfig) {
    c.cards = Some(CARD.into());
    c.shop_name = Some("Oila Market".into());
    c.card_holder = Some("ALISHER KARIMOV".into());
    c.public_url = Some("https://pay.shop.example".into());
}

async fn screenshot(b: &Browser, name: &str) {
    let dir = match std::env::var("PAYCUE_SCREENSHOTS") {
        Ok(d) if !d.is_empty() => std::path::PathBuf::from(d),
        _ => std::env::temp_dir().join("paycue-screenshots"),
    };
    b.screenshot(&dir.join(format!("{name}.png"))).await;
}

async fn open(b: &Browser, app: &TestApp, id: &str, query: &str) {
    b.client
        .goto(&format!("{}/pay/{id}{query}", app.base))
        .await
        .expect("page opens");
}

/// Feeds a HUMO credit through exactly what `--source stdin` runs.
async fn stdin_credit(engine: Arc<Engine>, message_id: i64, amount: i64) {
    let line = json!({"sender_id": 856254490, "message_id": message_id, "text": humo_text(amount, "7466")});
    let input = std::io::Cursor::new(format!("{line}\n").into_bytes());
    paycue::source::run_lines(engine, tokio::io::BufReader::new(input))
        .await
        .expect("stdin source");
}

fn text_of(v: Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

async fn fits_the_phone(b: &Browser) {
    assert_eq!(b.eval("window.innerWidth").await, json!(360));
    assert_eq!(
        b.eval("document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        json!(true),
        "the page scrolls sideways at 360 px"
    );
}

#[tokio::test]
async fn shows_amount_and_card_copies_and_turns_paid_without_reload() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(b) = Browser::start("pay_browser_paid", true).await else {
        return;
    };
    let app = spawn(Backend::Memory, "pay_browser_paid", tune)
        .await
        .unwrap();
    let tx = app.create(20000).await;
    let id = tx["transaction_id"].as_str().unwrap();
    open(&b, &app, id, "?lang=ru").await;
    fits_the_phone(&b).await;
    let amount = text_of(
        b.eval("document.getElementById('amount').textContent")
            .await,
    );
    assert_eq!(amount, "20\u{a0}001\u{a0}сум");
    let card = text_of(b.eval("document.getElementById('card').textContent").await);
    assert_eq!(card, "8600\u{a0}1234\u{a0}1234\u{a0}7466");

    b.cdp(
        "Browser.grantPermissions",
        json!({"origin": app.base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}),
    )
    .await;
    let copy = b.client.find(Locator::Css("button.copy")).await.unwrap();
    assert!(
        copy.is_displayed().await.unwrap(),
        "copy button shown with JS"
    );
    copy.click().await.unwrap();
    b.until(
        "document.querySelector('.copied').textContent === 'Скопировано'",
        Duration::from_secs(3),
        "\"copied\" shown",
    )
    .await;
    let pasted = b
        .client
        .execute_async(
            "const done = arguments[0]; navigator.clipboard.readText().then(done, e => done('error: ' + e));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        pasted,
        json!("20001"),
        "the clipboard holds the plain amount"
    );
    screenshot(&b, "pending-ru").await;

    b.eval("(window.notReloaded = true)").await;
    stdin_credit(app.engine.clone(), 1, 20001).await;
    let took = b
        .until(
            "!document.getElementById('state-paid').hidden && document.getElementById('state-pending').hidden",
            Duration::from_secs(2),
            "the open page turns to paid within 2 s of the credit",
        )
        .await;
    assert_eq!(
        b.eval("window.notReloaded === true").await,
        json!(true),
        "no reload"
    );
    eprintln!("paid shown {took:?} after the credit was applied");
    screenshot(&b, "paid-ru").await;
    b.close().await;
    app.stop().await;
}

fn seconds(clock: &str) -> i64 {
    clock
        .split(':')
        .fold(0, |acc, part| acc * 60 + part.parse::<i64>().unwrap_or(0))
}

#[tokio::test]
async fn countdown_follows_the_server_with_the_phone_clock_an_hour_off() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(b) = Browser::start("pay_browser_clock", true).await else {
        return;
    };
    let app = spawn(Backend::Memory, "pay_browser_clock", tune)
        .await
        .unwrap();
    let tx = app.create(15000).await;
    let id = tx["transaction_id"].as_str().unwrap();
    for shift_ms in [3_600_000i64, -3_600_000] {
        let script = format!(
            "(() => {{ const R = Date, shift = {shift_ms}; class D extends R {{ constructor(...a) {{ if (a.length) {{ super(...a); }} else {{ super(R.now() + shift); }} }} static now() {{ return R.now() + shift; }} }} window.Date = D; }})();"
        );
        let added = b
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({"source": script}),
            )
            .await;
        open(&b, &app, id, "?lang=en").await;
        let skew = b
            .eval("Date.now() - performance.timeOrigin - performance.now()")
            .await;
        assert!(
            (skew.as_f64().unwrap() - shift_ms as f64).abs() < 60_000.0,
            "the page's clock is really off: {skew}"
        );
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let shown = seconds(&text_of(
            b.eval("document.getElementById('countdown').textContent")
                .await,
        ));
        let (_, status) = app.get(&format!("/pay/{id}/status")).await;
        let server = status["data"]["seconds_left"].as_i64().unwrap();
        assert!(
            (shown - server).abs() <= 3,
            "countdown {shown}s vs server {server}s with the clock {shift_ms} ms off"
        );
        assert_eq!(
            b.eval("document.getElementById('state-pending').hidden")
                .await,
            json!(false)
        );
        b.cdp(
            "Page.removeScriptToEvaluateOnNewDocument",
            json!({"identifier": added["identifier"]}),
        )
        .await;
    }
    b.close().await;
    app.stop().await;
}

#[tokio::test]
async fn expiry_view_comes_on_time_and_never_says_pay_again() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(b) = Browser::start("pay_browser_expiry", true).await else {
        return;
    };
    let app = spawn(Backend::Memory, "pay_browser_expiry", |c| {
        tune(c);
        c.tx_ttl = Some("4s".into());
    })
    .await
    .unwrap();
    app.engine.mark_caught_up();
    let tx = app.create(15000).await;
    let id = tx["transaction_id"].as_str().unwrap();
    open(&b, &app, id, "?lang=en").await;
    b.until(
        "!document.getElementById('state-expired').hidden",
        Duration::from_secs(8),
        "expired view after the 4 s deadline",
    )
    .await;
    let text = text_of(b.eval("document.body.innerText").await);
    assert!(
        text.contains("If you already paid, your payment is recorded"),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("pay again"), "{text}");
    assert!(
        !text.contains("20,001") || !text.contains("Copy"),
        "no pay button left: {text}"
    );
    // The server's sweep agrees, and the page stops asking.
    b.until(
        "document.getElementById('pay').dataset.state === 'expired'",
        Duration::from_secs(5),
        "state stays expired",
    )
    .await;
    screenshot(&b, "expired-en").await;
    b.close().await;
    app.stop().await;
}

#[tokio::test]
async fn every_language_fits_the_phone() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(b) = Browser::start("pay_browser_langs", true).await else {
        return;
    };
    let app = spawn(Backend::Memory, "pay_browser_langs", tune)
        .await
        .unwrap();
    let tx = app.create(1250000).await;
    let id = tx["transaction_id"].as_str().unwrap();
    for (lang, h1, amount) in [
        (
            "uz",
            "Aynan shu summani o‘tkazing",
            "1\u{a0}250\u{a0}001\u{a0}so‘m",
        ),
        (
            "ru",
            "Переведите ровно эту сумму",
            "1\u{a0}250\u{a0}001\u{a0}сум",
        ),
        (
            "kk",
            "Дәл осы соманы аударыңыз",
            "1\u{a0}250\u{a0}001\u{a0}сум",
        ),
        ("en", "Pay exactly this amount", "1,250,001\u{a0}UZS"),
    ] {
        open(&b, &app, id, &format!("?lang={lang}")).await;
        assert_eq!(text_of(b.eval("document.documentElement.lang").await), lang);
        assert_eq!(
            text_of(
                b.eval("document.querySelector('#state-pending h1').textContent")
                    .await
            ),
            h1
        );
        assert_eq!(
            text_of(
                b.eval("document.getElementById('amount').textContent")
                    .await
            ),
            amount
        );
        fits_the_phone(&b).await;
        screenshot(&b, &format!("pending-{lang}")).await;
    }
    b.close().await;
    app.stop().await;
}

#[tokio::test]
async fn without_javascript_the_page_still_says_what_to_pay() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(b) = Browser::start("pay_browser_nojs", false).await else {
        return;
    };
    let app = spawn(Backend::Memory, "pay_browser_nojs", tune)
        .await
        .unwrap();
    let tx = app.create(20000).await;
    let id = tx["transaction_id"].as_str().unwrap();
    open(&b, &app, id, "?lang=uz").await;
    let text = |css: &'static str| {
        let c = b.client.clone();
        async move {
            c.find(Locator::Css(css))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert_eq!(text("#amount").await, "20 001 so‘m");
    assert_eq!(text("#card").await, "8600 1234 1234 7466");
    assert!(text("#deadline").await.contains("gacha to‘lang"));
    let refresh = b
        .client
        .find(Locator::LinkText("Holatni yangilash"))
        .await
        .unwrap();
    assert!(
        refresh.is_displayed().await.unwrap(),
        "refresh link without JS"
    );
    let copy = b.client.find(Locator::Css("button.copy")).await.unwrap();
    assert!(
        !copy.is_displayed().await.unwrap(),
        "no dead copy button without JS"
    );
    screenshot(&b, "nojs-uz").await;
    // The refresh link shows the new state after payment.
    let href = refresh.attr("href").await.unwrap().unwrap();
    assert_eq!(href, "?lang=uz");
    app.humo_credit(1, 20001, "7466", support::app::now_ms())
        .await;
    open(&b, &app, id, &href).await;
    let paid = b.client.find(Locator::Css("#state-paid")).await.unwrap();
    assert!(paid.is_displayed().await.unwrap());
    b.close().await;
    app.stop().await;
}

/// The phone sleeps (page frozen, network gone) while another paycue process
/// on the same Redis confirms the payment; on waking the page shows paid
/// within 2 s.
#[tokio::test]
async fn after_the_phone_slept_the_page_catches_up() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(app) = spawn(Backend::Redis, "pay_browser_sleep", tune).await else {
        return;
    };
    let Some(b) = Browser::start("pay_browser_sleep", true).await else {
        return;
    };
    let other = Engine::new(
        Config::from_raw(&RawConfig {
            cards: Some(CARD.into()),
            ..RawConfig::default()
        })
        .unwrap(),
        Arc::new(RedisStore::open(
            &app.redis.as_ref().unwrap().url(),
            settings(),
        )),
    );
    let tx = app.create(20000).await;
    let id = tx["transaction_id"].as_str().unwrap();
    open(&b, &app, id, "?lang=kk").await;
    b.cdp("Network.enable", json!({})).await;
    b.cdp(
        "Network.emulateNetworkConditions",
        json!({"offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
    )
    .await;
    b.cdp("Page.setWebLifecycleState", json!({"state": "frozen"}))
        .await;
    stdin_credit(other, 5, 20001).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    b.cdp("Page.setWebLifecycleState", json!({"state": "active"}))
        .await;
    b.cdp(
        "Network.emulateNetworkConditions",
        json!({"offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
    )
    .await;
    b.until(
        "!document.getElementById('state-paid').hidden",
        Duration::from_secs(2),
        "paid within 2 s of waking",
    )
    .await;
    screenshot(&b, "paid-kk").await;
    b.close().await;
    app.stop().await;
}
