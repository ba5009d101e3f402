//! The console under attack, on a real Redis: what a hostile outsider or an
//! unlucky seller can do with concurrency and a store in trouble. Guesses
//! sent all at once get no more tries than the limit; a cookie kept busy by
//! a thief while the seller logs out stays dead; a new `CONSOLE_PASSWORD`
//! ends the sessions of the old one; and while Redis refuses writes (out of
//! memory) the pages still open and a settlement changes nothing.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use paycue::config::RawConfig;
use paycue::engine::IngestOutcome;
use paycue::store::ApplyOutcome;
use support::app::{Backend, TestApp, now_ms, spawn};
use support::console::{PASSWORD, Seller};

async fn redis_app(test: &str) -> Option<TestApp> {
    spawn(Backend::Redis, test, |c| {
        c.console_password = Some(PASSWORD.into());
    })
    .await
}

/// A second paycue process on `app`'s Redis with `password`: its address
/// and the sender that stops it.
async fn second_process(
    app: &TestApp,
    password: &str,
) -> (
    String,
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let redis = app.redis.as_ref().unwrap().url();
    let engine = paycue::Engine::new(
        paycue::config::Config::from_raw(&RawConfig {
            console_password: Some(password.into()),
            // The same shop as `app`: its workers may deliver the webhooks.
            webhook_url: Some(app.receiver.url.clone()),
            webhook_secret: Some(format!("whsec_{}", support::app::SECRET_B64)),
            webhook_backoff: Some("50ms,100ms,200ms".into()),
            ..RawConfig::default()
        })
        .unwrap(),
        Arc::new(paycue::store::RedisStore::open(
            &redis,
            support::app::settings(),
        )),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, mut stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(paycue::serve(listener, engine, async move {
        let _ = stop_rx.wait_for(|s| *s).await;
    }));
    (base, stop, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn guesses_sent_all_at_once_get_no_more_tries_than_the_limit() {
    let Some(app) = redis_app("attack_login_race").await else {
        return;
    };
    // 40 browsers from one address, each with its login form open...
    let mut guessers = Vec::new();
    for _ in 0..40 {
        let mut s = Seller::new(&app);
        s.forwarded_for = Some("203.0.113.50".into());
        let form = s.get("/console/login").await;
        let token = form.csrf().expect("login form token");
        guessers.push((s, token));
    }
    // ...send their guesses at the same moment.
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (mut s, token)) in guessers.into_iter().enumerate() {
        tasks.spawn(async move {
            let guess = format!("guess number {i:04}");
            s.post(
                "/console/login",
                &[("password", guess.as_str()), ("csrf", token.as_str())],
            )
            .await
            .status
        });
    }
    let mut checked = 0;
    let mut limited = 0;
    while let Some(status) = tasks.join_next().await {
        match status.unwrap() {
            401 => checked += 1,
            429 => limited += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        checked <= paycue::web::console::IP_FAILURES as usize,
        "{checked} passwords were checked from one address (limit {}), {limited} refused",
        paycue::web::console::IP_FAILURES
    );
    app.stop().await;
}

#[tokio::test]
async fn a_right_password_does_not_use_up_the_limit() {
    let Some(app) = redis_app("attack_login_success").await else {
        return;
    };
    // The seller logs in and out more often than the limit of failures.
    for round in 0..(paycue::web::console::IP_FAILURES + 2) {
        let mut s = Seller::new(&app);
        s.forwarded_for = Some("203.0.113.51".into());
        let ok = s.login_with(PASSWORD).await;
        assert_eq!(ok.status, 303, "login {round}: {}", ok.body);
    }
    // Failures still count as before: the limit, then 429.
    let mut s = Seller::new(&app);
    s.forwarded_for = Some("203.0.113.52".into());
    for i in 0..paycue::web::console::IP_FAILURES {
        assert_eq!(s.login_with(&format!("guess {i:06}")).await.status, 401);
    }
    assert_eq!(s.login_with(PASSWORD).await.status, 429);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cookie_kept_busy_while_the_seller_logs_out_stays_dead() {
    let Some(app) = redis_app("attack_logout_race").await else {
        return;
    };
    for round in 0..15 {
        let mut seller = Seller::new(&app);
        seller.login().await;
        let stolen = seller.cookies.clone();
        // A thief replays the cookie as fast as it can from four connections.
        let stop = Arc::new(AtomicBool::new(false));
        let mut thieves = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let (stop, stolen, base) = (stop.clone(), stolen.clone(), app.base.clone());
            thieves.spawn(async move {
                let mut thief = Seller::at(&base);
                thief.cookies = stolen;
                let mut after_stop = 0;
                while after_stop < 3 {
                    thief.get("/console/transactions").await;
                    if stop.load(Ordering::SeqCst) {
                        after_stop += 1;
                    }
                }
            });
        }
        let out = seller.act("/console/logout", &[]).await;
        assert_eq!(out.status, 303, "logout: {}", out.body);
        stop.store(true, Ordering::SeqCst);
        while let Some(done) = thieves.join_next().await {
            done.unwrap();
        }
        let mut thief = Seller::new(&app);
        thief.cookies = stolen;
        assert_eq!(
            thief.get("/console").await.status,
            303,
            "round {round}: the session came back to life after logout"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_new_password_ends_the_sessions_of_the_old_one() {
    let Some(app) = redis_app("attack_password_change").await else {
        return;
    };
    let mut s = Seller::new(&app);
    s.login().await;
    // The seller suspects the password leaked, sets a new one and restarts.
    let (base, stop, server) = second_process(&app, "a brand new secret 42").await;
    let mut after = Seller::at(&base);
    after.cookies = s.cookies.clone();
    assert_eq!(
        after.get("/console").await.status,
        303,
        "a session of the old password still opens the console"
    );
    let mut fresh = Seller::at(&base);
    assert_eq!(fresh.login_with(PASSWORD).await.status, 401);
    assert_eq!(
        fresh.login_with("a brand new secret 42").await.status,
        303,
        "the new password logs in"
    );
    let _ = stop.send(true);
    let _ = server.await;
    app.stop().await;
}

async fn redis_config(app: &TestApp, key: &str, value: &str) {
    let client = redis::Client::open(app.redis.as_ref().unwrap().url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg(key)
        .arg(value)
        .query_async(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn while_redis_refuses_writes_pages_open_and_a_settlement_changes_nothing() {
    let Some(app) = redis_app("attack_oom").await else {
        return;
    };
    let tx = app.create(20000).await;
    let tx_id = tx["transaction_id"].as_str().unwrap().to_string();
    let credit = match app.humo_credit(1, 17000, "7466", now_ms()).await {
        IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) => credit.id,
        other => panic!("expected an unmatched credit, got {other:?}"),
    };
    let mut s = Seller::new(&app);
    s.login().await;
    s.get("/console/credits").await;

    redis_config(&app, "maxmemory", "1").await;
    for path in ["/console", "/console/transactions", "/console/credits"] {
        let p = s.get(path).await;
        assert_eq!(p.status, 200, "{path} while Redis is full: {}", p.body);
    }
    let p = s.get(&format!("/console/transactions/{tx_id}")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let refused = s
        .act(
            &format!("/console/credits/{credit}/assign"),
            &[("transaction", &tx_id), ("amount_ok", "yes")],
        )
        .await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(
        refused.body.contains("Nothing was changed"),
        "{}",
        refused.body
    );
    redis_config(&app, "maxmemory", "0").await;

    let stored = app.engine.store.get(&tx_id).await.unwrap().unwrap();
    assert_eq!(stored.status.as_str(), "pending", "half a settlement");
    assert!(app.engine.audit(10).await.unwrap().is_empty());
    let done = s
        .act(
            &format!("/console/credits/{credit}/assign"),
            &[("transaction", &tx_id), ("amount_ok", "yes")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    app.stop().await;
}

/// A direction control in the shop's metadata (RLO, RLI...) would reorder
/// what follows it on the seller's screen: an order id reading as another,
/// beside the Assign button. The console shows them as `[U+202E]`.
#[tokio::test]
async fn direction_controls_in_metadata_are_shown_not_obeyed() {
    let app = spawn(Backend::Memory, "attack_bidi", |c| {
        c.console_password = Some(PASSWORD.into());
    })
    .await
    .unwrap();
    let (code, body) = app
        .post(
            "/transactions",
            serde_json::json!({
                "amount": 20000,
                "metadata": {"order_id": "A-\u{202e}1001", "buyer": "\u{2067}Eve\u{2069}"}
            }),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let id = body["data"]["transaction_id"].as_str().unwrap().to_string();
    // The bare price is never issued: a credit of it matches nothing and
    // lists this order as one it could pay.
    app.humo_credit(1, 20000, "7466", now_ms()).await;
    let mut s = Seller::new(&app);
    s.login().await;
    for path in [
        "/console/transactions".to_string(),
        format!("/console/transactions/{id}"),
        "/console/credits".to_string(),
    ] {
        let p = s.get(&path).await;
        assert_eq!(p.status, 200, "{path}");
        assert!(p.body.contains(&id), "{path} shows the order");
        for c in ['\u{202e}', '\u{2067}', '\u{2069}'] {
            assert!(!p.body.contains(c), "{path} carries U+{:04X} raw", c as u32);
        }
        assert!(p.body.contains("[U+202E]"), "{path}: {}", p.body);
    }
    app.stop().await;
}

/// Two sellers on two paycue processes sharing one Redis press Assign on the
/// same credit for different orders at the same moment: one order is paid,
/// the others are refused, and the shop hears of exactly one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_credit_assigned_at_once_from_two_processes_pays_one_order() {
    let Some(mut app) = redis_app("attack_assign_race").await else {
        return;
    };
    let mut orders = Vec::new();
    for _ in 0..6 {
        let tx = app.create(30000).await;
        orders.push(tx["transaction_id"].as_str().unwrap().to_string());
    }
    let credit = match app.humo_credit(1, 30000, "7466", now_ms()).await {
        IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) => credit.id,
        other => panic!("expected an unmatched credit, got {other:?}"),
    };
    let (base, stop, server) = second_process(&app, PASSWORD).await;
    let mut tasks = tokio::task::JoinSet::new();
    for (i, tx) in orders.iter().enumerate() {
        let mut s = if i % 2 == 0 {
            Seller::new(&app)
        } else {
            Seller::at(&base)
        };
        s.login().await;
        s.get("/console/credits").await;
        let (credit, tx) = (credit.clone(), tx.clone());
        tasks.spawn(async move {
            s.act(
                &format!("/console/credits/{credit}/assign"),
                &[("transaction", &tx)],
            )
            .await
            .status
        });
    }
    let mut statuses = Vec::new();
    while let Some(done) = tasks.join_next().await {
        statuses.push(done.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, vec![303, 409, 409, 409, 409, 409]);
    let hook = app.receiver.next().await.json();
    assert_eq!(hook["action"], "confirm");
    assert_eq!(hook["manual"], true);
    app.receiver
        .assert_quiet(std::time::Duration::from_millis(500))
        .await;
    let mut paid = 0;
    for tx in &orders {
        if app
            .engine
            .store
            .get(tx)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str()
            == "confirmed"
        {
            paid += 1;
        }
    }
    assert_eq!(paid, 1);
    assert_eq!(app.engine.audit(10).await.unwrap().len(), 1);
    let _ = stop.send(true);
    let _ = server.await;
    app.stop().await;
}

/// The seller pastes the id of the wrong order into "Assign to another
/// transaction": a credit of 5 000 must not pay an order of 250 000 by that
/// slip. The console shows both amounts and waits for "Assign anyway".
#[tokio::test]
async fn a_credit_of_another_sum_is_assigned_only_after_the_seller_sees_both() {
    let mut app = spawn(Backend::Memory, "attack_amount", |c| {
        c.console_password = Some(PASSWORD.into());
    })
    .await
    .unwrap();
    let big = app.create(250_000).await;
    let big_id = big["transaction_id"].as_str().unwrap().to_string();
    let credit = match app.humo_credit(1, 5_000, "7466", now_ms()).await {
        IngestOutcome::Applied(ApplyOutcome::Unmatched { credit }) => credit.id,
        other => panic!("expected an unmatched credit, got {other:?}"),
    };
    let mut s = Seller::new(&app);
    s.login().await;
    s.get("/console/credits").await;
    let path = format!("/console/credits/{credit}/assign");
    let held = s.act(&path, &[("transaction", &big_id)]).await;
    assert_eq!(held.status, 409, "{}", held.body);
    assert!(held.body.contains("Nothing was changed"), "{}", held.body);
    assert!(
        held.body.contains("5\u{a0}000\u{a0}UZS") && held.body.contains("250\u{a0}00"),
        "both amounts shown: {}",
        held.body
    );
    let stored = app.engine.store.get(&big_id).await.unwrap().unwrap();
    assert_eq!(stored.status.as_str(), "pending", "paid by a slip");
    app.receiver
        .assert_quiet(std::time::Duration::from_millis(300))
        .await;
    // The page's own button goes on: the seller meant it.
    assert!(held.body.contains("name=\"amount_ok\" value=\"yes\""));
    let done = s
        .act(&path, &[("transaction", &big_id), ("amount_ok", "yes")])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let hook = app.receiver.next().await.json();
    assert_eq!(hook["action"], "confirm");
    assert_eq!(hook["manual"], true);
    app.stop().await;
}

/// A tampered "Older" link (`before` not a cursor) is said on the page with
/// a 400, never silently read as "from the newest".
#[tokio::test]
async fn a_tampered_page_cursor_is_refused_not_ignored() {
    let app = spawn(Backend::Memory, "attack_cursor", |c| {
        c.console_password = Some(PASSWORD.into());
    })
    .await
    .unwrap();
    app.create(20000).await;
    let mut s = Seller::new(&app);
    s.login().await;
    for bad in [
        "abc",
        "-1",
        "1e9",
        "99999999999999999999999",
        "%3Cscript%3E",
    ] {
        let p = s.get(&format!("/console/transactions?before={bad}")).await;
        assert_eq!(p.status, 400, "before={bad}");
        assert!(p.body.contains("Older"), "before={bad}: {}", p.body);
        assert!(!p.body.contains("<script>"));
    }
    for fine in ["", "0", "18446744073709551615"] {
        let p = s.get(&format!("/console/transactions?before={fine}")).await;
        assert_eq!(p.status, 200, "before={fine}");
    }
    app.stop().await;
}
