//! One module per input format. Line formats turn one line into at most one
//! record; document formats turn a whole file into records.

mod access_log;
mod auth0;
mod change_log;
mod cloud_audit;
mod config_document;
mod header_text;
mod incident_timeline;
mod json_document;
mod json_lines;
mod jwt;
mod knowledge;
mod okta;
mod plain_text;
mod query_response;
mod syslog;
mod terraform;

pub(crate) use access_log::{looks_like_access_log, parse_access_log_line};
pub(crate) use change_log::{looks_like_change_log, parse_change_log};
pub(crate) use config_document::parse_config_document;
pub(crate) use header_text::parse_header_line;
pub(crate) use json_document::parse_json_document;
pub(crate) use json_lines::parse_json_line;
pub(crate) use knowledge::parse_markdown;
pub use okta::is_failed_outcome as is_failed_okta_outcome;
pub(crate) use plain_text::parse_plain_text_line;
pub(crate) use query_response::is_query_response;
pub(crate) use syslog::{looks_like_syslog, parse_syslog_line};
pub(crate) use terraform::parse_terraform;

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};

use crate::{Origin, Record, RecordId, Severity, SourceKind, TemplateRef};

/// What a parser knows about the file it reads.
#[derive(Clone, Debug)]
pub(crate) struct SourceContext<'a> {
    pub tenant: &'a str,
    /// Path relative to the ingest root.
    pub source: &'a str,
    /// Service implied by the path, used when the record names none.
    pub default_service: &'a str,
    /// Zone of timestamps written without one.
    pub zone: FixedOffset,
}

/// A file's name without its folders and extensions (`metrics/p99.json.gz`
/// -> `p99`).
pub(crate) fn file_stem(source: &str) -> &str {
    let name = source.rsplit('/').next().unwrap_or(source);
    name.split('.').next().unwrap_or(name)
}

/// Zone-less timestamps are UTC unless the user says otherwise.
pub(crate) const UTC: FixedOffset = match FixedOffset::east_opt(0) {
    Some(zone) => zone,
    None => unreachable!(),
};

/// The parts a parser fills in; [`RecordDraft::finish`] derives the id.
#[derive(Debug, Default)]
pub(crate) struct RecordDraft {
    pub kind: Option<SourceKind>,
    pub service: Option<String>,
    pub host: Option<String>,
    pub ts: Option<DateTime<Utc>>,
    pub severity: Severity,
    pub body: String,
    /// Set by formats that know their template better than text masking
    /// (an access log's template keeps its status code).
    pub template: Option<TemplateRef>,
    pub fields: BTreeMap<String, serde_json::Value>,
}

impl RecordDraft {
    pub fn finish(mut self, ctx: &SourceContext<'_>, line: u64, raw: &str) -> Record {
        jwt::decode_and_strip_jwts(&mut self);
        let origin = Origin {
            source: ctx.source.to_string(),
            line,
        };
        Record {
            id: RecordId::derive(ctx.tenant, &origin, raw),
            tenant: ctx.tenant.to_string(),
            kind: self.kind.unwrap_or(SourceKind::Log),
            service: self
                .service
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| ctx.default_service.to_string()),
            host: self.host,
            ts: self.ts,
            severity: self.severity,
            body: self.body,
            template: self.template,
            fields: self.fields,
            origin,
        }
    }
}
