//! Does a drafted remediation's unified diff apply cleanly to the case's
//! config? Every hunk's old side (context and removed lines) must be found
//! verbatim in the target file, in order; line numbers are only a hint,
//! because a patch of one config block counts lines from the block's start.

use std::path::{Component, Path};

/// Why a diff does not apply, or the file it patches when it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatchOutcome {
    /// Every hunk applied to this file (relative to the case's data).
    Applies(String),
    /// The diff cannot be applied; the reason says where it failed.
    Fails(String),
}

struct Hunk {
    old_start: usize,
    old: Vec<String>,
    new: Vec<String>,
}

/// Applies `diff` to the file it names under `root` in memory (nothing is
/// written) and says whether every hunk applied.
pub fn check_patch(diff: &str, root: &Path) -> PatchOutcome {
    let (target, hunks) = match parse(diff) {
        Ok(parsed) => parsed,
        Err(reason) => return PatchOutcome::Fails(reason),
    };
    let relative = Path::new(&target);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return PatchOutcome::Fails(format!("{target}: not a path inside the case"));
    }
    let text = match std::fs::read_to_string(root.join(relative)) {
        Ok(text) => text,
        Err(e) => return PatchOutcome::Fails(format!("{target}: {e}")),
    };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut from = 0;
    for (index, hunk) in hunks.iter().enumerate() {
        let Some(at) = locate(&lines, &hunk.old, from, hunk.old_start.saturating_sub(1)) else {
            return PatchOutcome::Fails(format!(
                "{target}: hunk {} does not match the file",
                index + 1
            ));
        };
        lines.splice(at..at + hunk.old.len(), hunk.new.iter().cloned());
        from = at + hunk.new.len();
    }
    PatchOutcome::Applies(target)
}

/// The position at or after `from` where `old` occurs, nearest to `hint`.
fn locate(lines: &[String], old: &[String], from: usize, hint: usize) -> Option<usize> {
    if old.len() > lines.len() {
        return None;
    }
    (from..=lines.len() - old.len())
        .filter(|&at| lines[at..at + old.len()] == *old)
        .min_by_key(|&at| at.abs_diff(hint))
}

fn parse(diff: &str) -> Result<(String, Vec<Hunk>), String> {
    let mut target: Option<String> = None;
    let mut hunks: Vec<Hunk> = Vec::new();
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("--- ") {
            if target.is_some() {
                return Err("the diff patches more than one file".into());
            }
            target = Some(strip_prefix_dir(path));
        } else if line.starts_with("+++ ") {
            continue;
        } else if let Some(header) = line.strip_prefix("@@ ") {
            let old_start = header
                .split_whitespace()
                .next()
                .and_then(|range| range.strip_prefix('-'))
                .and_then(|range| range.split(',').next())
                .and_then(|start| start.parse().ok())
                .ok_or_else(|| format!("malformed hunk header {line:?}"))?;
            hunks.push(Hunk {
                old_start,
                old: Vec::new(),
                new: Vec::new(),
            });
        } else if let Some(hunk) = hunks.last_mut() {
            match line.chars().next() {
                Some(' ') | None => {
                    let text = line.get(1..).unwrap_or_default().to_string();
                    hunk.old.push(text.clone());
                    hunk.new.push(text);
                }
                Some('-') => hunk.old.push(line[1..].to_string()),
                Some('+') => hunk.new.push(line[1..].to_string()),
                Some('\\') => {}
                Some(_) => return Err(format!("unexpected line in a hunk: {line:?}")),
            }
        }
    }
    let target = target.ok_or("no file header (--- a/PATH)")?;
    if target == "/dev/null" {
        return Err("the diff creates a file instead of patching one".into());
    }
    if hunks.is_empty() {
        return Err("the diff has no hunks".into());
    }
    Ok((target, hunks))
}

/// `a/config/x.tf` (git style) or `config/x.tf`, without a trailing timestamp.
fn strip_prefix_dir(path: &str) -> String {
    let path = path.split('\t').next().unwrap_or(path).trim();
    path.strip_prefix("a/").unwrap_or(path).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "# gateway\nresource \"kong_plugin\" \"limit\" {\n  name = \"rate-limiting\"\n  minute = 20\n  policy = \"local\"\n}\n";

    fn case() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("config")).expect("mkdir");
        std::fs::write(dir.path().join("config/gateway.tf"), CONFIG).expect("write");
        dir
    }

    #[test]
    fn a_block_patch_applies_at_an_offset() {
        let dir = case();
        let diff = "--- a/config/gateway.tf\n+++ b/config/gateway.tf\n@@ -1,5 +1,5 @@\n resource \"kong_plugin\" \"limit\" {\n   name = \"rate-limiting\"\n-  minute = 20\n+  minute = 2000\n   policy = \"local\"\n }\n";
        assert_eq!(
            check_patch(diff, dir.path()),
            PatchOutcome::Applies("config/gateway.tf".into())
        );
    }

    #[test]
    fn stale_context_a_missing_file_and_escapes_fail() {
        let dir = case();
        let stale = "--- a/config/gateway.tf\n+++ b/config/gateway.tf\n@@ -3,3 +3,3 @@\n   name = \"rate-limiting\"\n-  minute = 50\n+  minute = 2000\n";
        assert!(matches!(
            check_patch(stale, dir.path()),
            PatchOutcome::Fails(reason) if reason.contains("hunk 1")
        ));
        let missing = stale.replace("gateway.tf", "other.tf");
        assert!(matches!(
            check_patch(&missing, dir.path()),
            PatchOutcome::Fails(_)
        ));
        let escape = "--- a/../outside.tf\n+++ b/../outside.tf\n@@ -1 +1 @@\n-x\n+y\n";
        assert!(matches!(
            check_patch(escape, dir.path()),
            PatchOutcome::Fails(reason) if reason.contains("inside the case")
        ));
        assert!(matches!(
            check_patch("not a diff", dir.path()),
            PatchOutcome::Fails(_)
        ));
    }
}
