//! A seller's credit template: the bank's text copied from one real message,
//! with the parts that change replaced by `{amount}`, `{currency}`, `{card}`
//! and `{*}` (anything). It compiles to one regex: words match without regard
//! to case, any run of spaces matches any spacing (line breaks included, or
//! none: `300.00KZT` matches `{amount} {currency}`), punctuation matches
//! itself. What must stay true: `{amount}` appears exactly once and the
//! template holds at least one word of the bank's text, so a template can
//! never be "any number".

use regex::Regex;

use crate::money::Money;
use crate::parsers::{amount, card, text};

/// How a bank writes numbers: the group mark (or none) and the decimal mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberStyle {
    pub group: Option<char>,
    pub decimal: char,
}

impl NumberStyle {
    /// Reads a style from a sample written the bank's way: `1 234,56`,
    /// `1,234.56`, `1234.56`. The last mark before two final digits is the
    /// decimal mark, the other one groups.
    pub fn from_sample(sample: &str) -> Result<NumberStyle, String> {
        let s: Vec<char> = text::fold_chars(sample.trim()).chars().collect();
        let bad = || {
            format!(
                "number = {sample:?} is not a sample number: write one like \"1 234.56\" or \"1.234,56\""
            )
        };
        let n = s.len();
        if n < 4 || !s[n - 2..].iter().all(char::is_ascii_digit) {
            return Err(bad());
        }
        let decimal = s[n - 3];
        if !matches!(decimal, '.' | ',') {
            return Err(bad());
        }
        let marks: Vec<char> = s[..n - 3]
            .iter()
            .copied()
            .filter(|c| !c.is_ascii_digit())
            .collect();
        let group = match marks.as_slice() {
            [] => None,
            [g, rest @ ..] if rest.iter().all(|c| c == g) && *g != decimal => Some(*g),
            _ => return Err(bad()),
        };
        if group.is_some_and(|g| !matches!(g, ' ' | '.' | ',' | '\'')) {
            return Err(bad());
        }
        Ok(NumberStyle { group, decimal })
    }

    fn pattern(self) -> String {
        let d = regex::escape(&self.decimal.to_string());
        match self.group {
            Some(g) => {
                let g = regex::escape(&g.to_string());
                format!(r"\d{{1,3}}(?:{g}\d{{3}})+(?:{d}\d{{1,2}})?|\d{{1,15}}(?:{d}\d{{1,2}})?")
            }
            None => format!(r"\d{{1,15}}(?:{d}\d{{1,2}})?"),
        }
    }

    fn read(self, token: &str) -> Option<Money> {
        let plain: String = token
            .chars()
            .filter(|c| Some(*c) != self.group)
            .map(|c| if c == self.decimal { '.' } else { c })
            .collect();
        Money::parse_decimal(&plain).ok()
    }
}

/// No bank's credit sentence is longer; a longer template is a pasted
/// file, and its start-up check would compile one regex per piece.
const MAX_TEMPLATE_CHARS: usize = 1000;
const MAX_PLACEHOLDERS: usize = 16;

/// Any style paycue's own rule accepts (see `parsers::amount`).
const ANY_NUMBER: &str = r"\d{1,3}(?:[ .,']\d{3})+(?:[.,]\d{1,2})?|\d{1,15}(?:[.,]\d{1,2})?";

/// One compiled template.
#[derive(Debug, Clone)]
pub struct Template {
    pub source: String,
    regex: Regex,
    /// Regexes of the template cut after each piece, to say where a text
    /// stopped matching (`--explain`).
    prefixes: Vec<(String, Regex)>,
    style: Option<NumberStyle>,
}

/// What a template found in a text, as written there.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub sign: Option<char>,
    pub amount: String,
    pub currency: Option<String>,
    pub card: Option<String>,
    /// How many times the template matched (two amounts are no credit).
    pub matches: usize,
}

impl Found {
    pub fn money(&self, style: Option<NumberStyle>) -> Option<Money> {
        match style {
            Some(style) => style.read(&self.amount),
            None => match amount::read_number(&self.amount) {
                Some((money, "")) => Some(money),
                _ => None,
            },
        }
    }

    /// The ISO code of the currency found, if paycue knows it.
    pub fn currency_code(&self) -> Option<&'static str> {
        let (code, rest) = amount::read_currency(self.currency.as_deref()?)?;
        rest.is_empty().then_some(code)
    }

    /// The card's last 4 digits: `None` when the mask shows fewer.
    pub fn last4(&self) -> Option<String> {
        let token: String = self
            .card
            .as_deref()?
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| {
                if matches!(c, '•' | '·' | 'X' | 'x' | '#') {
                    '*'
                } else {
                    c
                }
            })
            .collect();
        card::mask_last4(&token)
    }
}

