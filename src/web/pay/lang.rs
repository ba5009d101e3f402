//! The page's languages and how one is chosen: `?lang=`, then the browser's
//! `Accept-Language` (by its q weights), then `PAY_LANG`. Every string a
//! buyer reads is a field of [`Strings`], and each language fills all of them
//! in its own file under `i18n/` (a missing string does not compile).

use super::i18n;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Uzbek, Latin script.
    Uz,
    Ru,
    Kk,
    En,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::Uz, Lang::Ru, Lang::Kk, Lang::En];

    pub fn parse(code: &str) -> Option<Lang> {
        let code = code.trim().to_ascii_lowercase();
        let primary = code.split(['-', '_']).next().unwrap_or("");
        match primary {
            "uz" => Some(Lang::Uz),
            "ru" => Some(Lang::Ru),
            "kk" => Some(Lang::Kk),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Uz => "uz",
            Lang::Ru => "ru",
            Lang::Kk => "kk",
            Lang::En => "en",
        }
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::Uz => &i18n::uz::STRINGS,
            Lang::Ru => &i18n::ru::STRINGS,
            Lang::Kk => &i18n::kk::STRINGS,
            Lang::En => &i18n::en::STRINGS,
        }
    }

    /// `?lang=` if it names a language, else the best of `Accept-Language`,
    /// else the configured default.
    pub fn choose(query: Option<&str>, accept: Option<&str>, default: Lang) -> Lang {
        if let Some(l) = query.and_then(Lang::parse) {
            return l;
        }
        let mut offers: Vec<(u16, usize, Lang)> = accept
            .unwrap_or("")
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut bits = part.split(';');
                let lang = Lang::parse(bits.next()?)?;
                let q = bits
                    .filter_map(|b| b.trim().strip_prefix("q="))
                    .filter_map(|q| q.trim().parse::<f32>().ok())
                    .next()
                    .unwrap_or(1.0);
                // Weights have at most 3 decimals: compare them as integers.
                let q = (q.clamp(0.0, 1.0) * 1000.0) as u16;
                (q > 0).then_some((q, i, lang))
            })
            .collect();
        offers.sort_by_key(|&(q, i, _)| (std::cmp::Reverse(q), i));
        offers.first().map_or(default, |&(_, _, l)| l)
    }
}

/// Every text of the payment page in one language. `{amount}`,
/// `{requested}`, `{time}`, `{zone}` and `{m}` are filled in by the view.
pub struct Strings {
    /// Name of the language in itself, for the language switch.
    pub name: &'static str,
    pub title: &'static str,
    pub pay_exactly: &'static str,
    pub exact_note: &'static str,
    pub to_card: &'static str,
    pub card_missing: &'static str,
    pub holder: &'static str,
    pub copy: &'static str,
    pub copy_amount: &'static str,
    pub copy_card: &'static str,
    pub copied: &'static str,
    pub time_left: &'static str,
    pub pay_before: &'static str,
    pub minutes_left: &'static str,
    pub waiting: &'static str,
    pub refresh: &'static str,
    pub paid_title: &'static str,
    pub paid_text: &'static str,
    pub back_to_shop: &'static str,
    pub redirecting: &'static str,
    pub expired_title: &'static str,
    pub expired_text: &'static str,
    pub cancelled_title: &'static str,
    pub cancelled_text: &'static str,
    pub qr: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub language: &'static str,
    /// Group and decimal separators of numbers.
    pub group: &'static str,
    pub decimal: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_then_accept_language_then_default() {
        assert_eq!(Lang::choose(Some("kk"), Some("en"), Lang::Ru), Lang::Kk);
        assert_eq!(
            Lang::choose(Some("xx"), Some("en-US,en"), Lang::Ru),
            Lang::En
        );
        assert_eq!(
            Lang::choose(None, Some("de-DE,de;q=0.9,uz;q=0.5,ru;q=0.8"), Lang::En),
            Lang::Ru
        );
        assert_eq!(Lang::choose(None, Some("uz-Latn-UZ"), Lang::Ru), Lang::Uz);
        assert_eq!(Lang::choose(None, Some("ru;q=0"), Lang::En), Lang::En);
        assert_eq!(Lang::choose(None, Some(";;,=q"), Lang::Kk), Lang::Kk);
        assert_eq!(Lang::choose(None, None, Lang::Uz), Lang::Uz);
    }
}
