//! The buyer's payment page over HTTP (no browser): what it shows and hides,
//! its headers, 404s, languages, `payment_url` and `return_url`, and the
//! long-poll status (bounded, ended by shutdown, and fed by another paycue
//! process on the same Redis). The browser tests are in `pay_browser.rs`.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use paycue::config::Config;
use paycue::engine::Engine;
use paycue::store::RedisStore;
use serde_json::{Value, json};
use support::app::{Backend, TestApp, humo_text, now_ms, settings, spawn};

const CARD: &str = "8600123412347466";

async fn app(test: &str, tune: impl FnOnce(&mut paycue::config::RawConfig)) -> TestApp {
    spawn(Backend::Memory, test, |c| {
        c.cards = Some(CARD.into());
        c.public_url = Some("https://pay.shop.example".into());
        c.pay_return_origins = Some("https://shop.example".into());
        tune(c);
    })
    .await
    .expect("memory app")
}

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

async fn page(app: &TestApp, path: &str, lang: Option<&str>) -> Page {
    let mut req = app.http.get(format!("{}{path}", app.base));
    if let Some(l) = lang {
        req = req.header("accept-language", l);
    }
    let resp = req.send().await.unwrap();
    Page {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

fn header<'a>(p: &'a Page, name: &str) -> &'a str {
    p.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Whether the section of `state` is shown (not `hidden`).
fn shown(body: &str, state: &str) -> bool {
    let tag = format!("<section id=\"state-{state}\"");
    let start = body.find(&tag).expect("section present");
    let end = start + body[start..].find('>').unwrap();
    !body[start..end].contains("hidden")
}

#[tokio::test]
async fn page_shows_amount_and_card_and_nothing_of_metadata() {
    let app = app("pay_shows", |c| {
        c.shop_name = Some("Oila Market".into());
        c.card_holder = Some("ALISHER KARIMOV".into());
    })
    .await;
    let (code, body) = app
        .post(
            "/transactions",
            json!({"amount": 20000, "metadata": {"note": "S3CRET-META", "email": "buyer@example.com"}}),
        )
        .await;
    assert_eq!(code, 201);
    let id = body["data"]["transaction_id"].as_str().unwrap().to_string();
    let p = page(&app, &format!("/pay/{id}"), Some("ru")).await;
    assert_eq!(p.status, 200);
    assert!(header(&p, "content-type").starts_with("text/html"));
    for text in [
        "20\u{a0}001\u{a0}сум",
        "20\u{a0}000\u{a0}сум",
        "8600\u{a0}1234\u{a0}1234\u{a0}7466",
        "ALISHER KARIMOV",
        "Oila Market",
        "data-copy=\"20001\"",
        "data-copy=\"8600123412347466\"",
        "<svg",
    ] {
        assert!(p.body.contains(text), "page lacks {text:?}");
    }
    assert!(shown(&p.body, "pending") && !shown(&p.body, "paid"));
    for secret in ["S3CRET-META", "buyer@example.com", "metadata"] {
        assert!(!p.body.contains(secret), "page shows {secret}");
    }
    // Safe to expose: strict CSP, noindex, not cached.
    let csp = header(&p, "content-security-policy");
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(
        csp.contains("script-src 'sha256-") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(header(&p, "x-robots-tag").contains("noindex"));
    assert!(p.body.contains("<meta name=\"robots\" content=\"noindex"));
    assert!(header(&p, "cache-control").contains("no-store"));
    assert!(!p.body.contains(" src="), "nothing loaded from anywhere");

    let (code, status) = app.get(&format!("/pay/{id}/status")).await;
    assert_eq!(code, 200);
    assert_eq!(status["data"]["state"], "pending");
    assert_eq!(status["data"]["amount"], 20001);
    let left = status["data"]["seconds_left"].as_i64().unwrap();
    assert!((1790..=1800).contains(&left), "{left}");
    assert!(!status.to_string().contains("S3CRET-META"));
    app.stop().await;
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_a_plain_404_page() {
    let app = app("pay_404", |_| {}).await;
    let tx = app.create(5000).await;
    let id = tx["transaction_id"].as_str().unwrap();
    for path in [
        "/pay/8a6e0804-2bd0-4672-b79f-d3be8334a486".to_string(),
        "/pay/not-an-id".to_string(),
        format!("/pay/{}", id.to_uppercase()),
        format!("/pay/{}", id.replace('-', "")),
        format!("/pay/{id}/status/x"),
        "/pay/".to_string(),
        "/pay/%3Cscript%3E".to_string(),
        "/pay/..%2F..%2Ftransactions".to_string(),
    ] {
        let p = page(&app, &path, Some("en")).await;
        assert_eq!(p.status, 404, "{path}");
        assert!(
            header(&p, "content-type").starts_with("text/html"),
            "{path}"
        );
        assert!(p.body.contains("Payment not found"), "{path}: {}", p.body);
        assert!(!p.body.contains("<script"), "{path}");
        assert!(header(&p, "x-robots-tag").contains("noindex"), "{path}");
    }
    for path in [
        "/pay/8a6e0804-2bd0-4672-b79f-d3be8334a486/status",
        "/pay/nope/status",
    ] {
        let (code, body) = app.get(path).await;
        assert_eq!(code, 404, "{path}");
        assert_eq!(body["status"], false, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn payment_url_on_both_create_routes_only_with_public_url() {
    let app = app("pay_url", |_| {}).await;
    for route in ["/transactions", "/create/transaction/"] {
        let (_, body) = app.post(route, json!({"amount": 700})).await;
        let id = body["data"]["transaction_id"].as_str().unwrap();
        assert_eq!(
            body["data"]["payment_url"],
            format!("https://pay.shop.example/pay/{id}"),
            "{route}"
        );
    }
    app.stop().await;
    let bare = spawn(Backend::Memory, "pay_url_none", |_| {})
        .await
        .unwrap();
    for route in ["/transactions", "/create/transaction/"] {
        let (code, body) = bare.post(route, json!({"amount": 700})).await;
        assert!(code == 200 || code == 201, "{route}: {body}");
        assert!(body["data"].get("payment_url").is_none(), "{route}: {body}");
    }
    bare.stop().await;
}

#[tokio::test]
async fn return_url_only_to_the_shops_origins() {
    let app = app("pay_return", |_| {}).await;
    for bad in [
        "https://evil.example/",
        "https://shop.example.evil.example/",
        "javascript:alert(1)",
        "//evil.example",
        "http://shop.example/",
    ] {
        let (code, body) = app
            .post("/transactions", json!({"amount": 900, "return_url": bad}))
            .await;
        assert_eq!(code, 422, "{bad}: {body}");
    }
    let (_, listed) = app.get("/transactions").await;
    assert_eq!(
        listed["data"],
        json!([]),
        "a refused create changes nothing"
    );

    let good = "https://shop.example/thanks?order=7";
    let (code, body) = app
        .post("/transactions", json!({"amount": 900, "return_url": good}))
        .await;
    assert_eq!(code, 201, "{body}");
    let url = body["data"]["payment_url"].as_str().unwrap();
    let path = url.strip_prefix("https://pay.shop.example").unwrap();
    app.humo_credit(1, 901, "7466", now_ms()).await;
    let p = page(&app, path, None).await;
    assert!(shown(&p.body, "paid"));
    assert!(
        p.body
            .contains("content=\"5;url=https://shop.example/thanks?order=7\""),
        "{}",
        p.body
    );
    // A link edited to point elsewhere is ignored, not followed.
    let id = body["data"]["transaction_id"].as_str().unwrap();
    let p = page(
        &app,
        &format!("/pay/{id}?return=https://evil.example/"),
        None,
    )
    .await;
    assert!(!p.body.contains("evil.example"), "{}", p.body);
    assert!(!p.body.contains("http-equiv=\"refresh\""));
    app.stop().await;
}

#[tokio::test]
async fn language_from_query_then_accept_language_then_pay_lang() {
    let app = app("pay_lang", |c| c.pay_lang = Some("kk".into())).await;
    let tx = app.create(20000).await;
    let path = format!("/pay/{}", tx["transaction_id"].as_str().unwrap());
    let cases = [
        (
            format!("{path}?lang=uz"),
            Some("ru"),
            "uz",
            "Aynan shu summani o‘tkazing",
        ),
        (
            path.clone(),
            Some("en-GB,en;q=0.9"),
            "en",
            "Pay exactly this amount",
        ),
        (
            path.clone(),
            Some("de, ru;q=0.5"),
            "ru",
            "Переведите ровно эту сумму",
        ),
        (path.clone(), None, "kk", "Дәл осы соманы аударыңыз"),
    ];
    for (url, accept, lang, text) in cases {
        let p = page(&app, &url, accept).await;
        assert!(
            p.body.contains(&format!("<html lang=\"{lang}\"")),
            "{url} {accept:?}"
        );
        assert!(p.body.contains(text), "{url} {accept:?}");
    }
    let en = page(&app, &format!("{path}?lang=en"), None).await;
    assert!(en.body.contains("20,001\u{a0}UZS"));
    let uz = page(&app, &format!("{path}?lang=uz"), None).await;
    assert!(uz.body.contains("20\u{a0}001\u{a0}so‘m"));
    app.stop().await;
}

#[tokio::test]
async fn expired_page_says_what_to_do_and_never_to_pay_again() {
    let app = app("pay_expired", |c| c.tx_ttl = Some("1s".into())).await;
    let tx = app.create(3000).await;
    let id = tx["transaction_id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Past the deadline but not yet swept: already "expired" for the buyer.
    let p = page(&app, &format!("/pay/{id}?lang=en"), None).await;
    assert!(shown(&p.body, "expired") && !shown(&p.body, "pending"));
    app.engine.expire_once(now_ms()).await.unwrap();
    let p = page(&app, &format!("/pay/{id}?lang=en"), None).await;
    assert!(shown(&p.body, "expired"));
    assert!(
        p.body.contains(
            "Do not pay for this order now. If you already paid, your payment is recorded"
        )
    );
    assert!(!p.body.to_lowercase().contains("pay again"));
    let (_, s) = app.get(&format!("/pay/{id}/status")).await;
    assert_eq!(
        (s["data"]["state"].clone(), s["data"]["final"].clone()),
        (json!("expired"), json!(true))
    );
    app.stop().await;
}

/// A status request held open answers as soon as another paycue process on
/// the same Redis confirms the payment (by re-reading, not by its own
/// signal), within 2 s.
#[tokio::test]
async fn long_poll_sees_a_payment_confirmed_by_another_process() {
    let Some(app) = spawn(Backend::Redis, "pay_two_processes", |c| {
        c.cards = Some(CARD.into())
    })
    .await
    else {
        return;
    };
    let tx = app.create(20000).await;
    let id = tx["transaction_id"].as_str().unwrap().to_string();
    let other = Engine::new(
        Config::from_raw(&paycue::config::RawConfig {
            cards: Some(CARD.into()),
            ..Default::default()
        })
        .unwrap(),
        Arc::new(RedisStore::open(
            &app.redis.as_ref().unwrap().url(),
            settings(),
        )),
    );
    let url = format!("{}/pay/{id}/status?since=pending&wait=20", app.base);
    let poll = tokio::spawn({
        let http = app.http.clone();
        async move {
            let body: Value = http.get(url).send().await.unwrap().json().await.unwrap();
            (Instant::now(), body)
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!poll.is_finished(), "held while nothing changes");
    let msg = paycue::source::parse_line(
        &json!({"sender_id": 856254490, "message_id": 9, "text": humo_text(20001, "7466")})
            .to_string(),
    )
    .unwrap();
    other.ingest(&msg).await.unwrap();
    let confirmed = Instant::now();
    let (answered, body) = poll.await.unwrap();
    assert_eq!(body["data"]["state"], "paid", "{body}");
    assert_eq!(body["data"]["final"], true);
    let lag = answered.duration_since(confirmed);
    assert!(
        lag < Duration::from_secs(2),
        "seen {lag:?} after the other process confirmed"
    );
    app.stop().await;
}

#[tokio::test]
async fn long_poll_is_bounded_and_ends_at_shutdown() {
    let app = app("pay_bounded", |_| {}).await;
    let tx = app.create(1000).await;
    let id = tx["transaction_id"].as_str().unwrap();
    let start = Instant::now();
    let (_, body) = app
        .get(&format!("/pay/{id}/status?since=pending&wait=1"))
        .await;
    assert_eq!(body["data"]["state"], "pending");
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "held for wait=1"
    );
    // A state other than the one the client knows answers at once.
    let start = Instant::now();
    let (_, body) = app
        .get(&format!("/pay/{id}/status?since=paid&wait=20"))
        .await;
    assert_eq!(body["data"]["state"], "pending");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(paycue::web::pay::MAX_WAIT, Duration::from_secs(25));

    let url = format!("{}/pay/{id}/status?since=pending&wait=25", app.base);
    let held = tokio::spawn(app.http.get(url).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    app.stop().await;
    let resp = held.await.unwrap().unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "shutdown waited {:?}",
        start.elapsed()
    );
}
