//! What a change did, read from its changed lines: settings whose value it
//! modified (`scopes_required: [invoices] -> [invoices:read]`), lines it
//! added or removed, and none of the lines it only moved or re-indented.

/// One effect of a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ChangedLine {
    /// A setting whose value went from `before` to `after`.
    Modified {
        key: String,
        before: String,
        after: String,
    },
    Added(String),
    Removed(String),
}

impl ChangedLine {
    pub(crate) fn text(&self) -> String {
        match self {
            ChangedLine::Modified { key, before, after } => format!("{key}: {before} -> {after}"),
            ChangedLine::Added(line) => format!("+ {line}"),
            ChangedLine::Removed(line) => format!("- {line}"),
        }
    }

    pub(crate) fn is_modification(&self) -> bool {
        matches!(self, ChangedLine::Modified { .. })
    }
}

/// The effects of `+`/`-` lines, modifications first, each group in patch
/// order. A removed line and an added line with the same content are a
/// move; a removed and an added line setting the same key are one
/// modification.
pub(crate) fn summarize(changed_lines: &str) -> Vec<ChangedLine> {
    let mut removed: Vec<String> = Vec::new();
    let mut added: Vec<String> = Vec::new();
    for line in changed_lines.lines() {
        let (sign, content) = line.split_at(line.len().min(1));
        let content = content.split_whitespace().collect::<Vec<_>>().join(" ");
        if content.is_empty() {
            continue;
        }
        match sign {
            "+" => added.push(content),
            "-" => removed.push(content),
            _ => {}
        }
    }
    // Moves and re-indents change nothing.
    let mut kept_removed = Vec::new();
    for line in removed {
        match added.iter().position(|a| *a == line) {
            Some(at) => {
                added.remove(at);
            }
            None => kept_removed.push(line),
        }
    }
    let mut effects = Vec::new();
    let mut unpaired_removed = Vec::new();
    for line in kept_removed {
        let pair = setting(&line).and_then(|(key, before)| {
            let at = added
                .iter()
                .position(|a| setting(a).is_some_and(|(k, _)| k == key))?;
            let after = setting(&added[at]).map(|(_, v)| v.to_string())?;
            Some((at, key.to_string(), before.to_string(), after))
        });
        match pair {
            Some((at, key, before, after)) => {
                added.remove(at);
                effects.push(ChangedLine::Modified { key, before, after });
            }
            None => unpaired_removed.push(line),
        }
    }
    effects.extend(added.into_iter().map(ChangedLine::Added));
    effects.extend(unpaired_removed.into_iter().map(ChangedLine::Removed));
    effects.sort_by_key(|e| !e.is_modification());
    effects
}

/// `key: value`, `key = value` or `key=value` (a list marker before the key
/// is not part of it).
fn setting(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_start_matches("- ").trim();
    // A qualified key names list items in brackets (`[name=x].key`).
    let mut depth = 0i32;
    let at = line.char_indices().find_map(|(at, c)| {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ':' | '=' if depth <= 0 => return Some(at),
            _ => {}
        }
        None
    })?;
    let (key, value) = (line[..at].trim(), line[at + 1..].trim());
    let mut depth = 0i32;
    let is_key = !key.is_empty()
        && key.chars().all(|c| {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            }
            depth > 0 || c.is_alphanumeric() || "_-.\"'[]".contains(c)
        });
    (is_key && !value.is_empty()).then_some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_given_a_new_value_is_one_modification() {
        let lines = "-      scopes_claim: [scp]\n-      scopes_required: [invoices]\n+      scopes_claim: [scp]\n+      scopes_required: [invoices:read]\n+      # write routes below";
        let effects = summarize(lines);
        assert_eq!(
            effects,
            [
                ChangedLine::Modified {
                    key: "scopes_required".into(),
                    before: "[invoices]".into(),
                    after: "[invoices:read]".into()
                },
                ChangedLine::Added("# write routes below".into())
            ]
        );
        assert_eq!(
            effects[0].text(),
            "scopes_required: [invoices] -> [invoices:read]"
        );
    }

    #[test]
    fn a_key_qualified_by_a_list_item_pairs_whole() {
        let lines = "-  [name=oidc route=v2].config.scopes: [invoices]\n+  [name=oidc route=v2].config.scopes: [invoices:read]";
        let texts: Vec<String> = summarize(lines).iter().map(ChangedLine::text).collect();
        assert_eq!(
            texts,
            ["[name=oidc route=v2].config.scopes: [invoices] -> [invoices:read]"]
        );
    }

    #[test]
    fn terraform_and_env_settings_pair_as_well() {
        let lines = "-  cpu = \"2000m\"\n+  cpu = \"500m\"\n-MAXMEMORY_POLICY=allkeys-lru\n+MAXMEMORY_POLICY=volatile-lru\n-removed_only: true";
        let texts: Vec<String> = summarize(lines).iter().map(ChangedLine::text).collect();
        assert_eq!(
            texts,
            [
                "cpu: \"2000m\" -> \"500m\"",
                "MAXMEMORY_POLICY: allkeys-lru -> volatile-lru",
                "- removed_only: true"
            ]
        );
    }
}