impl Template {
    pub fn compile(source: &str, style: Option<NumberStyle>) -> Result<Template, String> {
        let folded = text::fold_chars(source.trim());
        let number = style.map_or_else(|| ANY_NUMBER.to_string(), |s| s.pattern());
        let mut pattern = String::from("(?is)");
        let mut prefixes = Vec::new();
        let (mut amounts, mut currencies, mut cards, mut words) = (0, 0, 0, 0);
        if folded.chars().count() > MAX_TEMPLATE_CHARS
            || folded.matches('{').count() > MAX_PLACEHOLDERS
        {
            return Err(format!(
                "{:?}...: the template is too long (at most {MAX_TEMPLATE_CHARS} characters and {MAX_PLACEHOLDERS} placeholders): copy only the credit sentence of the bank's text",
                folded.chars().take(40).collect::<String>()
            ));
        }
        // Letters of the bank's words on each side of `{amount}` up to the
        // nearest `{*}`: what pins the amount to its place in the text.
        let (mut since_any, mut before_amount, mut after_amount) = (0, None, None::<usize>);
        let mut after_closed = false;
        let mut rest = folded.as_str();
        while !rest.is_empty() {
            let (piece, after) = match rest.find('{') {
                Some(0) => {
                    let end = rest.find('}').ok_or_else(|| {
                        format!("{source:?}: a `{{` is not closed; placeholders are {{amount}}, {{currency}}, {{card}}, {{*}}")
                    })?;
                    let name = rest[1..end].trim();
                    let piece = match name {
                        "amount" => {
                            amounts += 1;
                            before_amount.get_or_insert(since_any);
                            after_amount.get_or_insert(0);
                            // `\b{start-half}`: never a number's tail (`*1234 500` is not
                            // `234 500`).
                            format!(r"(?P<sign>[+-]?) ?\b{{start-half}}(?P<amount>{number})")
                        }
                        "currency" => {
                            currencies += 1;
                            r"(?P<currency>[\p{L}$€₽£¥₸][\p{L}']{0,5})".to_string()
                        }
                        "card" => {
                            cards += 1;
                            r"(?P<card>[A-Za-z]{0,12}\d{0,6}[*•·xX#]{0,12} ?\d{3,6})".to_string()
                        }
                        "*" => {
                            since_any = 0;
                            after_closed |= after_amount.is_some();
                            ".*?".to_string()
                        }
                        other => {
                            return Err(format!(
                                "{source:?}: unknown placeholder {{{other}}}: use {{amount}}, {{currency}}, {{card}} or {{*}}"
                            ));
                        }
                    };
                    (piece, &rest[end + 1..])
                }
                found => {
                    let end = found.unwrap_or(rest.len());
                    let literal = &rest[..end];
                    words += literal.chars().filter(|c| c.is_alphabetic()).count();
                    let own = own_letters(literal);
                    since_any += own;
                    if let Some(after) = after_amount.as_mut().filter(|_| !after_closed) {
                        *after += own;
                    }
                    (literal_pattern(literal), &rest[end..])
                }
            };
            pattern.push_str(&piece);
            let done = folded.len() - after.len();
            let regex = Regex::new(&pattern).map_err(|e| format!("{source:?}: {e}"))?;
            prefixes.push((folded[..done].to_string(), regex));
            rest = after;
        }
        if amounts != 1 {
            return Err(format!(
                "{source:?}: write {{amount}} exactly once, where the credited amount is"
            ));
        }
        if currencies > 1 || cards > 1 {
            return Err(format!(
                "{source:?}: {{currency}} and {{card}} may each appear once"
            ));
        }
        if words < 3 {
            return Err(format!(
                "{source:?}: keep the bank's own words around {{amount}} (at least 3 letters), so the template cannot match any number"
            ));
        }
        if before_amount.unwrap_or(0) + after_amount.unwrap_or(0) < 3 {
            return Err(format!(
                "{source:?}: {{amount}} needs the bank's own words next to it, with no {{*}} between (at least 3 letters; a currency code does not count), or it reads whatever number is there, a balance or a card: write the words around the amount, e.g. \"Summa: {{amount}} {{currency}}\""
            ));
        }
        let regex = Regex::new(&pattern).map_err(|e| format!("{source:?}: {e}"))?;
        Ok(Template {
            source: source.to_string(),
            regex,
            prefixes,
            style,
        })
    }

