//! The login conversation (`paycue --telegram`) against a scripted Telegram
//! and a scripted terminal: wrong and expired codes, 2FA, flood waits,
//! sign-up-required, phone handling, and that nothing typed is echoed.

use std::collections::VecDeque;
use std::time::Duration;

use paycue::telegram::errors::TgError;
use paycue::telegram::login::{
    Account, Auth, CodeFailure, CodeSent, LoginError, PasswordFailure, Prompt, sign_in,
};

#[derive(Default)]
struct FakeTelegram {
    send: VecDeque<Result<CodeSent, TgError>>,
    sign: VecDeque<Result<Account, CodeFailure>>,
    check: VecDeque<Result<Account, PasswordFailure>>,
    phones: Vec<String>,
    codes: Vec<String>,
    passwords: Vec<String>,
}

impl Auth for FakeTelegram {
    async fn send_code(&mut self, phone: &str) -> Result<CodeSent, TgError> {
        self.phones.push(phone.into());
        self.send.pop_front().expect("unexpected code request")
    }
    async fn sign_in(&mut self, code: &str) -> Result<Account, CodeFailure> {
        self.codes.push(code.into());
        self.sign.pop_front().expect("unexpected sign-in")
    }
    async fn check_password(&mut self, password: &str) -> Result<Account, PasswordFailure> {
        self.passwords.push(password.into());
        self.check.pop_front().expect("unexpected password check")
    }
}

#[derive(Default)]
struct FakeTerminal {
    phones: VecDeque<&'static str>,
    codes: VecDeque<&'static str>,
    passwords: VecDeque<&'static str>,
    hints: Vec<Option<String>>,
    said: Vec<String>,
}

fn closed() -> std::io::Error {
    std::io::Error::from(std::io::ErrorKind::UnexpectedEof)
}

impl Prompt for FakeTerminal {
    async fn phone(&mut self) -> std::io::Result<String> {
        self.phones.pop_front().map(String::from).ok_or_else(closed)
    }
    async fn code(&mut self) -> std::io::Result<String> {
        self.codes.pop_front().map(String::from).ok_or_else(closed)
    }
    async fn password(&mut self, hint: Option<&str>) -> std::io::Result<String> {
        self.hints.push(hint.map(String::from));
        self.passwords
            .pop_front()
            .map(String::from)
            .ok_or_else(closed)
    }
    fn say(&mut self, line: &str) {
        self.said.push(line.into());
    }
}

fn seller() -> Account {
    Account {
        id: 42,
        name: "Dilnoza K".into(),
        username: Some("dilnoza_shop".into()),
    }
}

fn sent() -> Result<CodeSent, TgError> {
    Ok(CodeSent::Sent {
        via: "to your Telegram app".into(),
    })
}

fn said(term: &FakeTerminal) -> String {
    term.said.join("\n")
}

#[tokio::test]
async fn a_wrong_code_asks_again_without_a_new_code() {
    let mut tg = FakeTelegram {
        send: [sent()].into(),
        sign: [Err(CodeFailure::Invalid), Ok(seller())].into(),
        ..Default::default()
    };
    let mut term = FakeTerminal {
        phones: ["+998901234567"].into(),
        codes: ["11111", "22222"].into(),
        ..Default::default()
    };
    let account = sign_in(&mut tg, &mut term, None).await.unwrap();
    assert_eq!(account, seller());
    assert_eq!(tg.phones.len(), 1, "no new code for a typo");
    assert_eq!(tg.codes, ["11111", "22222"]);
    let text = said(&term);
    assert!(text.contains("not right"), "{text}");
    assert!(
        !text.contains("11111") && !text.contains("22222"),
        "codes echoed: {text}"
    );
}

#[tokio::test]
async fn an_expired_code_requests_a_new_one() {
    let mut tg = FakeTelegram {
        send: [sent(), sent()].into(),
        sign: [Err(CodeFailure::Expired), Ok(seller())].into(),
        ..Default::default()
    };
    let mut term = FakeTerminal {
        codes: ["11111", "33333"].into(),
        ..Default::default()
    };
    sign_in(&mut tg, &mut term, Some("+998901234567".into()))
        .await
        .unwrap();
    assert_eq!(tg.phones, ["+998901234567", "+998901234567"]);
    assert!(said(&term).contains("expired"));
}

