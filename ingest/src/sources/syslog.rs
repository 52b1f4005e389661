//! Syslog lines: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`)
//! and RFC 3164 (`[<PRI>]Mmm dd hh:mm:ss HOST TAG[PID]: MSG`).

use chrono::{Datelike, NaiveDateTime, Utc};

use super::{RecordDraft, SourceContext};
use crate::timestamp::parse_timestamp;
use crate::{Record, Severity, SourceKind};

/// True when `line` is a syslog line of either RFC.
pub(crate) fn looks_like_syslog(line: &str) -> bool {
    let (_, rest) = split_priority(line);
    rest.starts_with("1 ")
        && rest.len() > 2
        && rest[2..].starts_with(|c: char| c.is_ascii_digit() || c == '-')
        || bsd_timestamp(rest).is_some()
}

fn split_priority(line: &str) -> (Option<u8>, &str) {
    if let Some(rest) = line.strip_prefix('<')
        && let Some((pri, rest)) = rest.split_once('>')
        && let Ok(pri) = pri.parse::<u8>()
    {
        return (Some(pri), rest);
    }
    (None, line)
}

/// `Nov 20 14:05:01` at the start of `text`, with the rest.
fn bsd_timestamp(text: &str) -> Option<(NaiveDateTime, &str)> {
    let head = text.get(..15)?;
    let year = Utc::now().year();
    let naive = NaiveDateTime::parse_from_str(
        &format!("{year} {}", head.replace("  ", " 0")),
        "%Y %b %d %H:%M:%S",
    )
    .ok()?;
    Some((naive, text[15..].trim_start()))
}

fn severity_of(pri: Option<u8>) -> Option<Severity> {
    Some(match pri? % 8 {
        0..=2 => Severity::Fatal,
        3 => Severity::Error,
        4 => Severity::Warn,
        5 | 6 => Severity::Info,
        _ => Severity::Debug,
    })
}

pub(crate) fn parse_syslog_line(
    ctx: &SourceContext<'_>,
    line: u64,
    raw: &str,
) -> Result<Record, String> {
    let (pri, rest) = split_priority(raw.trim_end());
    let mut draft = RecordDraft {
        kind: Some(SourceKind::Log),
        severity: severity_of(pri).unwrap_or_default(),
        ..RecordDraft::default()
    };
    if let Some(after_version) = rest.strip_prefix("1 ") {
        let mut parts = after_version.splitn(6, ' ');
        let mut next = || parts.next().filter(|p| *p != "-");
        draft.ts = next().and_then(parse_timestamp);
        draft.host = next().map(str::to_string);
        draft.service = next().map(str::to_string);
        if let Some(proc_id) = next() {
            draft.fields.insert("pid".into(), proc_id.into());
        }
        if let Some(msg_id) = next() {
            draft.fields.insert("msgid".into(), msg_id.into());
        }
        let remainder = parts.next().unwrap_or_default();
        draft.body = strip_structured_data(remainder, &mut draft)
            .trim_start_matches('\u{feff}')
            .to_string();
    } else {
        let (naive, after) = bsd_timestamp(rest).ok_or("not a syslog line")?;
        let ts = (naive - ctx.zone).and_utc();
        // RFC 3164 has no year: a date in the future belongs to last year.
        draft.ts = Some(if ts > Utc::now() + chrono::Duration::days(1) {
            ts - chrono::Duration::days(365)
        } else {
            ts
        });
        let (host, after) = after.split_once(' ').ok_or("syslog line without host")?;
        draft.host = Some(host.to_string());
        let (tag, message) = after.split_once(": ").unwrap_or(("", after));
        let (app, pid) = match tag.split_once('[') {
            Some((app, pid)) => (app, Some(pid.trim_end_matches(']'))),
            None => (tag, None),
        };
        if !app.is_empty() {
            draft.service = Some(app.to_string());
        }
        if let Some(pid) = pid {
            draft.fields.insert("pid".into(), pid.into());
        }
        draft.body = message.to_string();
    }
    if draft.ts.is_none() {
        return Err("syslog line without a readable timestamp".into());
    }
    Ok(draft.finish(ctx, line, raw))
}

/// Moves `[id key="value" ...]` elements into fields; returns the message.
fn strip_structured_data<'a>(text: &'a str, draft: &mut RecordDraft) -> &'a str {
    let mut rest = text;
    if let Some(after) = rest.strip_prefix("- ") {
        return after;
    }
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(end) = inner.find(']') else { break };
        for pair in inner[..end].split_whitespace().skip(1) {
            if let Some((key, value)) = pair.split_once('=') {
                draft
                    .fields
                    .insert(key.to_string(), value.trim_matches('"').into());
            }
        }
        rest = inner[end + 1..].trim_start();
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> SourceContext<'static> {
        SourceContext {
            tenant: "t",
            source: "syslog",
            default_service: "syslog",
            zone: crate::sources::UTC,
        }
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let raw = r#"<165>1 2026-11-20T14:05:01.003Z gw-1 envoy 811 ID47 [meta@1 route="/userinfo" status="401"] token rejected"#;
        assert!(looks_like_syslog(raw));
        let record = parse_syslog_line(&ctx(), 1, raw).expect("parses");
        assert_eq!(record.service, "envoy");
        assert_eq!(record.host.as_deref(), Some("gw-1"));
        assert_eq!(record.severity, Severity::Info);
        assert_eq!(record.body, "token rejected");
        assert_eq!(record.field_str("route").as_deref(), Some("/userinfo"));
    }

    #[test]
    fn rfc3164_with_and_without_priority() {
        for raw in [
            "<11>Nov  2 14:05:01 auth-1 sshd[4242]: Failed password for root",
            "Nov  2 14:05:01 auth-1 sshd[4242]: Failed password for root",
        ] {
            assert!(looks_like_syslog(raw), "{raw}");
            let record = parse_syslog_line(&ctx(), 1, raw).expect("parses");
            assert_eq!(record.service, "sshd");
            assert_eq!(record.field_str("pid").as_deref(), Some("4242"));
            assert_eq!(record.body, "Failed password for root");
            assert_eq!(
                record
                    .ts
                    .map(|t| t.format("%m-%d %H:%M").to_string())
                    .as_deref(),
                Some("11-02 14:05")
            );
        }
        assert!(!looks_like_syslog("2026-11-20 INFO started"));
    }
}
