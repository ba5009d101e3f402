//! `GET /openapi.json` is kept true against the real app:
//! - every route the router registers (read from `src/http/mod.rs`) is
//!   documented, and every documented path is a real route;
//! - every documented operation is called here, and each answer's status is
//!   one the document lists for it, with a body that validates against the
//!   documented schema (objects are closed, so an undocumented field fails);
//! - real `confirm`, `cancel` and `late` webhook bodies validate against the
//!   documented webhook payload.

mod support;

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use support::app::{TestApp, now_ms};

const KEY: &str = "openapi-test-key-0123456789";
const ROUTER_SOURCE: &str = include_str!("../src/http/mod.rs");

fn doc() -> Value {
    serde_json::from_str(paycue::http::openapi::DOCUMENT).expect("openapi.json is JSON")
}

/// (path, method) of every `.route("path", get(..).post(..))` in the router.
fn router_routes() -> BTreeSet<(String, String)> {
    let source: String = ROUTER_SOURCE.split_whitespace().collect();
    let method = regex::Regex::new(r"(?:^|\.)(get|post|put|patch|delete)\(").unwrap();
    let mut routes = BTreeSet::new();
    for part in source.split(".route(\"").skip(1) {
        let (path, rest) = part.split_once('"').unwrap();
        // The method router is the second argument, up to the closing `))`.
        let handlers = rest.trim_start_matches(',');
        let handlers = &handlers[..handlers.find("))").unwrap() + 1];
        for m in method.captures_iter(handlers) {
            routes.insert((path.to_string(), m[1].to_string()));
        }
    }
    assert!(routes.len() >= 10, "router parse found only {routes:?}");
    routes
}

/// (path, method) of every documented operation, aliases included.
fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let mut names = vec![path.clone()];
        if let Some(aliases) = item["x-aliases"].as_array() {
            names.extend(aliases.iter().map(|a| a.as_str().unwrap().to_string()));
        }
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                for name in &names {
                    routes.insert((name.clone(), method.to_string()));
                }
            }
        }
    }
    routes
}

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(router_routes(), documented_routes(&doc));
}

/// Validates `instance` against `schema`, resolving `#/components/...` refs
/// in the whole document.
fn validate(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("{what}: the documented schema is invalid: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: body does not match the document:\n{}\nbody: {instance}",
        errors.join("\n")
    );
}

/// Follows one `$ref` inside the document (`#/components/responses/X`).
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .expect("ref resolves"),
        None => v,
    }
}

struct Checker {
    doc: Value,
    app: TestApp,
    covered: BTreeSet<(String, String)>,
}

impl Checker {
    /// Calls `method path` and checks the answer against the operation at
    /// `template`. Returns the JSON body.
    async fn call(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        request: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> (u16, Value) {
        let m = method.as_str().to_ascii_lowercase();
        let op = self.doc["paths"][template][&m].clone();
        assert!(op.is_object(), "{m} {template} is not documented");
        let builder = self
            .app
            .http
            .request(method, format!("{}{path}", self.app.base));
        let resp = request(builder).send().await.unwrap();
        let status = resp.status().as_u16();
        let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
        let text = resp.text().await.unwrap();
        let what = format!("{m} {path} -> {status}");
        let documented = resolve(&self.doc, &op["responses"][status.to_string()]).clone();
        assert!(
            documented.is_object(),
            "{what}: status not documented; body {text}"
        );
        let (media, spec) = documented["content"]
            .as_object()
            .and_then(|c| c.iter().next())
            .map(|(k, v)| (k.clone(), v.clone()))
            .unwrap_or_else(|| panic!("{what}: no documented content"));
        assert!(
            content_type.starts_with(&media),
            "{what}: {content_type} vs {media}"
        );
        self.covered.insert((template.to_string(), m));
        if media != "application/json" {
            return (status, Value::String(text));
        }
        let body: Value = serde_json::from_str(&text).unwrap();
        validate(&self.doc, &spec["schema"], &body, &what);
        (status, body)
    }
}

fn key(b: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    b.header("X-API-Key", KEY)
}

fn create(amount: Value) -> impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    move |b| key(b).json(&json!({"amount": amount, "metadata": {"order": "A1"}}))
}

