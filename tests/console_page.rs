//! The seller's console over HTTP (no browser): off without a password, the
//! login (wrong password, rate limits per address and overall, session
//! fixation), the session cookie's flags, logout and expiry holding on the
//! server, CSRF and Origin checks on every POST, the security headers, and
//! hostile input (filters, metadata, bank text). The views' content is in
//! `console_views.rs`, the real-browser tests in `console_browser.rs`.

mod support;

use paycue::config::RawConfig;
use support::app::{Backend, TestApp, spawn};
use support::console::{PASSWORD, Seller};

async fn app(test: &str, tune: impl FnOnce(&mut RawConfig)) -> TestApp {
    spawn(Backend::Memory, test, |c| {
        c.console_password = Some(PASSWORD.into());
        tune(c);
    })
    .await
    .expect("memory app")
}

#[tokio::test]
async fn console_is_404_without_a_password() {
    let app = spawn(Backend::Memory, "console_off", |_| {}).await.unwrap();
    let mut s = Seller::new(&app);
    for path in [
        "/console",
        "/console/",
        "/console/login",
        "/console/transactions",
    ] {
        assert_eq!(s.get(path).await.status, 404, "{path}");
    }
    let p = s
        .post("/console/login", &[("password", PASSWORD), ("csrf", "x")])
        .await;
    assert_eq!(p.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn the_password_must_be_long_and_not_the_api_key() {
    let short = paycue::config::Config::from_raw(&RawConfig {
        console_password: Some("short-pass".into()),
        ..RawConfig::default()
    });
    assert_eq!(short.unwrap_err().key, "CONSOLE_PASSWORD");
    let key = "k".repeat(24);
    let same = paycue::config::Config::from_raw(&RawConfig {
        api_key: Some(key.clone()),
        console_password: Some(key),
        ..RawConfig::default()
    });
    assert_eq!(same.unwrap_err().key, "CONSOLE_PASSWORD");
    let shown = format!(
        "{:?}",
        paycue::config::Config::from_raw(&RawConfig {
            console_password: Some(PASSWORD.into()),
            ..RawConfig::default()
        })
        .unwrap()
        .console
    );
    assert!(
        !shown.contains(PASSWORD),
        "the password leaks into Debug: {shown}"
    );
}

#[tokio::test]
async fn pages_need_a_login_and_carry_strict_headers() {
    let app = app("console_headers", |_| {}).await;
    let mut s = Seller::new(&app);
    for path in ["/console", "/console/transactions", "/console/credits"] {
        let p = s.get(path).await;
        assert_eq!(p.status, 303, "{path} without a session");
        assert_eq!(p.header("location"), "/console/login");
    }
    let login = s.get("/console/login").await;
    assert_eq!(login.status, 200);
    for p in [&login, &s.login().await] {
        let csp = p.header("content-security-policy");
        for part in [
            "default-src 'none'",
            "script-src 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(part), "CSP {csp:?} lacks {part}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(p.header("cache-control"), "no-store, max-age=0");
        assert_eq!(p.header("x-frame-options"), "DENY");
        assert_eq!(p.header("x-content-type-options"), "nosniff");
        // Same-origin, so that the browser's Origin on our own forms is real.
        assert_eq!(p.header("referrer-policy"), "same-origin");
        assert!(!p.body.contains("<script"), "no script in the console");
    }
    app.stop().await;
}

#[tokio::test]
async fn wrong_password_is_refused_and_the_right_one_gives_a_strict_cookie() {
    let app = app("console_login", |_| {}).await;
    let mut s = Seller::new(&app);
    let wrong = s.login_with("correct horse battery!").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong password"), "{}", wrong.body);
    assert!(s.session().is_none(), "no session for a wrong password");
    assert_eq!(s.get("/console").await.status, 303);

    let ok = s.login_with(PASSWORD).await;
    assert_eq!(ok.status, 303);
    let cookie = ok
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("paycue_console="))
        .expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    assert!(!cookie.contains(PASSWORD));
    assert_eq!(s.get("/console").await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure_and_host_only() {
    let app = app("console_secure", |c| {
        c.public_url = Some("https://pay.shop.example".into());
    })
    .await;
    let mut s = Seller::new(&app);
    let ok = s.login_with(PASSWORD).await;
    assert_eq!(ok.status, 303);
    let cookie = ok
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-paycue_console="))
        .expect("__Host- session cookie");
    for flag in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    // The proxy's public origin is accepted as the form's origin.
    let page = s.get("/console").await;
    assert_eq!(page.status, 200);
    let token = s.csrf.clone().unwrap();
    let out = s
        .post_from(
            "/console/logout",
            &[("csrf", &token)],
            Some("https://pay.shop.example"),
        )
        .await;
    assert_eq!(out.status, 303, "{}", out.body);
    app.stop().await;
}

#[tokio::test]
async fn a_session_id_chosen_before_login_is_never_the_session() {
    let app = app("console_fixation", |_| {}).await;
    let mut s = Seller::new(&app);
    let planted = "a".repeat(64);
    s.cookies.insert("paycue_console".into(), planted.clone());
    assert_eq!(
        s.get("/console").await.status,
        303,
        "a made-up id opens nothing"
    );
    s.login().await;
    let (_, now) = s.session().unwrap();
    assert_ne!(now, planted, "login issues a fresh session id");
    let mut attacker = Seller::new(&app);
    attacker.cookies.insert("paycue_console".into(), planted);
    assert_eq!(attacker.get("/console").await.status, 303);
    app.stop().await;
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server_so_a_stolen_cookie_is_dead() {
    let app = app("console_logout", |_| {}).await;
    let mut s = Seller::new(&app);
    s.login().await;
    let stolen = s.cookies.clone();
    let out = s.act("/console/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.header("location"), "/console/login");
    assert!(s.session().is_none(), "the browser's cookie is cleared");
    let mut thief = Seller::new(&app);
    thief.cookies = stolen;
    assert_eq!(
        thief.get("/console").await.status,
        303,
        "replay after logout"
    );
    app.stop().await;
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_maximum_age() {
    let idle = app("console_idle", |c| {
        c.console_idle = Some("1s".into());
    })
    .await;
    let mut s = Seller::new(&idle);
    s.login().await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        s.get("/console").await.status,
        303,
        "idle for longer than CONSOLE_IDLE"
    );
    idle.stop().await;

    let busy = app("console_max", |c| {
        c.console_session_max = Some("2s".into());
    })
    .await;
    let mut s = Seller::new(&busy);
    s.login().await;
    // Busy all along: every 400 ms a page, yet it ends at 2 s.
    let mut ended = false;
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        if s.get("/console").await.status == 303 {
            ended = true;
            break;
        }
    }
    assert!(ended, "a busy session still ends at CONSOLE_SESSION_MAX");
    busy.stop().await;
}

#[tokio::test]
async fn a_session_outlives_a_restart_of_paycue_on_the_same_redis() {
    let Some(first) = spawn(Backend::Redis, "console_restart", |c| {
        c.console_password = Some(PASSWORD.into());
    })
    .await
    else {
        return;
    };
    let mut s = Seller::new(&first);
    s.login().await;
    let redis = first.redis.as_ref().unwrap().url();
    // A second paycue process on the same Redis (a restart, or a second node).
    let engine = paycue::Engine::new(
        paycue::config::Config::from_raw(&RawConfig {
            console_password: Some(PASSWORD.into()),
            ..RawConfig::default()
        })
        .unwrap(),
        std::sync::Arc::new(paycue::store::RedisStore::open(
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
    let mut again = Seller::at(&base);
    again.cookies = s.cookies.clone();
    assert_eq!(
        again.get("/console").await.status,
        200,
        "the session is in Redis"
    );
    let out = again.act("/console/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(
        s.get("/console").await.status,
        303,
        "logout holds on every process"
    );
    let _ = stop.send(true);
    let _ = server.await;
    first.stop().await;
}

#[tokio::test]
async fn every_post_needs_the_session_token_and_a_same_origin() {
    let app = app("console_csrf", |_| {}).await;
    let id = app.create(20000).await["transaction_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut s = Seller::new(&app);
    s.login().await;
    let detail = s.get(&format!("/console/transactions/{id}")).await;
    assert_eq!(detail.status, 200);
    let path = "/console/logout";
    let no_token = s.post(path, &[]).await;
    assert_eq!(no_token.status, 403, "no token");
    let wrong = s.post(path, &[("csrf", "0123456789abcdef")]).await;
    assert_eq!(wrong.status, 403, "wrong token");
    let token = s.csrf.clone().unwrap();
    let evil = s
        .post_from(path, &[("csrf", &token)], Some("https://evil.example"))
        .await;
    assert_eq!(evil.status, 403, "another site's page");
    let null = s.post_from(path, &[("csrf", &token)], Some("null")).await;
    assert_eq!(null.status, 403, "an opaque origin");
    assert_eq!(s.get("/console").await.status, 200, "still logged in");
    // Another session's token is no good either.
    let mut other = Seller::new(&app);
    other.login().await;
    let theirs = other.csrf.clone().unwrap();
    assert_ne!(theirs, token);
    assert_eq!(s.post(path, &[("csrf", &theirs)]).await.status, 403);
    // The login form too: its token is tied to a cookie of this browser.
    let mut fresh = Seller::new(&app);
    let login = fresh
        .post(
            "/console/login",
            &[("password", PASSWORD), ("csrf", &token)],
        )
        .await;
    assert_eq!(login.status, 403, "login without the form's token");
    assert!(fresh.session().is_none());
    assert_eq!(s.post(path, &[("csrf", &token)]).await.status, 303);
    app.stop().await;
}

#[tokio::test]
async fn logins_are_rate_limited_per_address_even_with_the_right_password() {
    let app = app("console_rate_ip", |_| {}).await;
    let mut s = Seller::new(&app);
    s.forwarded_for = Some("203.0.113.7".into());
    for i in 0..10 {
        let p = s.login_with(&format!("guess number {i:04}")).await;
        assert_eq!(p.status, 401, "guess {i}");
    }
    let locked = s.login_with(PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    let retry: u64 = locked.header("retry-after").parse().unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert!(s.session().is_none());
    // Another address (through the proxy) still logs in.
    let mut other = Seller::new(&app);
    other.forwarded_for = Some("198.51.100.20".into());
    assert_eq!(other.login_with(PASSWORD).await.status, 303);
    app.stop().await;
}

#[tokio::test]
async fn logins_are_rate_limited_overall_against_many_addresses() {
    let app = app("console_rate_all", |_| {}).await;
    for i in 0..100 {
        let mut s = Seller::new(&app);
        s.forwarded_for = Some(format!("10.1.{}.{}", i / 250, i % 250 + 1));
        let p = s.login_with("not the password").await;
        assert_eq!(p.status, 401, "guess {i}");
    }
    let mut seller = Seller::new(&app);
    seller.forwarded_for = Some("192.0.2.1".into());
    assert_eq!(seller.login_with(PASSWORD).await.status, 429);
    app.stop().await;
}
