use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Category, PrivacyError, RedactionSession, Redactor};

/// One payload that left the process: where to, its hash, and what the
/// filter removed. Evals scan these for planted secrets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboundEntry {
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// `llm:<model>`, `slack:<channel>`, `judge:<model>`, ...
    pub destination: String,
    /// SHA-256 of the payload as sent.
    pub sha256: String,
    /// Size of the payload as sent.
    pub bytes: usize,
    /// Spans redacted, by category.
    pub redactions: BTreeMap<Category, usize>,
    /// Prompt version, for LLM payloads.
    pub prompt_version: Option<String>,
    /// The payload as sent (parts joined by newlines), only in a log that
    /// keeps payloads: evals scan it for planted secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
}

/// Append-only JSONL record of every outbound payload.
#[derive(Clone, Debug)]
pub struct AuditLog {
    path: PathBuf,
    keep_payloads: bool,
}

impl AuditLog {
    /// A log at `path` (created on first write).
    pub fn new(path: &Path) -> Self {
        AuditLog {
            path: path.to_path_buf(),
            keep_payloads: false,
        }
    }

    /// Also records each payload as sent (already redacted), so an eval can
    /// check that nothing planted got through. Production logs keep hashes.
    pub fn keeping_payloads(mut self) -> Self {
        self.keep_payloads = true;
        self
    }

    /// Every entry written so far.
    pub fn entries(&self) -> std::io::Result<Vec<OutboundEntry>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect())
    }

    fn append(&self, entry: &OutboundEntry) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        writeln!(file, "{line}")?;
        file.sync_data()
    }
}

/// The one way out of the process: redacts `text` for `destination`,
/// records it in the audit log, and returns what may be sent. Fails closed:
/// without a filter, or when the audit entry cannot be written, it returns
/// an error and nothing may be sent.
pub fn prepare_outbound(
    redactor: Option<&Redactor>,
    session: &mut RedactionSession,
    audit: &AuditLog,
    destination: &str,
    text: &str,
    prompt_version: Option<&str>,
) -> Result<String, PrivacyError> {
    let mut parts = prepare_outbound_parts(
        redactor,
        session,
        audit,
        destination,
        &[text],
        prompt_version,
    )?;
    Ok(parts.pop().unwrap_or_default())
}

/// [`prepare_outbound`] for a payload made of parts (the messages of one
/// LLM request): each part is redacted with the same session, and the
/// payload gets one audit entry.
pub fn prepare_outbound_parts(
    redactor: Option<&Redactor>,
    session: &mut RedactionSession,
    audit: &AuditLog,
    destination: &str,
    parts: &[&str],
    prompt_version: Option<&str>,
) -> Result<Vec<String>, PrivacyError> {
    let redactor =
        redactor.ok_or_else(|| PrivacyError::new("no privacy filter: nothing is sent"))?;
    let mut sent = Vec::with_capacity(parts.len());
    let mut counts: BTreeMap<Category, usize> = BTreeMap::new();
    let mut digest = Sha256::new();
    let mut bytes = 0;
    for part in parts {
        let redacted = redactor.redact(part, session);
        for (category, count) in redacted.counts {
            *counts.entry(category).or_insert(0) += count;
        }
        digest.update(redacted.text.as_bytes());
        bytes += redacted.text.len();
        sent.push(redacted.text);
    }
    let entry = OutboundEntry {
        at: Utc::now(),
        destination: destination.to_string(),
        sha256: digest
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        bytes,
        redactions: counts,
        prompt_version: prompt_version.map(str::to_string),
        payload: audit.keep_payloads.then(|| sent.join("\n")),
    };
    audit
        .append(&entry)
        .map_err(|e| PrivacyError::new(&format!("audit log unwritable ({e}): nothing is sent")))?;
    tracing::info!(
        destination,
        bytes = entry.bytes,
        redactions = entry.redactions.values().sum::<usize>(),
        "outbound payload"
    );
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_payloads_are_redacted_and_audited() {
        let dir = tempfile::tempdir().expect("tempdir");
        let audit = AuditLog::new(&dir.path().join("audit/outbound.jsonl"));
        let filter = Redactor::new().expect("filter");
        let mut session = RedactionSession::default();
        let sent = prepare_outbound(
            Some(&filter),
            &mut session,
            &audit,
            "llm:test",
            "token=abcd1234efgh for ana@example.com",
            Some("diagnose.v1"),
        )
        .expect("sent");
        assert_eq!(sent, "token=<SECRET_1> for <EMAIL_1>");
        let entries = audit.entries().expect("entries");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].redactions.values().sum::<usize>(), 2);
        assert_eq!(entries[0].prompt_version.as_deref(), Some("diagnose.v1"));
        assert_eq!(entries[0].payload, None, "hashes only by default");
    }

    #[test]
    fn a_log_keeping_payloads_holds_what_was_sent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let audit = AuditLog::new(&dir.path().join("outbound.jsonl")).keeping_payloads();
        let filter = Redactor::new().expect("filter");
        let mut session = RedactionSession::default();
        prepare_outbound_parts(
            Some(&filter),
            &mut session,
            &audit,
            "channel:test",
            &["ana@example.com", "password=hunter22"],
            None,
        )
        .expect("sent");
        let entries = audit.entries().expect("entries");
        assert_eq!(
            entries[0].payload.as_deref(),
            Some("<EMAIL_1>\npassword=<SECRET_1>")
        );
    }

    #[test]
    fn a_payload_of_parts_shares_placeholders_and_one_audit_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let audit = AuditLog::new(&dir.path().join("outbound.jsonl"));
        let filter = Redactor::new().expect("filter");
        let mut session = RedactionSession::default();
        let sent = prepare_outbound_parts(
            Some(&filter),
            &mut session,
            &audit,
            "llm:test",
            &[
                "system text",
                "ana@example.com failed",
                "ana@example.com again",
            ],
            Some("v1"),
        )
        .expect("sent");
        assert_eq!(sent, ["system text", "<EMAIL_1> failed", "<EMAIL_1> again"]);
        let entries = audit.entries().expect("entries");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].redactions[&Category::Email], 2);
        assert_eq!(
            entries[0].bytes,
            sent.iter().map(String::len).sum::<usize>()
        );
    }

    #[test]
    fn without_a_filter_or_an_audit_log_nothing_is_sent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let audit = AuditLog::new(&dir.path().join("audit.jsonl"));
        let mut session = RedactionSession::default();
        assert!(prepare_outbound(None, &mut session, &audit, "llm:test", "secret", None).is_err());
        std::fs::write(dir.path().join("blocker"), "").expect("write");
        let unwritable = AuditLog::new(&dir.path().join("blocker/audit.jsonl"));
        let filter = Redactor::new().expect("filter");
        assert!(
            prepare_outbound(
                Some(&filter),
                &mut session,
                &unwritable,
                "llm:test",
                "hello",
                None
            )
            .is_err()
        );
    }
}
