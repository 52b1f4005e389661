//! Access logs: nginx / Kong in the combined format, with any extra
//! `key=value` fields appended (`rt=0.012 upstream=auth`), and Envoy's (and
//! Istio's) default format, whose response flags (`UC`, `NR`, `UO`) say why
//! a request failed.

use super::json_lines::copy_http_and_oauth_fields;
use super::{RecordDraft, SourceContext};
use crate::masking::mask_route;
use crate::timestamp::parse_timestamp;
use crate::{Record, Severity, SourceKind, TemplateRef};

/// True when `line` looks like a combined-format or Envoy default access
/// log line.
pub(crate) fn looks_like_access_log(line: &str) -> bool {
    split_combined(line).is_some() || split_envoy(line).is_some()
}

/// Envoy's default format and Istio's: `[%START_TIME%] "%METHOD% %PATH%
/// %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS%`, in Istio's also
/// `%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
/// "%UPSTREAM_TRANSPORT_FAILURE_REASON%"`, then `%BYTES_RECEIVED%
/// %BYTES_SENT% %DURATION% %UPSTREAM_SERVICE_TIME% "%X-FORWARDED-FOR%"
/// "%USER-AGENT%" "%X-REQUEST-ID%" "%AUTHORITY%" "%UPSTREAM_HOST%"` and,
/// in Istio's, the cluster and addresses. A TCP connection's status is 0
/// and its request `- - -`.
struct EnvoyDefault<'a> {
    time: &'a str,
    request: &'a str,
    status: &'a str,
    flags: &'a str,
    details: Vec<&'a str>,
    numbers: [&'a str; 4],
    quoted: Vec<&'a str>,
}

/// Names of Envoy's four numbers after the flags, as fields.
const ENVOY_NUMBERS: [&str; 4] = [
    "bytes_received",
    "bytes",
    "duration_ms",
    "upstream_service_time_ms",
];
/// Names of Envoy's quoted values after the numbers, in order.
const ENVOY_QUOTED: [&str; 5] = ["ip", "user_agent", "trace_id", "authority", "upstream_host"];

/// Whitespace-separated tokens, a double-quoted one whole (`quoted`).
fn tokens(text: &str) -> Option<Vec<(bool, &str)>> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('"') {
            let (value, after) = inner.split_once('"')?;
            out.push((true, value));
            rest = after.trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push((false, &rest[..end]));
            rest = rest[end..].trim_start();
        }
    }
    Some(out)
}

fn split_envoy(line: &str) -> Option<EnvoyDefault<'_>> {
    let rest = line.strip_prefix('[')?;
    let (time, rest) = rest.split_once("] \"")?;
    let (request, rest) = rest.split_once("\" ")?;
    let words = tokens(rest)?;
    let is_number = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    let (status, flags) = match words.as_slice() {
        [(false, status), (false, flags), ..] if is_number(status) && status.len() <= 3 => {
            (*status, *flags)
        }
        _ => return None,
    };
    let mut at = 2;
    let mut details = Vec::new();
    // Istio's details and termination details, then its quoted transport
    // failure, before the numbers.
    while let Some((false, word)) = words.get(at).filter(|(q, w)| !*q && !is_number(w)) {
        details.push(*word);
        at += 1;
    }
    while words.get(at).is_some_and(|(quoted, _)| *quoted) {
        at += 1;
    }
    let number = |i: usize| {
        words
            .get(at + i)
            .filter(|(quoted, w)| !quoted && (*w == "-" || is_number(w)))
            .map(|(_, w)| *w)
    };
    let numbers = [number(0)?, number(1)?, number(2)?, number(3)?];
    let quoted: Vec<&str> = words[at + 4..]
        .iter()
        .take_while(|(quoted, _)| *quoted)
        .map(|(_, w)| *w)
        .collect();
    (!quoted.is_empty()).then_some(EnvoyDefault {
        time,
        request,
        status,
        flags,
        details,
        numbers,
        quoted,
    })
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
    if let Some(parts) = split_envoy(raw) {
        return parse_envoy(ctx, line, raw, &parts);
    }
    let parts = split_combined(raw).ok_or("not a combined-format access log line")?;
    let (mut draft, template) = request_draft(parts.time, parts.request, parts.status)?;
    let fields = &mut draft.fields;
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
    Ok(finish(ctx, line, raw, draft, &template, error))
}

/// An Envoy default-format line: its response flags, when any, say why
/// the request failed and go into the body and template
/// (`GET /session/validate 503 UC`).
fn parse_envoy(
    ctx: &SourceContext<'_>,
    line: u64,
    raw: &str,
    parts: &EnvoyDefault<'_>,
) -> Result<Record, String> {
    let (mut draft, template) = request_draft(parts.time, parts.request, parts.status)?;
    let fields = &mut draft.fields;
    for (name, value) in ENVOY_NUMBERS.iter().zip(parts.numbers) {
        if let Ok(number) = value.parse::<u64>() {
            fields.insert((*name).into(), number.into());
        }
    }
    for (name, value) in ENVOY_QUOTED.iter().zip(&parts.quoted) {
        if *value != "-" {
            fields.insert((*name).into(), (*value).into());
        }
    }
    let detail = parts.details.first().copied().filter(|d| *d != "-");
    if let Some(detail) = detail {
        fields.insert("response_code_details".into(), detail.into());
    }
    // Any flag is a failure Envoy saw, whatever the status (a refused TCP
    // connection has none).
    let reason = (parts.flags != "-").then(|| {
        draft
            .fields
            .insert("response_flags".into(), parts.flags.into());
        draft.severity = draft.severity.max(Severity::Warn);
        match detail {
            Some(detail) => format!("{} {detail}", parts.flags),
            None => parts.flags.to_string(),
        }
    });
    Ok(finish(ctx, line, raw, draft, &template, reason))
}

