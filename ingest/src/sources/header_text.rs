//! Plain text described by a header format string (the LogHub convention).

use super::{RecordDraft, SourceContext};
use crate::timestamp::parse_timestamp_in;
use crate::{HeaderFormat, Record, Severity, SourceKind};

pub(crate) fn parse_header_line(
    ctx: &SourceContext<'_>,
    format: &HeaderFormat,
    line: u64,
    raw: &str,
) -> Result<Record, String> {
    let fields = format
        .split(raw.trim_end())
        .ok_or("line does not match the header format")?;
    let get = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    };
    let when = match (get("Date"), get("Time")) {
        (Some(date), Some(time)) => Some(format!("{date} {time}")),
        _ => get("Timestamp")
            .or(get("Time"))
            .or(get("Date"))
            .map(str::to_string),
    };
    let mut draft = RecordDraft {
        kind: Some(SourceKind::Log),
        ts: when
            .as_deref()
            .and_then(|w| parse_timestamp_in(w, ctx.zone)),
        severity: get("Level")
            .and_then(Severity::from_level)
            .unwrap_or_default(),
        body: get("Content").unwrap_or_default().to_string(),
        ..RecordDraft::default()
    };
    for (name, value) in &fields {
        if !matches!(*name, "Content" | "Date" | "Time") && !value.is_empty() {
            draft.fields.insert(name.to_lowercase(), (*value).into());
        }
    }
    Ok(draft.finish(ctx, line, raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_become_record_fields() {
        let format =
            HeaderFormat::parse("<Date> <Time> <Level> <Component>: <Content>").expect("format");
        let ctx = SourceContext {
            tenant: "t",
            source: "spark.log",
            default_service: "spark",
            zone: crate::sources::UTC,
        };
        let record = parse_header_line(
            &ctx,
            &format,
            1,
            "2026-11-20 14:05:01 ERROR storage.BlockManager: Failed to fetch block rdd_2_0",
        )
        .expect("parses");
        assert_eq!(record.severity, Severity::Error);
        assert_eq!(record.body, "Failed to fetch block rdd_2_0");
        assert_eq!(
            record.field_str("component").as_deref(),
            Some("storage.BlockManager")
        );
        assert!(record.ts.is_some());
        assert!(parse_header_line(&ctx, &format, 2, "garbage").is_err());
    }
}
