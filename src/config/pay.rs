//! The payment page's keys: `PUBLIC_URL` (where buyers reach `/pay/{id}`),
//! `PAY_RETURN_ORIGINS` (the shop origins a `return_url` may point to),
//! `PAY_LANG`, `SHOP_NAME`, `CARD_HOLDER` and `PAY_TIMEZONE`. What must stay
//! true: a return URL is followed only when its exact origin is listed (no
//! open redirect), and without `PUBLIC_URL` no payment URL is made up.

use reqwest::Url;

use super::{ConfigError, bad};
use crate::web::pay::Lang;

/// Validated payment page settings.
#[derive(Debug, Clone)]
pub struct PaySettings {
    /// Base URL the page is reached at, without a trailing slash.
    pub public_url: Option<Url>,
    /// Origins (`https://shop.example`) a `return_url` may have.
    pub return_origins: Vec<String>,
    pub lang: Lang,
    pub shop_name: Option<String>,
    pub card_holder: Option<String>,
    pub timezone: jiff::tz::TimeZone,
}

impl Default for PaySettings {
    fn default() -> Self {
        PaySettings {
            public_url: None,
            return_origins: Vec::new(),
            lang: Lang::Ru,
            shop_name: None,
            card_holder: None,
            timezone: jiff::tz::TimeZone::get("Asia/Tashkent")
                .unwrap_or_else(|_| jiff::tz::TimeZone::fixed(jiff::tz::offset(5))),
        }
    }
}

/// Why a `return_url` was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReturnUrlError {
    #[error("return_url must be an absolute http:// or https:// URL")]
    NotUrl,
    #[error("return_url's origin {0} is not in PAY_RETURN_ORIGINS")]
    NotAllowed(String),
}

impl PaySettings {
    pub(super) fn from_keys(
        public_url: Option<String>,
        origins: Option<String>,
        lang: Option<String>,
        shop_name: Option<String>,
        card_holder: Option<String>,
        timezone: Option<String>,
    ) -> Result<PaySettings, ConfigError> {
        let public_url = public_url.map(|u| parse_public_url(&u)).transpose()?;
        let return_origins = origins
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(parse_origin)
            .collect::<Result<Vec<_>, _>>()?;
        let lang = match lang {
            None => Lang::Ru,
            Some(l) => Lang::parse(&l).ok_or_else(|| {
                bad(
                    "PAY_LANG",
                    format!("'{l}' is not a language of the payment page"),
                    "use uz, ru, kk or en",
                )
            })?,
        };
        let timezone = match timezone {
            None => PaySettings::default().timezone,
            Some(name) => jiff::tz::TimeZone::get(&name).map_err(|_| {
                bad(
                    "PAY_TIMEZONE",
                    format!("'{name}' is not a known time zone"),
                    "use an IANA name such as Asia/Tashkent or Asia/Almaty",
                )
            })?,
        };
        Ok(PaySettings {
            public_url,
            return_origins,
            lang,
            shop_name,
            card_holder,
            timezone,
        })
    }

    /// The buyer's page of a transaction, if `PUBLIC_URL` is set. A return
    /// URL rides along as `?return=` and is checked again when the page is
    /// shown, so editing the link can only point at another allowed origin.
    pub fn payment_url(&self, id: &str, return_url: Option<&Url>) -> Option<String> {
        let base = self.public_url.as_ref()?;
        let mut url =
            Url::parse(&format!("{}/pay/{id}", base.as_str().trim_end_matches('/'))).ok()?;
        if let Some(r) = return_url {
            url.query_pairs_mut().append_pair("return", r.as_str());
        }
        Some(url.to_string())
    }

    /// Accepts a return URL only on a listed origin.
    pub fn check_return_url(&self, text: &str) -> Result<Url, ReturnUrlError> {
        let url = Url::parse(text).map_err(|_| ReturnUrlError::NotUrl)?;
        if !matches!(url.scheme(), "http" | "https")
            || url.host_str().is_none()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(ReturnUrlError::NotUrl);
        }
        let origin = url.origin().ascii_serialization();
        if self.return_origins.contains(&origin) {
            Ok(url)
        } else {
            Err(ReturnUrlError::NotAllowed(origin))
        }
    }
}

fn parse_public_url(text: &str) -> Result<Url, ConfigError> {
    let fix = "write the address buyers open, e.g. PUBLIC_URL=https://pay.shop.example";
    let url = Url::parse(text)
        .map_err(|e| bad("PUBLIC_URL", format!("'{text}' is not a URL ({e})"), fix))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("PUBLIC_URL", "must be an http:// or https:// URL", fix));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(bad(
            "PUBLIC_URL",
            "must not have a query, a fragment or a user name",
            fix,
        ));
    }
    Ok(url)
}

fn parse_origin(text: &str) -> Result<String, ConfigError> {
    let fix = "list origins only, comma-separated: PAY_RETURN_ORIGINS=https://shop.example,https://www.shop.example";
    let url = Url::parse(text).map_err(|_| {
        bad(
            "PAY_RETURN_ORIGINS",
            format!("'{text}' is not an origin"),
            fix,
        )
    })?;
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || !bare {
        return Err(bad(
            "PAY_RETURN_ORIGINS",
            format!("'{text}' is not an http(s) origin (scheme://host[:port], no path)"),
            fix,
        ));
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(origins: &str) -> PaySettings {
        PaySettings::from_keys(
            Some("https://pay.example/".into()),
            Some(origins.into()),
            None,
            None,
            None,
            None,
        )
        .unwrap()
    }

    #[test]
    fn return_url_only_on_listed_origins() {
        let s = settings("https://shop.example, http://localhost:3000");
        assert!(
            s.check_return_url("https://shop.example/thanks?o=1")
                .is_ok()
        );
        assert!(s.check_return_url("http://localhost:3000/x").is_ok());
        for bad in [
            "https://shop.example.evil.com/",
            "http://shop.example/",
            "https://shop.example:8443/",
            "//evil.com",
            "javascript:alert(1)",
            "https://user@shop.example/",
            "/relative",
        ] {
            assert!(s.check_return_url(bad).is_err(), "{bad} accepted");
        }
        assert!(
            settings("")
                .check_return_url("https://shop.example/")
                .is_err()
        );
    }

    #[test]
    fn payment_url_needs_public_url() {
        let s = settings("https://shop.example");
        let r = s.check_return_url("https://shop.example/a?b=1&c").unwrap();
        assert_eq!(
            s.payment_url("abc", Some(&r)).unwrap(),
            "https://pay.example/pay/abc?return=https%3A%2F%2Fshop.example%2Fa%3Fb%3D1%26c"
        );
        assert_eq!(PaySettings::default().payment_url("abc", None), None);
    }

    #[test]
    fn bad_keys_name_themselves() {
        let err = |f: fn() -> Result<PaySettings, ConfigError>| f().unwrap_err().key;
        assert_eq!(
            err(|| PaySettings::from_keys(Some("ftp://x".into()), None, None, None, None, None)),
            "PUBLIC_URL"
        );
        assert_eq!(
            err(|| PaySettings::from_keys(
                None,
                Some("https://a/b".into()),
                None,
                None,
                None,
                None
            )),
            "PAY_RETURN_ORIGINS"
        );
        assert_eq!(
            err(|| PaySettings::from_keys(None, None, Some("de".into()), None, None, None)),
            "PAY_LANG"
        );
        assert_eq!(
            err(|| PaySettings::from_keys(None, None, None, None, None, Some("Mars/Base".into()))),
            "PAY_TIMEZONE"
        );
    }
}
