//! Which (card, amount) slots a new transaction may take, in order. Pure: the
//! store takes the first free one atomically. The order is the contract from
//! the brief, with two rules that keep a payment from confirming the wrong
//! order:
//! - offsets start at +1 (the bare price is never issued) and stop at `LIMIT`;
//! - an amount that is a whole multiple of `ROUND_STEP` (default 10) is never
//!   issued: it may be another item's list price, paid by mistake (20 orders
//!   at 29 990 would otherwise give the 10th one 30 000);
//! - cards a card-less message could be for share one amount space (a
//!   [`CardClasses`] class): an amount is taken on the class or free on all
//!   of it, and offsets alternate over the class's cards;
//! - every class is tried at offset k before any class at k+1 (so cards that
//!   no message can confuse each get +1 before anyone gets +2).

use crate::money::{Money, SCALE};
use crate::store::Slot;

mod cards;

pub use cards::{CardClasses, CardSpec, IMPLICIT_CARD, message_cards};

/// Default `ROUND_STEP`: list prices end in 0 (29 990, 4 990, 25 000).
pub const DEFAULT_ROUND_STEP: u32 = 10;

/// True if `amount` is a whole multiple of `round_step` major units (never
/// with `round_step` 0). Such an amount is never issued.
pub fn is_round(amount: Money, round_step: u32) -> bool {
    let step = i64::from(round_step) * SCALE;
    step > 0 && amount.minor() % step == 0
}

/// A candidate slot and the cards of its class: it is free only if no card of
/// the class holds the amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub slot: Slot,
    pub class: Vec<String>,
}

/// Candidate slots for `price` in the order they are tried: offsets
/// +1..=+limit whole major units (round amounts left out), each over all
/// classes. `None` if the largest candidate would overflow.
pub fn candidates(
    price: Money,
    cards: &CardClasses,
    limit: u32,
    round_step: u32,
) -> Option<Vec<Candidate>> {
    let classes = cards.classes();
    let mut out = Vec::with_capacity(classes.len() * limit as usize);
    for k in 1..=limit {
        let amount = price.checked_add(Money::from_minor(i64::from(k).checked_mul(SCALE)?))?;
        if is_round(amount, round_step) {
            continue;
        }
        for class in &classes {
            let Some(card) = CardClasses::card_at(class, k) else {
                continue;
            };
            out.push(Candidate {
                slot: Slot {
                    card: card.clone(),
                    amount,
                },
                class: class.clone(),
            });
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(price: Money, cards: &CardClasses, limit: u32, step: u32) -> Vec<(String, i64)> {
        candidates(price, cards, limit, step)
            .unwrap()
            .into_iter()
            .map(|c| (c.slot.card, c.slot.amount.minor() / SCALE))
            .collect()
    }

    fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
        list.iter().map(|(c, a)| (c.to_string(), *a)).collect()
    }

    #[test]
    fn offsets_start_at_one_and_separate_cards_rotate_before_offsets_grow() {
        let cards = CardClasses::separate(&["8600123412347466".into(), "9860****4428".into()]);
        let got = order(Money::from_major(20_000), &cards, 3, 10);
        let want = [
            ("8600123412347466", 20_001),
            ("9860****4428", 20_001),
            ("8600123412347466", 20_002),
            ("9860****4428", 20_002),
            ("8600123412347466", 20_003),
            ("9860****4428", 20_003),
        ];
        assert_eq!(got, pairs(&want));
    }

    #[test]
    fn cards_of_one_class_share_amounts_and_alternate() {
        let cards = CardClasses::from_classes(vec![vec!["a".into(), "b".into()]]);
        let got = order(Money::from_major(7_000), &cards, 3, 10);
        assert_eq!(got, pairs(&[("a", 7_001), ("b", 7_002), ("a", 7_003)]));
    }

    #[test]
    fn round_amounts_are_never_candidates() {
        let got = order(Money::from_major(29_990), &CardClasses::default(), 12, 10);
        let amounts: Vec<i64> = got.iter().map(|(_, a)| *a).collect();
        let want: Vec<i64> = (29_991..=30_002).filter(|a| *a != 30_000).collect();
        assert_eq!(amounts, want);
        // Step 100: 29 990 + 10 = 30 000 left out, 29 995 kept.
        let got = order(Money::from_major(29_990), &CardClasses::default(), 10, 100);
        assert_eq!(got.len(), 9);
        // Step 0: nothing left out.
        let got = order(Money::from_major(29_990), &CardClasses::default(), 10, 0);
        assert_eq!(got.len(), 10);
        // A price with minor units never lands on a round amount.
        let got = candidates(
            Money::from_minor(2_999_050),
            &CardClasses::default(),
            10,
            10,
        );
        assert_eq!(got.map(|c| c.len()), Some(10));
    }

    #[test]
    fn implicit_card_and_fractional_price() {
        let slots =
            candidates(Money::from_minor(2_000_050), &CardClasses::default(), 2, 10).unwrap();
        assert_eq!(slots.len(), 2);
        assert_eq!(
            slots[0].slot,
            Slot {
                card: IMPLICIT_CARD.into(),
                amount: Money::from_minor(2_000_150)
            }
        );
        assert_eq!(slots[1].slot.amount, Money::from_minor(2_000_250));
    }

    #[test]
    fn overflow_is_refused_not_wrapped() {
        let cards = CardClasses::default();
        assert_eq!(
            candidates(Money::from_minor(i64::MAX - 50), &cards, 1, 10),
            None
        );
    }
}
