//! Auth0 tenant log events (`/api/v2/logs`), identified by their type code.

use serde_json::{Map, Value};

use super::RecordDraft;
use super::json_lines::{copy_http_and_oauth_fields, first_str, lookup};
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
    ("ss", "Success Signup"),
    ("fs", "Failed Signup"),
    ("w", "Warning During Login"),
];

pub(super) fn is_auth0_event(object: &Map<String, Value>) -> bool {
    let code = object.get("type").and_then(Value::as_str);
    code.is_some_and(|c| EVENT_TYPES.iter().any(|(t, _)| *t == c))
        && object.contains_key("date")
        && (object.contains_key("log_id") || object.contains_key("client_id"))
}

fn is_failure(code: &str) -> bool {
    code.starts_with('f') || code.starts_with("limit_") || code.starts_with("gd_auth_")
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
    ];
    for (path, field) in mappings {
        if let Some(value) = lookup(object, path).filter(|v| !v.is_null()) {
            draft.fields.insert(field.into(), value.clone());
        }
    }
    copy_http_and_oauth_fields(&mut draft);
    draft
}

#[cfg(test)]
mod tests {
    use crate::sources::{SourceContext, parse_json_line};
    use crate::{Severity, SourceKind};

    #[test]
    fn auth0_failed_exchange_keeps_oauth_error() {
        let raw = r#"{"log_id":"9001","date":"2026-11-20T14:06:10.000Z","type":"feacft","description":"Unauthorized","client_id":"abc","connection":"Username-Password-Authentication","ip":"198.51.100.4","user_id":"auth0|1","details":{"error":"invalid_grant","error_description":"Invalid authorization code"}}"#;
        let ctx = SourceContext {
            tenant: "t",
            source: "auth0.jsonl",
            default_service: "auth",
            zone: crate::sources::UTC,
        };
        let record = parse_json_line(&ctx, 1, raw).expect("parses");
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
