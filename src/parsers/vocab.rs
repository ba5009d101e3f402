//! The words and emoji that say what kind of operation a message reports, in
//! Russian, Uzbek (Latin), transliterated Russian, English and Kazakh. The
//! direction of money comes from the ➕/➖ sign when there is one; these words
//! only veto it (a reversal, a decline, a notice) or contradict it (an
//! `Оплата` with ➕ is not understood and answers `unknown`). Keywords are
//! matched on lower-cased, apostrophe-folded text (see `text`).

use super::Kind;

/// Declined operations: money did not move.
const DECLINED: &[&str] = &[
    "nedostatochno",
    "недостаточно",
    "incorrect pin",
    "wrong pin",
    "invalid pin",
    "неверный pin",
    "неверный пин",
    "pin xato",
    "noto'g'ri pin",
    "yetarli emas",
    "otkaz",
    "отказ",
    "declined",
    "отклонен",
    "отклонён",
    "otklonen",
    "reject",
    "не выполнен",
    "ne vypolnen",
    "не проведен",
    "ne proveden",
    "failed",
    "bajarilmadi",
    "rad etil",
    "insufficient",
    "muvaffaqiyatsiz",
    "неуспешн",
    "neuspeshn",
    "превышен",
    "prevyshen",
    "limit exceeded",
    "ошибка",
    "oshibka",
    "not enough",
];

/// Reversals and refunds: money came back, nobody paid.
const REVERSED: &[&str] = &[
    // Stems: `отменено`, `отменён` and `otmeneno` are reversals too.
    "otmen",
    "отмен",
    "vozvrat",
    "возврат",
    "возвращ",
    "vozvrash",
    "revers",
    "қайтар",
    "bekor",
    "qaytar",
    "refund",
    "reversal",
    "cancel",
    "storno",
    "сторно",
    "chargeback",
    "аннулир",
    "annulir",
];

/// Notices that report no payment even when they show an amount.
const NOTICES: &[&str] = &[
    "изменен",
    "izmenen",
    "o'zgar",
    "подписк",
    "obuna",
    "абонент",
    "abonent",
    "баланс",
    "balans",
    "balance",
    "http",
    "t.me/",
    "www.",
];

/// Income that is no payment from anyone: cashback, interest, bonuses.
const INCOME: &[&str] = &[
    "кешбэк",
    "кэшбэк",
    "cashback",
    "keshbek",
    "процент",
    "foiz",
    "bonus",
    "бонус",
    "вознагражден",
    // Transliterated Russian, as Kazakh bank SMS write it.
    "voznagrazhden",
    "procent",
    "protsent",
];

/// Headers of outgoing operations (they contradict a ➕).
const OUTGOING: &[&str] = &[
    "оплата",
    "oplata",
    "to'lov",
    "tolov",
    "pokupka",
    "покупка",
    "xarid",
    "platezh",
    "платеж",
    "платёж",
    "spisanie",
    "списан",
    "snyatie",
    "снятие",
    "yechi",
    "payment",
    "purchase",
    "withdraw",
    "e-com",
    "chiqim",
    "расход",
    "rasxod",
    "погашение",
    "kartadan",
    "otpravlen",
    "esepten",
];

/// Headers of incoming operations (they contradict a ➖).
const INCOMING: &[&str] = &[
    "пополнен",
    "popolnen",
    "to'ldir",
    "toldir",
    "kirim",
    "perevod na kart",
    "перевод на карт",
    "зачислен",
    "zachislen",
    "поступлен",
    "postuplen",
    "replenish",
    "top-up",
    "top up",
    "topup",
    "incoming",
    "толықтыру",
    "qabul",
    "получен",
    "received",
    "түсім",
    "kartaga o'tkazma",
    "esepke alu",
    "tolyktyru",
];

/// Emoji that open a reversal, a decline or a notice.
const REVERSAL_MARKS: &[char] = &['❌', '↩', '🔄'];
const DECLINE_MARKS: &[char] = &['🚫', '⛔'];
const NOTICE_MARKS: &[char] = &['ℹ', '✅', '🔹', '🔸', '📢', '🔔', '✔'];

/// Which way the money went by the message's own sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    In,
    Out,
}

fn has_any(lower: &str, words: &[&str]) -> bool {
    words.iter().any(|w| lower.contains(w))
}

pub fn says_incoming(lower: &str) -> bool {
    has_any(lower, INCOMING)
}

pub fn says_outgoing(lower: &str) -> bool {
    has_any(lower, OUTGOING)
}

/// Income that is the bank's, not a payment: cashback, interest, a bonus
/// (for a description after the amount, where the header said only "in").
pub fn says_income(lower: &str) -> bool {
    has_any(lower, INCOME)
}

