use serde_json::{Map, Value};

use super::{RecordDraft, SourceContext, auth0, okta};
use crate::timestamp::parse_timestamp;
use crate::{Record, Severity, SourceKind};

const TIME_KEYS: &[&str] = &["ts", "timestamp", "@timestamp", "time", "date", "published"];
const LEVEL_KEYS: &[&str] = &["level", "severity", "lvl", "log.level"];
const MESSAGE_KEYS: &[&str] = &["msg", "message", "summary", "description", "event"];
const SERVICE_KEYS: &[&str] = &["service", "service.name", "app", "component", "logger"];
const HOST_KEYS: &[&str] = &["host", "hostname", "host.name", "node"];

/// Parses one JSON object line: Okta System Log and Auth0 tenant log events
/// are recognized by their shape; anything else is a generic JSON log, or a
/// change record when it carries a `change_id`.
pub(crate) fn parse_json_line(
    ctx: &SourceContext<'_>,
    line: u64,
    raw: &str,
) -> Result<Record, String> {
    let value: Value = serde_json::from_str(raw).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(object) = value else {
        return Err("JSON line is not an object".into());
    };
    let draft = if okta::is_okta_event(&object) {
        okta::draft(&object)
    } else if auth0::is_auth0_event(&object) {
        auth0::draft(&object)
    } else {
        generic_draft(&object)
    };
    Ok(draft.finish(ctx, line, raw))
}

fn generic_draft(object: &Map<String, Value>) -> RecordDraft {
    let mut draft = RecordDraft {
        ts: first_str(object, TIME_KEYS)
            .and_then(parse_timestamp)
            .or_else(|| first_number(object, TIME_KEYS).and_then(|n| parse_timestamp(&n))),
        service: first_str(object, SERVICE_KEYS).map(str::to_string),
        host: first_str(object, HOST_KEYS).map(str::to_string),
        body: first_str(object, MESSAGE_KEYS)
            .unwrap_or_default()
            .to_string(),
        ..RecordDraft::default()
    };
    let is_change = object.contains_key("change_id");
    draft.kind = Some(if is_change {
        SourceKind::Change
    } else {
        SourceKind::Log
    });
    let used: Vec<&str> = [TIME_KEYS, MESSAGE_KEYS, SERVICE_KEYS, HOST_KEYS].concat();
    for (key, value) in object {
        if !used.contains(&key.as_str()) && !LEVEL_KEYS.contains(&key.as_str()) {
            draft.fields.insert(key.clone(), value.clone());
        }
    }
    copy_http_and_oauth_fields(&mut draft);
    draft.severity = first_str(object, LEVEL_KEYS)
        .and_then(Severity::from_level)
        .or_else(|| http_status(&draft).map(Severity::from_http_status))
        .unwrap_or_default();
    if draft.body.is_empty() {
        draft.body = serde_json::to_string(object).unwrap_or_default();
    }
    draft
}

/// Normalizes the HTTP status and OAuth error fields every source shares.
pub(super) fn copy_http_and_oauth_fields(draft: &mut RecordDraft) {
    if let Some(status) = ["status", "http_status", "statusCode", "status_code"]
        .iter()
        .find_map(|k| draft.fields.get(*k).and_then(as_u16))
    {
        draft.fields.insert("http_status".into(), status.into());
    }
    if let Some(error) = draft.fields.get("error").and_then(Value::as_str) {
        let error = error.to_string();
        draft.fields.insert("oauth_error".into(), error.into());
    }
}

fn http_status(draft: &RecordDraft) -> Option<u16> {
    draft.fields.get("http_status").and_then(as_u16)
}

fn as_u16(value: &Value) -> Option<u16> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Looks up a key that may be dotted (`service.name`) either literally or as a path.
pub(super) fn lookup<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if let Some(value) = object.get(key) {
        return Some(value);
    }
    let mut parts = key.split('.');
    let mut current = object.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

pub(super) fn first_str<'a>(object: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| lookup(object, k).and_then(Value::as_str))
}

fn first_number(object: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match lookup(object, k) {
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> SourceContext<'static> {
        SourceContext {
            tenant: "acme",
            source: "svc/app.jsonl",
            default_service: "svc",
        }
    }

    #[test]
    fn generic_json_maps_common_keys() {
        let raw = r#"{"ts":"2026-11-20T14:05:00Z","level":"error","msg":"token rejected","service":"gateway","status":401,"error":"invalid_token"}"#;
        let record = parse_json_line(&ctx(), 3, raw).expect("parses");
        assert_eq!(record.service, "gateway");
        assert_eq!(record.severity, Severity::Error);
        assert_eq!(record.body, "token rejected");
        assert_eq!(record.field_str("http_status").as_deref(), Some("401"));
        assert_eq!(
            record.field_str("oauth_error").as_deref(),
            Some("invalid_token")
        );
        assert_eq!(record.kind, SourceKind::Log);
        assert_eq!(record.origin.line, 3);
    }

    #[test]
    fn change_records_are_recognized() {
        let raw = r#"{"ts":"2026-11-20T14:02:00Z","change_id":"CHG-1","service":"auth","summary":"rotate key"}"#;
        let record = parse_json_line(&ctx(), 1, raw).expect("parses");
        assert_eq!(record.kind, SourceKind::Change);
        assert_eq!(record.body, "rotate key");
    }

    #[test]
    fn malformed_lines_are_errors_not_panics() {
        assert!(parse_json_line(&ctx(), 1, "{\"ts\":").is_err());
        assert!(parse_json_line(&ctx(), 1, "[1,2]").is_err());
    }
}
