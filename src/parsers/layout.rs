//! The emoji layout the HUMO, Uzcard and NBU bots share: one field per line,
//! each opened by an emoji (`🎉` header, `➕`/`➖` amount, `📍` merchant,
//! `💳` card, `🕓` time, `💰`/`💵` balance). Line breaks are often lost when
//! texts are copied, so fields are split at every emoji as well as at line
//! ends, and nothing depends on `\n`. Only a field opened by a sign and
//! holding nothing but an amount is the operation amount: never the balance,
//! the commission line or digits in the merchant line.

use super::amount::{self, Amount};
use super::card::{Card, find_card};
use super::text::Message;
use super::vocab::{self, Sign};
use super::{Bank, Kind, Notification, when};

/// One field: the emoji (or ASCII sign) that opens it, and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    pub marker: Option<char>,
    pub text: &'a str,
}

/// Emoji and pictographs (plus ℹ): anything that opens a field.
pub fn is_emoji(c: char) -> bool {
    matches!(c,
        'ℹ' | '↩' | '↪' | '\u{231A}'..='\u{23FF}' | '\u{25A0}'..='\u{27BF}'
        | '\u{2B00}'..='\u{2BFF}' | '\u{1F000}'..='\u{1FAFF}')
}

/// Parts of an emoji sequence after its first character.
fn continues_emoji(c: char) -> bool {
    is_emoji(c) || matches!(c, '\u{200D}' | '\u{E0020}'..='\u{E007F}')
}

/// Splits a cleaned text into fields at line ends, emoji and signs.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut marker: Option<char> = None;
    let mut start = 0;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let after = &text[i + c.len_utf8()..];
        let next_is_digit = after
            .strip_prefix(' ')
            .unwrap_or(after)
            .starts_with(|d: char| d.is_ascii_digit());
        let opens = if c == '\n' {
            None
        } else if is_emoji(c) {
            Some(c)
        } else if c == '+' && next_is_digit && !text[..i].ends_with(|p: char| p.is_ascii_digit()) {
            Some('+')
        } else if c == '-' && next_is_digit && marker.is_none() && text[start..i].trim().is_empty()
        {
            Some('-')
        } else {
            continue;
        };
        push_segment(&mut out, marker, &text[start..i]);
        marker = opens;
        start = i + c.len_utf8();
        if opens.is_some_and(is_emoji) {
            while let Some(&(j, d)) = iter.peek() {
                if !continues_emoji(d) {
                    break;
                }
                iter.next();
                start = j + d.len_utf8();
            }
        }
    }
    push_segment(&mut out, marker, &text[start..]);
    out
}

fn push_segment<'a>(out: &mut Vec<Segment<'a>>, marker: Option<char>, piece: &'a str) {
    let text = piece.trim();
    if marker.is_some() || !text.is_empty() {
        out.push(Segment { marker, text });
    }
}

fn is_clock(m: char) -> bool {
    matches!(
        m,
        '\u{1F550}'..='\u{1F567}' | '⏰' | '⌚' | '🕰' | '📅' | '📆' | '🗓'
    )
}
fn is_merchant(m: Option<char>) -> bool {
    matches!(m, Some('📍' | '🏪' | '🏬' | '🛒'))
}
fn is_balance(m: Option<char>) -> bool {
    matches!(m, Some('💰' | '💵' | '💴' | '💶' | '💷'))
}
fn sign_of(m: Option<char>) -> Option<Sign> {
    match m {
        Some('➕' | '+') => Some(Sign::In),
        Some('➖' | '-') => Some(Sign::Out),
        _ => None,
    }
}

/// What a bot-layout message says, field by field.
#[derive(Debug, Clone)]
pub struct BotMessage {
    pub header_marker: Option<char>,
    /// Header text in lower case (fields before the amount, merchant excluded).
    pub header: String,
    /// Every signed amount; exactly one makes an operation.
    pub signed: Vec<(Sign, Amount)>,
    /// A ➕/➖ whose amount could not be read.
    pub unreadable_sign: bool,
    /// The amount of a message without a sign (`ℹ️ Счет по карте изменен`).
    pub unsigned: Option<Amount>,
    /// The currency of the first amount shown, balance included.
    pub first_currency: Option<&'static str>,
    pub card: Option<Card>,
    /// Every field but the merchant line, in lower case.
    pub body: String,
    /// The text that holds the operation time.
    pub when: String,
}

