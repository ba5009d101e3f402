//! The words of each alert in the seller's language (`ALERT_LANG`: uz, ru,
//! kk, en). Short, one fact per line, times in the seller's zone (`TZ`).
//! What must stay true: nothing secret is written (no API key, no webhook
//! secret or URL; a card as its last four digits, the bank's text masked by
//! `decide::mask_text` before it was queued), and every language words every
//! alert (the `match` on the language has no fallback arm).

use super::decide::Message;
use super::{Alert, CreditView, Summary};
use crate::model::Millis;
use crate::money::Money;
use crate::web::pay::Lang;
use crate::web::pay::format::money;

/// How the texts are written: language, zone, and how to assign a credit.
#[derive(Debug, Clone)]
pub struct Style {
    pub lang: Lang,
    pub timezone: jiff::tz::TimeZone,
    /// The shop's currency (for sums and credits that name none).
    pub currency: String,
    /// The console's credits page when the console is on (an unmatched
    /// credit links to it); else the alert shows the `paycue assign` command.
    pub console: Option<String>,
}

/// Credits listed one by one in a message about many.
pub const LISTED: usize = 5;

/// The text of one message.
pub fn message(m: &Message, style: &Style) -> String {
    match m.alerts.as_slice() {
        [(_, q)] => one(&q.alert, style),
        many => {
            let alerts: Vec<&Alert> = many.iter().map(|(_, q)| &q.alert).collect();
            several(&alerts, style)
        }
    }
}

