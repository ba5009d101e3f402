//! Logging in and out. The password (`CONSOLE_PASSWORD`) is compared in
//! constant time. Failed logins are counted in the store per client address
//! (an IPv6 client by its /64, which one machine usually holds whole) and
//! overall, in fixed windows of 15 minutes: after `IP_FAILURES` failures from
//! one address, or `GLOBAL_FAILURES` from all together, every login (the
//! right password too) is refused with 429 until the window ends. A try is
//! counted before its password is compared (a right one is taken back), so
//! guesses sent all at once get no more than the limit. The
//! overall limit stops a guesser with many addresses; at 100 guesses per 15
//! minutes, a 12-character random password lasts far longer than the
//! universe. The seller locked out by it still has the CLI over SSH.
//!
//! The login form is protected against CSRF too (a site logging the seller
//! into a session of its choosing): its token is also in a cookie of its own.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::guard::{self, Posted};
use super::session::{self, login_cookie, random_token, same_secret, session_cookie, set_cookie};
use super::{ConsoleState, render};
use crate::store::StoreError;

/// Failed logins from one address per window.
pub const IP_FAILURES: u64 = 10;
/// Failed logins from everywhere per window.
pub const GLOBAL_FAILURES: u64 = 100;
/// The counting window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// The counter of an address: IPv4 whole, IPv6 by its /64.
fn ip_key(ip: Option<IpAddr>) -> String {
    match ip {
        Some(IpAddr::V4(v4)) => format!("login:ip:{v4}"),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("login:ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "login:ip:unknown".into(),
    }
}

const ALL: &str = "login:all";

pub(super) async fn form(State(state): State<Arc<ConsoleState>>, req: Request) -> Response {
    let engine = &state.engine;
    match session::load(engine, req.headers()).await {
        Ok(Some(_)) => return Redirect::to("/console").into_response(),
        Ok(None) => {}
        Err(e) => return render::store_down(&e),
    }
    let settings = &engine.config.console;
    // Keep the form's token across reloads; a new browser gets a new one.
    let token = session::cookie(req.headers(), login_cookie(settings))
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(random_token);
    let mut resp = render::login(StatusCode::OK, &token, None);
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(settings, login_cookie(settings), Some(&token)),
    );
    resp
}

pub(super) async fn submit(State(state): State<Arc<ConsoleState>>, req: Request) -> Response {
    match try_submit(&state, req).await {
        Ok(resp) => resp,
        Err(e) => render::store_down(&e),
    }
}

async fn try_submit(state: &Arc<ConsoleState>, req: Request) -> Result<Response, StoreError> {
    let engine = &state.engine;
    let settings = &engine.config.console;
    let Some(expected) = settings.password.as_deref() else {
        return Ok(render::not_found());
    };
    if !guard::same_origin(req.headers(), engine.config.pay.public_url.as_ref()) {
        return Ok(guard::forbidden());
    }
    let ip = guard::client_ip(req.headers(), guard::peer(req.extensions()));
    let form_token = session::cookie(req.headers(), login_cookie(settings)).unwrap_or_default();
    let form = match guard::read_form(req, state).await {
        Ok(f) => f,
        Err(resp) => return Ok(resp),
    };
    let given_token = form.get("csrf").map(String::as_str).unwrap_or("");
    if form_token.is_empty() || !same_secret(&form_token, given_token) {
        return Ok(guard::forbidden());
    }
    // Every try is counted before the password is looked at, in one atomic
    // step per counter: tries sent all at once cannot all pass a check made
    // before any of them was counted. A right password takes its try back.
    let key = ip_key(ip);
    let window = WINDOW.as_millis() as i64;
    let mine = engine.store.hit(&key, window).await?;
    let all = engine.store.hit(ALL, window).await?;
    if mine.count > IP_FAILURES || all.count > GLOBAL_FAILURES {
        let wait_ms = [(mine, IP_FAILURES), (all, GLOBAL_FAILURES)]
            .iter()
            .filter(|(h, limit)| h.count > *limit)
            .map(|(h, _)| h.resets_in_ms)
            .max()
            .unwrap_or(0);
        let secs = (wait_ms as u64).div_ceil(1000).max(1);
        tracing::warn!(client = ?ip, "console login refused: too many failed attempts");
        let mut resp = render::login(
            StatusCode::TOO_MANY_REQUESTS,
            &form_token,
            Some(&format!(
                "Too many wrong passwords. Try again in {} minutes.",
                secs.div_ceil(60)
            )),
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return Ok(resp);
    }
    let password = form.get("password").map(String::as_str).unwrap_or("");
    if !same_secret(password, expected) {
        tracing::warn!(client = ?ip, "console login: wrong password");
        return Ok(render::login(
            StatusCode::UNAUTHORIZED,
            &form_token,
            Some("Wrong password."),
        ));
    }
    engine.store.unhit(&key).await?;
    engine.store.unhit(ALL).await?;
    let (_, cookie) = session::start(engine).await?;
    tracing::info!(client = ?ip, "console login");
    let mut resp = Redirect::to("/console").into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(settings, session_cookie(settings), Some(&cookie)),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(settings, login_cookie(settings), None),
    );
    Ok(resp)
}

pub(super) async fn logout(State(state): State<Arc<ConsoleState>>, posted: Posted) -> Response {
    let engine = &state.engine;
    if let Err(e) = session::end(engine, &posted.session).await {
        return render::store_down(&e);
    }
    let settings = &engine.config.console;
    let mut resp = Redirect::to("/console/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(settings, session_cookie(settings), None),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_counted_by_its_slash_64() {
        let a = ip_key(Some("2001:db8:1:2:aaaa::1".parse().unwrap()));
        let b = ip_key(Some("2001:db8:1:2:ffff::9".parse().unwrap()));
        let c = ip_key(Some("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
