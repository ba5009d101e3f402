//! What a Telegram failure means for paycue, decided in one place.
//! grammers reports everything as an `InvocationError`; the watcher and the
//! login only need to know what to do next: stop and ask for a new login,
//! wait as long as Telegram says, skip a request Telegram refuses, or back off
//! and try again.
//!
//! What must stay true: only a definite answer from Telegram ends a session
//! (a 401 or AUTH_KEY_DUPLICATED). A network error never counts as "logged
//! out": the systemd unit does not restart after that status, so a false one
//! would stop the daemon for good over a Wi-Fi blip.

use std::time::Duration;

use grammers_client::InvocationError;

/// A Telegram failure, by what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TgError {
    /// The session is not (or no longer) authorized: run `paycue --telegram`.
    #[error("Telegram ended this session ({0})")]
    LoggedOut(String),
    /// Telegram asks to wait before the next request.
    #[error("Telegram asks to wait {} s (flood wait)", .0.as_secs())]
    FloodWait(Duration),
    /// Telegram refused this request; sending it again will not help.
    #[error("Telegram refused the request ({0})")]
    Rejected(String),
    /// Network trouble or a Telegram hiccup: back off and try again.
    #[error("Telegram is unreachable or failing ({0})")]
    Transient(String),
    /// The connection pool has stopped; nothing more can be sent.
    #[error("the Telegram connection has stopped ({0})")]
    Closed(String),
}

impl TgError {
    /// The RPC error name when Telegram refused a request (`PHONE_NUMBER_INVALID`).
    pub fn rejected_name(&self) -> Option<&str> {
        match self {
            TgError::Rejected(name) => Some(name),
            _ => None,
        }
    }
}

/// RPC errors (besides every 401) after which the auth key is dead.
const DEAD_KEY: [&str; 3] = [
    "AUTH_KEY_DUPLICATED",
    "SESSION_REVOKED",
    "USER_DEACTIVATED_BAN",
];

/// Sorts a grammers error. Request contents (codes, passwords) are never part
/// of the text: only Telegram's error name or the I/O error.
pub fn classify(error: InvocationError) -> TgError {
    match error {
        InvocationError::Rpc(rpc) => {
            let name = match rpc.value {
                Some(v) => format!("{} {v}", rpc.name),
                None => rpc.name.clone(),
            };
            if rpc.code == 401 || DEAD_KEY.contains(&rpc.name.as_str()) {
                TgError::LoggedOut(rpc.name)
            } else if rpc.code == 420 || rpc.name.ends_with("_WAIT") {
                // FLOOD_WAIT_X, FLOOD_PREMIUM_WAIT_X, SLOWMODE_WAIT_X; X is seconds.
                TgError::FloodWait(Duration::from_secs(u64::from(rpc.value.unwrap_or(1))))
            } else if (400..500).contains(&rpc.code) {
                TgError::Rejected(name)
            } else {
                // 5xx, -503 timeouts, 303 migrations grammers did not follow.
                TgError::Transient(name)
            }
        }
        // A request in flight when its connection was aborted (by the
        // watchdog, or a network error): the pool reconnects on the next one.
        // The inbox reports `Closed` itself once the pool has stopped.
        InvocationError::Dropped(why) => TgError::Transient(format!("request dropped: {why}")),
        InvocationError::Io(e) => TgError::Transient(format!("network: {e}")),
        // The session store (SQLite) failed, or Telegram sent something odd:
        // both may pass, so keep trying rather than stop for good.
        other => TgError::Transient(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_client::sender::RpcError;

    fn rpc(code: i32, name: &str, value: Option<u32>) -> InvocationError {
        InvocationError::Rpc(RpcError {
            code,
            name: name.into(),
            value,
            caused_by: None,
        })
    }

    #[test]
    fn revoked_or_duplicated_keys_are_logged_out() {
        for (code, name) in [
            (401, "AUTH_KEY_UNREGISTERED"),
            (401, "SESSION_EXPIRED"),
            (406, "AUTH_KEY_DUPLICATED"),
        ] {
            assert_eq!(
                classify(rpc(code, name, None)),
                TgError::LoggedOut(name.into())
            );
        }
    }

    #[test]
    fn flood_waits_carry_their_seconds() {
        assert_eq!(
            classify(rpc(420, "FLOOD_WAIT", Some(3600))),
            TgError::FloodWait(Duration::from_secs(3600))
        );
        assert_eq!(
            classify(rpc(420, "FLOOD_PREMIUM_WAIT", Some(7))),
            TgError::FloodWait(Duration::from_secs(7))
        );
    }

    #[test]
    fn bad_requests_are_rejected_and_server_trouble_is_transient() {
        let e = classify(rpc(400, "PHONE_NUMBER_INVALID", None));
        assert_eq!(e.rejected_name(), Some("PHONE_NUMBER_INVALID"));
        assert!(matches!(
            classify(rpc(500, "RPC_CALL_FAIL", None)),
            TgError::Transient(_)
        ));
        assert!(matches!(
            classify(rpc(-503, "TIMEOUT", None)),
            TgError::Transient(_)
        ));
    }

    #[test]
    fn network_errors_never_log_out() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            classify(InvocationError::Io(io)),
            TgError::Transient(_)
        ));
    }

    #[test]
    fn a_dropped_request_is_transient() {
        assert!(matches!(
            classify(InvocationError::Dropped(
                "SenderPoolRunner was dropped during receive"
            )),
            TgError::Transient(_)
        ));
    }
}
