//! The rules that keep a false confirmation out: what is never a credit,
//! which amount counts, trust by sender, and the message's own time.

use paycue::parsers::{Bank, HUMO_BOT_ID, Kind, NBU_BOT_ID, UZCARD_BOT_ID, parse};

const HUMO_CREDIT: &str = "🎉 Пополнение\n➕ 2.200,00 UZS\n📍 NBU P2P HUMOHUMO>tas\n💳 HUMOCARD *7466\n🕓 12:36 02.10.2025\n💰 3.040,61 UZS";
const UZCARD_CREDIT: &str = "🟢 Popolnenie scheta\n➕ 13 870 000.00 UZS\n💳 ***5982\n📍 MILLIY BANK PK KIRIM, UZ\n🕓 16.10.25 17:52\n💵 13 889 000.00 UZS";
const NBU_CREDIT: &str =
    "💸 Пополнение\n➕ 100.00 USD\n💳 479091******6905\n🕓 30.09.25 14:43\n💵 100.69 USD";
const HUMO_SMS_CREDIT: &str = "HUMOCARD *6659: popolnenie 1500000.00 UZS; UZUM BANK Visa to Hu; 26-03-20 02:39; Dostupno: 1509300.00 UZS";
const UZCARD_SMS_CREDIT: &str = "Popolnenie scheta: MILLIY BANK PK KIRIM, UZ,02.04.25 16:19,karta ***5982. summa:2319680.00 UZS balans:7098248.40 UZS";
const KASPI_CREDIT: &str = "Пополнение: 112 000т\nВ Kaspi Терминале\nДоступно: 146 003,44т";

fn kind(sender: Option<i64>, text: &str) -> Kind {
    parse(sender, None, text).kind
}

#[test]
fn each_bank_has_its_credit() {
    assert_eq!(kind(Some(HUMO_BOT_ID), HUMO_CREDIT), Kind::Credit);
    assert_eq!(kind(Some(UZCARD_BOT_ID), UZCARD_CREDIT), Kind::Credit);
    assert_eq!(kind(Some(NBU_BOT_ID), NBU_CREDIT), Kind::Credit);
    assert_eq!(kind(None, HUMO_SMS_CREDIT), Kind::Credit);
    assert_eq!(kind(None, UZCARD_SMS_CREDIT), Kind::Credit);
    assert_eq!(kind(None, KASPI_CREDIT), Kind::Credit);
    // NBU issues HUMO (9860) and Uzcard (8600) cards: the card's system is
    // no other bank's signature.
    for card in ["986012******1234", "860002******1234"] {
        let text = format!("💸 Пополнение\n➕ 100 000.00 UZS\n💳 {card}");
        assert_eq!(kind(Some(NBU_BOT_ID), &text), Kind::Credit, "{card}");
    }
}

/// A known bot's message is never a credit because its text reads like
/// another bank's credit.
#[test]
fn another_banks_credit_text_from_a_known_bot_is_not_a_credit() {
    let bots = [
        (HUMO_BOT_ID, Bank::Humo),
        (UZCARD_BOT_ID, Bank::Uzcard),
        (NBU_BOT_ID, Bank::Nbu),
    ];
    let texts = [
        (Bank::Humo, HUMO_CREDIT),
        (Bank::Humo, HUMO_SMS_CREDIT),
        (Bank::Humo, "➕ 103.500,00 UZS\n💳 HUMOCARD *1951"),
        (Bank::Uzcard, UZCARD_CREDIT),
        (Bank::Uzcard, UZCARD_SMS_CREDIT),
        (Bank::Nbu, NBU_CREDIT),
        (Bank::Kaspi, KASPI_CREDIT),
        (Bank::Kaspi, "Kaspi Gold Пополнение: 100 ₸"),
    ];
    for (bot, bot_bank) in bots {
        for (text_bank, text) in texts {
            let n = parse(Some(bot), Some(Bank::Kaspi), text);
            assert_eq!(n.bank, bot_bank, "the sender decides the bank");
            if text_bank != bot_bank {
                assert_ne!(
                    n.kind,
                    Kind::Credit,
                    "{bot_bank:?} bot, {text_bank:?} text: {text}"
                );
            }
        }
    }
    // A copy header naming another bank's bot is another bank's text too.
    let copied = format!("CardXabar, [14.04.2025 12:01]\n{HUMO_CREDIT}");
    assert_ne!(kind(Some(HUMO_BOT_ID), &copied), Kind::Credit);
}

