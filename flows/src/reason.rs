//! Why a step failed, normalized across sources: OAuth 2.0 / OIDC error
//! codes (RFC 6749, OpenID Connect Core), JWT validation problems (RFC
//! 7519 claims), rate limits, MFA and credential failures.

use ingest::Record;
use serde::{Deserialize, Serialize};

/// A normalized failure reason; `detail` keeps the source's own words.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FailureReason {
    /// `kid_unknown`, `token_expired`, `invalid_grant`, `rate_limited`, ...
    pub code: String,
    /// The source's error text.
    pub detail: String,
}

/// JWT problems, in the order they are checked: the key id first (a token
/// signed with an unknown key fails before its claims are read).
const JWT_PROBLEMS: &[(&str, &[&[&str]])] = &[
    (
        "kid_unknown",
        &[&["kid"], &["unknown", "not found", "no matching", "no key"]],
    ),
    (
        "not_yet_valid",
        &[&["not yet valid", "nbf", "not before", "used before"]],
    ),
    (
        "token_expired",
        &[&["expired", "exp claim", "token is expired"]],
    ),
    (
        "wrong_audience",
        &[&["audience", "aud claim", "invalid aud"]],
    ),
    ("wrong_issuer", &[&["issuer", "iss claim", "invalid iss"]]),
    (
        "bad_signature",
        &[&["signature"], &["invalid", "failed", "mismatch", "verif"]],
    ),
];

/// The JWT problem a text names, if any: every group of words must have
/// one of its alternatives in the text.
pub(crate) fn jwt_problem(text: &str) -> Option<&'static str> {
    let text = text.to_lowercase();
    if !(text.contains("jwt") || text.contains("token")) {
        return None;
    }
    JWT_PROBLEMS
        .iter()
        .find(|(_, groups)| {
            groups
                .iter()
                .all(|alternatives| alternatives.iter().any(|a| text.contains(a)))
        })
        .map(|(code, _)| *code)
}

/// The reason `record` (a failed step) failed.
pub(crate) fn failure_reason(record: &Record) -> FailureReason {
    let field = |name: &str| record.field_str(name).filter(|v| !v.is_empty());
    let error = field("oauth_error").or_else(|| field("oauth_error_code"));
    let description = field("error_description").or_else(|| field("outcome_reason"));
    let mut parts: Vec<String> = error.iter().cloned().collect();
    if let Some(description) = description.filter(|d| Some(d) != error.as_ref()) {
        parts.push(description);
    }
    let detail = parts.join(": ");
    let detail = if detail.is_empty() {
        record.body.clone()
    } else {
        detail
    };
    let everything = format!("{} {}", record.body, detail).to_lowercase();
    let event = field("event_type").unwrap_or_default();
    let status = field("http_status").and_then(|s| s.parse::<u16>().ok());
    let code = if everything.contains("redirect_uri") || everything.contains("callback url") {
        "redirect_uri_mismatch".to_string()
    } else if let Some(problem) = jwt_problem(&everything) {
        problem.to_string()
    } else if event.starts_with("limit_") || everything.contains("blocked") {
        "blocked".to_string()
    } else if status == Some(429)
        || everything.contains("too many requests")
        || everything.contains("rate limit")
        || error.as_deref() == Some("too_many_requests")
    {
        "rate_limited".to_string()
    } else if event.starts_with("gd_")
        || everything.contains("mfa")
        || everything.contains("push")
        || everything.contains("factor")
    {
        "mfa_failed".to_string()
    } else if everything.contains("consent") {
        "consent_required".to_string()
    } else if let Some(error) = error.filter(|e| is_oauth_error_code(e)) {
        error
    } else if matches!(event.as_str(), "fp" | "fu")
        || everything.contains("invalid_credentials")
        || everything.contains("wrong email or password")
        || everything.contains("invalid password")
    {
        "invalid_credentials".to_string()
    } else if let Some(status) = status {
        format!("http_{status}")
    } else {
        "other".to_string()
    };
    FailureReason { code, detail }
}

/// Error codes of RFC 6749 section 5.2 / 4.1.2.1 and OIDC Core 3.1.2.6.
fn is_oauth_error_code(code: &str) -> bool {
    matches!(
        code,
        "invalid_request"
            | "invalid_client"
            | "invalid_grant"
            | "unauthorized_client"
            | "unsupported_grant_type"
            | "invalid_scope"
            | "access_denied"
            | "unsupported_response_type"
            | "server_error"
            | "temporarily_unavailable"
            | "interaction_required"
            | "login_required"
            | "account_selection_required"
            | "invalid_token"
            | "insufficient_scope"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_problems_are_named_from_the_words_validators_use() {
        assert_eq!(
            jwt_problem("token signature check failed: unknown kid=k2"),
            Some("kid_unknown")
        );
        assert_eq!(
            jwt_problem("JWT rejected: token not yet valid (nbf 95s in the future)"),
            Some("not_yet_valid")
        );
        assert_eq!(
            jwt_problem("jwt: token is expired by 3m"),
            Some("token_expired")
        );
        assert_eq!(
            jwt_problem("JWT validation failed: invalid audience"),
            Some("wrong_audience")
        );
        assert_eq!(
            jwt_problem("token signature verification failed"),
            Some("bad_signature")
        );
        assert_eq!(jwt_problem("upstream responded in 12 ms"), None);
        assert_eq!(jwt_problem("certificate has expired"), None, "not a token");
    }
}
