//! `git log` output (with or without patches) and unified diffs: one change
//! record per commit, or per file of a bare diff.

use chrono::DateTime;

use super::{RecordDraft, SourceContext};
use crate::timestamp::parse_timestamp_in;
use crate::{Record, SourceKind};

/// True when a file that starts with `first_line` is a git log or a diff.
pub(crate) fn looks_like_change_log(first_line: &str) -> bool {
    let hash_after = |prefix: &str| {
        first_line
            .strip_prefix(prefix)
            .and_then(|rest| rest.get(..40))
            .is_some_and(|hash| hash.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    hash_after("commit ")
        || hash_after("From ")
        || first_line.starts_with("diff --git ")
        || first_line.starts_with("--- a/")
}

pub(crate) fn parse_change_log(ctx: &SourceContext<'_>, text: &str) -> Vec<Record> {
    let lines: Vec<&str> = text.lines().collect();
    let commit_starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("commit "))
        .map(|(i, _)| i)
        .collect();
    if commit_starts.is_empty() {
        return file_diffs(ctx, &lines);
    }
    commit_starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let end = commit_starts.get(n + 1).copied().unwrap_or(lines.len());
            commit(ctx, start, &lines[start..end])
        })
        .collect()
}

fn commit(ctx: &SourceContext<'_>, start: usize, lines: &[&str]) -> Record {
    let hash = lines[0]
        .trim_start_matches("commit ")
        .split_whitespace()
        .next()
        .unwrap_or_default();
    let header = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    // The message is the indented block before the patch; indented lines
    // of the patch itself (YAML, code) are not part of it.
    let patch_start = lines
        .iter()
        .position(|l| l.starts_with("diff ") || l.starts_with("--- "))
        .unwrap_or(lines.len());
    let message: Vec<&str> = lines[..patch_start]
        .iter()
        .filter_map(|l| l.strip_prefix("    "))
        .collect();
    let changed = changed_lines(&lines[patch_start..]);
    let files = changed_files(lines);
    let subject = message.first().copied().unwrap_or_default();
    let mut draft = RecordDraft {
        kind: Some(SourceKind::Change),
        ts: header("Date:").and_then(|d| git_date(ctx, d)),
        body: if files.is_empty() {
            subject.to_string()
        } else {
            format!("{subject} (files: {})", files.join(", "))
        },
        ..RecordDraft::default()
    };
    draft.fields.insert("commit".into(), hash.into());
    if let Some(author) = header("Author:") {
        draft.fields.insert("author".into(), author.into());
    }
    if message.len() > 1 {
        draft
            .fields
            .insert("message".into(), message.join("\n").into());
    }
    if !changed.is_empty() {
        draft
            .fields
            .insert("changed_lines".into(), changed.join("\n").into());
    }
    draft.finish(ctx, start as u64 + 1, &lines.join("\n"))
}

/// Lines a patch adds or removes, with their `+`/`-`, at most
/// [`MAX_CHANGED_LINES`]: what the change did, for linking it to symptoms
/// and quoting it. In a YAML file a changed `key: value` is written with
/// the keys of the mappings it sits in (`resources.limits.cpu: 500m`), read
/// from the hunk's indentation: `cpu` alone does not say which one changed.
fn changed_lines(patch: &[&str]) -> Vec<String> {
    let mut yaml = false;
    let mut parents: Vec<(usize, Parent)> = Vec::new();
    let mut document = ObjectName::default();
    let mut changed = Vec::new();
    for line in patch {
        if let Some(path) = line
            .strip_prefix("+++ ")
            .or_else(|| line.strip_prefix("diff --git "))
        {
            let path = path.rsplit(' ').next().unwrap_or(path);
            yaml = path.ends_with(".yaml") || path.ends_with(".yml");
            parents.clear();
            document = ObjectName::default();
            continue;
        }
        if line.starts_with("@@") || line.starts_with("---") {
            // A hunk may sit in another document of the file: its object
            // is named only once the hunk shows it again.
            parents.clear();
            document = ObjectName::default();
            continue;
        }
        let (sign, content) = line.split_at(line.len().min(1));
        let qualified = if yaml && matches!(sign, " " | "+" | "-") {
            yaml_path(&mut parents, &mut document, content)
        } else {
            None
        };
        let is_change = matches!(sign, "+" | "-") && !content.trim().is_empty();
        if is_change && changed.len() < MAX_CHANGED_LINES {
            changed.push(match qualified {
                Some(qualified) => format!("{sign}{qualified}"),
                None => line.trim_end().to_string(),
            });
        }
    }
    changed
}

