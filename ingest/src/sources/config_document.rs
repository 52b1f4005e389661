//! Configuration files read as documents: YAML (one record per `---`
//! document), and JSON, TOML or nginx.conf as one record per file.

use super::{RecordDraft, SourceContext};
use crate::{Record, SourceKind};

pub(crate) fn parse_config_document(ctx: &SourceContext<'_>, text: &str) -> Vec<Record> {
    if ctx.source.ends_with(".conf") {
        let servers = nginx_servers(ctx, text);
        if !servers.is_empty() {
            return servers;
        }
    }
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

/// nginx.conf: one record per `server { }` block, with its `server_name`,
/// `listen`, `proxy_pass` and certificate directives as fields.
fn nginx_servers(ctx: &SourceContext<'_>, text: &str) -> Vec<Record> {
    let lines: Vec<&str> = text.lines().collect();
    let mut records = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let head = lines[index].trim();
        let is_server = head
            .strip_prefix("server")
            .is_some_and(|rest| rest.trim() == "{");
        if !is_server {
            index += 1;
            continue;
        }
        let mut depth = 0i64;
        let mut end = index;
        for (offset, line) in lines[index..].iter().enumerate() {
            depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
            end = index + offset;
            if depth <= 0 {
                break;
            }
        }
        let block = &lines[index..=end];
        let raw = block.join("\n");
        let mut draft = RecordDraft {
            kind: Some(SourceKind::Config),
            body: raw.clone(),
            ..RecordDraft::default()
        };
        draft.fields.insert("block".into(), "server".into());
        for line in block {
            let directive = line.trim().trim_end_matches(';');
            if let Some((name, value)) = directive.split_once(char::is_whitespace)
                && [
                    "server_name",
                    "listen",
                    "proxy_pass",
                    "ssl_certificate",
                    "return",
                ]
                .contains(&name)
            {
                draft
                    .fields
                    .entry(name.to_string())
                    .or_insert_with(|| value.trim().into());
            }
        }
        records.push(draft.finish(ctx, index as u64 + 1, &raw));
        index = end + 1;
    }
    records
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
