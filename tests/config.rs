//! Configuration: every Go paycue key is read, `.env` < environment < flags,
//! and a wrong value stops start-up with a message naming the key and the fix.

use std::process::Command;

use paycue::config::{Config, RawConfig, parse_duration, redis_url};

fn raw() -> RawConfig {
    RawConfig::default()
}

#[test]
fn defaults_match_the_go_paycue() {
    let c = Config::from_raw(&raw()).unwrap();
    assert_eq!(c.port, 10800);
    assert_eq!(c.limit, 100);
    assert_eq!(c.watch_ids, vec![856_254_490]);
    assert_eq!(c.redis_url, "redis://127.0.0.1:6379");
    assert_eq!(c.session_dir, "sessions");
    assert_eq!(c.currency, "UZS");
    assert!(c.host.is_loopback());
    assert_eq!(c.tx_ttl.as_secs(), 1800);
    assert!(c.amount_hold.as_secs() >= 1800);
    assert_eq!(c.webhook_retries, 3);
}

/// `CARDS` of the Go form still parses; `bank:card` adds the bank whose
/// card-less messages may be for the card.
#[test]
fn cards_with_and_without_a_bank() {
    let c = Config::from_raw(&RawConfig {
        cards: Some("8600123412347466, Kaspi:4400****1234".into()),
        ..raw()
    })
    .unwrap();
    let got: Vec<(&str, Option<&str>)> = c
        .cards
        .iter()
        .map(|s| (s.card.as_str(), s.bank.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![("8600123412347466", None), ("4400****1234", Some("kaspi"))]
    );
    assert_eq!(c.round_step, 10);
    let off = Config::from_raw(&RawConfig {
        round_step: Some("0".into()),
        ..raw()
    })
    .unwrap();
    assert_eq!(off.round_step, 0);
}

/// Every bank name the parsers report can tag a card (and reads back as
/// that name, which is what a card-less message is matched by).
#[test]
fn every_bank_the_parsers_report_can_tag_a_card() {
    for name in paycue::parsers::Bank::NAMES {
        let c = Config::from_raw(&RawConfig {
            cards: Some(format!("{}:4400****1234", name.to_uppercase())),
            ..raw()
        })
        .unwrap();
        let bank = c.cards[0].bank.as_deref();
        assert_eq!(bank, Some(name));
        assert_eq!(
            paycue::parsers::Bank::from_hint(name).map(|b| b.as_str()),
            Some(name)
        );
    }
}

#[test]
fn durations_and_redis_addresses() {
    assert_eq!(parse_duration("30m").unwrap().as_secs(), 1800);
    assert_eq!(parse_duration("45s").unwrap().as_secs(), 45);
    assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
    assert_eq!(parse_duration("250ms").unwrap().as_millis(), 250);
    assert!(parse_duration("5 minutes").is_err());
    assert!(parse_duration("-5s").is_err());
    assert_eq!(redis_url("10.0.0.5:6380").unwrap(), "redis://10.0.0.5:6380");
    assert_eq!(
        redis_url("redis://:pw@h:6379/2").unwrap(),
        "redis://:pw@h:6379/2"
    );
    assert_eq!(redis_url("rediss://h:6380").unwrap(), "rediss://h:6380");
    assert_eq!(
        redis_url("redis+unix:///run/redis.sock").unwrap(),
        "unix:///run/redis.sock"
    );
    assert!(redis_url("localhost").is_err());
}

#[test]
fn wrong_values_name_the_key_and_the_fix() {
    let cases: Vec<(RawConfig, &str)> = vec![
        (
            RawConfig {
                limit: Some("abc".into()),
                ..raw()
            },
            "LIMIT",
        ),
        (
            RawConfig {
                limit: Some("0".into()),
                ..raw()
            },
            "LIMIT",
        ),
        (
            RawConfig {
                port: Some("70000".into()),
                ..raw()
            },
            "PORT",
        ),
        (
            RawConfig {
                workers: Some("-1".into()),
                ..raw()
            },
            "WORKERS",
        ),
        (
            RawConfig {
                debug: Some("maybe".into()),
                ..raw()
            },
            "DEBUG",
        ),
        (
            RawConfig {
                tx_ttl: Some("30x".into()),
                ..raw()
            },
            "TX_TTL",
        ),
        (
            RawConfig {
                tx_ttl: Some("0".into()),
                ..raw()
            },
            "TX_TTL",
        ),
        (
            RawConfig {
                watch_id: Some("@HUMOcardbot".into()),
                ..raw()
            },
            "WATCH_ID",
        ),
        (
            RawConfig {
                webhook_url: Some("ftp://x".into()),
                ..raw()
            },
            "WEBHOOK_URL",
        ),
        (
            RawConfig {
                webhook_url: Some("not a url".into()),
                ..raw()
            },
            "WEBHOOK_URL",
        ),
        (
            RawConfig {
                webhook_secret: Some("hunter2".into()),
                ..raw()
            },
            "WEBHOOK_SECRET",
        ),
        (
            RawConfig {
                webhook_backoff: Some("1s,soon".into()),
                ..raw()
            },
            "WEBHOOK_BACKOFF",
        ),
        (
            RawConfig {
                cards: Some("8600123412347466,9860****7466".into()),
                ..raw()
            },
            "CARDS",
        ),
        (
            RawConfig {
                cards: Some("my card".into()),
                ..raw()
            },
            "CARDS",
        ),
        (
            RawConfig {
                cards: Some("kaspi gold:4400****1234".into()),
                ..raw()
            },
            "CARDS",
        ),
        // A bank no parser reports (a typo of kaspi): its card-less messages
        // would never reach the card, so every payment to it goes unmatched.
        (
            RawConfig {
                cards: Some("kapsi:4400****1234".into()),
                ..raw()
            },
            "CARDS",
        ),
        (
            RawConfig {
                round_step: Some("1".into()),
                ..raw()
            },
            "ROUND_STEP",
        ),
        (
            RawConfig {
                round_step: Some("-10".into()),
                ..raw()
            },
            "ROUND_STEP",
        ),
        (
            RawConfig {
                currency: Some("sum".into()),
                ..raw()
            },
            "CURRENCY",
        ),
        (
            RawConfig {
                redis_addr: Some("localhost".into()),
                ..raw()
            },
            "REDIS_ADDR",
        ),
        (
            RawConfig {
                app_id: Some("x12".into()),
                ..raw()
            },
            "APP_ID",
        ),
        (
            RawConfig {
                host: Some("0.0.0.0".into()),
                ..raw()
            },
            "API_KEY",
        ),
        (
            RawConfig {
                api_key: Some("short".into()),
                ..raw()
            },
            "API_KEY",
        ),
        (
            RawConfig {
                log_format: Some("xml".into()),
                ..raw()
            },
            "LOG_FORMAT",
        ),
        (
            RawConfig {
                retention: Some("90".into()),
                ..raw()
            },
            "RETENTION",
        ),
        (
            RawConfig {
                retention: Some("forever".into()),
                ..raw()
            },
            "RETENTION",
        ),
    ];
    for (raw, key) in cases {
        let err = Config::from_raw(&raw).expect_err(key);
        assert_eq!(err.key, key);
        let text = err.to_string();
        assert!(text.starts_with(key) && text.contains("Fix:"), "{text}");
    }
    // A public HOST is fine with a key.
    let ok = RawConfig {
        host: Some("0.0.0.0".into()),
        api_key: Some("0123456789abcdef0123".into()),
        ..raw()
    };
    assert!(Config::from_raw(&ok).is_ok());
}

#[test]
fn secrets_do_not_show_in_debug_output() {
    let c = Config::from_raw(&RawConfig {
        api_key: Some("super-secret-api-key-123".into()),
        webhook_secret: Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
        redis_addr: Some("redis://:redispass@h:6379".into()),
        ..raw()
    })
    .unwrap();
    let dbg = format!("{c:?}");
    for secret in [
        "super-secret-api-key-123",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "redispass",
    ] {
        assert!(!dbg.contains(secret), "{dbg}");
    }
}

/// `.env` < environment < flag, seen through the real binary: the error names
/// whichever value won.
#[test]
fn precedence_dotenv_then_env_then_flag() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "LIMIT=from-dotenv\n").unwrap();
    let run = |env: Option<&str>, flag: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paycue"));
        cmd.current_dir(dir.path()).env_clear().arg("parse");
        if let Some(v) = env {
            cmd.env("LIMIT", v);
        }
        if let Some(v) = flag {
            cmd.args(["--limit", v]);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(None, None);
    assert_eq!(code, Some(78), "{err}");
    assert!(
        err.contains("LIMIT") && err.contains("from-dotenv"),
        "{err}"
    );
    let (_, err) = run(Some("from-env"), None);
    assert!(err.contains("from-env"), "{err}");
    let (_, err) = run(Some("from-env"), Some("from-flag"));
    assert!(err.contains("from-flag"), "{err}");
}

