//! A seller's browser over plain HTTP, for the console's tests: keeps the
//! cookies paycue sets, reads the CSRF token out of each page's forms, and
//! never follows redirects (the tests look at them).
#![allow(dead_code)]

use std::collections::BTreeMap;

use super::app::TestApp;

pub const PASSWORD: &str = "correct horse battery";

/// One answer: status, headers, body.
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    /// Every `Set-Cookie` line.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }

    /// The value of the first `name="csrf"` hidden field.
    pub fn csrf(&self) -> Option<String> {
        let at = self.body.find("name=\"csrf\" value=\"")?;
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        Some(rest[..rest.find('"')?].to_string())
    }
}

pub struct Seller {
    pub base: String,
    http: reqwest::Client,
    /// name -> value, as a browser would keep them.
    pub cookies: BTreeMap<String, String>,
    /// The token of the last page that had a form.
    pub csrf: Option<String>,
    /// Sent as `X-Forwarded-For` (paycue trusts it from loopback only).
    pub forwarded_for: Option<String>,
}

impl Seller {
    pub fn new(app: &TestApp) -> Seller {
        Seller::at(&app.base)
    }

    pub fn at(base: &str) -> Seller {
        Seller {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: BTreeMap::new(),
            csrf: None,
            forwarded_for: None,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let mut req = req;
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        if let Some(ip) = &self.forwarded_for {
            req = req.header("x-forwarded-for", ip);
        }
        let resp = req.send().await.expect("request");
        let page = Page {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap_or_default(),
        };
        for line in page.set_cookies() {
            let pair = line.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let expired = line.to_ascii_lowercase().contains("max-age=0");
                if value.is_empty() || expired {
                    self.cookies.remove(name.trim());
                } else {
                    self.cookies
                        .insert(name.trim().to_string(), value.trim().to_string());
                }
            }
        }
        if let Some(token) = page.csrf() {
            self.csrf = Some(token);
        }
        page
    }

    /// A GET whose answer is a file (an export): status, headers, bytes.
    pub async fn download(&mut self, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        let resp = req.send().await.expect("request");
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        let bytes = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        (status, headers, bytes)
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// POSTs a form as a page of this origin would (with its Origin header).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let origin = self.base.clone();
        self.post_from(path, fields, Some(&origin)).await
    }

    pub async fn post_from(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Page {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(fields);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        self.send(req).await
    }

    /// A POST carrying the current CSRF token plus `fields`.
    pub async fn act(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf.clone().unwrap_or_default();
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }

    /// Opens the login page and sends `password`; returns the answer.
    pub async fn login_with(&mut self, password: &str) -> Page {
        let form = self.get("/console/login").await;
        assert_eq!(form.status, 200, "login page: {}", form.body);
        let token = form.csrf().expect("login form has a csrf field");
        self.post(
            "/console/login",
            &[("password", password), ("csrf", token.as_str())],
        )
        .await
    }

    /// Logs in with the right password and opens the overview.
    pub async fn login(&mut self) -> Page {
        let done = self.login_with(PASSWORD).await;
        assert_eq!(done.status, 303, "login refused: {}", done.body);
        assert_eq!(done.header("location"), "/console");
        let page = self.get("/console").await;
        assert_eq!(page.status, 200, "overview: {}", page.body);
        page
    }

    /// The session cookie's (name, value), if any.
    pub fn session(&self) -> Option<(String, String)> {
        self.cookies
            .iter()
            .find(|(k, _)| k.ends_with("paycue_console"))
            .map(|(k, v)| (k.clone(), v.clone()))
    }
}

/// The text between `id="{id}"`'s `>` and the next `<`.
pub fn text_of(body: &str, id: &str) -> Option<String> {
    let at = body.find(&format!("id=\"{id}\""))?;
    let open = at + body[at..].find('>')? + 1;
    let close = open + body[open..].find('<')?;
    Some(body[open..close].trim().to_string())
}
