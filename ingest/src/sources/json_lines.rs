use serde_json::{Map, Value};

use super::{RecordDraft, SourceContext, auth0, cloud_audit, okta};
use crate::masking::mask_route;
use crate::timestamp::{parse_timestamp, parse_timestamp_in};
use crate::{Record, Severity, SourceKind, TemplateRef};

const TIME_KEYS: &[&str] = &[
    "ts",
    "timestamp",
    "@timestamp",
    "time",
    "date",
    "published",
    "time_iso8601",
    "start_time",
    "started_at",
    "time_local",
];
const LEVEL_KEYS: &[&str] = &["level", "severity", "lvl", "log.level"];
/// Message keys, in order; `fields.message` is tracing-subscriber's JSON
/// layout, `log` Docker's and Fluentd's.
const MESSAGE_KEYS: &[&str] = &[
    "msg",
    "message",
    "fields.message",
    "log",
    "summary",
    "description",
    "event",
];
const SERVICE_KEYS: &[&str] = &["service", "service.name", "app", "component", "logger"];
const HOST_KEYS: &[&str] = &["host", "hostname", "host.name", "node"];
/// Keys under which proxies log why they failed a request.
const RESPONSE_FLAG_KEYS: &[&str] = &["response_flags", "upstream.response_flags"];

/// Keys that identify a change record.
const CHANGE_KEYS: &[&str] = &[
    "change_id",
    "deployment_id",
    "deploy_id",
    "commit",
    "revision",
];
/// Words in a file or folder name that say it records changes.
const CHANGE_SOURCE_WORDS: &[&str] = &["deploy", "change", "release", "rollout"];

/// Whether the source's path names a record of changes (`changes/`,
/// `deploys.jsonl`, `release-calendar.json`): events without a log level
/// read from there are changes, whatever their keys.
fn names_changes(source: &str) -> bool {
    source.split(['/', '\\']).any(|part| {
        let part = part.to_ascii_lowercase();
        CHANGE_SOURCE_WORDS.iter().any(|w| part.contains(w))
    })
}

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
    Ok(record_from_object(ctx, line, raw, &object))
}

/// The record of one JSON event, whichever shape it has.
pub(crate) fn record_from_object(
    ctx: &SourceContext<'_>,
    line: u64,
    raw: &str,
    object: &Map<String, Value>,
) -> Record {
    let draft = if okta::is_okta_event(object) {
        okta::draft(object)
    } else if auth0::is_auth0_event(object) {
        auth0::draft(object)
    } else if cloud_audit::is_cloud_audit_event(object) {
        cloud_audit::draft(object)
    } else {
        generic_draft(ctx, object)
    };
    draft.finish(ctx, line, raw)
}

