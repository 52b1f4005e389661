//! Plain-text logs: lines with a timestamp (leading, among their first
//! tokens, or in a trailing comment), optionally followed by a level, bare
//! or in padded brackets, and a `component:` prefix; a `name:number` line
//! is a metric sample. A line without a time is untimed here; the reader
//! dates it from its neighbours when the file has times elsewhere.

use super::{RecordDraft, SourceContext};
use crate::timestamp::{find_timestamp, leading_timestamp};
use crate::{Record, Severity, SourceKind};

pub(crate) fn parse_plain_text_line(
    ctx: &SourceContext<'_>,
    line: u64,
    raw: &str,
) -> Result<Record, String> {
    let mut draft = RecordDraft {
        kind: Some(SourceKind::Log),
        ..RecordDraft::default()
    };
    let found;
    let mut rest = raw.trim_end();
    if let Some((ts, after)) = leading_timestamp(rest, ctx.zone) {
        draft.ts = Some(ts);
        rest = after;
    } else if let Some((ts, around)) = find_timestamp(rest, ctx.zone) {
        draft.ts = Some(ts);
        found = around;
        rest = &found;
    }
    if let Some((severity, after)) = leading_level(rest) {
        draft.severity = severity;
        rest = after;
    }
    if let Some((component, message)) = rest.split_once(": ") {
        let is_component = !component.is_empty()
            && component.len() <= 48
            && component
                .chars()
                .all(|c| c.is_alphanumeric() || "-_.[]/".contains(c));
        if is_component {
            draft.fields.insert("component".into(), component.into());
            rest = message;
        }
    }
    if let Some((name, value)) = metric_sample(rest) {
        // A snapshot's `name:number` line (`redis-cli INFO`, `nodetool`,
        // `/proc/meminfo`) is a sample of a series, not an event.
        draft.kind = Some(SourceKind::Metric);
        draft.fields.insert("metric".into(), name.into());
        draft.fields.insert("value".into(), value);
    } else {
        draft.fields.extend(key_value_fields(rest));
    }
    draft.body = rest.to_string();
    Ok(draft.finish(ctx, line, raw))
}

/// `name:number` or `name=number` as a whole line, the name a
/// programmatic identifier (`evicted_keys:1043`, `MemFree: 1024 kB` is
/// not one: its unit makes it text).
fn metric_sample(text: &str) -> Option<(&str, serde_json::Value)> {
    let (name, value) = text.split_once([':', '='])?;
    let name = name.trim();
    let is_name = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    let number = value.trim().parse::<f64>().ok().filter(|n| n.is_finite())?;
    is_name
        .then(|| serde_json::Number::from_f64(number))
        .flatten()
        .map(|n| (name, serde_json::Value::Number(n)))
}

/// A level word at the start of `text`, bare (`ERROR`, `warn:`) or in
/// brackets padded to a width (`[WARN ]`, `[ INFO]`, as hclog and others
/// align them), and the text after it.
fn leading_level(text: &str) -> Option<(Severity, &str)> {
    if let Some(inner) = text.strip_prefix('[')
        && let Some(close) = inner.find(']').filter(|at| *at <= MAX_BRACKETED_LEVEL)
        && let Some(severity) = Severity::from_level(inner[..close].trim())
    {
        let after = inner[close + 1..].trim_start_matches(':');
        return Some((severity, after.trim_start()));
    }
    let (first, after) = text.split_once(char::is_whitespace)?;
    let level = first.trim_matches(|c| c == '[' || c == ']' || c == ':');
    Severity::from_level(level).map(|severity| (severity, after.trim_start()))
}

/// Bytes inside the brackets of a padded level (`[WARNING  ]`).
const MAX_BRACKETED_LEVEL: usize = 12;

/// `key=value` pairs in free text become fields, so `kid=abc` is filterable.
fn key_value_fields(text: &str) -> Vec<(String, serde_json::Value)> {
    text.split_whitespace()
        .filter_map(|token| token.split_once('='))
        .filter(|(key, value)| {
            !key.is_empty()
                && !value.is_empty()
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .map(|(key, value)| (key.to_string(), value.trim_matches('"').into()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Record {
        let ctx = SourceContext {
            tenant: "t",
            source: "auth-server/server.log",
            default_service: "auth-server",
            zone: crate::sources::UTC,
        };
        parse_plain_text_line(&ctx, 1, raw).expect("parses")
    }

    #[test]
    fn timestamp_level_component_and_fields() {
        let record =
            parse("2026-11-20T14:02:07Z INFO keys: signing key rotated new_kid=k2 old_kid=k1");
        assert_eq!(record.severity, Severity::Info);
        assert_eq!(record.body, "signing key rotated new_kid=k2 old_kid=k1");
        assert_eq!(record.field_str("component").as_deref(), Some("keys"));
        assert_eq!(record.field_str("new_kid").as_deref(), Some("k2"));
        assert_eq!(record.service, "auth-server");
        assert!(record.ts.is_some());
    }

    #[test]
    fn a_level_padded_inside_its_brackets_is_read_whole() {
        let record =
            parse("2026-07-09T16:02:06.000Z [WARN ] agent.server.raft: Election timeout reached");
        assert_eq!(record.severity, Severity::Warn);
        assert_eq!(record.body, "Election timeout reached");
        assert_eq!(
            record.field_str("component").as_deref(),
            Some("agent.server.raft")
        );
        let record = parse("2026-07-09 16:02:06 [ INFO] started");
        assert_eq!(record.severity, Severity::Info);
        assert_eq!(record.body, "started");
    }

    #[test]
    fn a_name_and_a_number_alone_on_a_line_is_a_metric_sample() {
        let record = parse("evicted_keys:1043");
        assert_eq!(record.kind, SourceKind::Metric);
        assert_eq!(record.field_str("metric").as_deref(), Some("evicted_keys"));
        assert_eq!(
            record.fields.get("value").and_then(|v| v.as_f64()),
            Some(1043.0)
        );
        let record = parse("2026-06-18T05:30:00Z mem_fragmentation_ratio=1.08");
        assert_eq!(record.kind, SourceKind::Metric);
        // Text, a unit, several pairs or a sentence stay log lines.
        for line in [
            "maxmemory_policy:volatile-lru",
            "MemFree: 1024 kB",
            "retries=3 status=ok",
            "2026-06-18 05:30:00 connection closed: 3",
        ] {
            assert_eq!(parse(line).kind, SourceKind::Log, "{line}");
        }
    }

    #[test]
    fn bracketed_level_and_no_component() {
        let record = parse("2026-11-20 14:05:00,001 [ERROR] upstream timed out after 30s");
        assert_eq!(record.severity, Severity::Error);
        assert_eq!(record.body, "upstream timed out after 30s");
    }
}
