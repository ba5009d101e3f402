//! `paycue demo`: the whole loop on the in-memory store, with no Redis and no
//! Telegram. It starts the real API (port 0) and a local webhook receiver that
//! verifies signatures, creates a transaction over HTTP, feeds a realistic
//! @HUMOcardbot credit for its amount down the same path Telegram messages
//! take, and shows the signed webhook and the final status. It prints the
//! buyer's payment page; with `--keep` it waits for Enter before paying (so
//! the page can be watched turning to paid) and serves until Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::config::{Config, RawConfig};
use crate::engine::{Engine, IncomingMessage};
use crate::model::now_millis;
use crate::parsers::HUMO_BOT_ID;
use crate::store::{MemoryStore, StoreSettings};

type DemoError = Box<dyn std::error::Error + Send + Sync>;

const CARD: &str = "9860123412347466";

struct Received {
    headers: HeaderMap,
    body: String,
    verified: bool,
}

#[derive(clap::Args, Debug, Default)]
pub struct DemoArgs {
    /// Wait for Enter before the payment arrives, and keep serving the API and
    /// the payment page until Ctrl-C, so the page can be opened in a browser.
    #[arg(long)]
    pub keep: bool,
}

pub async fn run(args: DemoArgs) -> Result<(), DemoError> {
    // A fresh random key for this run (two v4 UUIDs: 244 random bits).
    let secret: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .flat_map(|u| *u.as_bytes())
        .collect();
    let (tx, mut rx) = mpsc::channel::<Received>(4);
    let receiver_addr = start_receiver(secret.clone(), tx).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api = format!("http://{}", listener.local_addr()?);

    let raw = RawConfig {
        webhook_url: Some(format!("http://{receiver_addr}/paycue")),
        webhook_secret: Some(format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(&secret)
        )),
        cards: Some(CARD.into()),
        public_url: Some(api.clone()),
        shop_name: Some("Demo shop".into()),
        card_holder: Some("ALISHER KARIMOV".into()),
        ..RawConfig::default()
    };
    let config = Config::from_raw(&raw)?;
    let engine = Engine::new(config, Arc::new(MemoryStore::new(StoreSettings::default())));
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(crate::serve(listener, engine.clone(), async move {
        let _ = stop_rx.wait_for(|s| *s).await;
    }));
    engine.mark_caught_up();

    println!("paycue demo: everything runs in this process, in memory.\n");
    println!(
        "1. paycue API listening on {api}; shop webhook receiver on http://{receiver_addr}/paycue"
    );
    let http = reqwest::Client::new();
    let request = json!({"amount": 20000, "metadata": {"order_id": "A-1001"}});
    println!("2. The shop asks for 20 000 UZS:\n   POST {api}/create/transaction/ {request}");
    let created: Value = http
        .post(format!("{api}/create/transaction/"))
        .json(&request)
        .send()
        .await?
        .json()
        .await?;
    println!("   <- {created}");
    let data = &created["data"];
    let id = data["transaction_id"]
        .as_str()
        .ok_or("no transaction_id in the reply")?
        .to_string();
    let amount = data["amount"]
        .as_i64()
        .ok_or("no whole amount in the reply")?;
    println!(
        "3. The buyer is told to pay exactly {} UZS to card {CARD}, on the payment page:\n   {}",
        group(amount, ' '),
        data["payment_url"].as_str().unwrap_or("(no PUBLIC_URL)")
    );
    if args.keep {
        println!("   Open it in a browser now, then press Enter to send the bank's message.");
        let mut line = String::new();
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
        let _ = tokio::io::AsyncBufReadExt::read_line(&mut stdin, &mut line).await;
    }

    let text = format!(
        "🎉 Пополнение\n➕ {},00 UZS\n📍 NBU P2P HUMOHUMO>tas\n💳 HUMOCARD *7466\n🕓 {}\n💰 1.250.400,00 UZS",
        group(amount, '.'),
        jiff::Zoned::now()
            .with_time_zone(jiff::tz::TimeZone::get("Asia/Tashkent")?)
            .strftime("%H:%M %d.%m.%Y"),
    );
    println!(
        "4. @HUMOcardbot tells the seller's Telegram:\n{}",
        indent(&text)
    );
    let msg = IncomingMessage {
        sender_id: HUMO_BOT_ID,
        chat_id: None,
        message_id: 1,
        date: now_millis(),
        text,
    };
    let outcome = engine.ingest(&msg).await?;
    println!("   paycue parsed and matched it: {}", describe(&outcome));

    let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await?
        .ok_or("receiver stopped")?;
    println!("5. The shop's webhook received:");
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let value = got
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        println!("   {name}: {value}");
    }
    println!("   body: {}", got.body);
    println!(
        "   signature verified with WEBHOOK_SECRET: {}",
        if got.verified { "yes ✓" } else { "NO ✗" }
    );

    // The shop has the webhook; paycue records its answer a moment later.
    // Wait for that record (at most 10 s) so the line below shows it.
    let mut status = Value::Null;
    for _ in 0..100 {
        status = http
            .get(format!("{api}/transactions/{id}"))
            .send()
            .await?
            .json()
            .await?;
        if status["data"]["events"][0]["delivery"] != "pending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let attempts = status["data"]["events"][0]["attempts"]
        .as_array()
        .map_or(0, Vec::len);
    println!(
        "6. GET /transactions/{id} -> status {}, webhook {} after {attempts} attempt(s).",
        status["data"]["status"], status["data"]["events"][0]["delivery"]
    );
    if args.keep {
        println!(
            "\nThe API and the payment page stay up on {api} (the page now shows paid). Ctrl-C to stop."
        );
        crate::app::shutdown_signal().await;
    }
    let _ = stop_tx.send(true);
    server.await??;
    if !got.verified || status["data"]["status"] != "confirmed" {
        return Err("the payment was not confirmed with a verified webhook".into());
    }
    println!(
        "\nDone: order A-1001 is paid. Run it for real with `paycue --telegram`, then `paycue`."
    );
    Ok(())
}

async fn start_receiver(
    key: Vec<u8>,
    tx: mpsc::Sender<Received>,
) -> Result<std::net::SocketAddr, DemoError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/paycue",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (key, tx) = (key.clone(), tx.clone());
            async move {
                let body = String::from_utf8_lossy(&body).into_owned();
                let header = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                let ts = header("webhook-timestamp").parse::<i64>().unwrap_or(0);
                let verified = crate::webhook::verify(
                    &key,
                    &header("webhook-id"),
                    ts,
                    &body,
                    &header("webhook-signature"),
                );
                let _ = tx
                    .send(Received {
                        headers,
                        body,
                        verified,
                    })
                    .await;
                if verified {
                    StatusCode::NO_CONTENT
                } else {
                    StatusCode::UNAUTHORIZED
                }
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

/// `20001` -> `20.001` (HUMO style) or `20 001`.
fn group(n: i64, sep: char) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("   | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn describe(outcome: &crate::engine::IngestOutcome) -> String {
    use crate::engine::IngestOutcome as O;
    use crate::store::ApplyOutcome as A;
    match outcome {
        O::Applied(A::Confirmed {
            transaction,
            credit,
        }) => {
            format!(
                "credit {} {} on card *{} confirms transaction {}",
                credit.amount,
                transaction.currency,
                credit.card_last4.as_deref().unwrap_or("?"),
                transaction.id
            )
        }
        other => format!("{other:?}"),
    }
}
