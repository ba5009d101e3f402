//! Which (card, amount) slots a new transaction may take, in order. Pure: the
//! store takes the first free one atomically. The order is the contract from
//! the brief: offsets start at +1 (the bare price is never issued, so a buyer
//! who pays the round price is never matched by accident), every card is tried
//! at offset k before any card at k+1, and offsets stop at `LIMIT`.

use crate::money::{Money, SCALE};
use crate::store::Slot;

/// The store key of the implicit card used when `CARDS` is unset.
pub const IMPLICIT_CARD: &str = "";

/// Candidate slots for `price`: offsets +1..=+limit whole major units, each
/// over all cards. `None` if the largest candidate would overflow.
pub fn candidates(price: Money, cards: &[String], limit: u32) -> Option<Vec<Slot>> {
    let implicit = [IMPLICIT_CARD.to_string()];
    let cards = if cards.is_empty() {
        &implicit[..]
    } else {
        cards
    };
    let mut out = Vec::with_capacity(cards.len() * limit as usize);
    for k in 1..=i64::from(limit) {
        let amount = price.checked_add(Money::from_minor(k.checked_mul(SCALE)?))?;
        out.extend(cards.iter().map(|card| Slot {
            card: card.clone(),
            amount,
        }));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_start_at_one_and_cards_rotate_before_offsets_grow() {
        let cards = vec!["8600123412347466".to_string(), "9860****4428".to_string()];
        let slots = candidates(Money::from_major(20_000), &cards, 3).unwrap();
        let got: Vec<(&str, i64)> = slots
            .iter()
            .map(|s| (s.card.as_str(), s.amount.minor() / SCALE))
            .collect();
        assert_eq!(
            got,
            vec![
                ("8600123412347466", 20_001),
                ("9860****4428", 20_001),
                ("8600123412347466", 20_002),
                ("9860****4428", 20_002),
                ("8600123412347466", 20_003),
                ("9860****4428", 20_003),
            ]
        );
    }

    #[test]
    fn implicit_card_and_fractional_price() {
        let slots = candidates(Money::from_minor(2_000_050), &[], 2).unwrap();
        assert_eq!(slots.len(), 2);
        assert_eq!(
            slots[0],
            Slot {
                card: IMPLICIT_CARD.into(),
                amount: Money::from_minor(2_000_150)
            }
        );
        assert_eq!(slots[1].amount, Money::from_minor(2_000_250));
    }

    #[test]
    fn overflow_is_refused_not_wrapped() {
        assert_eq!(candidates(Money::from_minor(i64::MAX - 50), &[], 1), None);
    }
}