#[test]
fn reversals_declines_and_notices_are_never_credits_even_with_a_plus() {
    let cases = [
        (
            "🟢 OTMENA Pokupka\n➕ 56 000.00 UZS\n💳 ***5982",
            Kind::Reversal,
        ),
        (
            "❌ Отмена операций карты\n➕ 82.762,90 UZS\n💳 HUMOCARD *1951",
            Kind::Reversal,
        ),
        ("🟢 Vozvrat\n➕ 56 000.00 UZS\n💳 ***5982", Kind::Reversal),
        (
            "❌ Пополнение\n➕ 1.000,00 UZS\n💳 HUMOCARD *1951",
            Kind::Reversal,
        ),
        ("💸 Nedostatochno sredstv\n➕ 51 099.00 UZS", Kind::Declined),
        (
            "🎉 Пополнение\n➕ 1.000,00 UZS\n❗ INCORRECT PIN",
            Kind::Declined,
        ),
        (
            "ℹ️ Счет по карте изменен\n➕ 2.257.419,87 UZS\n💳 HUMO-CARD *7466",
            Kind::Info,
        ),
        (
            "✅ Пополнение\n➕ 1.000,00 UZS\n💳 HUMOCARD *1951",
            Kind::Info,
        ),
        ("🎁 Кэшбэк\n➕ 1.000,00 UZS\n💳 HUMOCARD *1951", Kind::Info),
        ("🔹 HUMOCARD TBCBANK *8400\n💵 6'924.46 UZS", Kind::Info),
        (
            "ℹ️ Абонентская плата была успешно списана\n💳 561468******4862",
            Kind::Info,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(kind(Some(HUMO_BOT_ID), text), expected, "{text}");
    }
    for text in [
        "NEDOSTATOCHNO SREDSTV 8600***4411 30.09.25 19:22  POS purchase 100300.00 UZS",
        "INCORRECT PIN 8600***4411 30.09.25 19:22  POS purchase 100300.00 UZS",
    ] {
        let n = parse(Some(UZCARD_BOT_ID), None, text);
        assert_eq!((n.kind, n.card.as_deref()), (Kind::Declined, Some("4411")));
    }
    assert_eq!(kind(None, "Возврат: 5 000т\nMAGNUM"), Kind::Reversal);
    // A Kaspi transfer *from* someone is not the outgoing form: unknown.
    assert_eq!(kind(None, "Перевод: 500 ₸ от Айгерим К."), Kind::Unknown);
    assert_eq!(kind(None, "Покупка: -4 134 ₸\nMAGNUM"), Kind::Debit);
    assert_eq!(kind(None, "Пополнение: -4 134 ₸\nMAGNUM"), Kind::Unknown);
    assert_eq!(
        kind(None, "Проценты за декабрь: +201 569,73т\nKaspi Депозит"),
        Kind::Info
    );
}

#[test]
fn without_a_sign_or_with_a_contradiction_there_is_no_credit() {
    // The 2022 layout: no sign, the direction is not stated.
    let old = "💸 Операция\n💰 1.270.000,00 UZS\n💳 HUMOCARD *6649\n🕓 23:36 12.09.2022";
    assert_eq!(kind(Some(HUMO_BOT_ID), old), Kind::Info);
    assert_eq!(
        kind(
            Some(HUMO_BOT_ID),
            "🎉 Пополнение\n💰 1.000,00 UZS\n🕓 23:36 12.09.2022"
        ),
        Kind::Unknown
    );
    assert_eq!(
        kind(Some(HUMO_BOT_ID), "💸 Оплата\n➕ 1.000,00 UZS"),
        Kind::Unknown
    );
    assert_eq!(
        kind(Some(HUMO_BOT_ID), "🎉 Пополнение\n➖ 1.000,00 UZS"),
        Kind::Unknown
    );
    // Two signed amounts, or one that cannot be read: unknown.
    assert_eq!(
        kind(
            Some(HUMO_BOT_ID),
            "🎉 Пополнение\n➕ 1.000,00 UZS\n➕ 2.000,00 UZS"
        ),
        Kind::Unknown
    );
    assert_eq!(
        kind(Some(HUMO_BOT_ID), "🎉 Пополнение\n➕ 1.000.00 UZS"),
        Kind::Unknown
    );
    assert_eq!(
        kind(Some(HUMO_BOT_ID), "🎉 Пополнение\n➕ 0,00 UZS"),
        Kind::Unknown
    );
    // Unknown senders whose text names no bank are `other`, never a credit.
    let n = parse(None, None, "➕ 1.000,00 UZS");
    assert_eq!((n.bank, n.kind), (Bank::Other, Kind::Unknown));
    let advert = "Chegirmalar mavsumi! 100 mln so'mgacha. Yuklash: https://onelink.to/x";
    assert_eq!(parse(None, None, advert).kind, Kind::Info);
}

#[test]
fn only_the_credit_line_amount_counts() {
    let text = "🎉 Пополнение\n💰 9.999,00 UZS\n➕ 6.000,00 UZS\n⚠️ Комиссия: 60,00 UZS\n📍 SHOP 12345 UZS 77\n💳 HUMOCARD *4042\n💰 9.100,00 UZS";
    let n = parse(Some(HUMO_BOT_ID), None, text);
    assert_eq!(
        (n.kind, n.amount.map(|a| a.minor())),
        (Kind::Credit, Some(600_000))
    );
    let sms = parse(None, None, UZCARD_SMS_CREDIT);
    assert_eq!(sms.amount.map(|a| a.minor()), Some(231_968_000));
    let kaspi = parse(
        None,
        None,
        "Перевод: 6000тНа Kaspi GoldДоступно: 133 296,44т",
    );
    assert_eq!(
        (kaspi.kind, kaspi.amount.map(|a| a.minor())),
        (Kind::Debit, Some(600_000))
    );
    // The merchant line never supplies the card either.
    let n = parse(
        Some(HUMO_BOT_ID),
        None,
        "🎉 Пополнение\n➕ 6.000,00 UZS\n📍 P2P *9999\n💳 HUMOCARD *4042",
    );
    assert_eq!(n.card.as_deref(), Some("4042"));
}

#[test]
fn the_message_time_is_read_in_the_banks_zone() {
    let at = |sender, text: &str| parse(sender, None, text).at.map(|t| t.to_string());
    assert_eq!(
        at(Some(HUMO_BOT_ID), HUMO_CREDIT).as_deref(),
        Some("2025-10-02T07:36:00Z")
    );
    assert_eq!(
        at(Some(UZCARD_BOT_ID), UZCARD_CREDIT).as_deref(),
        Some("2025-10-16T12:52:00Z")
    );
    assert_eq!(
        at(None, HUMO_SMS_CREDIT).as_deref(),
        Some("2026-03-19T21:39:00Z")
    );
    assert_eq!(
        at(None, UZCARD_SMS_CREDIT).as_deref(),
        Some("2025-04-02T11:19:00Z")
    );
    // Kaspi (Almaty, UTC+5 since March 2024) when the text shows a time.
    let kaspi = "Пополнение: 100 ₸\n12.01.2025 14:30";
    assert_eq!(at(None, kaspi).as_deref(), Some("2025-01-12T09:30:00Z"));
    assert_eq!(at(None, KASPI_CREDIT), None);
}

/// A cancelled purchase gives the money back to the card (`➕`, or a header
/// naming the purchase): the seller's spending refunded, never a buyer's
/// payment taken back (fixtures S018, S049, S057). A reversal that takes
/// money off the card (`➖`) is not a refund.
#[test]
fn a_cancelled_purchase_is_a_refund_not_a_credit_taken_back() {
    let refunds = [
        (
            Some(UZCARD_BOT_ID),
            "🟢 OTMENA Pokupka\n➕ 56 000.00 UZS\n💳 ***5982\n📍 BAXROM HOLDING OOO, UZ\n🕓 09.11.25 14:22\n💵 11 709 286.77 UZS",
        ),
        (
            None,
            "OTMENA Pokupka: XK FAMILY SHOP, UZ,02.04.25 11:50,karta ***0907. summa:100000.00 UZS balans:2527792.14 UZS",
        ),
        (
            Some(HUMO_BOT_ID),
            "❌ Отмена операций карты\n➕ 82.762,90 UZS\n📍 oplata\n💳 HUMOCARD *1951\n🕓 13:54 22.07.2026\n💰 523.419,46 UZS",
        ),
    ];
    for (sender, text) in refunds {
        let note = parse(sender, None, text);
        assert_eq!((note.kind, note.refund), (Kind::Reversal, true), "{text}");
    }
    let taken_back = "❌ Отмена операций карты\n➖ 82.762,90 UZS\n📍 P2P\n💳 HUMOCARD *1951\n🕓 13:54 22.07.2026\n💰 523.419,46 UZS";
    let note = parse(Some(HUMO_BOT_ID), None, taken_back);
    assert_eq!((note.kind, note.refund), (Kind::Reversal, false));
}