/// The draft every access log line starts from (time, method, route and
/// status, and the severity the status gives), and its template so far:
/// `METHOD /route STATUS`, the route's ids masked.
fn request_draft(time: &str, request: &str, status: &str) -> Result<(RecordDraft, String), String> {
    let ts = parse_timestamp(time).ok_or_else(|| format!("bad timestamp {time:?}"))?;
    let status: u16 = status.parse().map_err(|_| "bad status")?;
    let mut parts = request.splitn(3, ' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default();
    let route = target.split('?').next().unwrap_or_default().to_string();
    let mut draft = RecordDraft {
        kind: Some(SourceKind::Log),
        ts: Some(ts),
        severity: Severity::from_http_status(status),
        body: format!("{method} {route} {status}"),
        ..RecordDraft::default()
    };
    draft.fields.insert("http_status".into(), status.into());
    let template = format!("{method} {} {status}", mask_route(&route));
    draft.fields.insert("method".into(), method.into());
    draft.fields.insert("route".into(), route.into());
    Ok((draft, template))
}

/// The body and `template` with the reason a failure names (an OAuth
/// error, Envoy's flags) after them.
fn finish(
    ctx: &SourceContext<'_>,
    line: u64,
    raw: &str,
    mut draft: RecordDraft,
    template: &str,
    reason: Option<String>,
) -> Record {
    let suffix = reason.map(|e| format!(" {e}")).unwrap_or_default();
    draft.body.push_str(&suffix);
    draft.template = Some(TemplateRef::from_text(format!("{template}{suffix}")));
    draft.finish(ctx, line, raw)
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
    fn envoy_default_lines_carry_their_response_flags() {
        let ctx = SourceContext {
            tenant: "t",
            source: "edge/envoy-access.log",
            default_service: "edge",
            zone: crate::sources::UTC,
        };
        let failed = r#"[2026-05-06T10:52:03.112Z] "GET /session/validate HTTP/1.1" 503 UC 0 95 1 - "172.16.79.172" "Apache-HttpClient/4.5.13 (Java/1.8.0_292)" "aac7ef96-503a" "sso-legacy.example" "10.244.2.32:8080""#;
        assert!(looks_like_access_log(failed));
        let record = parse_access_log_line(&ctx, 3, failed).expect("parses");
        assert_eq!(record.body, "GET /session/validate 503 UC");
        assert_eq!(record.severity, Severity::Error);
        assert_eq!(record.field_str("response_flags").as_deref(), Some("UC"));
        assert_eq!(
            record.field_str("upstream_host").as_deref(),
            Some("10.244.2.32:8080")
        );
        assert_eq!(record.field_str("ip").as_deref(), Some("172.16.79.172"));
        assert_eq!(record.field_str("duration_ms").as_deref(), Some("1"));
        assert!(record.field_str("upstream_service_time_ms").is_none());
        let served = r#"[2026-05-06T10:00:05.568Z] "GET /userinfo HTTP/1.1" 200 - 0 1363 12 11 "172.18.211.186" "Mozilla/5.0 (Macintosh)" "0b54f645" "sso-legacy.example" "10.244.3.9:8080""#;
        let record = parse_access_log_line(&ctx, 4, served).expect("parses");
        assert_eq!(record.body, "GET /userinfo 200");
        assert_eq!(
            record.ts.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-05-06T10:00:05.568+00:00")
        );
        // Istio's, with details and a cluster; and a refused TCP connection.
        let istio = r#"[2026-05-06T10:00:07.106Z] "GET /v1/session/validate HTTP/1.1" 200 - via_upstream - "-" 0 1075 7 6 "-" "Go-http-client/1.1" "25d094e5" "session-svc.identity:8080" "10.244.4.201:8080" inbound|8080|| 127.0.0.6:50883 10.244.4.201:8080"#;
        let record = parse_access_log_line(&ctx, 5, istio).expect("parses");
        assert_eq!(record.body, "GET /v1/session/validate 200");
        assert_eq!(record.field_str("bytes").as_deref(), Some("1075"));
        assert_eq!(
            record.field_str("upstream_host").as_deref(),
            Some("10.244.4.201:8080")
        );
        let refused = r#"[2026-05-06T10:53:22.166Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 10.244.5.213:8080 10.244.9.14:56137 - -"#;
        assert!(looks_like_access_log(refused));
        let record = parse_access_log_line(&ctx, 6, refused).expect("parses");
        assert_eq!(record.body, "- - 0 NR filter_chain_not_found");
        assert_eq!(record.severity, Severity::Warn);
    }

    #[test]
    fn other_lines_are_rejected() {
        assert!(!looks_like_access_log("2026-11-20 INFO started"));
        assert!(!looks_like_access_log(
            r#"1.2.3.4 - - [x] "GET / HTTP/1.1" abc 1"#
        ));
    }
}