#[test]
fn public_host_without_api_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_paycue"))
        .current_dir(dir.path())
        .env_clear()
        .env("HOST", "0.0.0.0")
        .args(["run", "--source", "stdin", "--store", "memory"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("API_KEY") && err.contains("HOST"), "{err}");
}

#[test]
fn retention_defaults_to_90_days_and_can_be_off() {
    let day = std::time::Duration::from_secs(86_400);
    assert_eq!(Config::from_raw(&raw()).unwrap().retention, Some(day * 90));
    let off = RawConfig {
        retention: Some("off".into()),
        ..raw()
    };
    assert_eq!(Config::from_raw(&off).unwrap().retention, None);
    let week = RawConfig {
        retention: Some("7d".into()),
        ..raw()
    };
    assert_eq!(Config::from_raw(&week).unwrap().retention, Some(day * 7));
}

/// `ALERTS` turns alerts off only when it says `off` (or `none`): a value of
/// commas alone is refused, naming the key and the fix, not read as off.
#[test]
fn alerts_of_commas_alone_are_refused_not_off() {
    for v in [",", " , ,"] {
        let e = Config::from_raw(&RawConfig {
            alerts: Some(v.into()),
            ..raw()
        })
        .err()
        .unwrap_or_else(|| panic!("ALERTS='{v}' was accepted"));
        assert_eq!(e.key, "ALERTS", "{e}");
        assert!(e.fix.contains("ALERTS=off"), "{e}");
    }
}

/// An `ALERT_CHAT` no Telegram chat can have (a digit too many in a group's
/// `-100…` id) is refused at start, naming the key and the fix, rather than
/// failing every alert later with only a log line.
#[test]
fn an_alert_chat_telegram_cannot_have_is_refused() {
    for v in ["-10012345678901", "-2000000000000", "1099511627776"] {
        let e = Config::from_raw(&RawConfig {
            alert_chat: Some(v.into()),
            ..raw()
        })
        .err()
        .unwrap_or_else(|| panic!("ALERT_CHAT={v} was accepted"));
        assert_eq!(e.key, "ALERT_CHAT", "{e}");
        assert!(e.fix.contains("-100"), "{e}");
    }
    for v in ["-1001234567890", "-123456789", "123456789", "me"] {
        let ok = Config::from_raw(&RawConfig {
            alert_chat: Some(v.into()),
            ..raw()
        });
        assert!(ok.is_ok(), "ALERT_CHAT={v}: {:?}", ok.err());
    }
}