fn when(ms: Millis, style: &Style) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(style.timezone.clone())
                .strftime("%d.%m %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

fn span(from: Millis, to: Millis) -> String {
    let minutes = ((to - from).max(0) / 60_000).max(1);
    if minutes < 120 {
        format!("{minutes} min")
    } else {
        format!("{} h", minutes / 60)
    }
}

fn amount(c: &CreditView, style: &Style) -> String {
    let currency = c.currency.as_deref().unwrap_or(&style.currency);
    money(c.amount, currency, style.lang)
}

fn card(c: &CreditView) -> String {
    c.card_last4
        .as_deref()
        .map_or_else(|| "—".to_string(), |l4| format!("*{l4}"))
}

fn order(o: &Option<String>, tx: &str) -> String {
    match o {
        Some(o) => format!("#{o}"),
        None => format!("({tx})"),
    }
}

fn assign(credit_id: &str, style: &Style) -> String {
    match &style.console {
        Some(url) => url.clone(),
        None => format!("paycue assign {credit_id} <transaction id>"),
    }
}

fn one(alert: &Alert, s: &Style) -> String {
    use Lang::*;
    let l = s.lang;
    match alert {
        Alert::Unmatched { credit, .. } => {
            let head = match l {
                Uz => "⚠️ To‘lov hech bir buyurtmaga mos kelmadi",
                Ru => "⚠️ Платёж не подошёл ни к одному заказу",
                Kk => "⚠️ Төлем ешбір тапсырысқа сәйкес келмеді",
                En => "⚠️ A payment matched no order",
            };
            let how = match l {
                Uz => "Buyurtmaga biriktirish",
                Ru => "Привязать к заказу",
                Kk => "Тапсырысқа байлау",
                En => "Assign it to an order",
            };
            let mut out = format!(
                "{head}\n{} · {} · {}\n",
                amount(credit, s),
                card(credit),
                when(credit.date, s)
            );
            if let Some(t) = &credit.text {
                out.push_str(&format!("«{t}»\n"));
            }
            out.push_str(&format!("{how}: {}", assign(&credit.id, s)));
            out
        }
        Alert::Late {
            credit,
            transaction_id,
            order: o,
            due,
        } => {
            let (head, due_w, paid_w) = match l {
                Uz => ("⏰ Kechikkan to‘lov", "muddati", "to‘landi"),
                Ru => ("⏰ Оплата после срока", "срок", "оплачено"),
                Kk => ("⏰ Мерзімнен кейінгі төлем", "мерзімі", "төленді"),
                En => ("⏰ Late payment", "due", "paid"),
            };
            let tail = match l {
                Uz => "Buyurtma yopilgan edi: uni bajaring yoki pulni qaytaring.",
                Ru => "Заказ уже закрыт: выполните его или верните деньги.",
                Kk => "Тапсырыс жабылған: оны орындаңыз немесе ақшаны қайтарыңыз.",
                En => "The order had ended: fulfil it or refund the money.",
            };
            format!(
                "{head}: {} · {}\n{due_w} {}, {paid_w} {} · {}\n{tail}",
                amount(credit, s),
                order(o, transaction_id),
                when(*due, s),
                when(credit.date, s),
                card(credit)
            )
        }
        Alert::Reversal {
            credit,
            transaction_id,
            order: o,
            paid_at,
        } => {
            let head = match l {
                Uz => "↩️ Bank to‘lovni qaytarib oldi",
                Ru => "↩️ Банк отменил оплату",
                Kk => "↩️ Банк төлемді кері қайтарды",
                En => "↩️ The bank took a payment back",
            };
            let tail = match l {
                Uz => "Buyurtma to‘langan deb hisoblangan edi: uni tekshiring.",
                Ru => "Заказ считался оплаченным: проверьте его.",
                Kk => "Тапсырыс төленген болып саналды: оны тексеріңіз.",
                En => "The order counted as paid: check it.",
            };
            let paid = paid_at
                .map(|p| format!(" ({})", when(p, s)))
                .unwrap_or_default();
            format!(
                "{head}: {} · {}{paid} · {}\n{tail}",
                amount(credit, s),
                order(o, transaction_id),
                card(credit)
            )
        }
        Alert::WebhookDown { since } => match l {
            Uz => format!(
                "🔴 Do‘kon webhooki {} dan beri ishlamayapti. paycue qayta urinmoqda; buyurtmalar tasdiqlanadi, lekin do‘kon bundan bexabar.",
                when(*since, s)
            ),
            Ru => format!(
                "🔴 Вебхук магазина не отвечает с {}. paycue повторяет попытки; заказы подтверждаются, но магазин об этом не узнаёт.",
                when(*since, s)
            ),
            Kk => format!(
                "🔴 Дүкен вебхугы {} бастап жауап бермейді. paycue қайта әрекеттенуде; тапсырыстар расталады, бірақ дүкен бұл туралы білмейді.",
                when(*since, s)
            ),
            En => format!(
                "🔴 The shop's webhook has failed since {}. paycue keeps retrying; orders are confirmed but the shop does not hear of it.",
                when(*since, s)
            ),
        },
        Alert::WebhookUp { since, at } => match l {
            Uz => format!(
                "🟢 Do‘kon webhooki yana ishlayapti ({} ishlamadi).",
                span(*since, *at)
            ),
            Ru => format!(
                "🟢 Вебхук магазина снова работает (не работал {}).",
                span(*since, *at)
            ),
            Kk => format!(
                "🟢 Дүкен вебхугы қайта жұмыс істейді ({} істемеді).",
                span(*since, *at)
            ),
            En => format!(
                "🟢 The shop's webhook works again (it failed for {}).",
                span(*since, *at)
            ),
        },
        Alert::WebhookGaveUp {
            transaction_id,
            action,
            order: o,
            ..
        } => {
            let head = match l {
                Uz => "🔴 Webhook barcha urinishlardan keyin yuborilmadi",
                Ru => "🔴 Вебхук не доставлен после всех попыток",
                Kk => "🔴 Вебхук барлық әрекеттен кейін жеткізілмеді",
                En => "🔴 A webhook was given up after its last retry",
            };
            let again = match l {
                Uz => "Qayta yuborish",
                Ru => "Отправить снова",
                Kk => "Қайта жіберу",
                En => "Send it again",
            };
            format!(
                "{head}: {action} · {}\n{again}: POST /transactions/{transaction_id}/redeliver",
                order(o, transaction_id)
            )
        }
        Alert::Silence { since } => match l {
            Uz => format!(
                "🔕 {} dan beri bank chatlaridan xabar yo‘q. Telegram sessiyasini va bank botini tekshiring.",
                when(*since, s)
            ),
            Ru => format!(
                "🔕 Нет сообщений из банковских чатов с {}. Проверьте сессию Telegram и бота банка.",
                when(*since, s)
            ),
            Kk => format!(
                "🔕 {} бастап банк чаттарынан хабар жоқ. Telegram сессиясын және банк ботын тексеріңіз.",
                when(*since, s)
            ),
            En => format!(
                "🔕 No message from the bank chats since {}. Check the Telegram session and the bank bot.",
                when(*since, s)
            ),
        },
        Alert::SilenceOver { since, at } => match l {
            Uz => format!(
                "🔔 Bank xabarlari yana kelmoqda ({} jimlikdan keyin).",
                span(*since, *at)
            ),
            Ru => format!(
                "🔔 Сообщения банка снова приходят (тишина длилась {}).",
                span(*since, *at)
            ),
            Kk => format!(
                "🔔 Банк хабарлары қайта келуде ({} үнсіздіктен кейін).",
                span(*since, *at)
            ),
            En => format!(
                "🔔 Bank messages come again (after {} of silence).",
                span(*since, *at)
            ),
        },
        Alert::Daily { until, summary } => daily(*until, summary, s),
        Alert::Test { .. } => match l {
            Uz => "✅ paycue sinov xabari: ogohlantirishlar shu chatga keladi.".into(),
            Ru => "✅ Тестовое сообщение paycue: оповещения приходят в этот чат.".into(),
            Kk => "✅ paycue сынақ хабары: ескертулер осы чатқа келеді.".into(),
            En => "✅ paycue test alert: alerts reach this chat.".into(),
        },
    }
}

fn daily(until: Millis, sm: &Summary, s: &Style) -> String {
    use Lang::*;
    let sum = money(sm.paid_sum, &sm.currency, s.lang);
    let (head, paid, unmatched, late, failures) = match s.lang {
        Uz => (
            "📊 24 soat",
            "to‘langan",
            "mos kelmagan",
            "kechikkan",
            "webhook xatolari",
        ),
        Ru => (
            "📊 За сутки до",
            "оплачено",
            "без заказа",
            "после срока",
            "ошибок вебхука",
        ),
        Kk => (
            "📊 Тәулік",
            "төленді",
            "тапсырыссыз",
            "мерзімнен кейін",
            "вебхук қателері",
        ),
        En => ("📊 Day to", "paid", "unmatched", "late", "webhook failures"),
    };
    format!(
        "{head} {}\n{paid}: {} · {sum}\n{unmatched}: {}\n{late}: {}\n{failures}: {}",
        when(until, s),
        sm.paid,
        sm.unmatched,
        sm.late,
        sm.webhook_failures
    )
}

/// Many alerts of one kind (a flood): the count, the sum for credits, the
/// first `LISTED` one per line.
fn several(alerts: &[&Alert], s: &Style) -> String {
    use Lang::*;
    let n = alerts.len();
    let credits: Vec<&CreditView> = alerts
        .iter()
        .filter_map(|a| match a {
            Alert::Unmatched { credit, .. }
            | Alert::Late { credit, .. }
            | Alert::Reversal { credit, .. } => Some(credit),
            _ => None,
        })
        .collect();
    let head = match (alerts.first(), s.lang) {
        (Some(Alert::Unmatched { .. }), Uz) => {
            format!("⚠️ {n} ta to‘lov hech bir buyurtmaga mos kelmadi")
        }
        (Some(Alert::Unmatched { .. }), Ru) => {
            format!("⚠️ {n} платежей не подошли ни к одному заказу")
        }
        (Some(Alert::Unmatched { .. }), Kk) => {
            format!("⚠️ {n} төлем ешбір тапсырысқа сәйкес келмеді")
        }
        (Some(Alert::Unmatched { .. }), En) => format!("⚠️ {n} payments matched no order"),
        (Some(Alert::Late { .. }), Uz) => format!("⏰ {n} ta kechikkan to‘lov"),
        (Some(Alert::Late { .. }), Ru) => format!("⏰ {n} оплат после срока"),
        (Some(Alert::Late { .. }), Kk) => format!("⏰ Мерзімнен кейінгі {n} төлем"),
        (Some(Alert::Late { .. }), En) => format!("⏰ {n} late payments"),
        (Some(Alert::Reversal { .. }), Uz) => format!("↩️ Bank {n} ta to‘lovni qaytarib oldi"),
        (Some(Alert::Reversal { .. }), Ru) => format!("↩️ Банк отменил {n} оплат"),
        (Some(Alert::Reversal { .. }), Kk) => format!("↩️ Банк {n} төлемді кері қайтарды"),
        (Some(Alert::Reversal { .. }), En) => format!("↩️ The bank took {n} payments back"),
        (_, Uz) => format!("🔴 {n} ta webhook barcha urinishlardan keyin yuborilmadi"),
        (_, Ru) => format!("🔴 {n} вебхуков не доставлено после всех попыток"),
        (_, Kk) => format!("🔴 {n} вебхук барлық әрекеттен кейін жеткізілмеді"),
        (_, En) => format!("🔴 {n} webhooks were given up after their last retry"),
    };
    let mut out = head;
    if !credits.is_empty() {
        let total = credits
            .iter()
            .try_fold(Money::ZERO, |acc, c| acc.checked_add(c.amount));
        let currencies: Vec<&str> = credits
            .iter()
            .map(|c| c.currency.as_deref().unwrap_or(&s.currency))
            .collect();
        if let (Some(total), true) = (total, currencies.windows(2).all(|w| w[0] == w[1])) {
            out.push_str(&format!(" · Σ {}", money(total, currencies[0], s.lang)));
        }
        for c in credits.iter().take(LISTED) {
            out.push_str(&format!(
                "\n• {} · {} · {} · {}",
                amount(c, s),
                card(c),
                when(c.date, s),
                c.id
            ));
        }
    } else {
        for a in alerts.iter().take(LISTED) {
            if let Alert::WebhookGaveUp {
                action,
                transaction_id,
                order: o,
                ..
            } = a
            {
                out.push_str(&format!("\n• {action} · {}", order(o, transaction_id)));
            }
        }
    }
    if n > LISTED {
        let more = match s.lang {
            Uz => format!("\n… yana {}", n - LISTED),
            Ru => format!("\n… и ещё {}", n - LISTED),
            Kk => format!("\n… тағы {}", n - LISTED),
            En => format!("\n… and {} more", n - LISTED),
        };
        out.push_str(&more);
    }
    if let Some(Alert::Unmatched { .. }) = alerts.first() {
        let how = match s.lang {
            Uz => "Biriktirish",
            Ru => "Привязать",
            Kk => "Байлау",
            En => "Assign each",
        };
        out.push_str(&format!("\n{how}: {}", assign("<credit id>", s)));
    }
    out
}
