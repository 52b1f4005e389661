//! Whether a log template states a failure in its own words, whatever level
//! its writer gave it.
//!
//! Servers log many failures at info level on purpose (nginx logs every
//! failed TLS handshake as `[info]`, since a client caused it), so a spike
//! of such lines is a symptom even though its level says otherwise. The
//! words are the generic vocabulary of failure in software messages, not
//! those of any one system.

/// Word stems that state a failure at the start of a word (`fail` covers
/// failed, failure, fails).
const FAILURE_STEMS: &[&str] = &[
    "fail",
    "error",
    "refus",
    "denied",
    "reject",
    "timeout",
    "unable",
    "cannot",
    "invalid",
    "unreachable",
    "expired",
    "exceeded",
    "abort",
    "exception",
    "unauthorized",
    "forbidden",
];

/// `severity`, at least a warning when `text` states a failure in words:
/// a failure its writer logged at info level (or without a level) is
/// still one.
pub fn stated_severity(severity: ingest::Severity, text: &str) -> ingest::Severity {
    if severity < ingest::Severity::Warn && states_failure(text) {
        ingest::Severity::Warn
    } else {
        severity
    }
}

/// True when a word of `text` states a failure, or it says "timed out".
pub fn states_failure(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.contains("timed out")
        || lower
            .split(|c: char| !c.is_ascii_alphabetic())
            .any(|word| FAILURE_STEMS.iter().any(|stem| word.starts_with(stem)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_logged_at_any_level_are_recognised_by_their_words() {
        // nginx: a failed TLS handshake, logged at info.
        assert!(states_failure(
            "SSL_do_handshake() failed (SSL: error:<*>:SSL routines::sslv3 alert certificate unknown) while SSL handshaking"
        ));
        // A JDBC pool and an HTTP client.
        assert!(states_failure("Connection refused: <*>:5432"));
        assert!(states_failure("request to <*> timed out after <*> ms"));
        assert!(states_failure("token rejected: signature invalid"));
    }

    #[test]
    fn ordinary_lines_state_no_failure() {
        assert!(!states_failure("GET /v2/bookings/<*> 200"));
        assert!(!states_failure("client <*> closed keepalive connection"));
        // A word that merely contains a stem elsewhere is not one.
        assert!(!states_failure(
            "terror alert level: preferred replica election"
        ));
    }
}
