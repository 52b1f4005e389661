//! Secrets (LLM API key, Slack and webhook tokens, OIDC client secret) come
//! from the environment, `NAME=value`, or from a file, `NAME_FILE=path`,
//! the convention of container secret mounts. A file that others can read
//! is refused: the secret would already be exposed on the machine (mount
//! Kubernetes secrets with `defaultMode: 0440` or `0400`).

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The secret `name`, from `name` or the file `name_FILE` names; `None`
/// when neither is set (or set empty).
pub fn secret(name: &str) -> Result<Option<String>> {
    let direct = std::env::var(name).ok().filter(|v| !v.is_empty());
    let file_var = format!("{name}_FILE");
    let file = std::env::var_os(&file_var).filter(|v| !v.is_empty());
    match (direct, file) {
        (Some(_), Some(_)) => bail!("both {name} and {file_var} are set; keep one"),
        (Some(value), None) => Ok(Some(value)),
        (None, Some(path)) => read_secret_file(Path::new(&path))
            .with_context(|| file_var.clone())
            .map(Some),
        (None, None) => Ok(None),
    }
}

/// Reads a secret file: no access for others (group access is allowed, as
/// Kubernetes grants it with `fsGroup`), one value, surrounding whitespace
/// (the editor's final newline) dropped.
pub fn read_secret_file(path: &Path) -> Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file
            .metadata()
            .with_context(|| format!("reading {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o007 != 0 {
            bail!(
                "refusing {}: others have access to it (mode {:o}); chmod o-rwx it (0600 or 0640)",
                path.display(),
                mode & 0o777
            );
        }
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .with_context(|| format!("reading {}", path.display()))?;
    let value = text.trim();
    if value.is_empty() {
        bail!("{} is empty", path.display());
    }
    Ok(value.to_string())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn file_with(mode: u32, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key");
        std::fs::write(&path, text).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        (dir, path)
    }

    #[test]
    fn an_owner_only_file_gives_its_value_without_the_newline() {
        let (_dir, path) = file_with(0o600, "sk-test-123\n");
        assert_eq!(read_secret_file(&path).expect("read"), "sk-test-123");
    }

    #[test]
    fn a_file_others_can_read_is_refused() {
        let (_dir, path) = file_with(0o644, "sk-test-123\n");
        let error = read_secret_file(&path).expect_err("refused").to_string();
        assert!(
            error.contains("mode 644") && error.contains("o-rwx"),
            "{error}"
        );
    }

    #[test]
    fn an_empty_file_is_an_error_not_an_empty_key() {
        let (_dir, path) = file_with(0o600, "\n");
        assert!(read_secret_file(&path).is_err());
    }
}
