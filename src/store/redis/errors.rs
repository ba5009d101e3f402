//! What a Redis error means for paycue. Redis refusing work (out of memory,
//! a read-only replica, a failed save, a busy script, loading its data) or
//! not answering is "unavailable": the API answers 503 and the work is tried
//! again later. Only data paycue did not write (a key of the wrong type, a
//! record our scripts reject, a script tripping over a foreign value) is
//! "corrupt". What must stay true: a refusal is never reported as corrupt
//! (Redis puts "user_script" in the text of every error raised inside a
//! script, refusals included, so the code decides, not the text).

use crate::store::StoreError;

pub(super) fn map_err(e: redis::RedisError) -> StoreError {
    classify(e.code(), &e.to_string())
}

/// `code`: the first word of Redis's error reply, if it was one.
fn classify(code: Option<&str>, text: &str) -> StoreError {
    let refused = |why: &str| StoreError::Unavailable(format!("{why} ({text})"));
    match code {
        Some("OOM") => refused("Redis is out of memory (maxmemory reached) and refuses writes"),
        Some("READONLY") => refused(
            "Redis is a read-only replica and refuses writes; point REDIS_ADDR at the primary",
        ),
        Some("MISCONF") => refused("Redis cannot save to disk and refuses writes"),
        Some("BUSY") => refused("Redis is busy running a script"),
        Some("LOADING") => refused("Redis is loading its data"),
        Some("MASTERDOWN" | "NOREPLICAS" | "TRYAGAIN" | "CLUSTERDOWN") => {
            refused("Redis cannot take writes right now")
        }
        Some("NOAUTH" | "WRONGPASS" | "NOPERM") => {
            refused("Redis refuses paycue's credentials; check REDIS_ADDR")
        }
        Some("PAYCUE_CORRUPT" | "WRONGTYPE") => StoreError::Corrupt(text.to_string()),
        // A script killed by hand (SCRIPT KILL) stopped before writing.
        Some("ERR") if text.contains("Script killed") => refused("Redis stopped a script"),
        // A runtime error inside one of our scripts: it met a value it did
        // not write.
        Some("ERR") if text.contains("user_script") => StoreError::Corrupt(text.to_string()),
        Some(_) => refused("Redis refused the command"),
        None => refused("cannot reach Redis"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unavailable(code: &str) -> String {
        let text = format!("{code} something. script: 0a9f, on @user_script:1.");
        match classify(Some(code), &text) {
            StoreError::Unavailable(why) => why,
            StoreError::Corrupt(_) => panic!("{code} reported as corrupt"),
        }
    }

    #[test]
    fn refusals_raised_inside_scripts_are_unavailable() {
        assert!(unavailable("OOM").contains("out of memory"));
        assert!(unavailable("READONLY").contains("read-only"));
        assert!(unavailable("MISCONF").contains("save to disk"));
        assert!(unavailable("BUSY").contains("busy"));
        assert!(unavailable("LOADING").contains("loading"));
        assert!(matches!(
            classify(None, "Connection refused (os error 111)"),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn foreign_data_is_corrupt() {
        for (code, text) in [
            (
                "WRONGTYPE",
                "WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            ("PAYCUE_CORRUPT", "PAYCUE_CORRUPT hold points at nothing"),
            (
                "ERR",
                "ERR user_script:12: attempt to compare nil with number script: 1a2b",
            ),
        ] {
            assert!(
                matches!(classify(Some(code), text), StoreError::Corrupt(_)),
                "{text}"
            );
        }
    }
}
