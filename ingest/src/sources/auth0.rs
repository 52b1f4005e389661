//! Auth0 tenant log events (`/api/v2/logs`), identified by their type code.

use serde_json::{Map, Value};

use super::RecordDraft;
use super::json_lines::{copy_http_and_oauth_fields, copy_mapped, first_str};
use crate::timestamp::parse_timestamp;
use crate::{Severity, SourceKind};

/// Meaning of the Auth0 event type codes, from Auth0's log event type list.
const EVENT_TYPES: &[(&str, &str)] = &[
    ("s", "Success Login"),
    ("f", "Failed Login"),
    ("fp", "Failed Login (Incorrect Password)"),
    ("fu", "Failed Login (Invalid Email/Username)"),
    (
        "seacft",
        "Success Exchange (Authorization Code for Access Token)",
    ),
    (
        "feacft",
        "Failed Exchange (Authorization Code for Access Token)",
    ),
    (
        "sertft",
        "Success Exchange (Refresh Token for Access Token)",
    ),
    ("fertft", "Failed Exchange (Refresh Token for Access Token)"),
    (
        "seccft",
        "Success Exchange (Client Credentials for Access Token)",
    ),
    (
        "feccft",
        "Failed Exchange (Client Credentials for Access Token)",
    ),
    ("limit_wc", "Blocked Account (too many failed logins)"),
    (
        "limit_mu",
        "Blocked IP Address (attempts on multiple users)",
    ),
    ("limit_sul", "Blocked User (too many logins for one user)"),
    ("sapi", "Success API Operation"),
    ("fapi", "Failed API Operation"),
    ("slo", "Success Logout"),
    ("flo", "Failed Logout"),
    ("gd_auth_failed", "MFA Authentication Failed"),
    ("gd_auth_rejected", "MFA Authentication Rejected"),
    ("gd_send_pn", "MFA Push Notification Sent"),
    ("gd_auth_succeed", "MFA Authentication Succeeded"),
    ("gd_send_pn_failure", "MFA Push Notification Failed"),
    ("gd_otp_rate_limit_exceed", "Too Many MFA Codes Tried"),
    ("gd_enrollment_complete", "MFA Enrollment Complete"),
    ("gd_unenroll", "MFA Device Unenrolled"),
    ("pwd_leak", "Breached Password"),
    (
        "api_limit",
        "Rate Limit on the Authentication or Management APIs",
    ),
    ("ublkdu", "User Block Released"),
    ("ferrt", "Failed Exchange (Rotating Refresh Token Reused)"),
    ("srrt", "Success Revocation (Refresh Token)"),
    ("mgmt_api_read", "Management API Read"),
    ("ss", "Success Signup"),
    ("fs", "Failed Signup"),
    ("w", "Warning During Login"),
];

/// Longest type code Auth0 uses, with room to spare.
const MAX_CODE_LEN: usize = 40;

/// An Auth0 event: a type code, a date, and a log or client id. A code not
/// in [`EVENT_TYPES`] counts when it looks like one (Auth0 adds codes over
/// time) and the event carries its `log_id`.
pub(super) fn is_auth0_event(object: &Map<String, Value>) -> bool {
    let Some(code) = object.get("type").and_then(Value::as_str) else {
        return false;
    };
    let known = EVENT_TYPES.iter().any(|(t, _)| *t == code);
    let code_like = !code.is_empty()
        && code.len() <= MAX_CODE_LEN
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    object.contains_key("date")
        && ((known && (object.contains_key("log_id") || object.contains_key("client_id")))
            || (code_like && object.contains_key("log_id")))
}

fn is_failure(code: &str) -> bool {
    code.starts_with('f')
        || code.starts_with("limit_")
        || matches!(
            code,
            "gd_auth_failed" | "gd_auth_rejected" | "pwd_leak" | "api_limit"
        )
        || code.ends_with("_failure")
        || code.ends_with("rate_limit_exceed")
}

pub(super) fn draft(object: &Map<String, Value>) -> RecordDraft {
    let code = first_str(object, &["type"]).unwrap_or_default();
    let meaning = EVENT_TYPES
        .iter()
        .find(|(t, _)| *t == code)
        .map(|(_, m)| *m)
        .unwrap_or("Unknown event");
    let description = first_str(object, &["description"]).unwrap_or_default();
    let mut draft = RecordDraft {
        kind: Some(SourceKind::Auth),
        service: Some("auth0".into()),
        ts: first_str(object, &["date"]).and_then(parse_timestamp),
        severity: if is_failure(code) {
            Severity::Warn
        } else {
            Severity::Info
        },
        body: format!("{code} {meaning}: {description}")
            .trim_end_matches(": ")
            .to_string(),
        ..RecordDraft::default()
    };
    let mappings = [
        ("type", "event_type"),
        ("log_id", "trace_id"),
        ("client_id", "client_id"),
        ("client_name", "client_name"),
        ("connection", "connection"),
        ("ip", "ip"),
        ("user_id", "user_id"),
        ("user_name", "user"),
        ("user_agent", "user_agent"),
        ("details.error", "error"),
        ("details.error_description", "error_description"),
        ("details.status", "status"),
        ("details.session_id", "session_id"),
        ("details.request.method", "api_method"),
        ("details.request.path", "api_path"),
        ("location_info.latitude", "geo_lat"),
        ("location_info.longitude", "geo_lon"),
    ];
    copy_mapped(object, &mappings, &mut draft);
    copy_http_and_oauth_fields(&mut draft);
    draft
}

#[cfg(test)]
mod tests {
    use crate::sources::{SourceContext, parse_json_line};
    use crate::{Record, Severity, SourceKind};

    fn parse(raw: &str) -> Record {
        let ctx = SourceContext {
            tenant: "t",
            source: "auth0.jsonl",
            default_service: "auth",
            zone: crate::sources::UTC,
        };
        parse_json_line(&ctx, 1, raw).expect("parses")
    }

    #[test]
    fn auth0_codes_missing_from_the_table_are_still_auth0_events() {
        let raw = r#"{"log_id":"9002","date":"2026-11-20T14:06:10.000Z","type":"gd_unenroll","description":"Device used for second factor authentication has been unenrolled","user_name":"ana@example.com"}"#;
        let record = parse(raw);
        assert_eq!(
            (record.service.as_str(), record.kind),
            ("auth0", SourceKind::Auth)
        );
        assert_eq!(
            record.field_str("event_type").as_deref(),
            Some("gd_unenroll")
        );
        let unknown = raw.replace("gd_unenroll", "new_code_2027");
        let record = parse(&unknown);
        assert_eq!(record.service, "auth0");
    }

    #[test]
    fn auth0_failed_exchange_keeps_oauth_error() {
        let raw = r#"{"log_id":"9001","date":"2026-11-20T14:06:10.000Z","type":"feacft","description":"Unauthorized","client_id":"abc","connection":"Username-Password-Authentication","ip":"198.51.100.4","user_id":"auth0|1","details":{"error":"invalid_grant","error_description":"Invalid authorization code"}}"#;
        let record = parse(raw);
        assert_eq!(record.kind, SourceKind::Auth);
        assert_eq!(record.severity, Severity::Warn);
        assert!(
            record.body.starts_with("feacft Failed Exchange"),
            "{}",
            record.body
        );
        assert_eq!(
            record.field_str("oauth_error").as_deref(),
            Some("invalid_grant")
        );
        assert_eq!(record.field_str("trace_id").as_deref(), Some("9001"));
    }
}
