//! nginx / Envoy / Kong access logs in the combined format, with any extra
//! `key=value` fields appended (`rt=0.012 upstream=auth`).

use super::json_lines::copy_http_and_oauth_fields;
use super::{RecordDraft, SourceContext};
use crate::masking::mask_route;
use crate::timestamp::parse_timestamp;
use crate::{Record, Severity, SourceKind, TemplateRef};

/// True when `line` looks like a combined-format access log line.
pub(crate) fn looks_like_access_log(line: &str) -> bool {
    split_combined(line).is_some()
}

struct Combined<'a> {
    client: &'a str,
    user: &'a str,
    time: &'a str,
    request: &'a str,
    status: &'a str,
    bytes: &'a str,
    quoted_tail: Vec<&'a str>,
    extra: &'a str,
}

fn split_combined(line: &str) -> Option<Combined<'_>> {
    let (client, rest) = line.split_once(' ')?;
    let (_ident, rest) = rest.split_once(' ')?;
    let (user, rest) = rest.split_once(' ')?;
    let rest = rest.strip_prefix('[')?;
    let (time, rest) = rest.split_once("] \"")?;
    let (request, rest) = rest.split_once("\" ")?;
    let (status, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    if status.len() != 3 || !status.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (bytes, mut rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let mut quoted_tail = Vec::new();
    while let Some(inner) = rest.strip_prefix('"') {
        let (quoted, after) = inner.split_once('"')?;
        quoted_tail.push(quoted);
        rest = after.trim_start();
    }
    Some(Combined {
        client,
        user,
        time,
        request,
        status,
        bytes,
        quoted_tail,
        extra: rest,
    })
}

pub(crate) fn parse_access_log_line(
    ctx: &SourceContext<'_>,
    line: u64,
    raw: &str,
) -> Result<Record, String> {
    let parts = split_combined(raw).ok_or("not a combined-format access log line")?;
    let ts =
        parse_timestamp(parts.time).ok_or_else(|| format!("bad timestamp {:?}", parts.time))?;
    let status: u16 = parts.status.parse().map_err(|_| "bad status")?;
    let mut request = parts.request.splitn(3, ' ');
    let method = request.next().unwrap_or_default();
    let target = request.next().unwrap_or_default();
    let route = target.split('?').next().unwrap_or_default();
    let mut draft = RecordDraft {
        kind: Some(SourceKind::Log),
        ts: Some(ts),
        severity: Severity::from_http_status(status),
        body: format!("{method} {route} {status}"),
        ..RecordDraft::default()
    };
    let fields = &mut draft.fields;
    fields.insert("http_status".into(), status.into());
    fields.insert("method".into(), method.into());
    fields.insert("route".into(), route.into());
    fields.insert("ip".into(), parts.client.into());
    if parts.user != "-" {
        fields.insert("user".into(), parts.user.into());
    }
    if let Ok(bytes) = parts.bytes.parse::<u64>() {
        fields.insert("bytes".into(), bytes.into());
    }
    if let Some(ua) = parts.quoted_tail.get(1).filter(|ua| **ua != "-") {
        fields.insert("user_agent".into(), (*ua).into());
    }
    for pair in parts.extra.split_whitespace() {
        if let Some((key, value)) = pair.split_once('=') {
            let value = value.trim_matches('"');
            let key = match key {
                "rt" | "request_time" => "latency_s",
                "rid" | "request_id" | "x_request_id" => "trace_id",
                other => other,
            };
            let value = value
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| value.into());
            draft.fields.insert(key.into(), value);
        }
    }
    copy_http_and_oauth_fields(&mut draft);
    let error = draft
        .fields
        .get("oauth_error")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let suffix = error.map(|e| format!(" {e}")).unwrap_or_default();
    draft.body.push_str(&suffix);
    draft.template = Some(TemplateRef::from_text(format!(
        "{method} {} {status}{suffix}",
        mask_route(route)
    )));
    Ok(draft.finish(ctx, line, raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_line_with_extras() {
        let raw = r#"203.0.113.9 - - [20/Nov/2026:14:05:03 +0000] "GET /userinfo?x=1 HTTP/1.1" 401 61 "-" "okhttp/4.12" rt=0.004 rid=req-77 error=invalid_token"#;
        assert!(looks_like_access_log(raw));
        let ctx = SourceContext {
            tenant: "t",
            source: "gateway/access.log",
            default_service: "gateway",
            zone: crate::sources::UTC,
        };
        let record = parse_access_log_line(&ctx, 9, raw).expect("parses");
        assert_eq!(record.body, "GET /userinfo 401 invalid_token");
        assert_eq!(record.severity, Severity::Warn);
        assert_eq!(record.field_str("route").as_deref(), Some("/userinfo"));
        assert_eq!(record.field_str("trace_id").as_deref(), Some("req-77"));
        assert_eq!(record.field_str("latency_s").as_deref(), Some("0.004"));
        assert_eq!(record.service, "gateway");
        let template = record.template.expect("template");
        assert_eq!(
            template.text, "GET /userinfo 401 invalid_token",
            "status codes stay in access-log templates"
        );
    }

    #[test]
    fn other_lines_are_rejected() {
        assert!(!looks_like_access_log("2026-11-20 INFO started"));
        assert!(!looks_like_access_log(
            r#"1.2.3.4 - - [x] "GET / HTTP/1.1" abc 1"#
        ));
    }
}
