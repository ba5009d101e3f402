//! The login's questions on the seller's terminal. Prompts and notes go to
//! stderr (stdout keeps only the result line); the 2FA password is read from
//! the terminal without echo. Reads block, so they run on the blocking pool
//! while the Telegram connection keeps running.

use std::io::{BufRead, Write};

use super::login::Prompt;

pub struct Terminal;

impl Prompt for Terminal {
    async fn phone(&mut self) -> std::io::Result<String> {
        read_line("Phone number of the seller's Telegram account (e.g. +998901234567): ").await
    }

    async fn code(&mut self) -> std::io::Result<String> {
        read_line("Login code: ").await
    }

    async fn password(&mut self, hint: Option<&str>) -> std::io::Result<String> {
        let question = match hint {
            Some(h) if !h.is_empty() => format!("2FA password (hint: {h}): "),
            _ => "2FA password: ".to_string(),
        };
        blocking(move || rpassword::prompt_password(question)).await
    }

    fn say(&mut self, line: &str) {
        eprintln!("{line}");
    }
}

async fn read_line(question: &'static str) -> std::io::Result<String> {
    blocking(move || {
        let mut err = std::io::stderr().lock();
        write!(err, "{question}")?;
        err.flush()?;
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "input closed (run `paycue --telegram` in a terminal)",
            ));
        }
        Ok(line)
    })
    .await
}

async fn blocking<T: Send + 'static>(
    read: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(read)
        .await
        .map_err(std::io::Error::other)?
}
