//! Postmortems and runbooks in Markdown: one knowledge record per section,
//! every section carrying the document's key times, services, root cause and
//! resolution as fields where the document states them.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::Value;

use super::incident_timeline::{find_date, key_times, timeline};
use super::{RecordDraft, SourceContext};
use crate::NamedZone;
use crate::timestamp::parse_timestamp_in;
use crate::{Record, SourceKind};

/// Labels of the key times, by what a postmortem calls them.
const TIME_LABELS: &[(&str, &[&str])] = &[
    (
        "fault_at",
        &[
            "fault",
            "impact start",
            "started",
            "start of impact",
            "began",
            "incident start",
        ],
    ),
    ("detected_at", &["detected", "detection", "alerted"]),
    ("declared_at", &["declared", "incident declared"]),
    (
        "resolved_at",
        &[
            "resolved",
            "mitigated",
            "recovered",
            "impact end",
            "end of impact",
        ],
    ),
];

struct Section<'a> {
    line: u64,
    heading: &'a str,
    lines: Vec<&'a str>,
}

pub(crate) fn parse_markdown(ctx: &SourceContext<'_>, text: &str) -> Vec<Record> {
    let mut sections: Vec<Section<'_>> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') && trimmed.trim_start_matches('#').starts_with(' ') {
            sections.push(Section {
                line: index as u64 + 1,
                heading: trimmed.trim_start_matches('#').trim(),
                lines: Vec::new(),
            });
        } else if let Some(section) = sections.last_mut() {
            section.lines.push(line);
        } else if !trimmed.is_empty() {
            sections.push(Section {
                line: index as u64 + 1,
                heading: "",
                lines: vec![line],
            });
        }
    }
    let fields = document_fields(ctx, text, &sections);
    let ts = ["fault_at", "detected_at", "declared_at"]
        .iter()
        .find_map(|key| fields.iter().find(|(k, _)| k == key))
        .and_then(|(_, v)| {
            v.as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        })
        .map(|t| t.with_timezone(&Utc));
    // The first heading: text before it (a provenance note, front matter)
    // is no title.
    let title = sections
        .iter()
        .find(|s| !s.heading.is_empty())
        .map(|s| s.heading)
        .unwrap_or_default()
        .to_string();
    sections
        .iter()
        .filter(|s| !s.heading.is_empty() || s.lines.iter().any(|l| !l.trim().is_empty()))
        .map(|section| {
            let body = format!("{}\n{}", section.heading, section.lines.join("\n"))
                .trim()
                .to_string();
            let mut draft = RecordDraft {
                kind: Some(SourceKind::Knowledge),
                ts,
                body,
                ..RecordDraft::default()
            };
            draft.fields.insert("document".into(), title.clone().into());
            draft
                .fields
                .insert("section".into(), section.heading.into());
            draft.fields.extend(fields.iter().cloned());
            let raw = format!("{}\n{}", section.heading, section.lines.join("\n"));
            draft.finish(ctx, section.line, &raw)
        })
        .collect()
}

/// The day a report's undated times fall on until its timeline names one:
/// the date in its title, else in its file name, else the first date in
/// its text outside quotes and front matter (which hold when it was
/// written or fetched, not when the incident happened).
fn report_date(ctx: &SourceContext<'_>, text: &str, sections: &[Section<'_>]) -> Option<NaiveDate> {
    let title = sections
        .iter()
        .find(|s| !s.heading.is_empty())
        .map(|s| s.heading);
    title
        .and_then(find_date)
        .or_else(|| find_date(ctx.source))
        .or_else(|| {
            let mut front_matter = false;
            text.lines()
                .enumerate()
                .filter(|(i, line)| {
                    if line.trim() == "---" && (*i == 0 || front_matter) {
                        front_matter = !front_matter;
                        return false;
                    }
                    !front_matter && !line.trim_start().starts_with('>')
                })
                .find_map(|(_, line)| find_date(line))
        })
}

