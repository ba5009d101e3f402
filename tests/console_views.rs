//! What the console's views show, over HTTP: the overview's figures, the
//! transaction list and its filters (hostile input included), one
//! transaction with its webhook attempts and the redeliver button, and the
//! shop's metadata escaped. Login and security are in `console_page.rs`.

mod support;

use paycue::config::RawConfig;
use serde_json::json;
use support::app::{Backend, TestApp, now_ms, spawn};
use support::console::{PASSWORD, Seller, text_of};

const CARDS: &str = "8600123412347466,9860000011112222";

async fn app(test: &str, tune: impl FnOnce(&mut RawConfig)) -> TestApp {
    spawn(Backend::Memory, test, |c| {
        c.console_password = Some(PASSWORD.into());
        c.cards = Some(CARDS.into());
        tune(c);
    })
    .await
    .expect("memory app")
}

async fn create(app: &TestApp, price: i64, metadata: serde_json::Value) -> serde_json::Value {
    let (code, body) = app
        .post(
            "/transactions",
            json!({"amount": price, "metadata": metadata}),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    body["data"].clone()
}

fn amount_whole(tx: &serde_json::Value) -> i64 {
    let text = tx["amount"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| tx["amount"].to_string());
    text.trim_matches('"')
        .split('.')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn last4(tx: &serde_json::Value) -> String {
    let card = tx["card"].as_str().unwrap();
    card[card.len() - 4..].to_string()
}

#[tokio::test]
async fn overview_counts_paid_per_card_pending_unmatched_and_the_store() {
    let app = app("console_overview", |_| {}).await;
    let a = create(&app, 20000, json!({"order_id": "A-1"})).await;
    let b = create(&app, 30000, json!({"order_id": "A-2"})).await;
    let _pending = create(&app, 40000, json!({"order_id": "A-3"})).await;
    app.humo_credit(1, amount_whole(&a), &last4(&a), now_ms())
        .await;
    app.humo_credit(2, amount_whole(&b), &last4(&b), now_ms())
        .await;
    app.humo_credit(3, 777, "7466", now_ms()).await; // matches nothing
    let mut s = Seller::new(&app);
    let page = s.login().await;
    let body = &page.body;
    let paid: u64 = ["7466", "2222"]
        .iter()
        .map(|c| {
            text_of(body, &format!("today-paid-{c}"))
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert_eq!(paid, 2, "{body}");
    let (ca, cb) = (last4(&a), last4(&b));
    if ca == cb {
        assert_eq!(text_of(body, &format!("week-paid-{ca}")).unwrap(), "2");
    } else {
        assert_eq!(
            text_of(body, &format!("today-sum-{ca}")).unwrap(),
            format!("{}\u{a0}UZS", group(amount_whole(&a)))
        );
    }
    assert_eq!(text_of(body, "today-pending").unwrap(), "1");
    assert_eq!(text_of(body, "week-unmatched").unwrap(), "1");
    assert_eq!(text_of(body, "today-expired").unwrap(), "0");
    assert!(body.contains("off (in-memory store)"), "{body}");
    assert!(
        text_of(body, "last-message").unwrap().starts_with("20"),
        "a time: {body}"
    );
    app.stop().await;
}

/// The text a browser shows for HTML-escaped `s`.
fn unescape(s: &str) -> String {
    s.replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

fn group(n: i64) -> String {
    let d = n.to_string();
    let mut out = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    out
}

#[tokio::test]
async fn times_are_in_the_sellers_tz() {
    let app = app("console_tz", |c| c.tz = Some("UTC".into())).await;
    let tx = create(&app, 20000, json!({"order_id": "TZ-1"})).await;
    let mut s = Seller::new(&app);
    let page = s.login().await;
    assert!(page.body.contains("(UTC)"), "{}", page.body);
    let created: jiff::Timestamp = tx["created_at"].as_str().unwrap().parse().unwrap();
    let shown = created
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string();
    let id = tx["transaction_id"].as_str().unwrap();
    let detail = s.get(&format!("/console/transactions/{id}")).await;
    assert!(detail.body.contains(&shown), "{shown} in {}", detail.body);
    app.stop().await;
}

#[tokio::test]
async fn the_overview_reads_redis_persistence() {
    let Some(app) = spawn(Backend::Redis, "console_overview_redis", |c| {
        c.console_password = Some(PASSWORD.into());
    })
    .await
    else {
        return;
    };
    let mut s = Seller::new(&app);
    let page = s.login().await;
    // The test Redis runs with --appendonly no --save "".
    assert!(
        page.body
            .contains("id=\"persistence\"><strong class=\"warn\">off<"),
        "{}",
        page.body
    );
    app.stop().await;
}

#[tokio::test]
async fn transactions_are_found_by_order_id_status_card_amount_and_day() {
    let app = app("console_filters", |_| {}).await;
    let a = create(
        &app,
        20000,
        json!({"order_id": "ORD-77-Alpha", "email": "x@y.uz"}),
    )
    .await;
    let b = create(&app, 25000, json!({"order_id": "ORD-78-beta"})).await;
    app.humo_credit(1, amount_whole(&b), &last4(&b), now_ms())
        .await;
    let (ida, idb) = (
        a["transaction_id"].as_str().unwrap(),
        b["transaction_id"].as_str().unwrap(),
    );
    let mut s = Seller::new(&app);
    s.login().await;
    let find = |body: &str, id: &str| body.contains(&format!("data-tx=\"{id}\""));

    let all = s.get("/console/transactions").await;
    assert_eq!(all.status, 200);
    let (pa, pb) = (all.body.find(ida).unwrap(), all.body.find(idb).unwrap());
    assert!(pb < pa, "newest first");

    let p = s.get("/console/transactions?q=ord-77-ALPHA").await;
    assert!(
        find(&p.body, ida) && !find(&p.body, idb),
        "free text, any case"
    );
    let p = s.get("/console/transactions?status=confirmed").await;
    assert!(!find(&p.body, ida) && find(&p.body, idb));
    let p = s.get("/console/transactions?status=pending").await;
    assert!(find(&p.body, ida) && !find(&p.body, idb));
    let p = s
        .get(&format!(
            "/console/transactions?amount={}",
            amount_whole(&a)
        ))
        .await;
    assert!(
        find(&p.body, ida) && !find(&p.body, idb),
        "by the amount paid"
    );
    let p = s.get("/console/transactions?amount=20+000").await;
    assert!(find(&p.body, ida), "by the amount asked");
    let p = s
        .get(&format!("/console/transactions?card={}", last4(&a)))
        .await;
    assert!(find(&p.body, ida));
    let p = s.get("/console/transactions?card=0000").await;
    assert!(!find(&p.body, ida) && p.body.contains("id=\"empty\""));
    let p = s
        .get("/console/transactions?from=2000-01-01&to=2000-01-02")
        .await;
    assert!(!find(&p.body, ida) && !find(&p.body, idb), "another day");
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("Asia/Tashkent").unwrap())
        .date()
        .to_string();
    let p = s
        .get(&format!("/console/transactions?from={today}&to={today}"))
        .await;
    assert!(
        find(&p.body, ida) && find(&p.body, idb),
        "today, in the seller's zone"
    );
    app.stop().await;
}

#[tokio::test]
async fn hostile_filters_are_refused_on_the_page_and_never_reflected_raw() {
    let app = app("console_hostile", |_| {}).await;
    create(&app, 20000, json!({"order_id": "A-1"})).await;
    let mut s = Seller::new(&app);
    s.login().await;
    let p = s
        .get("/console/transactions?status=%3Cscript%3E&from=2026-99-99&amount=1e9&card=%22%3E%3Cb%3E&q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E")
        .await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("id=\"errors\""));
    assert!(!p.body.contains("<script>alert"), "the query is escaped");
    assert!(
        unescape(&p.body).contains("value=\"\"><script>alert(1)</script>\""),
        "the typed text is shown back, as text: {}",
        p.body
    );
    let long = "y".repeat(5_000);
    let p = s.get(&format!("/console/transactions?q={long}")).await;
    assert_eq!(p.status, 400, "a search longer than 200 characters");
    assert!(!p.body.contains(&long[..300]), "and it is not echoed whole");
    let p = s
        .get("/console/transactions?amount=-5&status=all&zzz=1&q=")
        .await;
    assert_eq!(p.status, 400, "a negative amount is refused");
    let p = s.get("/console/transactions?status=all&zzz=1").await;
    assert_eq!(p.status, 200, "unknown fields are ignored");
    app.stop().await;
}

#[tokio::test]
async fn metadata_with_markup_is_shown_as_text() {
    let app = app("console_xss_meta", |_| {}).await;
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let tx = create(&app, 20000, json!({"order_id": evil, "</pre><b>": "\"'&"})).await;
    let id = tx["transaction_id"].as_str().unwrap();
    let mut s = Seller::new(&app);
    s.login().await;
    for path in [
        "/console/transactions".to_string(),
        format!("/console/transactions/{id}"),
        "/console/transactions?q=alert".to_string(),
    ] {
        let p = s.get(&path).await;
        assert_eq!(p.status, 200, "{path}");
        assert!(!p.body.contains("<script>alert"), "{path}");
        assert!(!p.body.contains("<img src=x"), "{path}");
        assert!(!p.body.contains("</pre><b>"), "{path}");
        assert!(
            unescape(&p.body).contains(evil),
            "{path}: shown as text: {}",
            p.body
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn detail_shows_every_attempt_and_redeliver_sends_the_same_event_again() {
    let mut app = app("console_detail", |_| {}).await;
    app.receiver.answer(&[500]);
    let tx = create(&app, 20000, json!({"order_id": "R-1"})).await;
    let id = tx["transaction_id"].as_str().unwrap().to_string();
    app.humo_credit(1, amount_whole(&tx), &last4(&tx), now_ms())
        .await;
    let first = app.receiver.next().await;
    assert_eq!(first.code, 500);
    let second = app.receiver.next().await;
    assert_eq!(second.code, 200);
    let event_id = second.json()["event_id"].as_str().unwrap().to_string();
    let mut s = Seller::new(&app);
    s.login().await;
    let page = s.get(&format!("/console/transactions/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&event_id));
    assert!(
        page.body.contains("<td>500</td>") && page.body.contains("<td>200</td>"),
        "both attempts: {}",
        page.body
    );
    assert!(page.body.contains("id=\"redeliver\""));
    let done = s
        .act(&format!("/console/transactions/{id}/redeliver"), &[])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.header("location"),
        format!("/console/transactions/{id}?done=redelivered")
    );
    let again = app.receiver.next().await;
    assert_eq!(
        again.json()["event_id"].as_str().unwrap(),
        event_id,
        "same event id"
    );
    assert_eq!(again.json()["action"], "confirm");
    let page = s
        .get(&format!("/console/transactions/{id}?done=redelivered"))
        .await;
    assert!(page.body.contains("id=\"done\""));
    let page = s
        .get(&format!("/console/transactions/{id}?done=%3Cb%3Ehi"))
        .await;
    assert!(!page.body.contains("<b>hi"), "no reflected notice");
    assert_eq!(s.get("/console/transactions/not-a-uuid").await.status, 404);
    assert_eq!(
        s.get("/console/transactions/00000000-0000-4000-8000-000000000000")
            .await
            .status,
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn a_long_list_comes_in_pages_of_100_with_the_filters_kept() {
    let app = app("console_long", |c| c.limit = Some("1000".into())).await;
    for i in 0..130 {
        create(&app, 10000 + i, json!({"order_id": format!("L-{i}")})).await;
    }
    let mut s = Seller::new(&app);
    s.login().await;
    create(&app, 10000, json!({"order_id": "not in the search"})).await;
    let p = s.get("/console/transactions?q=L-").await;
    assert_eq!(p.body.matches("data-tx=").count(), 100);
    let at = p.body.find("id=\"older\"").expect("a link to older ones");
    let href = p.body[..at].rsplit("href=\"").next().unwrap();
    let href = unescape(&href[..href.find('"').unwrap()]);
    assert!(
        href.contains("q=L-") && href.contains("before="),
        "the filters ride along: {href}"
    );
    let older = s.get(&href).await;
    assert_eq!(older.status, 200);
    assert_eq!(older.body.matches("data-tx=").count(), 30);
    assert!(!older.body.contains("id=\"older\""), "the last page");
    let ids = |body: &str| -> std::collections::HashSet<String> {
        body.match_indices("data-tx=\"")
            .map(|(i, _)| body[i + 9..i + 45].to_string())
            .collect()
    };
    assert_eq!(
        ids(&p.body).intersection(&ids(&older.body)).count(),
        0,
        "no transaction twice"
    );
    app.stop().await;
}

/// The credit id of the first unmatched credit on the credits page.
fn first_credit(body: &str) -> String {
    let at = body.find("data-credit=\"").expect("a credit is listed") + "data-credit=\"".len();
    body[at..at + 36].to_string()
}

#[tokio::test]
async fn assigning_a_credit_confirms_by_hand_once_and_is_audited() {
    let mut app = app("console_assign", |_| {}).await;
    let one = create(&app, 20000, json!({"order_id": "AS-1"})).await;
    let two = create(&app, 20000, json!({"order_id": "AS-2"})).await;
    // The buyer paid the round price: it matches nothing.
    app.humo_credit(1, 20000, &last4(&one), now_ms()).await;
    let mut s = Seller::new(&app);
    s.login().await;
    let page = s.get("/console/credits").await;
    assert_eq!(page.status, 200);
    let credit = first_credit(&page.body);
    let (id1, id2) = (
        one["transaction_id"].as_str().unwrap(),
        two["transaction_id"].as_str().unwrap(),
    );
    assert!(
        page.body.contains(&format!("data-tx=\"{id1}\"")),
        "a candidate: {}",
        page.body
    );
    assert!(page.body.contains(&format!("data-tx=\"{id2}\"")));

    let path = format!("/console/credits/{credit}/assign");
    let done = s.act(&path, &[("transaction", id1)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.header("location"),
        format!("/console/transactions/{id1}?done=assigned")
    );
    let hook = app.receiver.next().await.json();
    assert_eq!(hook["action"], "confirm");
    assert_eq!(hook["transaction_id"], id1);
    assert_eq!(hook["manual"], true);
    assert_eq!(hook["manual_by"], "console");

    let again = s.act(&path, &[("transaction", id2)]).await;
    assert_eq!(again.status, 409, "the credit already pays an order");
    assert!(again.body.contains("already pays"), "{}", again.body);
    let detail = s.get(&format!("/console/transactions/{id2}")).await;
    assert!(
        detail.body.contains("id=\"status\">pending<"),
        "the second order is untouched"
    );
    app.receiver
        .assert_quiet(std::time::Duration::from_millis(300))
        .await;

    let detail = s
        .get(&format!("/console/transactions/{id1}?done=assigned"))
        .await;
    assert!(detail.body.contains("id=\"status\">confirmed<"));
    assert!(
        text_of(&detail.body, "manual")
            .unwrap()
            .starts_with("by console at")
    );
    let audit = s.get("/console/audit").await;
    assert_eq!(audit.status, 200);
    assert!(
        audit.body.contains(&format!("data-audit=\"{id1}\"")),
        "{}",
        audit.body
    );
    assert!(
        audit.body.contains("console · 127.0.0.1"),
        "who and from where: {}",
        audit.body
    );

    // Without the token, or to a made-up id: refused, nothing sent.
    let token_less = s.post(&path, &[("transaction", id2)]).await;
    assert_eq!(token_less.status, 403);
    let bad = s.act(&path, &[("transaction", "<script>")]).await;
    assert_eq!(bad.status, 400);
    assert!(!bad.body.contains("<script>"));
    app.receiver
        .assert_quiet(std::time::Duration::from_millis(300))
        .await;
    app.stop().await;
}

#[tokio::test]
async fn mark_paid_needs_the_box_ticked_and_happens_once() {
    let mut app = app("console_mark_paid", |_| {}).await;
    let tx = create(&app, 50000, json!({"order_id": "CASH-1"})).await;
    let id = tx["transaction_id"].as_str().unwrap();
    let mut s = Seller::new(&app);
    s.login().await;
    let page = s.get(&format!("/console/transactions/{id}")).await;
    assert!(page.body.contains("id=\"confirm\""));
    let path = format!("/console/transactions/{id}/confirm");
    let unsure = s.act(&path, &[]).await;
    assert_eq!(unsure.status, 400, "the box was not ticked");
    app.receiver
        .assert_quiet(std::time::Duration::from_millis(300))
        .await;
    let done = s.act(&path, &[("sure", "yes")]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let hook = app.receiver.next().await.json();
    assert_eq!(
        (hook["action"].as_str(), hook["manual"].as_bool()),
        (Some("confirm"), Some(true))
    );
    let twice = s.act(&path, &[("sure", "yes")]).await;
    assert_eq!(twice.status, 409);
    let page = s.get(&format!("/console/transactions/{id}")).await;
    assert!(
        !page.body.contains("id=\"confirm\""),
        "no button once confirmed"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_bank_text_is_shown_as_text() {
    let app = app("console_bank_text", |_| {}).await;
    let msg = paycue::IncomingMessage {
        sender_id: 856_254_490,
        chat_id: None,
        message_id: 5,
        date: now_ms(),
        text: "🎉 Пополнение\n➕ 777,00 UZS\n📍 <script>alert('bank')</script>\n💳 HUMOCARD *7466"
            .into(),
    };
    app.engine.ingest(&msg).await.unwrap();
    let mut s = Seller::new(&app);
    s.login().await;
    let page = s.get("/console/credits").await;
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(
        unescape(&page.body).contains("📍 <script>alert('bank')</script>"),
        "{}",
        page.body
    );
    app.stop().await;
}
