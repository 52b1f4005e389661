//! Retrieval: the stores and the questions asked of them.
//!
//! [`TextStore`] is the full-text index (tantivy on disk); [`VectorIndex`]
//! embeds evidence [`Unit`]s (templates, event windows, auth-failure groups,
//! config resources) into a vector store. [`Stores`] writes both at ingest
//! and searches them together ([`Stores::search`]: BM25, vector or both
//! fused by reciprocal rank). On top sit time-ordered scans, [`Timeline`]s
//! of template counts and [`detect_anomalies`]. This is the only crate that
//! touches the stores, and every query names its tenant.
//!
//! ```
//! use retrieval::{Filters, SearchQuery, TextStore};
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("gw.log"), "2026-11-20T14:05:00Z WARN jwt: invalid_token kid=k2\n").unwrap();
//! let options = ingest::ReadOptions::new("acme");
//! let parsed = ingest::read_path(dir.path(), &options, &mut ingest::TemplateMiner::default()).unwrap();
//! let store = TextStore::in_memory().unwrap();
//! store.upsert(&parsed.records).unwrap();
//! store.commit().unwrap();
//! let query = SearchQuery { tenant: "acme".into(), text: "invalid_token".into(), filters: Filters::default(), limit: 5 };
//! assert_eq!(store.search(&query).unwrap().len(), 1);
//! ```

mod anomalies;
mod attribution;
mod entity_pivot;
mod error;
mod failure_text;
mod loading;
mod log_tokenizer;
mod metric_shifts;
mod precursors;
mod query;
mod state_changes;
mod stores;
mod text_store;
mod timeline;
mod units;
mod vector_index;

pub use anomalies::{Anomaly, Direction, MIN_Z, detect_anomalies};
pub use attribution::{
    Attribution, NETWORK_PREFIXES, attribute, features, network_key_base, network_prefix,
    template_variables,
};
pub use entity_pivot::{EntityFinding, MIN_ENTITY_SHARE, pivot};
pub use error::{Result, RetrievalError};
pub use failure_text::{stated_severity, states_failure};
pub use loading::{
    IngestProgress, IngestSummary, ingest_files, quarantine_file, quarantined, tenant_folder,
};
pub use metric_shifts::{MetricShift, metric_shifts};
pub use precursors::{MIN_QUIET, ONSET_SLACK, PRECURSOR_LOOKBACK, Precursor, precursors};
pub use query::{Filters, Hit, Ranks, SearchMode, SearchQuery, TimeRange};
pub use state_changes::{MIN_HELD, StateChange, state_changes};
pub use stores::Stores;
pub use text_store::TextStore;
pub use timeline::{TemplateSeries, Timeline};
pub use units::{Unit, UnitBuilder};
pub use vector_index::{IndexStats, VectorIndex, vector_filter};

#[cfg(test)]
mod test_records {
    use chrono::{DateTime, Utc};
    use ingest::{Origin, Record, RecordId, Severity, SourceKind, TemplateRef};

    /// Digits masked, as the miner would for these simple bodies.
    fn masked_template(body: &str) -> TemplateRef {
        let masked: Vec<&str> = body
            .split_whitespace()
            .map(|t| {
                if t.bytes().any(|b| b.is_ascii_digit()) {
                    "<*>"
                } else {
                    t
                }
            })
            .collect();
        TemplateRef::from_text(masked.join(" "))
    }

    pub(crate) fn record_at(ts: DateTime<Utc>, service: &str, body: &str) -> Record {
        let origin = Origin {
            source: format!("{service}.log"),
            line: ts.timestamp_millis() as u64,
        };
        Record {
            id: RecordId::derive("t", &origin, body),
            tenant: "t".into(),
            kind: SourceKind::Log,
            service: service.into(),
            host: None,
            ts: Some(ts),
            severity: Severity::Info,
            body: body.into(),
            template: Some(masked_template(body)),
            fields: Default::default(),
            origin,
        }
    }
}