fn document_fields(
    ctx: &SourceContext<'_>,
    text: &str,
    sections: &[Section<'_>],
) -> Vec<(String, Value)> {
    let date = report_date(ctx, text, sections);
    let mut fields: Vec<(String, Value)> = Vec::new();
    let mut times: Vec<(&str, DateTime<Utc>)> = Vec::new();
    for line in text.lines() {
        let Some((label, value)) = label_value(line) else {
            continue;
        };
        let label = label.to_lowercase();
        if let Some((field, _)) = TIME_LABELS.iter().find(|(_, names)| {
            names.iter().any(|n| {
                label == *n
                    || label.starts_with(&format!("{n} "))
                    || label.ends_with(&format!(" {n}"))
            })
        }) {
            if times.iter().any(|(f, _)| f == field) {
                continue;
            }
            if let Some(at) = parse_when(ctx, value, date) {
                times.push((field, at));
                fields.push((field.to_string(), at.to_rfc3339().into()));
            }
        } else if label.contains("service") && !fields.iter().any(|(k, _)| k == "services") {
            fields.push(("services".into(), value.trim().into()));
        }
    }
    // Times no label states come from the timeline's entries.
    let zone = NamedZone::Fixed(ctx.zone.local_minus_utc() / 60);
    let told = key_times(&timeline(text, date, zone));
    for (field, at) in [
        ("fault_at", told.fault),
        ("detected_at", told.detected),
        ("declared_at", told.declared),
        ("resolved_at", told.resolved),
    ] {
        if let Some(at) = at
            && !times.iter().any(|(f, _)| *f == field)
        {
            times.push((field, at));
            fields.push((field.to_string(), at.to_rfc3339().into()));
        }
    }
    let at = |name: &str| times.iter().find(|(f, _)| *f == name).map(|(_, t)| *t);
    let start = at("fault_at").or(at("detected_at"));
    if let (Some(start), Some(end)) = (start, at("resolved_at")) {
        fields.push((
            "time_to_resolve_min".into(),
            (end - start).num_minutes().into(),
        ));
    }
    if let (Some(fault), Some(detected)) = (at("fault_at"), at("detected_at")) {
        fields.push((
            "time_to_detect_min".into(),
            (detected - fault).num_minutes().into(),
        ));
    }
    for (field, names) in [
        ("root_cause", &["root cause", "cause"][..]),
        (
            "resolution",
            &["resolution", "remediation", "fix", "mitigation"],
        ),
    ] {
        let section = sections.iter().find(|s| {
            names
                .iter()
                .any(|n| s.heading.to_lowercase().starts_with(n))
        });
        if let Some(section) = section {
            let paragraph: Vec<&str> = section
                .lines
                .iter()
                .map(|l| l.trim())
                .skip_while(|l| l.is_empty())
                .take_while(|l| !l.is_empty())
                .collect();
            fields.push((field.into(), paragraph.join(" ").into()));
        } else if let Some((_, value)) =
            text.lines().filter_map(label_value).find(|(label, value)| {
                !value.is_empty() && names.contains(&label.to_lowercase().as_str())
            })
        {
            // "Root cause: ..." as a labelled line rather than a section.
            fields.push((field.into(), value.into()));
        }
    }
    fields
}

/// `- **Detected:** 14:07 UTC`, `Detected: ...`, `| Detected | ... |`.
fn label_value(line: &str) -> Option<(&str, &str)> {
    let line = line.trim().trim_start_matches(['-', '*', ' ']);
    if let Some(row) = line.strip_prefix('|') {
        let mut cells = row.split('|').map(str::trim);
        let label = cells.next()?.trim_matches('*');
        return Some((label, cells.next()?));
    }
    let (label, value) = line.split_once(':')?;
    let label = label.trim().trim_matches('*').trim();
    (label.len() <= 40 && !label.is_empty())
        .then_some((label, value.trim().trim_start_matches('*').trim()))
}

fn parse_when(
    ctx: &SourceContext<'_>,
    value: &str,
    date: Option<NaiveDate>,
) -> Option<DateTime<Utc>> {
    let cleaned = value.replace(" UTC", "").replace('*', "");
    let cleaned = cleaned.trim();
    if let Some(at) = parse_timestamp_in(cleaned, ctx.zone) {
        return Some(at);
    }
    let first = cleaned.split_whitespace().next()?;
    let time = NaiveTime::parse_from_str(first, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(first, "%H:%M:%S"))
        .ok()?;
    Some((date?.and_time(time) - ctx.zone).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postmortem_sections_carry_key_times_and_cause() {
        let text = "# Postmortem: 401s after signing key rotation\n\nDate: 2026-11-20\n\n- **Fault:** 14:02 UTC\n- **Detected:** 14:09 UTC\n| Resolved | 2026-11-20 14:48 |\n\nAffected services: api-gateway, auth-server\n\n## Root cause\n\nThe gateway cached the JWKS for 24h and did not refetch on an unknown kid.\n\n## Resolution\n\nFlushed the gateway JWKS cache.\n";
        let ctx = SourceContext {
            tenant: "t",
            source: "pm.md",
            default_service: "pm",
            zone: crate::sources::UTC,
        };
        let records = parse_markdown(&ctx, text);
        assert_eq!(records.len(), 3);
        let cause = &records[1];
        assert_eq!(cause.kind, SourceKind::Knowledge);
        assert_eq!(cause.origin.line, 11);
        assert_eq!(cause.field_str("section").as_deref(), Some("Root cause"));
        assert_eq!(
            cause.field_str("time_to_resolve_min").as_deref(),
            Some("46")
        );
        assert_eq!(cause.field_str("time_to_detect_min").as_deref(), Some("7"));
        assert_eq!(
            cause.field_str("services").as_deref(),
            Some("api-gateway, auth-server")
        );
        assert_eq!(
            cause.field_str("resolution").as_deref(),
            Some("Flushed the gateway JWKS cache.")
        );
        assert!(
            cause
                .field_str("root_cause")
                .is_some_and(|c| c.contains("unknown kid"))
        );
        assert_eq!(
            cause.ts.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-20T14:02:00+00:00")
        );
    }
}
