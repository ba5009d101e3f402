//! The view model: everything the page template and the status JSON show,
//! computed from a transaction, the settings, the language and the server's
//! clock. Templates only place these values; routes only fetch and wire.
//! What must stay true: nothing of the shop's `metadata` is read here, and
//! seconds-left comes from the server's clock, never the buyer's.

use serde::Serialize;

use super::format;
use super::lang::{Lang, Strings};
use crate::config::PaySettings;
use crate::model::{CancelReason, Millis, Transaction, TxStatus, rfc3339};

/// What the buyer is told about a transaction right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageState {
    Pending,
    Paid,
    /// The deadline passed (also while the sweep has not cancelled it yet:
    /// a payment made in time may still confirm it, so watching goes on).
    Expired,
    Cancelled,
}

impl PageState {
    pub fn of(tx: &Transaction, now: Millis) -> PageState {
        match (tx.status, tx.cancel_reason) {
            (TxStatus::Confirmed, _) => PageState::Paid,
            (TxStatus::Cancelled, Some(CancelReason::Api)) => PageState::Cancelled,
            (TxStatus::Cancelled, _) => PageState::Expired,
            (TxStatus::Pending, _) if now >= tx.expires_at => PageState::Expired,
            (TxStatus::Pending, _) => PageState::Pending,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PageState::Pending => "pending",
            PageState::Paid => "paid",
            PageState::Expired => "expired",
            PageState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<PageState> {
        [
            PageState::Pending,
            PageState::Paid,
            PageState::Expired,
            PageState::Cancelled,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

pub fn seconds_left(tx: &Transaction, now: Millis) -> i64 {
    if tx.status != TxStatus::Pending {
        return 0;
    }
    ((tx.expires_at - now).max(0) + 999) / 1000
}

/// The public status (`GET /pay/{id}/status`): no metadata, no credit ids.
#[derive(Debug, Serialize)]
pub struct StatusView {
    pub transaction_id: String,
    pub state: PageState,
    /// True once the transaction has ended: nothing will change any more.
    #[serde(rename = "final")]
    pub ended: bool,
    pub seconds_left: i64,
    pub amount: crate::money::Money,
    pub requested_amount: crate::money::Money,
    pub currency: String,
    pub card: Option<String>,
    pub expires_at: String,
    /// When to ask again without `wait` (the polling fallback), 0: at once.
    pub retry_ms: u64,
}

impl StatusView {
    pub fn new(tx: &Transaction, now: Millis, retry_ms: u64) -> StatusView {
        StatusView {
            transaction_id: tx.id.clone(),
            state: PageState::of(tx, now),
            ended: tx.status != TxStatus::Pending,
            seconds_left: seconds_left(tx, now),
            amount: tx.amount,
            requested_amount: tx.requested_amount,
            currency: tx.currency.clone(),
            card: tx.card.clone(),
            expires_at: rfc3339(tx.expires_at),
            retry_ms,
        }
    }
}

/// A link of the language switch.
pub struct LangLink {
    pub code: &'static str,
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

/// The `hidden` attribute of each state's section.
pub struct Hidden {
    pub pending: bool,
    pub paid: bool,
    pub expired: bool,
    pub cancelled: bool,
}

pub struct PageView {
    pub lang: &'static str,
    pub s: &'static Strings,
    pub shop_name: Option<String>,
    pub state: &'static str,
    /// The transaction has ended: the page stops asking for news.
    pub ended: bool,
    pub hidden: Hidden,
    pub amount: String,
    pub amount_plain: String,
    pub exact_note: String,
    pub card: Option<String>,
    pub card_plain: Option<String>,
    pub holder: Option<String>,
    pub seconds_left: i64,
    pub countdown: String,
    pub pay_before: String,
    pub paid_text: String,
    pub return_url: Option<String>,
    /// Server-rendered redirect for a page opened after payment (works
    /// without JavaScript).
    pub meta_refresh: Option<String>,
    pub qr_svg: Option<String>,
    pub langs: Vec<LangLink>,
    pub refresh_href: String,
    pub status_href: String,
}

/// The request's view of the page: the chosen language and a checked return URL.
pub struct Ask<'a> {
    pub lang: Lang,
    pub return_url: Option<reqwest::Url>,
    pub settings: &'a PaySettings,
}

impl PageView {
    pub fn new(tx: &Transaction, ask: &Ask<'_>, now: Millis) -> PageView {
        let (lang, settings) = (ask.lang, ask.settings);
        let s = lang.strings();
        let state = PageState::of(tx, now);
        let amount = format::money(tx.amount, &tx.currency, lang);
        let requested = format::money(tx.requested_amount, &tx.currency, lang);
        let (time, zone) = format::deadline(tx.expires_at, &settings.timezone);
        let secs = seconds_left(tx, now);
        let return_url = ask.return_url.as_ref().map(|u| u.to_string());
        let back = return_url.clone();
        let query = |l: Lang| {
            let mut q = reqwest::Url::parse("http://x/").expect("static URL parses");
            q.query_pairs_mut().append_pair("lang", l.code());
            if let Some(r) = &back {
                q.query_pairs_mut().append_pair("return", r);
            }
            format!("?{}", q.query().unwrap_or(""))
        };
        PageView {
            lang: lang.code(),
            s,
            shop_name: settings.shop_name.clone(),
            state: state.as_str(),
            ended: tx.status != TxStatus::Pending,
            hidden: Hidden {
                pending: state != PageState::Pending,
                paid: state != PageState::Paid,
                expired: state != PageState::Expired,
                cancelled: state != PageState::Cancelled,
            },
            exact_note: s
                .exact_note
                .replace("{amount}", &amount)
                .replace("{requested}", &requested),
            paid_text: s.paid_text.replace("{amount}", &amount),
            amount,
            amount_plain: format::money_plain(tx.amount, lang),
            card: tx.card.as_deref().map(format::card),
            card_plain: tx.card.as_deref().and_then(format::card_plain),
            holder: settings.card_holder.clone(),
            seconds_left: secs,
            countdown: format::countdown(secs),
            pay_before: s
                .pay_before
                .replace("{time}", &time)
                .replace("{zone}", &zone),
            meta_refresh: return_url
                .as_ref()
                .filter(|_| state == PageState::Paid)
                .map(|u| format!("5;url={u}")),
            return_url,
            qr_svg: settings
                .payment_url(&tx.id, None)
                .and_then(|u| super::qr::svg(&u)),
            langs: Lang::ALL
                .iter()
                .map(|&l| LangLink {
                    code: l.code(),
                    name: l.strings().name,
                    href: query(l),
                    current: l == lang,
                })
                .collect(),
            refresh_href: query(lang),
            status_href: format!("{}/status", tx.id),
        }
    }
}
