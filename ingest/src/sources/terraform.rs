//! Terraform `.tf` files: one config record per top-level block.

use super::{RecordDraft, SourceContext};
use crate::{BadInput, Origin, Record, SourceKind};

/// Splits a `.tf` file into its top-level blocks (`resource "t" "n" { … }`),
/// tracking brace depth outside strings. Attributes at depth one become fields.
pub(crate) fn parse_terraform(ctx: &SourceContext<'_>, text: &str) -> (Vec<Record>, Vec<BadInput>) {
    let mut records = Vec::new();
    let mut bad = Vec::new();
    let mut block: Option<(u64, Vec<&str>)> = None;
    let mut depth: i64 = 0;
    for (index, line) in text.lines().enumerate() {
        let line_no = index as u64 + 1;
        let trimmed = line.trim();
        if block.is_none() {
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("//") {
                continue;
            }
            block = Some((line_no, Vec::new()));
        }
        if let Some((_, lines)) = block.as_mut() {
            lines.push(line);
        }
        depth += brace_delta(line);
        if depth <= 0 {
            if let Some((start, lines)) = block.take() {
                records.push(block_record(ctx, start, &lines));
            }
            depth = 0;
        }
    }
    if let Some((start, _)) = block {
        bad.push(BadInput {
            origin: Origin {
                source: ctx.source.to_string(),
                line: start,
            },
            reason: "unterminated Terraform block (missing closing brace)".into(),
        });
    }
    (records, bad)
}

fn brace_delta(line: &str) -> i64 {
    let mut delta = 0;
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => break,
            '{' if !in_string => delta += 1,
            '}' if !in_string => delta -= 1,
            _ => {}
        }
    }
    delta
}

fn block_record(ctx: &SourceContext<'_>, start: u64, lines: &[&str]) -> Record {
    let header = lines.first().map(|l| l.trim()).unwrap_or_default();
    let labels: Vec<&str> = header.split('"').skip(1).step_by(2).collect();
    let block_type = header.split_whitespace().next().unwrap_or_default();
    let raw = lines.join("\n");
    let mut draft = RecordDraft {
        kind: Some(SourceKind::Config),
        body: raw.clone(),
        ..RecordDraft::default()
    };
    draft.fields.insert("block".into(), block_type.into());
    if let Some(resource_type) = labels.first() {
        draft
            .fields
            .insert("resource_type".into(), (*resource_type).into());
    }
    if let Some(name) = labels.get(1) {
        draft.fields.insert("resource_name".into(), (*name).into());
    }
    let mut depth = 0;
    for line in lines {
        if depth == 1
            && let Some((key, value)) = line.split_once('=')
        {
            let key = key.trim();
            if !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_') {
                draft
                    .fields
                    .insert(format!("attr.{key}"), value.trim().trim_matches('"').into());
            }
        }
        depth += brace_delta(line);
    }
    draft.finish(ctx, start, &raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_records_with_attributes() {
        let text = "# keys\nresource \"okta_auth_server\" \"main\" {\n  name = \"default\"\n  credentials_rotation_mode = \"MANUAL\"\n  nested {\n    a = \"{b}\"\n  }\n}\n\nvariable \"x\" {}\n";
        let ctx = SourceContext {
            tenant: "t",
            source: "infra/main.tf",
            default_service: "infra",
            zone: crate::sources::UTC,
        };
        let (records, bad) = parse_terraform(&ctx, text);
        assert!(bad.is_empty());
        assert_eq!(records.len(), 2);
        let server = &records[0];
        assert_eq!(server.origin.line, 2);
        assert_eq!(
            server.field_str("resource_type").as_deref(),
            Some("okta_auth_server")
        );
        assert_eq!(
            server
                .field_str("attr.credentials_rotation_mode")
                .as_deref(),
            Some("MANUAL")
        );
        assert!(
            server.field_str("attr.a").is_none(),
            "nested attributes stay in the body"
        );
        assert_eq!(records[1].origin.line, 10);
    }

    #[test]
    fn unterminated_block_is_reported_and_earlier_blocks_kept() {
        let ctx = SourceContext {
            tenant: "t",
            source: "x.tf",
            default_service: "x",
            zone: crate::sources::UTC,
        };
        let (records, bad) = parse_terraform(&ctx, "locals {}\nresource \"a\" \"b\" {\n  x = 1\n");
        assert_eq!(records.len(), 1);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].origin.line, 2);
    }
}