fn generic_draft(ctx: &SourceContext<'_>, object: &Map<String, Value>) -> RecordDraft {
    let mut draft = RecordDraft {
        ts: first_str(object, TIME_KEYS)
            .and_then(|t| parse_timestamp_in(t, ctx.zone))
            .or_else(|| first_number(object, TIME_KEYS).and_then(|n| parse_timestamp(&n))),
        service: first_str(object, SERVICE_KEYS).map(str::to_string),
        host: first_str(object, HOST_KEYS).map(str::to_string),
        body: first_str(object, MESSAGE_KEYS)
            .unwrap_or_default()
            .to_string(),
        ..RecordDraft::default()
    };
    let is_change = CHANGE_KEYS.iter().any(|k| object.contains_key(*k))
        || (names_changes(ctx.source) && !LEVEL_KEYS.iter().any(|k| object.contains_key(*k)));
    draft.kind = Some(if is_change {
        SourceKind::Change
    } else {
        SourceKind::Log
    });
    // An event without a message (a deploy record) is told by its values.
    if draft.body.is_empty() {
        draft.body = object
            .iter()
            .filter(|(key, _)| !TIME_KEYS.contains(&key.as_str()))
            .filter_map(|(key, value)| match value {
                Value::String(s) => Some(format!("{key}={s}")),
                Value::Number(n) => Some(format!("{key}={n}")),
                Value::Bool(b) => Some(format!("{key}={b}")),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    let used: Vec<&str> = [TIME_KEYS, MESSAGE_KEYS, SERVICE_KEYS, HOST_KEYS].concat();
    for (key, value) in object {
        if !used.contains(&key.as_str()) && !LEVEL_KEYS.contains(&key.as_str()) {
            draft.fields.insert(key.clone(), value.clone());
        }
    }
    copy_http_and_oauth_fields(&mut draft);
    let proxy_flags = first_str(object, RESPONSE_FLAG_KEYS).filter(|f| !f.is_empty() && *f != "-");
    if let Some(access) = access_shape(object) {
        // The reason a request failed, as the log states it: an OAuth
        // error, else a proxy's response flags (Envoy's `UO`, `UF`, `NR`).
        let error = draft
            .fields
            .get("oauth_error")
            .and_then(Value::as_str)
            .or(proxy_flags)
            .map(|e| format!(" {e}"))
            .unwrap_or_default();
        draft.body = format!(
            "{} {} {}{error}",
            access.method, access.route, access.status
        );
        draft.template = Some(TemplateRef::from_text(format!(
            "{} {} {}{error}",
            access.method,
            mask_route(&access.route),
            access.status
        )));
        draft
            .fields
            .insert("http_status".into(), access.status.into());
        draft.fields.insert("method".into(), access.method.into());
        draft.fields.insert("route".into(), access.route.into());
    }
    draft.severity = first_str(object, LEVEL_KEYS)
        .and_then(Severity::from_level)
        .or_else(|| http_status(&draft).map(Severity::from_http_status))
        .unwrap_or_default();
    // Any proxy flag is a failure the proxy saw, whatever the status (a
    // refused connection has none), as in Envoy's text format.
    if proxy_flags.is_some() {
        draft.severity = draft.severity.max(Severity::Warn);
    }
    if draft.body.is_empty() {
        draft.body = serde_json::to_string(object).unwrap_or_default();
    }
    draft
}

/// The request line of a JSON access log (nginx `escape=json`, Envoy, Kong).
struct AccessShape {
    method: String,
    route: String,
    status: u16,
}

fn access_shape(object: &Map<String, Value>) -> Option<AccessShape> {
    let status = ["status", "response_code", "response.status", "statusCode"]
        .iter()
        .find_map(|k| lookup(object, k).and_then(as_u16))?;
    let (method, target) = match first_str(object, &["request"]) {
        Some(request_line) => {
            let mut parts = request_line.split_whitespace();
            (parts.next()?.to_string(), parts.next()?.to_string())
        }
        None => (
            first_str(
                object,
                &["method", "request.method", "request_method", "http.method"],
            )?
            .to_string(),
            first_str(
                object,
                &["path", "request.uri", "uri", "request_uri", "http.path"],
            )?
            .to_string(),
        ),
    };
    let route = target.split('?').next().unwrap_or_default().to_string();
    Some(AccessShape {
        method,
        route,
        status,
    })
}

/// Normalizes the HTTP status, trace id and OAuth error fields every source shares.
pub(super) fn copy_http_and_oauth_fields(draft: &mut RecordDraft) {
    if !draft.fields.contains_key("trace_id") {
        let traceparent = draft
            .fields
            .get("traceparent")
            .and_then(Value::as_str)
            .and_then(|t| t.split('-').nth(1))
            .map(str::to_string);
        let request_id = [
            "x-request-id",
            "x_request_id",
            "request_id",
            "requestId",
            "traceId",
            "trace.id",
        ]
        .iter()
        .find_map(|k| {
            draft
                .fields
                .get(*k)
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        if let Some(trace) = traceparent.or(request_id) {
            draft.fields.insert("trace_id".into(), trace.into());
        }
    }
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
/// Copies each `(path, field)` of `mappings` that the event has (and is
/// not null) into the draft's fields: a vendor shape's names for its keys.
pub(super) fn copy_mapped(
    object: &Map<String, Value>,
    mappings: &[(&str, &str)],
    draft: &mut RecordDraft,
) {
    for (path, field) in mappings {
        if let Some(value) = lookup(object, path).filter(|v| !v.is_null()) {
            draft.fields.insert((*field).into(), value.clone());
        }
    }
}

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
            zone: crate::sources::UTC,
        }
    }

    #[test]
    fn a_proxys_response_flags_say_why_a_request_failed() {
        let failed = r#"{"start_time":"2026-10-07T18:24:31.394Z","method":"POST","path":"/login","response_code":503,"response_flags":"UO","upstream_cluster":"auth-api-iad"}"#;
        let record = parse_json_line(&ctx(), 1, failed).expect("parses");
        assert_eq!(record.body, "POST /login 503 UO");
        let refused = r#"{"start_time":"2026-10-07T18:24:31.394Z","method":"-","path":"-","response_code":0,"response_flags":"NR"}"#;
        let refused = parse_json_line(&ctx(), 3, refused).expect("parses");
        assert_eq!(refused.severity, Severity::Warn, "{}", refused.body);
        assert_eq!(
            record.template.as_ref().map(|t| t.text.as_str()),
            Some("POST /login 503 UO")
        );
        let served = r#"{"start_time":"2026-10-07T18:24:31.394Z","method":"POST","path":"/login","response_code":200,"response_flags":"-"}"#;
        assert_eq!(
            parse_json_line(&ctx(), 2, served).expect("parses").body,
            "POST /login 200"
        );
    }

    #[test]
    fn json_access_logs_of_nginx_envoy_and_kong() {
        for raw in [
            r#"{"time_iso8601":"2026-11-20T14:05:00+00:00","remote_addr":"203.0.113.9","request":"GET /userinfo?x=1 HTTP/1.1","status":"401","request_time":"0.004","request_id":"r-1"}"#,
            r#"{"start_time":"2026-11-20T14:05:00.000Z","method":"GET","path":"/userinfo","response_code":401,"duration":4,"x-request-id":"r-1"}"#,
            r#"{"started_at":1795183500000,"request":{"method":"GET","uri":"/userinfo"},"response":{"status":401},"client_ip":"203.0.113.9","request_id":"r-1"}"#,
        ] {
            let record = parse_json_line(&ctx(), 1, raw).expect("parses");
            assert_eq!(record.body, "GET /userinfo 401", "{raw}");
            assert_eq!(record.severity, Severity::Warn, "{raw}");
            assert_eq!(
                record.field_str("trace_id").as_deref(),
                Some("r-1"),
                "{raw}"
            );
            assert!(record.ts.is_some(), "{raw}");
            assert_eq!(
                record.template.as_ref().map(|t| t.text.as_str()),
                Some("GET /userinfo 401")
            );
        }
    }

    #[test]
    fn traceparent_gives_the_trace_id() {
        let raw = r#"{"ts":"2026-11-20T14:05:00Z","msg":"x","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}"#;
        let record = parse_json_line(&ctx(), 1, raw).expect("parses");
        assert_eq!(
            record.field_str("trace_id").as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
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
    fn deploy_events_in_a_file_of_changes_are_changes() {
        let raw = r#"{"ts":"2026-08-04T15:57:10Z","service":"mfa-verify","version":"3.14.0","by":"argocd"}"#;
        let ctx = SourceContext {
            tenant: "t",
            source: "changes/deploys.jsonl",
            default_service: "changes",
            zone: crate::sources::UTC,
        };
        let record = parse_json_line(&ctx, 1, raw).expect("parses");
        assert_eq!(record.kind, SourceKind::Change);
        assert_eq!(record.service, "mfa-verify");
        assert_eq!(record.body, "service=mfa-verify version=3.14.0 by=argocd");
        let logged = r#"{"ts":"2026-08-04T15:57:10Z","level":"info","msg":"deployed"}"#;
        assert_eq!(
            parse_json_line(&ctx, 2, logged).expect("parses").kind,
            SourceKind::Log,
            "a log line of the deployer is a log"
        );
        assert_eq!(
            parse_json_line(&self::ctx(), 3, raw).expect("parses").kind,
            SourceKind::Log,
            "elsewhere a version is no change"
        );
    }

    #[test]
    fn nested_and_docker_messages_are_the_body() {
        let tracing = r#"{"timestamp":"2026-01-20T17:40:17Z","level":"WARN","fields":{"message":"signing slow","elapsed_ms":900},"target":"token_issuer::signer"}"#;
        let record = parse_json_line(&ctx(), 1, tracing).expect("parses");
        assert_eq!(record.body, "signing slow");
        let docker =
            r#"{"log":"upstream timed out\n","stream":"stderr","time":"2026-01-20T17:40:17Z"}"#;
        let record = parse_json_line(&ctx(), 2, docker).expect("parses");
        assert_eq!(record.body.trim_end(), "upstream timed out");
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
