//! Okta System Log events (`/api/v1/logs`).

use serde_json::{Map, Value};

use super::RecordDraft;
use super::json_lines::{copy_mapped, first_str, lookup};
use crate::timestamp::parse_timestamp;
use crate::{Severity, SourceKind};

pub(super) fn is_okta_event(object: &Map<String, Value>) -> bool {
    object.contains_key("eventType") && object.contains_key("published")
}

pub(super) fn draft(object: &Map<String, Value>) -> RecordDraft {
    let text = |key: &str| first_str(object, &[key]).map(str::to_string);
    let event_type = text("eventType").unwrap_or_default();
    let result = text("outcome.result").unwrap_or_default();
    let reason = text("outcome.reason");
    let message = text("displayMessage").unwrap_or_default();
    let mut body = format!("{event_type} {result}: {message}");
    if let Some(reason) = &reason {
        body.push_str(&format!(" ({reason})"));
    }
    let failed = is_failed_outcome(&result);
    let severity = text("severity")
        .as_deref()
        .and_then(Severity::from_level)
        .map(|s| if failed { s.max(Severity::Warn) } else { s })
        .unwrap_or(if failed {
            Severity::Warn
        } else {
            Severity::Info
        });
    let mut draft = RecordDraft {
        kind: Some(SourceKind::Auth),
        service: Some("okta".into()),
        ts: text("published").as_deref().and_then(parse_timestamp),
        severity,
        body,
        ..RecordDraft::default()
    };
    let mappings = [
        ("eventType", "event_type"),
        ("outcome.result", "outcome"),
        ("outcome.reason", "outcome_reason"),
        ("actor.alternateId", "user"),
        ("actor.id", "user_id"),
        ("client.ipAddress", "ip"),
        ("client.userAgent.rawUserAgent", "user_agent"),
        ("transaction.id", "trace_id"),
        ("authenticationContext.externalSessionId", "session_id"),
        ("debugContext.debugData.requestUri", "route"),
        ("debugContext.debugData.clientId", "client_id"),
        ("debugContext.debugData.error", "oauth_error"),
        ("debugContext.debugData.grantType", "grant_type"),
        ("debugContext.debugData.privilegeGranted", "privilege"),
        ("client.geographicalContext.geolocation.lat", "geo_lat"),
        ("client.geographicalContext.geolocation.lon", "geo_lon"),
        ("uuid", "event_id"),
    ];
    copy_mapped(object, &mappings, &mut draft);
    // Okta puts what is particular to an event type in debugData (the
    // scopes a token was granted, the threat verdict, the request's
    // error): every value is kept, named `debug.<key>`, since the answer
    // often lives in one of them.
    if let Some(Value::Object(debug)) = lookup(object, "debugContext.debugData") {
        for (key, value) in debug {
            if matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
                draft.fields.insert(format!("debug.{key}"), value.clone());
            }
        }
    }
    draft
}

/// Whether an Okta `outcome.result` says the action failed or was
/// denied (any case): the one reading of it, for parsing and for rules.
pub fn is_failed_outcome(result: &str) -> bool {
    ["FAILURE", "DENY"]
        .iter()
        .any(|failed| result.eq_ignore_ascii_case(failed))
}

#[cfg(test)]
mod tests {
    use super::is_failed_outcome;

    #[test]
    fn failed_and_denied_outcomes_are_failures_in_any_case() {
        for failed in ["FAILURE", "DENY", "failure", "Deny"] {
            assert!(is_failed_outcome(failed), "{failed}");
        }
        for other in ["SUCCESS", "ALLOW", "CHALLENGE", "UNKNOWN", ""] {
            assert!(!is_failed_outcome(other), "{other}");
        }
    }

    use crate::sources::{SourceContext, parse_json_line};
    use crate::{Severity, SourceKind};

    #[test]
    fn okta_failure_becomes_auth_warning() {
        let raw = r#"{"uuid":"e1","published":"2026-11-20T14:06:00.000Z","eventType":"user.authentication.sso","severity":"INFO","displayMessage":"User single sign on to app","outcome":{"result":"FAILURE","reason":"INVALID_TOKEN"},"actor":{"id":"00u1","alternateId":"bob@example.com"},"client":{"ipAddress":"203.0.113.9"},"transaction":{"id":"WbCj7"},"debugContext":{"debugData":{"requestUri":"/oauth2/v1/userinfo"}}}"#;
        let ctx = SourceContext {
            tenant: "t",
            source: "okta.jsonl",
            default_service: "auth",
            zone: crate::sources::UTC,
        };
        let record = parse_json_line(&ctx, 1, raw).expect("parses");
        assert_eq!(record.kind, SourceKind::Auth);
        assert_eq!(record.service, "okta");
        assert_eq!(record.severity, Severity::Warn);
        assert_eq!(
            record.body,
            "user.authentication.sso FAILURE: User single sign on to app (INVALID_TOKEN)"
        );
        assert_eq!(record.field_str("trace_id").as_deref(), Some("WbCj7"));
        assert_eq!(record.field_str("ip").as_deref(), Some("203.0.113.9"));
    }

    #[test]
    fn every_debug_data_value_is_kept() {
        let raw = r#"{"uuid":"e2","published":"2026-08-20T01:00:01.000Z","eventType":"app.oauth2.as.token.grant.access_token","displayMessage":"OAuth2 access token is granted","outcome":{"result":"SUCCESS"},"actor":{"id":"0oa9","alternateId":"nightly"},"debugContext":{"debugData":{"grantType":"client_credentials","grantedScopes":"invoices","threatSuspected":"false","nested":{"x":1}}}}"#;
        let ctx = SourceContext {
            tenant: "t",
            source: "okta.json",
            default_service: "auth",
            zone: crate::sources::UTC,
        };
        let record = parse_json_line(&ctx, 1, raw).expect("parses");
        assert_eq!(
            record.field_str("debug.grantedScopes").as_deref(),
            Some("invoices")
        );
        assert_eq!(
            record.field_str("debug.threatSuspected").as_deref(),
            Some("false")
        );
        assert_eq!(
            record.field_str("grant_type").as_deref(),
            Some("client_credentials")
        );
        assert!(!record.fields.contains_key("debug.nested"));
    }
}
