//! Configuration files read as documents: YAML (one record per `---`
//! document), and JSON, TOML or nginx.conf as one record per file.

use super::{RecordDraft, SourceContext};
use crate::{Record, SourceKind};

pub(crate) fn parse_config_document(ctx: &SourceContext<'_>, text: &str) -> Vec<Record> {
    let mut records = Vec::new();
    let mut start = 1u64;
    let mut lines: Vec<&str> = Vec::new();
    let is_yaml = ctx.source.ends_with(".yaml") || ctx.source.ends_with(".yml");
    for (index, line) in text.lines().enumerate() {
        if is_yaml && line.trim_end() == "---" {
            push_document(ctx, start, &lines, &mut records);
            lines.clear();
            start = index as u64 + 2;
            continue;
        }
        lines.push(line);
    }
    push_document(ctx, start, &lines, &mut records);
    records
}

fn push_document(ctx: &SourceContext<'_>, start: u64, lines: &[&str], records: &mut Vec<Record>) {
    let first_content = lines.iter().position(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with('#')
    });
    let Some(offset) = first_content else {
        return;
    };
    let raw = lines[offset..].join("\n");
    let mut draft = RecordDraft {
        kind: Some(SourceKind::Config),
        body: raw.clone(),
        ..RecordDraft::default()
    };
    for line in &lines[offset..] {
        // Top-level scalar keys (no indentation) describe the document.
        if line.starts_with(|c: char| c.is_whitespace() || c == '-' || c == '#') {
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            let value = value.trim().trim_matches('"');
            if !value.is_empty() && !key.contains(' ') {
                draft.fields.insert(key.trim().to_string(), value.into());
            }
        }
    }
    records.push(draft.finish(ctx, start + offset as u64, &raw));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_documents_split() {
        let ctx = SourceContext {
            tenant: "t",
            source: "gateway/gateway.yaml",
            default_service: "gateway",
            zone: crate::sources::UTC,
        };
        let text = "kind: Service\nname: a\n---\n# two\nkind: Plugin\nconfig:\n  ttl: 5\n";
        let records = parse_config_document(&ctx, text);
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].origin.line, 5);
        assert_eq!(records[1].field_str("kind").as_deref(), Some("Plugin"));
        assert!(records[1].field_str("ttl").is_none());
    }
}
