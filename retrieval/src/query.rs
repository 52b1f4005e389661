use chrono::{DateTime, Utc};
use ingest::{Record, Severity, SourceKind};
use serde::{Deserialize, Serialize};

/// A half-open time range `[from, to)`; either end may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// Inclusive start.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive end.
    pub to: Option<DateTime<Utc>>,
}

impl TimeRange {
    /// The range between two instants.
    pub fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        TimeRange {
            from: Some(from),
            to: Some(to),
        }
    }
}

/// Exact-match filters shared by every query. Empty lists mean "any".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    /// Services to keep.
    #[serde(default)]
    pub services: Vec<String>,
    /// Source kinds to keep.
    #[serde(default)]
    pub kinds: Vec<SourceKind>,
    /// Severities to keep.
    #[serde(default)]
    pub severities: Vec<Severity>,
    /// Time range; records without a timestamp never match a bounded range.
    #[serde(default)]
    pub time: TimeRange,
}

/// A search: always within one tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Tenant whose records are searched. There is no "all tenants".
    pub tenant: String,
    /// Free text, tokenized like log bodies.
    pub text: String,
    /// Exact-match filters.
    #[serde(default)]
    pub filters: Filters,
    /// Maximum number of hits.
    pub limit: usize,
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The matching record.
    pub record: Record,
    /// BM25 score.
    pub score: f32,
    /// Query terms the record matched, after tokenization.
    pub why: Vec<String>,
}
