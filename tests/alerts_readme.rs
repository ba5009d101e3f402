//! The README's "Alerts" section shows each alert as paycue words it: this
//! renders every one from fixed facts (English, Asia/Tashkent) and checks
//! the README holds exactly that text, so the examples cannot drift.

use paycue::alerts::decide::Message;
use paycue::alerts::text::{Style, message};
use paycue::alerts::{Alert, CreditView, Queued, Summary};
use paycue::money::Money;
use paycue::web::pay::Lang;

const README: &str = include_str!("../README.md");

/// 2026-12-03 14:05 in Tashkent.
const AT: i64 = 1_796_288_700_000;
const MIN: i64 = 60_000;

fn style(lang: Lang) -> Style {
    Style {
        lang,
        timezone: jiff::tz::TimeZone::get("Asia/Tashkent").unwrap(),
        currency: "UZS".into(),
        console: None,
    }
}

fn credit(id: &str, major: i64, minutes: i64) -> CreditView {
    CreditView {
        id: id.into(),
        amount: Money::from_major(major),
        currency: Some("UZS".into()),
        card_last4: Some("7466".into()),
        bank: "humo".into(),
        date: AT + minutes * MIN,
        text: Some(
            "🎉 Пополнение ➕ 20.001,00 UZS 📍 NBU P2P HUMOHUMO>tas 💳 HUMOCARD *7466 🕓 14:05 03.12.2026 💰 3.040,61 UZS".into(),
        ),
    }
}

fn msg(label: &'static str, alerts: Vec<Alert>) -> Message {
    Message {
        label,
        alerts: alerts
            .into_iter()
            .enumerate()
            .map(|(i, alert)| {
                let key = format!("k{i}");
                (
                    key.clone(),
                    Queued {
                        key,
                        alert,
                        queued_at: AT,
                    },
                )
            })
            .collect(),
    }
}

fn examples() -> Vec<Message> {
    let tx = "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b".to_string();
    let mut flood = Vec::new();
    for i in 0..12 {
        let mut c = credit(&format!("c{i:02}"), 20_001 + i, i);
        c.text = None;
        flood.push(Alert::Unmatched {
            credit: c,
            reason: "no_transaction".into(),
        });
    }
    vec![
        msg(
            "unmatched",
            vec![Alert::Unmatched {
                credit: credit("0193a1b2-aaaa-7bbb-8ccc-dddddddddddd", 20_001, 0),
                reason: "no_transaction".into(),
            }],
        ),
        msg("unmatched", flood),
        msg(
            "late",
            vec![Alert::Late {
                credit: credit("c1", 20_001, 0),
                transaction_id: tx.clone(),
                order: Some("A-1042".into()),
                due: AT - 5 * MIN,
            }],
        ),
        msg(
            "reversal",
            vec![Alert::Reversal {
                credit: credit("c1", 20_001, 90),
                transaction_id: tx.clone(),
                order: Some("A-1042".into()),
                paid_at: Some(AT),
            }],
        ),
        msg("webhook_down", vec![Alert::WebhookDown { since: AT }]),
        msg(
            "webhook_up",
            vec![Alert::WebhookUp {
                since: AT,
                at: AT + 37 * MIN,
            }],
        ),
        msg(
            "webhook_gave_up",
            vec![Alert::WebhookGaveUp {
                event_id: "evt_0193".into(),
                transaction_id: tx.clone(),
                action: "confirm".into(),
                order: Some("A-1042".into()),
            }],
        ),
        msg("silence", vec![Alert::Silence { since: AT }]),
        msg(
            "silence_over",
            vec![Alert::SilenceOver {
                since: AT,
                at: AT + 400 * MIN,
            }],
        ),
        msg(
            "daily",
            vec![Alert::Daily {
                until: AT - 305 * MIN,
                summary: Summary {
                    paid: 42,
                    paid_sum: Money::from_major(1_260_084),
                    unmatched: 1,
                    late: 2,
                    webhook_failures: 0,
                    currency: "UZS".into(),
                },
            }],
        ),
        msg("test", vec![Alert::Test { at: AT }]),
    ]
}

#[test]
fn the_readme_shows_every_alert_as_paycue_words_it() {
    let mut missing = Vec::new();
    for m in examples() {
        let text = message(&m, &style(Lang::En));
        if !README.contains(&text) {
            missing.push(text);
        }
    }
    let ru = message(&examples()[0], &style(Lang::Ru));
    if !README.contains(&ru) {
        missing.push(ru);
    }
    assert!(
        missing.is_empty(),
        "README lacks these alert texts:\n\n{}",
        missing.join("\n\n")
    );
}
