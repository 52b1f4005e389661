//! Redaction at rest: personal data and secrets in ingested records are
//! replaced by keyed pseudonyms before anything is stored, so the stores,
//! the quarantine and every page hold none of them. The key lives beside
//! the data (owner-only) and never leaves it; the same value gets the same
//! pseudonym in every record, so "which users" and "which address" still
//! group.

use std::path::Path;

use serde_json::Value;

use crate::{PrivacyError, Redactor};

/// Bytes of the pseudonym key.
const KEY_BYTES: usize = 32;

/// Pseudonymizes text and JSON values with one key.
pub struct AtRest {
    redactor: Redactor,
    key: [u8; KEY_BYTES],
}

impl AtRest {
    /// A filter with `key`.
    pub fn new(key: [u8; KEY_BYTES]) -> Result<Self, PrivacyError> {
        Ok(AtRest {
            redactor: Redactor::new()?,
            key,
        })
    }

    /// The filter whose key is in `key_file`, made (owner-only) when absent.
    pub fn open(key_file: &Path) -> Result<Self, PrivacyError> {
        let unreadable = |e: std::io::Error| {
            PrivacyError::new(&format!("at-rest key {}: {e}", key_file.display()))
        };
        let key = match std::fs::read(key_file) {
            Ok(bytes) => <[u8; KEY_BYTES]>::try_from(bytes.as_slice()).map_err(|_| {
                PrivacyError::new(&format!(
                    "at-rest key {} is not {KEY_BYTES} bytes",
                    key_file.display()
                ))
            })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; KEY_BYTES];
                getrandom::fill(&mut key).map_err(|e| PrivacyError::new(&e.to_string()))?;
                if let Some(dir) = key_file.parent() {
                    std::fs::create_dir_all(dir).map_err(unreadable)?;
                }
                write_owner_only(key_file, &key).map_err(unreadable)?;
                key
            }
            Err(error) => return Err(unreadable(error)),
        };
        AtRest::new(key)
    }

    /// `text` with every sensitive span replaced by its pseudonym.
    pub fn text(&self, text: &str) -> String {
        self.redactor.pseudonymize(text, &self.key)
    }

    /// Every string inside `value` pseudonymized in place.
    pub fn value(&self, value: &mut Value) {
        match value {
            Value::String(text) => {
                let redacted = self.text(text);
                if redacted != *text {
                    *text = redacted;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.value(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.value(v)),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

fn write_owner_only(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_get_stable_keyed_pseudonyms_and_no_original_survives() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("keys/at-rest.key");
        let filter = AtRest::open(&file).expect("made");
        let line = "login failed for ana.lopez@example.com from 203.0.113.7";
        let once = filter.text(line);
        assert!(
            !once.contains("ana.lopez") && !once.contains("203.0.113.7"),
            "{once}"
        );
        assert!(
            once.contains("<EMAIL:") && once.starts_with("login failed for "),
            "{once}"
        );
        assert_eq!(
            once,
            AtRest::open(&file).expect("reopened").text(line),
            "stable under one key"
        );
        let other = AtRest::new([7; KEY_BYTES]).expect("filter");
        assert_ne!(once, other.text(line), "another key, other pseudonyms");
        let mut fields = serde_json::json!({"actor": {"alternateId": "ana.lopez@example.com"}, "status": 401, "ips": ["203.0.113.7"]});
        filter.value(&mut fields);
        let stored = fields.to_string();
        assert!(
            !stored.contains("ana.lopez") && !stored.contains("203.0.113.7"),
            "{stored}"
        );
        assert_eq!(fields["status"], 401);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).expect("key").permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner-only key: {mode:o}");
        }
    }
}