impl BotMessage {
    /// `None` when the text has no field opened by an emoji or a sign.
    pub fn read(msg: &Message) -> Option<BotMessage> {
        let segs = segments(&msg.text);
        if !segs.iter().any(|s| s.marker.is_some()) {
            return None;
        }
        let first_signed = segs.iter().position(|s| sign_of(s.marker).is_some());
        // The header's emoji: the first one before the amount (a copied
        // sender-name line may come first).
        let header_marker = segs[..first_signed.unwrap_or(1).min(segs.len())]
            .iter()
            .find_map(|s| s.marker.filter(|_| !is_merchant(s.marker)));
        let header_end = first_signed.unwrap_or(1.min(segs.len()));
        let header = segs[..header_end]
            .iter()
            .filter(|s| !is_merchant(s.marker))
            .map(|s| s.text)
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let mut signed = Vec::new();
        let mut unreadable_sign = false;
        let (mut primary, mut balances) = (Vec::new(), Vec::new());
        let mut card = None;
        for (i, s) in segs.iter().enumerate() {
            let exact = amount::exact(s.text);
            if let Some(sign) = sign_of(s.marker) {
                match exact {
                    Some(a) => signed.push((sign, a)),
                    None if matches!(s.marker, Some('➕' | '➖')) => unreadable_sign = true,
                    None => {}
                }
                continue;
            }
            if is_merchant(s.marker) {
                continue;
            }
            if card.is_none() {
                card = find_card(s.text);
            }
            match exact {
                Some(a) if i > 0 && is_balance(s.marker) => balances.push(a),
                Some(a) if i > 0 && s.marker != Some('⚠') => primary.push(a),
                _ => {}
            }
        }
        let join = |keep: &dyn Fn(&Segment) -> bool| {
            let texts: Vec<&str> = segs.iter().filter(|s| keep(s)).map(|s| s.text).collect();
            texts.join("\n")
        };
        let body = join(&|s| !is_merchant(s.marker));
        let clock = join(&|s| s.marker.is_some_and(is_clock));
        let has_time = !clock.is_empty();
        let when = if has_time { clock } else { body.clone() };
        let body = body.to_lowercase();
        let first_currency = segs
            .iter()
            .find_map(|s| amount::exact(s.text))
            .map(|a| a.currency);
        // Without a sign: one non-balance amount is the operation's; failing
        // that, a lone balance-emoji amount in a message that shows an
        // operation time (the 2022 layout put the amount on 💰).
        let unsigned = match (primary.len(), balances.len()) {
            (1, _) => primary.pop(),
            (0, 1) if has_time => balances.pop(),
            _ => None,
        };
        Some(BotMessage {
            header_marker,
            header,
            signed,
            unreadable_sign,
            unsigned,
            first_currency,
            card,
            body,
            when,
        })
    }

    /// The notification this layout states, for `bank`.
    pub fn notification(&self, bank: Bank, msg: &Message) -> Notification {
        let mut note = Notification::unknown(bank);
        note.card = self.card.as_ref().map(|c| c.last4.clone());
        note.at = when::find(&self.when, bank.zone());
        if self.unreadable_sign || self.signed.len() > 1 {
            return note;
        }
        // A decline or reversal named on any line (a `❗ Nedostatochno
        // sredstv` under the amount) counts like one in the header.
        let veto = vocab::vetoed_kind(self.header_marker, &self.header)
            .or_else(|| vocab::declined_or_reversed(&self.body));
        let (kind, amount) = match self.signed.first() {
            Some((sign, amount)) => {
                let kind = veto
                    .unwrap_or_else(|| vocab::signed_kind(self.header_marker, &self.header, *sign));
                (kind, Some(amount.clone()))
            }
            None => (
                veto.unwrap_or_else(|| self.unsigned_kind()),
                self.unsigned.clone(),
            ),
        };
        note.kind = match kind {
            Kind::Credit if !vocab::credit_is_safe(&msg.lower) => Kind::Unknown,
            k => k,
        };
        note.currency = amount
            .as_ref()
            .map(|a| a.currency)
            .or(self.first_currency)
            .map(str::to_string);
        note.amount = amount.map(|a| a.money);
        note.refund = note.kind == Kind::Reversal
            && (matches!(self.signed.first(), Some((Sign::In, _)))
                || vocab::says_outgoing(&self.header));
        note
    }

    /// Without a sign a message is never a credit: a spending header
    /// (`Оплата`) is a debit, an incoming one is not understood, anything
    /// else is a notice whose direction is not stated.
    fn unsigned_kind(&self) -> Kind {
        if vocab::says_outgoing(&self.header) {
            Kind::Debit
        } else if vocab::says_incoming(&self.header) {
            Kind::Unknown
        } else {
            Kind::Info
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<(Option<char>, &str)> {
        segments(text)
            .into_iter()
            .map(|s| (s.marker, s.text))
            .collect()
    }

    #[test]
    fn splits_at_emoji_and_line_ends_alike() {
        let glued = fields("🎉 Пополнение➕ 520.000,00 UZS📍 DAVR>💳 HUMOCARD *4853");
        let lines = fields("🎉 Пополнение\n➕ 520.000,00 UZS\n📍 DAVR>\n💳 HUMOCARD *4853");
        assert_eq!(glued, lines);
        assert_eq!(glued[1], (Some('➕'), "520.000,00 UZS"));
        // An emoji sequence (👨‍🦰) opens one field, not two.
        assert_eq!(fields("👨\u{200D}🦰 Client"), [(Some('👨'), "Client")]);
    }

    #[test]
    fn ascii_signs_open_an_amount_field() {
        assert_eq!(
            fields("To'ldirish+ 33.000,00 UZS")[1],
            (Some('+'), "33.000,00 UZS")
        );
        assert_eq!(fields("x\n- 5 UZS")[1], (Some('-'), "5 UZS"));
        // A dash inside a word or a date is no sign.
        assert_eq!(fields("HUMO-CARD 25-04-04"), [(None, "HUMO-CARD 25-04-04")]);
    }

    #[test]
    fn the_balance_is_never_the_signed_amount() {
        let msg = Message::new("🎉 Пополнение\n💰 9.999,00 UZS\n➕ 6.000,00 UZS\n💳 HUMOCARD *1");
        let bot = BotMessage::read(&msg).expect("layout");
        assert_eq!(bot.signed.len(), 1);
        assert_eq!(bot.signed[0].1.money.minor(), 600_000);
        assert_eq!(bot.header_marker, Some('🎉'));
    }
}