/// A mapping a YAML line sits in: a key that opened it, or a list item,
/// named by its first scalar fields (`name=openid-connect route=invoices-v2`),
/// since an item has no key of its own.
enum Parent {
    Key(String),
    Item(Vec<String>),
}

/// The object a YAML document describes, as Kubernetes-style manifests
/// name it (`kind: NetworkPolicy`, `metadata.name: default-deny-egress`):
/// `spec.egress[].to[]` alone does not say which object changed.
#[derive(Default)]
struct ObjectName {
    kind: Option<String>,
    name: Option<String>,
}

impl ObjectName {
    /// `NetworkPolicy/default-deny-egress `, or nothing until both are read.
    fn prefix(&self) -> String {
        match (&self.kind, &self.name) {
            (Some(kind), Some(name)) => format!("{kind}/{name} "),
            _ => String::new(),
        }
    }
}

/// Fields of a list item that name it.
const ITEM_NAME_FIELDS: usize = 2;

/// Tracks the mappings open at `content`'s indentation; for a `key: value`
/// line inside one, the line with its key qualified by theirs
/// (`plugins[name=oidc route=v2].config.scopes: [read]`).
fn yaml_path(
    parents: &mut Vec<(usize, Parent)>,
    document: &mut ObjectName,
    content: &str,
) -> Option<String> {
    let trimmed = content.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    // A document separator starts another object.
    if trimmed.starts_with("---") {
        parents.clear();
        *document = ObjectName::default();
        return None;
    }
    let line_indent = content.len() - trimmed.len();
    let (item, body, indent) = match trimmed.strip_prefix("- ") {
        Some(rest) => {
            let body = rest.trim_start();
            (true, body, content.len() - body.len())
        }
        None => (false, trimmed, line_indent),
    };
    // An item sits one column left of its fields, so its siblings keep it
    // open; the next item closes it and everything within it, though not
    // the key it is listed under, which may share its dash's column.
    while parents.last().is_some_and(|(open, parent)| match parent {
        Parent::Item(_) if item => *open >= line_indent,
        Parent::Key(_) if item => *open > line_indent,
        _ => *open >= indent,
    }) {
        parents.pop();
    }
    if item {
        parents.push((indent - 1, Parent::Item(Vec::new())));
    }
    let (key, value) = body.split_once(':')?;
    let is_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || "_-./\"'".contains(c));
    if !is_key {
        return None;
    }
    let value = value.trim();
    if value.is_empty() || value == "|" || value == ">" {
        parents.push((indent, Parent::Key(key.to_string())));
        return None;
    }
    let path = path_of(parents);
    let scalar = || value.trim_matches(|c| c == '"' || c == '\'').to_string();
    match (path.as_str(), key) {
        ("", "kind") => document.kind = Some(scalar()),
        ("metadata", "name") => document.name = Some(scalar()),
        _ => {}
    }
    if let Some((_, Parent::Item(fields))) = parents.last_mut()
        && fields.len() < ITEM_NAME_FIELDS
    {
        fields.push(format!("{key}={value}"));
    }
    if item || path.is_empty() {
        return None;
    }
    // The object's own name needs no prefix.
    let object = if path == "metadata" {
        String::new()
    } else {
        document.prefix()
    };
    Some(format!(
        "{}{object}{path}.{key}: {value}",
        &content[..line_indent]
    ))
}

/// `a.b[name=x].c`: the open mappings, outermost first.
fn path_of(parents: &[(usize, Parent)]) -> String {
    let mut path = String::new();
    for (_, parent) in parents {
        match parent {
            Parent::Key(key) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Parent::Item(fields) if !fields.is_empty() => {
                path.push_str(&format!("[{}]", fields.join(" ")));
            }
            Parent::Item(_) => path.push_str("[]"),
        }
    }
    path
}

/// Changed lines kept per commit.
const MAX_CHANGED_LINES: usize = 200;

/// Git's default date (`Thu Nov 20 14:02:00 2026 +0000`) or ISO forms.
fn git_date(ctx: &SourceContext<'_>, text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    DateTime::parse_from_str(text, "%a %b %e %H:%M:%S %Y %z")
        .ok()
        .map(|d| d.to_utc())
        .or_else(|| parse_timestamp_in(text, ctx.zone))
}

