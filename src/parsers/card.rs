//! Card numbers as the banks mask them: `HUMOCARD *7466` and `VISA *8286`
//! (HUMO), `***5982` and `8600***4411` (Uzcard), `479091******6905` and
//! `532154**1744` (NBU). paycue needs the last 4 digits to match the seller's
//! card; the mask style and prefix also tell which bank wrote the text.

use std::sync::LazyLock;

use regex::Regex;

/// How a card number is masked; each bot has its own habit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskStyle {
    /// A card name before the stars: `HUMOCARD *7466`, `VISA *8286` (HUMO).
    Named,
    /// Only stars: `***5982` (Uzcard).
    Stars,
    /// Leading digits: `479091******6905`, `8600***4411` (NBU, Uzcard).
    Bin,
    /// A single bare star: `*7466`.
    Bare,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub last4: String,
    pub style: MaskStyle,
    /// The leading digits of a `Bin` mask (`479091`, `8600`).
    pub prefix: Option<String>,
}

/// The first masked card number in `s`.
pub fn find_card(s: &str) -> Option<Card> {
    static MASK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:(\d{4,6}) ?)?(\*{1,12}) ?(\d{4})\b").expect("static regex")
    });
    let c = MASK.captures(s)?;
    let whole = c.get(0)?;
    let stars = c.get(2)?.as_str().len();
    let named = s[..whole.start()].trim_end().ends_with(char::is_alphabetic);
    let style = match (c.get(1).is_some(), named, stars) {
        (true, _, _) => MaskStyle::Bin,
        (false, true, _) => MaskStyle::Named,
        (false, false, 1) => MaskStyle::Bare,
        (false, false, _) => MaskStyle::Stars,
    };
    Some(Card {
        last4: c.get(3)?.as_str().to_string(),
        style,
        prefix: c.get(1).map(|m| m.as_str().to_string()),
    })
}

/// The card's last 4 digits from one mask token as the Kazakh banks write
/// it (`5**9835`, `377514**8930`, `***9166`, `*7046`, `VISA7074`). A mask
/// showing fewer than 4 digits after its stars (`4**744`, `K**274`) names no
/// card: `None`, never a guess from a prefix.
pub fn mask_last4(token: &str) -> Option<String> {
    let token = token.trim_end_matches(['.', ',', ';', ':']);
    let tail = match token.rfind('*') {
        Some(star) => &token[star + 1..],
        None => token.trim_start_matches(|c: char| c.is_ascii_alphabetic()),
    };
    (tail.len() == 4 && tail.bytes().all(|b| b.is_ascii_digit())).then(|| tail.to_string())
}

/// The last mask token (one with a `*`) in `s`, if any, read by
/// [`mask_last4`]. `Some(None)`: there is a mask but it names no card.
pub fn last_mask(s: &str) -> Option<Option<String>> {
    s.split_whitespace()
        .rfind(|t| t.contains('*'))
        .map(mask_last4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(s: &str) -> Option<(String, MaskStyle, Option<String>)> {
        find_card(s).map(|c| (c.last4, c.style, c.prefix))
    }

    #[test]
    fn reads_each_banks_mask() {
        let named = Some(("7466".into(), MaskStyle::Named, None));
        assert_eq!(style("💳 HUMOCARD *7466"), named);
        assert_eq!(
            style("HUMOCARD TBCBANK *8400").map(|c| c.1),
            Some(MaskStyle::Named)
        );
        assert_eq!(style("💳 ***5982").map(|c| c.1), Some(MaskStyle::Stars));
        assert_eq!(style("💳 *5982").map(|c| c.1), Some(MaskStyle::Bare));
        let bin = Some(("6905".into(), MaskStyle::Bin, Some("479091".into())));
        assert_eq!(style("💳 479091******6905"), bin);
        assert_eq!(
            style("8600***4411 30.09.25").map(|c| c.2),
            Some(Some("8600".into()))
        );
        assert_eq!(style("532154**1744🕓").map(|c| c.0), Some("1744".into()));
    }

    #[test]
    fn needs_stars_and_exactly_four_digits() {
        assert_eq!(find_card("8600123412344411"), None);
        assert_eq!(find_card("*12345"), None);
        assert_eq!(find_card("Kaspi Депозит D-007"), None);
    }

    #[test]
    fn kazakh_masks_name_a_card_only_with_four_digits() {
        assert_eq!(mask_last4("5**9835").as_deref(), Some("9835"));
        assert_eq!(mask_last4("377514**8930").as_deref(), Some("8930"));
        assert_eq!(mask_last4("***9166,").as_deref(), Some("9166"));
        assert_eq!(mask_last4("VISA7074").as_deref(), Some("7074"));
        assert_eq!(mask_last4("1192").as_deref(), Some("1192"));
        for no in ["4**744", "K**274", "3**031", "**", "12345", "*12345"] {
            assert_eq!(mask_last4(no), None, "{no}");
        }
        assert_eq!(
            last_mask("ATM 1777 KCELL 377514**8930"),
            Some(Some("8930".into()))
        );
        assert_eq!(last_mask("P2P HB3 INNER 3D 4**744"), Some(None));
        assert_eq!(last_mask("no mask 1234"), None);
    }
}
