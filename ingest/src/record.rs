use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Stable identifier of a record: `r-` and 16 hex digits of a SHA-256 over
/// the tenant, the origin and the raw text, so re-ingesting the same input
/// yields the same ids and adds nothing.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(pub String);

impl RecordId {
    /// Derives the id of the record read from `origin` with raw text `raw`.
    pub fn derive(tenant: &str, origin: &Origin, raw: &str) -> Self {
        let mut hasher = Sha256::new();
        for part in [tenant.as_bytes(), origin.source.as_bytes()] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        hasher.update(origin.line.to_le_bytes());
        hasher.update(raw.as_bytes());
        let digest = hasher.finalize();
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        RecordId(format!("r-{hex}"))
    }

    /// The id as text, as it appears in citations (`[r-…]`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of source a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Application, system and access logs.
    Log,
    /// Authentication traces: IdP events, token events.
    Auth,
    /// Configuration: Terraform, Kubernetes, gateway config.
    Config,
    /// A change: deploy, `terraform apply`, config edit.
    Change,
    /// Postmortems and runbooks.
    Knowledge,
    /// Incident records from a paging system.
    Incident,
    /// Samples of metric series (a Prometheus query's result).
    Metric,
}

impl SourceKind {
    /// Every kind, in a stable order.
    pub const ALL: [SourceKind; 7] = [
        SourceKind::Log,
        SourceKind::Auth,
        SourceKind::Config,
        SourceKind::Change,
        SourceKind::Knowledge,
        SourceKind::Incident,
        SourceKind::Metric,
    ];

    /// The lowercase name used in filters and stores.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Log => "log",
            SourceKind::Auth => "auth",
            SourceKind::Config => "config",
            SourceKind::Change => "change",
            SourceKind::Knowledge => "knowledge",
            SourceKind::Incident => "incident",
            SourceKind::Metric => "metric",
        }
    }

    /// Parses a name produced by [`SourceKind::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Severity normalized across formats.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Trace and debug output.
    Debug,
    /// Normal operation.
    #[default]
    Info,
    /// Something failed for one request or user, or may fail soon.
    Warn,
    /// An operation failed.
    Error,
    /// The service cannot continue.
    Fatal,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Debug,
        Severity::Info,
        Severity::Warn,
        Severity::Error,
        Severity::Fatal,
    ];

    /// Maps the level names used by common loggers and vendors.
    pub fn from_level(level: &str) -> Option<Self> {
        let level = level.trim().to_ascii_lowercase();
        Some(match level.as_str() {
            "trace" | "debug" | "dbug" | "fine" | "finer" | "finest" | "verbose" | "7" => {
                Severity::Debug
            }
            "info" | "information" | "informational" | "notice" | "inf" | "6" | "5" => {
                Severity::Info
            }
            "warn" | "warning" | "wrn" | "4" => Severity::Warn,
            "error" | "err" | "eror" | "severe" | "failure" | "3" => Severity::Error,
            "fatal" | "critical" | "crit" | "alert" | "emerg" | "emergency" | "panic" | "2"
            | "1" | "0" => Severity::Fatal,
            _ => return None,
        })
    }

    /// Severity implied by an HTTP status code.
    pub fn from_http_status(status: u16) -> Self {
        match status {
            500.. => Severity::Error,
            400..=499 => Severity::Warn,
            _ => Severity::Info,
        }
    }

    /// The lowercase name used in filters and stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Debug => "debug",
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Error => "error",
            Severity::Fatal => "fatal",
        }
    }

    /// Parses a name produced by [`Severity::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Where a record was read: the source name (path relative to the ingest
/// root) and the 1-based line where the record starts.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Origin {
    /// Path relative to the ingested root, `/`-separated.
    pub source: String,
    /// 1-based line number where the record starts.
    pub line: u64,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.line)
    }
}

/// The log template a record belongs to: variable parts masked as `<*>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TemplateRef {
    /// Stable id derived from the template text (`t-…`).
    pub id: String,
    /// The template text.
    pub text: String,
}

/// One normalized piece of evidence. This is the contract every crate shares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Stable content-hash id.
    pub id: RecordId,
    /// Owning tenant; every query is scoped to one.
    pub tenant: String,
    /// What kind of source the record came from.
    pub kind: SourceKind,
    /// Service that emitted the record (or that a config or change targets).
    pub service: String,
    /// Host, when the source names one.
    pub host: Option<String>,
    /// UTC timestamp; absent for configs that carry none.
    pub ts: Option<DateTime<Utc>>,
    /// Normalized severity.
    pub severity: Severity,
    /// Human-readable text of the record.
    pub body: String,
    /// Log template, when one was mined.
    pub template: Option<TemplateRef>,
    /// Structured fields (HTTP status, OAuth error, client id, ...).
    pub fields: BTreeMap<String, serde_json::Value>,
    /// Where the record was read.
    pub origin: Origin,
}

impl Record {
    /// A field's value as text, for string and number fields.
    pub fn field_str(&self, name: &str) -> Option<String> {
        match self.fields.get(name)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> Record {
        let origin = Origin {
            source: "gateway/access.log".into(),
            line: 7,
        };
        let mut fields = BTreeMap::new();
        fields.insert("http_status".into(), serde_json::json!(401));
        Record {
            id: RecordId::derive("acme", &origin, "raw"),
            tenant: "acme".into(),
            kind: SourceKind::Log,
            service: "gateway".into(),
            host: Some("gw-1".into()),
            ts: Utc.with_ymd_and_hms(2026, 11, 20, 14, 5, 0).single(),
            severity: Severity::Warn,
            body: "GET /userinfo 401".into(),
            template: Some(TemplateRef {
                id: "t-1".into(),
                text: "GET <*> 401".into(),
            }),
            fields,
            origin,
        }
    }

    #[test]
    fn record_round_trips_through_json() {
        let record = sample();
        let json = serde_json::to_string(&record).expect("serialize");
        let back: Record = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, record);
        assert!(json.contains("\"kind\":\"log\""), "{json}");
    }

    #[test]
    fn ids_are_stable_and_depend_on_tenant_origin_and_text() {
        let origin = Origin {
            source: "a.log".into(),
            line: 1,
        };
        let id = RecordId::derive("t1", &origin, "x");
        assert_eq!(id, RecordId::derive("t1", &origin, "x"));
        assert_ne!(id, RecordId::derive("t2", &origin, "x"));
        assert_ne!(id, RecordId::derive("t1", &origin, "y"));
        let next_line = Origin {
            line: 2,
            ..origin.clone()
        };
        assert_ne!(id, RecordId::derive("t1", &next_line, "x"));
        assert!(id.as_str().starts_with("r-") && id.as_str().len() == 18);
    }

    #[test]
    fn levels_and_statuses_normalize() {
        assert_eq!(Severity::from_level("WARNING"), Some(Severity::Warn));
        assert_eq!(Severity::from_level("crit"), Some(Severity::Fatal));
        assert_eq!(Severity::from_level("banana"), None);
        assert_eq!(Severity::from_http_status(503), Severity::Error);
        assert_eq!(Severity::from_http_status(401), Severity::Warn);
        assert_eq!(Severity::from_http_status(200), Severity::Info);
        for kind in SourceKind::ALL {
            assert_eq!(SourceKind::parse(kind.as_str()), Some(kind));
        }
    }
}
