//! Which of the seller's cards a bank message may be for, and which cards
//! must therefore share one space of unique amounts. Pure.
//!
//! A message that names a card (its last 4 digits) can only be for that
//! card (config keeps last 4 digits unique). A message that names no card
//! (Kaspi texts, any bank whose text carries no digits, a 3-digit mask) can
//! be for any card its bank could credit: the cards written `bank:card` in
//! `CARDS` with that bank, plus every card written without a bank (paycue
//! cannot rule those out). Allocation keeps an amount unique across each
//! *class*: the cards that one card-less message could be for, closed under
//! "shares a possible message" (so classes are disjoint). What must stay
//! true: for every bank, `message_cards(bank, None)` lies inside one class;
//! then no message can match two pending orders. Nothing here names a bank:
//! a new bank or a seller-defined format fits by its name alone.

use crate::config::card_last4;

/// The store key of the implicit card used when `CARDS` is unset.
pub const IMPLICIT_CARD: &str = "";

/// One card of `CARDS`: the text as written (shown to buyers; the store's
/// key) and the bank that may credit it with a message naming no card
/// (`None`: written without a bank, so any bank may).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSpec {
    pub card: String,
    pub bank: Option<String>,
}

/// The seller's cards grouped in classes that share one space of unique
/// amounts, classes in the order of their first card in `CARDS`, cards in
/// `CARDS` order. No classes: the implicit single card.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardClasses(Vec<Vec<String>>);

impl CardClasses {
    /// The classes of a `CARDS` list (see the module doc).
    pub fn of(cards: &[CardSpec]) -> CardClasses {
        if cards.iter().any(|c| c.bank.is_none()) {
            // A card without a bank can be credited by any bank's card-less
            // message, so it shares every other card's amounts.
            return CardClasses(vec![cards.iter().map(|c| c.card.clone()).collect()]);
        }
        let mut classes: Vec<(&str, Vec<String>)> = Vec::new();
        for c in cards {
            let bank = c.bank.as_deref().unwrap_or_default();
            match classes.iter_mut().find(|(b, _)| *b == bank) {
                Some((_, class)) => class.push(c.card.clone()),
                None => classes.push((bank, vec![c.card.clone()])),
            }
        }
        CardClasses(classes.into_iter().map(|(_, class)| class).collect())
    }

    /// Explicit classes (tests and benches; each class non-empty).
    pub fn from_classes(classes: Vec<Vec<String>>) -> CardClasses {
        CardClasses(classes.into_iter().filter(|c| !c.is_empty()).collect())
    }

    /// Every card its own class: only right when every message names its card.
    pub fn separate(cards: &[String]) -> CardClasses {
        CardClasses(cards.iter().map(|c| vec![c.clone()]).collect())
    }

    /// The classes, or one class of the implicit card when there are none.
    pub fn classes(&self) -> Vec<Vec<String>> {
        if self.0.is_empty() {
            vec![vec![IMPLICIT_CARD.to_string()]]
        } else {
            self.0.clone()
        }
    }

    /// The card of `class` that takes offset `k`: offsets alternate over the
    /// class's cards (+1 on the first, +2 on the second, ...), so a busy
    /// price spreads over them. Both stores use this one rule.
    pub fn card_at(class: &[String], k: u32) -> Option<&String> {
        class.get((k as usize).checked_sub(1)? % class.len().max(1))
    }
}

/// The store card keys a message may be for. `bank` is the parser's bank
/// name, `last4` the card the message names, if any.
pub fn message_cards(cards: &[CardSpec], bank: &str, last4: Option<&str>) -> Vec<String> {
    if cards.is_empty() {
        return vec![IMPLICIT_CARD.to_string()];
    }
    cards
        .iter()
        .filter(|c| match last4 {
            Some(l4) => card_last4(&c.card).as_deref() == Some(l4),
            None => c.bank.as_deref().is_none_or(|b| b == bank),
        })
        .map(|c| c.card.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> CardSpec {
        match s.split_once(':') {
            Some((bank, card)) => CardSpec {
                card: card.into(),
                bank: Some(bank.into()),
            },
            None => CardSpec {
                card: s.into(),
                bank: None,
            },
        }
    }

    fn classes(list: &[&str]) -> Vec<Vec<String>> {
        CardClasses::of(&list.iter().map(|s| spec(s)).collect::<Vec<_>>()).classes()
    }

    #[test]
    fn cards_of_one_bank_share_and_other_banks_do_not() {
        let got = classes(&[
            "kaspi:4400****1111",
            "humo:9860****2222",
            "kaspi:4400****3333",
        ]);
        assert_eq!(
            got,
            vec![
                vec!["4400****1111".to_string(), "4400****3333".into()],
                vec!["9860****2222".into()]
            ]
        );
    }

    #[test]
    fn a_card_without_a_bank_joins_every_class() {
        let got = classes(&["humo:9860****2222", "8600****4444"]);
        assert_eq!(
            got,
            vec![vec!["9860****2222".to_string(), "8600****4444".into()]]
        );
        assert_eq!(classes(&[]), vec![vec![String::new()]]);
    }

    #[test]
    fn a_card_less_message_only_reaches_one_class() {
        let configs: [&[&str]; 4] = [
            &[
                "kaspi:4400****1111",
                "humo:9860****2222",
                "kaspi:4400****3333",
            ],
            &["humo:9860****2222", "8600****4444", "halyk:4405****5555"],
            &["9860****2222", "8600****4444"],
            &["humo:9860****2222", "uzcard:8600****4444"],
        ];
        for list in configs {
            let specs: Vec<CardSpec> = list.iter().map(|s| spec(s)).collect();
            let classes = CardClasses::of(&specs).classes();
            for bank in ["kaspi", "humo", "uzcard", "halyk", "other"] {
                let reach = message_cards(&specs, bank, None);
                assert!(
                    reach.is_empty() || classes.iter().any(|c| reach.iter().all(|r| c.contains(r))),
                    "{list:?}: a card-less {bank} message reaches {reach:?} across classes {classes:?}"
                );
            }
        }
    }

    #[test]
    fn a_named_card_is_matched_by_its_digits_only() {
        let specs: Vec<CardSpec> = ["kaspi:4400****1111", "humo:9860****2222"]
            .iter()
            .map(|s| spec(s))
            .collect();
        assert_eq!(
            message_cards(&specs, "humo", Some("2222")),
            vec!["9860****2222"]
        );
        assert!(message_cards(&specs, "humo", Some("9999")).is_empty());
        assert_eq!(message_cards(&specs, "kaspi", None), vec!["4400****1111"]);
        assert!(message_cards(&specs, "halyk", None).is_empty());
        assert_eq!(message_cards(&[], "kaspi", None), vec![IMPLICIT_CARD]);
    }

    #[test]
    fn offsets_alternate_over_a_class() {
        let class = vec!["a".to_string(), "b".into()];
        let got: Vec<_> = (1..=4)
            .filter_map(|k| CardClasses::card_at(&class, k))
            .collect();
        assert_eq!(got, ["a", "b", "a", "b"]);
        assert_eq!(CardClasses::card_at(&class, 0), None);
    }
}