#[tokio::test]
async fn two_factor_password_is_asked_with_its_hint_until_right() {
    let mut tg = FakeTelegram {
        send: [sent()].into(),
        sign: [Err(CodeFailure::PasswordNeeded {
            hint: Some("cat's name".into()),
        })]
        .into(),
        check: [Err(PasswordFailure::Invalid), Ok(seller())].into(),
        ..Default::default()
    };
    let mut term = FakeTerminal {
        codes: ["12345"].into(),
        passwords: ["Murka", "Barsik-2019"].into(),
        ..Default::default()
    };
    let account = sign_in(&mut tg, &mut term, Some("+77011234567".into()))
        .await
        .unwrap();
    assert_eq!(account.id, 42);
    assert_eq!(tg.passwords, ["Murka", "Barsik-2019"]);
    assert_eq!(
        term.hints,
        [
            Some("cat's name".to_string()),
            Some("cat's name".to_string())
        ]
    );
    let text = said(&term);
    assert!(
        !text.contains("Murka") && !text.contains("Barsik"),
        "password echoed: {text}"
    );
}

#[tokio::test]
async fn a_flood_wait_ends_the_login_saying_how_long() {
    let mut tg = FakeTelegram {
        send: [Err(TgError::FloodWait(Duration::from_secs(3 * 3600 + 120)))].into(),
        ..Default::default()
    };
    let e = sign_in(
        &mut tg,
        &mut FakeTerminal::default(),
        Some("+998901234567".into()),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, LoginError::FloodWait(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("3 h 2 min") && text.contains("paycue --telegram"),
        "{text}"
    );

    let mut tg = FakeTelegram {
        send: [sent()].into(),
        sign: [Err(CodeFailure::Failed(TgError::FloodWait(
            Duration::from_secs(45),
        )))]
        .into(),
        ..Default::default()
    };
    let mut term = FakeTerminal {
        codes: ["1"].into(),
        ..Default::default()
    };
    let e = sign_in(&mut tg, &mut term, Some("+1".into()))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("45 s"), "{e}");
}

#[tokio::test]
async fn sign_up_required_explains_itself() {
    let mut tg = FakeTelegram {
        send: [sent()].into(),
        sign: [Err(CodeFailure::SignUpRequired)].into(),
        ..Default::default()
    };
    let mut term = FakeTerminal {
        codes: ["12345"].into(),
        ..Default::default()
    };
    let e = sign_in(&mut tg, &mut term, Some("+998901234567".into()))
        .await
        .unwrap_err();
    assert!(matches!(e, LoginError::SignUpRequired));
    assert!(e.to_string().contains("official Telegram app"), "{e}");
}

#[tokio::test]
async fn phone_is_normalized_and_a_bad_typed_one_is_asked_again() {
    let invalid = || Err(TgError::Rejected("PHONE_NUMBER_INVALID".into()));
    let mut tg = FakeTelegram {
        send: [invalid(), sent()].into(),
        sign: [Ok(seller())].into(),
        ..Default::default()
    };
    let mut term = FakeTerminal {
        phones: ["", "998 12", "+998 (90) 123-45-67"].into(),
        codes: ["", "12345"].into(),
        ..Default::default()
    };
    sign_in(&mut tg, &mut term, None).await.unwrap();
    assert_eq!(tg.phones, ["99812", "+998901234567"]);
    assert_eq!(
        tg.codes,
        ["12345"],
        "an empty line is asked again, not sent"
    );

    // From TG_PHONE there is nobody to ask: say which key to fix.
    let mut tg = FakeTelegram {
        send: [invalid()].into(),
        ..Default::default()
    };
    let e = sign_in(&mut tg, &mut FakeTerminal::default(), Some("12".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(e, LoginError::BadPhone) && e.to_string().contains("TG_PHONE"),
        "{e}"
    );
}

#[tokio::test]
async fn closed_input_ends_the_login() {
    let mut tg = FakeTelegram {
        send: [sent()].into(),
        ..Default::default()
    };
    let e = sign_in(&mut tg, &mut FakeTerminal::default(), Some("+1".into()))
        .await
        .unwrap_err();
    assert!(matches!(e, LoginError::Input(_)), "{e:?}");
}
