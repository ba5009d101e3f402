//! Kaspi (Kazakhstan). Kaspi has no bot: sellers forward its SMS or app
//! pushes into a chat they name. Every form is `LABEL: AMOUNT` lines:
//! `Пополнение: 112 000т` / `В Kaspi Терминале` / `Доступно: 146 003,44т`,
//! pushes `Kaspi Gold Пополнение: 100 ₸` / `Аспандияр Т.`, deposit SMS
//! `Kaspi Депозит D-007` / `Проценты за декабрь: +201 569,73т` / `На
//! Депозите: ...`. The operation is the one labelled amount that is not a
//! balance (`Доступно`, `На Депозите`); a text with two such amounts
//! (`Пополнение: 5 000т ... Пополнение: 7 000т`) is `unknown`, as two signed
//! amounts are in a bot message. Lines may be glued together
//! (`Перевод: 6000тНа Kaspi GoldДоступно: ...`). Times, when shown, are
//! Almaty time.

use super::card;
use super::text::Message;
use super::{Bank, Kind, Notification, amount, plain, vocab, when};

/// Labels of balances, never the operation.
const BALANCES: &[&str] = &[
    "доступно",
    "на депозите",
    "баланс",
    "остаток",
    "қолжетімді",
    "dostupno",
    "balans",
];
/// Operation labels that are credits to the account.
const CREDITS: &[&str] = &["пополнение", "толықтыру", "зачисление", "поступление"];
/// Operation labels that are income but not a payment from anyone.
const INCOME: &[&str] = &["проценты", "вознаграждение", "кешбэк", "cashback", "бонус"];
/// Operation labels that spend money.
const DEBITS: &[&str] = &[
    "покупка",
    "оплата",
    "платеж",
    "платёж",
    "перевод",
    "снятие",
    "списание",
    "погашение",
    "аударым",
];

/// One `LABEL: AMOUNT` pair and the text after it.
struct Entry<'a> {
    label: String,
    /// `+`/`-` written before the amount, if any.
    sign: Option<char>,
    amount: amount::Amount,
    after: &'a str,
}

/// Every labelled amount, in order. A label starts at the line start or
/// right after the previous amount (for glued lines).
fn entries(text: &str) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    let mut label_start = 0;
    for (colon, _) in text.match_indices(':') {
        if colon < label_start {
            continue;
        }
        let value = text[colon + 1..].trim_start_matches(' ');
        let sign = value.chars().next().filter(|c| matches!(c, '+' | '-'));
        let value = value.strip_prefix(['+', '-']).unwrap_or(value);
        let Some((amount, after)) = amount::read(value) else {
            continue;
        };
        // The label runs from the line start (or the previous amount) to the
        // colon; searching only that span keeps the scan linear.
        let span = &text[label_start..colon];
        let label = span[span.rfind('\n').map_or(0, |n| n + 1)..]
            .trim()
            .to_lowercase();
        label_start = text.len() - after.len();
        out.push(Entry {
            label,
            sign,
            amount,
            after,
        });
    }
    out
}

fn names(label: &str, words: &[&str]) -> bool {
    words.iter().any(|w| label.contains(w))
}

/// The text is a Kaspi message: a labelled amount whose label Kaspi uses,
/// in tenge or in a text that names Kaspi.
pub fn is_kaspi(msg: &Message) -> bool {
    entries(&msg.text).iter().any(|e| {
        let known = [BALANCES, CREDITS, INCOME, DEBITS]
            .iter()
            .any(|words| names(&e.label, words))
            || vocab::declined_or_reversed(&e.label).is_some();
        known && (e.amount.currency == "KZT" || msg.lower.contains("kaspi"))
    })
}

pub fn parse(msg: &Message) -> Notification {
    let all = entries(&msg.text);
    let mut note = Notification::unknown(Bank::Kaspi);
    note.at = when::find(&msg.text, Bank::Kaspi.zone());
    note.card = card::find_card(&msg.text).map(|c| c.last4);
    if all.is_empty() {
        return plain::unrecognised(Bank::Kaspi, msg);
    }
    let mut ops = all.iter().filter(|e| !names(&e.label, BALANCES));
    let Some(op) = ops.next() else {
        // Only balances: a balance notice.
        note.kind = Kind::Info;
        return note;
    };
    // Two operation amounts: which one is the payment cannot be told (the
    // bots' rule for two signed amounts), so the text is not understood.
    if ops.next().is_some() {
        return note;
    }
    note.amount = Some(op.amount.money);
    note.currency = Some(op.amount.currency.to_string());
    note.kind = match vocab::vetoed_kind(None, &op.label) {
        Some(kind) => kind,
        // A sign that contradicts the label: not understood.
        None if op.sign == Some('-') && names(&op.label, CREDITS) => Kind::Unknown,
        None if op.sign == Some('+') && names(&op.label, DEBITS) => Kind::Unknown,
        None if names(&op.label, CREDITS) && vocab::credit_is_safe(&msg.lower) => Kind::Credit,
        None if names(&op.label, INCOME) => Kind::Info,
        // A transfer into one's own deposit moves money between own accounts.
        None if op.label.contains("перевод") && op.after.to_lowercase().contains("на депозит") => {
            Kind::Info
        }
        // `Перевод: 500 ₸ от Айгерим К.` would be incoming: not the outgoing
        // form paycue knows, so not understood.
        None if op.label.contains("перевод") && starts_with_from(op.after) => Kind::Unknown,
        None if names(&op.label, DEBITS) => Kind::Debit,
        None => Kind::Unknown,
    };
    note.refund = note.kind == Kind::Reversal
        && (op.sign == Some('+') || vocab::says_outgoing(&op.label.to_lowercase()));
    note
}

/// The text after an amount names a sender: `от Айгерим К.`.
fn starts_with_from(after: &str) -> bool {
    let after = after.trim_start().to_lowercase();
    after.starts_with("от ") || after.starts_with("от:")
}