#[tokio::test]
async fn real_answers_and_webhooks_match_the_document() {
    let Some(app) = support::app::spawn(support::app::Backend::Memory, "openapi", |c| {
        c.api_key = Some(KEY.into());
        c.cards = Some("9860****7466".into());
        c.limit = Some("2".into());
        c.public_url = Some("https://pay.shop.example".into());
    })
    .await
    else {
        return;
    };
    let mut c = Checker {
        doc: doc(),
        app,
        covered: BTreeSet::new(),
    };
    use Method as M;
    let t = "/transactions";
    let (_, tx) = c.call(M::POST, t, t, create(json!(20000))).await;
    let id = tx["data"]["transaction_id"].as_str().unwrap().to_string();
    let idem = |b: reqwest::RequestBuilder| create(json!(500))(b.header("Idempotency-Key", "o-1"));
    assert_eq!(c.call(M::POST, t, t, idem).await.0, 201);
    assert_eq!(c.call(M::POST, t, t, idem).await.0, 200, "replay");
    assert_eq!(c.call(M::POST, t, t, create(json!(500))).await.0, 201);
    assert_eq!(
        c.call(M::POST, t, t, create(json!(500))).await.0,
        409,
        "LIMIT=2"
    );
    assert_eq!(c.call(M::POST, t, t, create(json!(0))).await.0, 422);
    assert_eq!(c.call(M::POST, t, t, create(json!("20000"))).await.0, 422);
    assert_eq!(
        c.call(M::POST, t, t, |b| key(b)
            .header("content-type", "application/json")
            .body("{"))
            .await
            .0,
        400
    );
    assert_eq!(
        c.call(M::POST, t, t, |b| key(b).body("amount=1")).await.0,
        415
    );
    let big = json!({"amount": 1, "metadata": {"x": "y".repeat(20_000)}});
    assert_eq!(
        c.call(M::POST, t, t, move |b| key(b).json(&big)).await.0,
        413
    );
    assert_eq!(
        c.call(M::POST, t, t, |b| b.json(&json!({"amount": 1})))
            .await
            .0,
        401
    );
    let compat = "/create/transaction";
    assert_eq!(
        c.call(
            M::POST,
            compat,
            "/create/transaction/",
            create(json!(150.25))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        c.call(M::GET, t, "/transactions?status=pending&limit=10", key)
            .await
            .0,
        200
    );
    assert_eq!(
        c.call(M::GET, t, "/transactions?status=paid", key).await.0,
        400
    );

    // Pay the first one, then pay it again (late), then cancel another.
    c.app.humo_credit(1, 20001, "7466", now_ms()).await;
    let confirm = c.app.receiver.next().await.json();
    c.app.humo_credit(2, 20001, "7466", now_ms()).await;
    let late = c.app.receiver.next().await.json();
    c.app.humo_credit(3, 99999, "7466", now_ms()).await;
    let show = "/transactions/{id}";
    assert_eq!(
        c.call(M::GET, show, &format!("/transactions/{id}"), key)
            .await
            .0,
        200
    );
    let unknown = "/transactions/8a6e0804-2bd0-4672-b79f-d3be8334a486";
    assert_eq!(c.call(M::GET, show, unknown, key).await.0, 404);
    let cancel = "/transactions/{id}/cancel";
    let (_, other) = c.call(M::POST, t, t, create(json!(777))).await;
    let other = other["data"]["transaction_id"]
        .as_str()
        .unwrap()
        .to_string();
    let redeliver = "/transactions/{id}/redeliver";
    let pending_redeliver = format!("/transactions/{other}/redeliver");
    assert_eq!(
        c.call(M::POST, redeliver, &pending_redeliver, key).await.0,
        409
    );
    let cancel_other = format!("/transactions/{other}/cancel");
    assert_eq!(c.call(M::POST, cancel, &cancel_other, key).await.0, 200);
    let cancelled = c.app.receiver.next().await.json();
    assert_eq!(c.call(M::POST, cancel, &cancel_other, key).await.0, 409);
    assert_eq!(
        c.call(M::POST, cancel, &format!("{unknown}/cancel"), key)
            .await
            .0,
        404
    );
    assert_eq!(
        c.call(M::POST, redeliver, &pending_redeliver, key).await.0,
        202
    );
    assert_eq!(
        c.call(M::POST, redeliver, &format!("{unknown}/redeliver"), key)
            .await
            .0,
        404
    );
    let credits = "/credits";
    let (_, listed) = c.call(M::GET, credits, credits, key).await;
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        2,
        "late and unmatched"
    );
    assert_eq!(
        c.call(M::GET, credits, "/credits?outcome=late&limit=1", key)
            .await
            .0,
        200
    );
    assert_eq!(
        c.call(M::GET, credits, "/credits?outcome=lost", key)
            .await
            .0,
        400
    );
    // Settling by hand: assign the unmatched credit, mark another paid.
    let unmatched = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["outcome"] == "unmatched")
        .unwrap()["credit_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, target) = c.call(M::POST, t, t, create(json!(888))).await;
    let target = target["data"]["transaction_id"]
        .as_str()
        .unwrap()
        .to_string();
    let assign = "/credits/{id}/assign";
    let assign_path = format!("/credits/{unmatched}/assign");
    let to = json!({"transaction_id": target});
    let send = |v: Value| move |b: reqwest::RequestBuilder| key(b).json(&v);
    assert_eq!(
        c.call(M::POST, assign, &assign_path, |b| key(b).body("x"))
            .await
            .0,
        415
    );
    assert_eq!(
        c.call(M::POST, assign, &assign_path, |b| key(b)
            .header("content-type", "application/json")
            .body("{"))
            .await
            .0,
        400
    );
    assert_eq!(
        c.call(M::POST, assign, &assign_path, send(json!({})))
            .await
            .0,
        422
    );
    let unknown_credit = format!("/credits/{}/assign", unknown.rsplit('/').next().unwrap());
    assert_eq!(
        c.call(M::POST, assign, &unknown_credit, send(to.clone()))
            .await
            .0,
        404
    );
    assert_eq!(
        c.call(M::POST, assign, &assign_path, |b| b.json(&json!({})))
            .await
            .0,
        401
    );
    let (code, settled) = c
        .call(M::POST, assign, &assign_path, send(to.clone()))
        .await;
    assert_eq!(code, 200, "{settled}");
    // (The redelivered cancel above may come first.)
    let manual = loop {
        let hook = c.app.receiver.next().await.json();
        if hook["manual"] == true {
            break hook;
        }
    };
    assert_eq!(
        c.call(M::POST, assign, &assign_path, send(to.clone()))
            .await
            .0,
        409
    );
    let by_hand = "/transactions/{id}/confirm";
    let (_, cash) = c.call(M::POST, t, t, create(json!(999))).await;
    let cash = format!(
        "/transactions/{}/confirm",
        cash["data"]["transaction_id"].as_str().unwrap()
    );
    assert_eq!(c.call(M::POST, by_hand, &cash, key).await.0, 200);
    let manual_cash = loop {
        let hook = c.app.receiver.next().await.json();
        if hook["manual"] == true {
            break hook;
        }
    };
    assert_eq!(c.call(M::POST, by_hand, &cash, key).await.0, 409);
    assert_eq!(
        c.call(M::POST, by_hand, &format!("{unknown}/confirm"), key)
            .await
            .0,
        404
    );
    assert_eq!(c.call(M::POST, by_hand, &cash, |b| b).await.0, 401);
    assert_eq!(c.call(M::GET, "/health", "/health", |b| b).await.0, 200);
    assert_eq!(c.call(M::GET, "/metrics", "/metrics", key).await.0, 200);
    assert_eq!(c.call(M::GET, "/metrics", "/metrics", |b| b).await.0, 401);
    let (_, served) = c
        .call(M::GET, "/openapi.json", "/openapi.json", |b| b)
        .await;
    assert_eq!(served, c.doc, "served as written, without the API key");

    let all: BTreeSet<(String, String)> = documented_routes(&c.doc)
        .into_iter()
        .filter(|(path, _)| c.doc["paths"].get(path).is_some())
        .collect();
    assert_eq!(c.covered, all, "every documented operation is exercised");

    let payload = &c.doc["webhooks"]["paymentEvent"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(
        (manual["manual"].as_bool(), manual_cash["manual"].as_bool()),
        (Some(true), Some(true))
    );
    for (action, body) in [
        ("confirm", confirm),
        ("late", late),
        ("cancel", cancelled),
        ("confirm", manual),
        ("confirm", manual_cash),
    ] {
        assert_eq!(body["action"], action);
        validate(&c.doc, payload, &body, &format!("{action} webhook"));
    }
    c.app.stop().await;
}

/// Every enum query parameter of the document: a value outside the enum,
/// the empty value included, is refused with 400 (as the document says),
/// and every listed value is accepted.
#[tokio::test]
async fn enum_query_values_agree_with_the_document() {
    let Some(app) = support::app::spawn(support::app::Backend::Memory, "openapi_enums", |c| {
        c.api_key = Some(KEY.into());
    })
    .await
    else {
        return;
    };
    let doc = doc();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(params) = item["get"]["parameters"].as_array() else {
            continue;
        };
        for p in params.iter().map(|p| resolve(&doc, p)) {
            let Some(values) = p["schema"]["enum"].as_array() else {
                continue;
            };
            let name = p["name"].as_str().unwrap();
            let ask = |v: String| {
                let url = format!("{}{path}?{name}={v}", app.base);
                let req = key(app.http.get(url));
                async move { req.send().await.unwrap().status().as_u16() }
            };
            for v in values {
                assert_eq!(
                    ask(v.as_str().unwrap().to_string()).await,
                    200,
                    "{path} {name}={v}"
                );
            }
            for bad in ["", "nonsense"] {
                assert_eq!(ask(bad.to_string()).await, 400, "{path}?{name}={bad:?}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 2, "found {checked} enum query parameters");
    app.stop().await;
}
