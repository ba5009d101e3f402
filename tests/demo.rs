//! `paycue demo`, the README's first command: with no configuration, no
//! Redis and no Telegram it creates an order, pays it with a bank message,
//! and shows the signed webhook the shop got and its recorded delivery.

use std::process::Command;

#[test]
fn the_demo_pays_an_order_and_shows_the_delivered_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_paycue"))
        .arg("demo")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .output()
        .expect("paycue runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("signature verified with WEBHOOK_SECRET: yes"),
        "{stdout}"
    );
    assert!(stdout.contains("\"action\":\"confirm\""), "{stdout}");
    // The delivery is shown once paycue recorded the shop's answer.
    assert!(
        stdout.contains("status \"confirmed\", webhook \"delivered\" after 1 attempt(s)"),
        "{stdout}"
    );
    assert!(stdout.contains("Done: order A-1001 is paid."), "{stdout}");
}