    pub fn style(&self) -> Option<NumberStyle> {
        self.style
    }

    /// What the template finds in a cleaned text; `None` when it does not
    /// match.
    pub fn find(&self, text: &str) -> Option<Found> {
        let c = self.regex.captures(text)?;
        let get = |n: &str| c.name(n).map(|m| m.as_str().to_string());
        // A number the template cut short (`1 500 000` read as `1` in the
        // `1,234.56` style) is taken whole, so it fails as an amount rather
        // than reading as a smaller one.
        let amount = c.name("amount").map_or(String::new(), |m| {
            let tail = &text[m.end()..];
            let mut end = 0;
            let b = tail.as_bytes();
            while end < b.len() {
                if b[end].is_ascii_digit() {
                    end += 1;
                } else if matches!(b[end], b' ' | b'.' | b',' | b'\'')
                    && b.get(end + 1).is_some_and(u8::is_ascii_digit)
                {
                    end += 2;
                } else {
                    break;
                }
            }
            // Digits right after a card mask's stars (`***123 500.00`) are
            // the card's: the match is kept with its star, so it is no amount.
            let start = match text[..m.start()].char_indices().next_back() {
                Some((i, '*' | '•' | '·' | '#')) => i,
                _ => m.start(),
            };
            text[start..m.end() + end].to_string()
        });
        Some(Found {
            sign: get("sign").and_then(|s| s.chars().next()),
            amount,
            currency: get("currency"),
            card: get("card"),
            matches: self.regex.find_iter(text).take(2).count(),
        })
    }

    /// The longest start of the template that still matches, for a text the
    /// whole template does not match: where the seller should look.
    pub fn matched_up_to(&self, text: &str) -> Option<&str> {
        self.prefixes
            .iter()
            .take_while(|(_, re)| re.is_match(text))
            .last()
            .map(|(s, _)| s.as_str())
    }
}

/// Letters of a literal piece that are the bank's words: a currency code or
/// sign (`KZT`, `т`) is written next to every balance too, so it does not
/// count.
fn own_letters(literal: &str) -> usize {
    literal
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !amount::read_currency(w).is_some_and(|(_, rest)| rest.is_empty()))
        .map(|w| w.chars().count())
        .sum()
}

/// A literal piece: spaces match any spacing, letters any case.
fn literal_pattern(literal: &str) -> String {
    let mut out = String::new();
    let mut in_space = false;
    for c in literal.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push_str(r"\s*");
            }
            in_space = true;
        } else {
            in_space = false;
            out.push_str(&regex::escape(&c.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_styles_from_samples() {
        let style = |s| NumberStyle::from_sample(s).ok();
        let ns = |group, decimal| Some(NumberStyle { group, decimal });
        assert_eq!(style("1 234,56"), ns(Some(' '), ','));
        assert_eq!(style("1,234.56"), ns(Some(','), '.'));
        assert_eq!(style("1234.56"), ns(None, '.'));
        assert_eq!(style("1\u{00A0}234.56"), ns(Some(' '), '.'));
        for bad in ["1234", "1.234.56", "1,234,56", "abc", "1;234.56"] {
            assert_eq!(style(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_template_reads_its_fields() {
        let t = Template::compile("Zachislenie {amount} {currency} na kartu {card}", None).unwrap();
        let f = t
            .find("Zachislenie 15 000.00 KZT na kartu ***1234. Balans 1 KZT")
            .unwrap();
        assert_eq!(f.money(None).map(Money::minor), Some(1_500_000));
        assert_eq!(f.currency_code(), Some("KZT"));
        assert_eq!(f.last4().as_deref(), Some("1234"));
        let glued = t.find("ZACHISLENIE -300.00KZT na kartu 4**934").unwrap();
        assert_eq!((glued.sign, glued.last4()), (Some('-'), None));
        assert!(t.find("Spisanie 1 KZT na kartu *1234").is_none());
        assert_eq!(
            t.matched_up_to("Zachislenie 1 KZT s karty"),
            Some("Zachislenie {amount} {currency}")
        );
    }

    #[test]
    fn refuses_templates_that_could_match_anything() {
        for bad in [
            "{amount} {currency}",
            "Zachislenie",
            "{amount} x {amount}",
            "a {b}",
            "na {amount",
        ] {
            assert!(Template::compile(bad, None).is_err(), "{bad}");
        }
    }
}