/// The kind a header states by itself, before any sign: a decline, a
/// reversal or a notice, else `None`.
pub fn vetoed_kind(marker: Option<char>, lower_header: &str) -> Option<Kind> {
    let mark = |set: &[char]| marker.is_some_and(|m| set.contains(&m));
    if mark(DECLINE_MARKS) || has_any(lower_header, DECLINED) {
        Some(Kind::Declined)
    } else if mark(REVERSAL_MARKS) || has_any(lower_header, REVERSED) {
        Some(Kind::Reversal)
    } else if mark(NOTICE_MARKS) || has_any(lower_header, NOTICES) || has_any(lower_header, INCOME)
    {
        Some(Kind::Info)
    } else {
        None
    }
}

/// A decline or reversal named anywhere in `lower` (used on the lines after
/// the header, the merchant line left out).
pub fn declined_or_reversed(lower: &str) -> Option<Kind> {
    if has_any(lower, DECLINED) {
        Some(Kind::Declined)
    } else if has_any(lower, REVERSED) {
        Some(Kind::Reversal)
    } else {
        None
    }
}

/// The kind of a signed operation: a veto wins, then the sign, unless the
/// header says only the opposite direction (then we do not know; a header
/// naming both, `Incoming payment`, leaves it to the sign).
pub fn signed_kind(marker: Option<char>, lower_header: &str, sign: Sign) -> Kind {
    if let Some(kind) = vetoed_kind(marker, lower_header) {
        return kind;
    }
    match sign {
        Sign::In if says_outgoing(lower_header) && !says_incoming(lower_header) => Kind::Unknown,
        Sign::Out if says_incoming(lower_header) && !says_outgoing(lower_header) => Kind::Unknown,
        Sign::In => Kind::Credit,
        Sign::Out => Kind::Debit,
    }
}

/// The last check before answering `credit`: no decline, reversal or notice
/// word or emoji anywhere in the message, merchant line included. A false
/// `unknown` costs a manual look; a false credit confirms an unpaid order.
pub fn credit_is_safe(lower_text: &str) -> bool {
    // Balance words are left out (the Uzcard SMS credit names its balance),
    // and so are income words (`BONUS` is a shop name; a cashback says so in
    // its header).
    let mut marks = REVERSAL_MARKS
        .iter()
        .chain(DECLINE_MARKS)
        .chain(NOTICE_MARKS);
    let mut words = DECLINED.iter().chain(REVERSED).chain(
        NOTICES
            .iter()
            .filter(|w| !matches!(**w, "баланс" | "balans" | "balance")),
    );
    !marks.any(|m| lower_text.contains(*m)) && !words.any(|w| lower_text.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vetoes_win_over_the_sign() {
        assert_eq!(
            signed_kind(Some('🟢'), "otmena pokupka", Sign::In),
            Kind::Reversal
        );
        assert_eq!(
            signed_kind(Some('❌'), "отмена операций карты", Sign::In),
            Kind::Reversal
        );
        assert_eq!(
            signed_kind(Some('💸'), "nedostatochno sredstv", Sign::Out),
            Kind::Declined
        );
        assert_eq!(
            signed_kind(Some('ℹ'), "счет по карте", Sign::In),
            Kind::Info
        );
    }

    #[test]
    fn the_sign_decides_unless_contradicted() {
        assert_eq!(signed_kind(Some('💸'), "операция", Sign::In), Kind::Credit);
        assert_eq!(signed_kind(None, "", Sign::In), Kind::Credit);
        assert_eq!(signed_kind(Some('💸'), "оплата", Sign::In), Kind::Unknown);
        assert_eq!(
            signed_kind(Some('🎉'), "пополнение", Sign::Out),
            Kind::Unknown
        );
        assert_eq!(signed_kind(Some('💸'), "to'lov", Sign::Out), Kind::Debit);
        assert_eq!(
            signed_kind(None, "incoming payment", Sign::In),
            Kind::Credit
        );
        assert_eq!(
            signed_kind(None, "perevod s karty na kartu", Sign::In),
            Kind::Credit
        );
    }

    #[test]
    fn credit_safety_looks_at_the_whole_text() {
        assert!(credit_is_safe("🎉 пополнение\n➕ 1 uzs\n📍 click p2p"));
        assert!(!credit_is_safe(
            "🎉 пополнение\n➕ 1 uzs\n📍 vozvrat tovara"
        ));
        assert!(!credit_is_safe("ℹ пополнение ➕ 1 uzs"));
        assert!(credit_is_safe(
            "popolnenie scheta: x, summa:1 uzs balans:2 uzs"
        ));
    }
}