fn changed_files(lines: &[&str]) -> Vec<String> {
    let mut files: Vec<String> = lines
        .iter()
        .filter_map(|l| {
            l.strip_prefix("+++ b/").or_else(|| {
                l.strip_prefix("diff --git a/")
                    .and_then(|r| r.split(" b/").next())
            })
        })
        .map(str::to_string)
        .collect();
    files.dedup();
    files
}

fn file_diffs(ctx: &SourceContext<'_>, lines: &[&str]) -> Vec<Record> {
    let date = lines
        .iter()
        .find_map(|l| l.strip_prefix("Date: "))
        .and_then(|d| {
            DateTime::parse_from_rfc2822(d.trim())
                .ok()
                .map(|d| d.to_utc())
                .or_else(|| git_date(ctx, d.trim()))
        });
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(i, l)| {
            l.starts_with("diff --git ")
                || (l.starts_with("--- ")
                    && !lines
                        .get(i.wrapping_sub(1))
                        .is_some_and(|p| p.starts_with("index ") || p.starts_with("diff ")))
        })
        .map(|(i, _)| i)
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let end = starts.get(n + 1).copied().unwrap_or(lines.len());
            let part = &lines[start..end];
            let file = changed_files(part).into_iter().next().unwrap_or_default();
            let added = part
                .iter()
                .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
                .count();
            let removed = part
                .iter()
                .filter(|l| l.starts_with('-') && !l.starts_with("---"))
                .count();
            let mut draft = RecordDraft {
                kind: Some(SourceKind::Change),
                ts: date,
                body: format!("diff {file}: +{added} -{removed}\n{}", part.join("\n")),
                ..RecordDraft::default()
            };
            draft.fields.insert("file".into(), file.into());
            let changed = changed_lines(part);
            if !changed.is_empty() {
                draft
                    .fields
                    .insert("changed_lines".into(), changed.join("\n").into());
            }
            draft.finish(ctx, start as u64 + 1, &part.join("\n"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    /// Two unrelated YAML layouts: a Helm chart's resources, whose `cpu`
    /// appears under requests and limits, and a Kubernetes NetworkPolicy.
    #[test]
    fn yaml_settings_are_qualified_by_the_mappings_they_sit_in() {
        let helm = [
            "diff --git a/charts/api/values.yaml b/charts/api/values.yaml",
            "--- a/charts/api/values.yaml",
            "+++ b/charts/api/values.yaml",
            "@@ -18,6 +18,6 @@ image:",
            " resources:",
            "   requests:",
            "-    cpu: \"1\"",
            "+    cpu: 250m",
            "     memory: 512Mi",
            "   limits:",
            "-    cpu: \"2\"",
            "+    cpu: 500m",
        ];
        assert_eq!(
            super::changed_lines(&helm),
            vec![
                "-    resources.requests.cpu: \"1\"",
                "+    resources.requests.cpu: 250m",
                "-    resources.limits.cpu: \"2\"",
                "+    resources.limits.cpu: 500m",
            ]
        );
        let policy = [
            "+++ b/k8s/netpol.yml",
            "@@ -1,9 +1,9 @@",
            " spec:",
            "   podSelector:",
            "     matchLabels:",
            "-      app: ledger",
            "+      app: ledger-v2",
            "   egress:",
            "-  - to: []",
            "+    - ports: [5432]",
        ];
        assert_eq!(
            super::changed_lines(&policy),
            vec![
                "-      spec.podSelector.matchLabels.app: ledger",
                "+      spec.podSelector.matchLabels.app: ledger-v2",
                "-  - to: []",
                "+    - ports: [5432]",
            ]
        );
        let kong = [
            "+++ b/kong/plugins.yaml",
            "@@ -88,6 +88,6 @@ plugins:",
            "   - name: openid-connect",
            "     route: invoices-v2",
            "     config:",
            "-      scopes_required: [invoices]",
            "+      scopes_required: [invoices:read]",
            "+   - name: openid-connect",
            "+     route: invoices-v2-write",
        ];
        assert_eq!(
            super::changed_lines(&kong),
            vec![
                "-      [name=openid-connect route=invoices-v2].config.scopes_required: [invoices]",
                "+      [name=openid-connect route=invoices-v2].config.scopes_required: [invoices:read]",
                "+   - name: openid-connect",
                "+     [name=openid-connect].route: invoices-v2-write",
            ]
        );
        let manifests = [
            "+++ b/iam/policies.yaml",
            "@@ -0,0 +1,12 @@",
            "+apiVersion: networking.k8s.io/v1",
            "+kind: NetworkPolicy",
            "+metadata:",
            "+  name: default-deny-egress",
            "+spec:",
            "+  policyTypes: [Egress]",
            "+---",
            "+kind: PeerAuthentication",
            "+metadata:",
            "+  name: \"default\"",
            "+spec:",
            "+  mtls:",
            "+    mode: STRICT",
        ];
        assert_eq!(
            super::changed_lines(&manifests),
            vec![
                "+apiVersion: networking.k8s.io/v1",
                "+kind: NetworkPolicy",
                "+metadata:",
                "+  metadata.name: default-deny-egress",
                "+spec:",
                "+  NetworkPolicy/default-deny-egress spec.policyTypes: [Egress]",
                "+---",
                "+kind: PeerAuthentication",
                "+metadata:",
                "+  metadata.name: \"default\"",
                "+spec:",
                "+  mtls:",
                "+    PeerAuthentication/default spec.mtls.mode: STRICT",
            ],
            "each line names the object of its document"
        );
        let code = [
            "+++ b/src/main.rs",
            "@@ -1 +1 @@",
            " fn main() {",
            "-    let a: u8 = 1;",
            "+    let a: u8 = 2;",
        ];
        assert_eq!(
            super::changed_lines(&code),
            vec!["-    let a: u8 = 1;", "+    let a: u8 = 2;"],
            "only YAML files are read as mappings"
        );
    }

    use super::*;

    fn ctx() -> SourceContext<'static> {
        SourceContext {
            tenant: "t",
            source: "changes.log",
            default_service: "infra",
            zone: crate::sources::UTC,
        }
    }

    #[test]
    fn git_log_commits_become_changes() {
        let text = "commit 3f9a2c1d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c\nAuthor: J Doe <j@example.com>\nDate:   Fri Nov 20 14:02:00 2026 +0000\n\n    Rotate OIDC signing key\n\n    Ticket CHG-4815\n\ndiff --git a/auth.tf b/auth.tf\n--- a/auth.tf\n+++ b/auth.tf\n@@ -1 +1 @@\n-kid = \"a\"\n+kid = \"b\"\ncommit 1111111111111111111111111111111111111111\nAuthor: Bot <b@example.com>\nDate:   Fri Nov 20 13:00:00 2026 +0000\n\n    Bump deps\n";
        assert!(looks_like_change_log(
            text.lines().next().unwrap_or_default()
        ));
        let records = parse_change_log(&ctx(), text);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].body, "Rotate OIDC signing key (files: auth.tf)");
        assert_eq!(
            records[0].ts.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-20T14:02:00+00:00")
        );
        assert_eq!(
            records[0].field_str("author").as_deref(),
            Some("J Doe <j@example.com>")
        );
        assert_eq!(records[1].origin.line, 15);
        assert_eq!(
            records[0].field_str("changed_lines").as_deref(),
            Some("-kid = \"a\"\n+kid = \"b\"")
        );
    }

    /// Indented lines of a patch (YAML, code) once joined the message.
    #[test]
    fn the_message_ends_where_the_patch_begins() {
        let text = "commit 3f9a2c1d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c\nAuthor: J Doe <j@example.com>\nDate:   2026-08-20T02:07:44+00:00\n\n    API-1: require scopes\n\n    Replaces the coarse scope.\n\ndiff --git a/plugins.yaml b/plugins.yaml\n--- a/plugins.yaml\n+++ b/plugins.yaml\n@@ -1,3 +1,3 @@\n     route: invoices-v2\n-      scopes_required: [invoices]\n+      scopes_required: [invoices:read]\n";
        let records = parse_change_log(&ctx(), text);
        assert_eq!(
            records[0].field_str("message").as_deref(),
            Some("API-1: require scopes\nReplaces the coarse scope.")
        );
        assert_eq!(
            records[0].field_str("changed_lines").as_deref(),
            Some("-      scopes_required: [invoices]\n+      scopes_required: [invoices:read]")
        );
    }

    #[test]
    fn bare_unified_diff_gives_one_change_per_file() {
        let text = "--- a/gateway.yaml\n+++ b/gateway.yaml\n@@ -3 +3 @@\n-cache_ttl: 300\n+cache_ttl: 86400\n--- a/auth.tf\n+++ b/auth.tf\n@@ -1 +1,2 @@\n+x = 1\n";
        let records = parse_change_log(&ctx(), text);
        assert_eq!(records.len(), 2);
        assert!(
            records[0].body.starts_with("diff gateway.yaml: +1 -1"),
            "{}",
            records[0].body
        );
        assert_eq!(records[1].field_str("file").as_deref(), Some("auth.tf"));
    }
}
