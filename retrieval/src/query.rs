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

impl TimeRange {
    /// Whether an instant falls in the range; no instant never falls in a
    /// bounded range.
    pub fn contains(&self, ts: Option<DateTime<Utc>>) -> bool {
        match ts {
            Some(ts) => self.from.is_none_or(|f| ts >= f) && self.to.is_none_or(|t| ts < t),
            None => self.from.is_none() && self.to.is_none(),
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

impl Filters {
    /// Whether a record passes every filter.
    pub fn matches(&self, record: &Record) -> bool {
        (self.services.is_empty() || self.services.contains(&record.service))
            && (self.kinds.is_empty() || self.kinds.contains(&record.kind))
            && (self.severities.is_empty() || self.severities.contains(&record.severity))
            && self.time.contains(record.ts)
    }
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
    /// Where each retriever ranked the record.
    #[serde(default)]
    pub ranks: Ranks,
}

/// A hit's place in each ranked list that was fused into the result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ranks {
    /// 1-based rank in the BM25 list.
    pub text: Option<usize>,
    /// 1-based rank in the vector list.
    pub vector: Option<usize>,
    /// Cosine similarity of the unit that brought the record in.
    pub similarity: Option<f32>,
}

/// Which retrievers a search uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// BM25 over the text store only.
    Text,
    /// Nearest units in the vector store only.
    Vector,
    /// Both, fused by reciprocal rank.
    #[default]
    Hybrid,
}

impl SearchMode {
    /// Every mode, in the order reports list them.
    pub const ALL: [SearchMode; 3] = [SearchMode::Text, SearchMode::Vector, SearchMode::Hybrid];

    /// The mode's name: `text`, `vector` or `hybrid`.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchMode::Text => "text",
            SearchMode::Vector => "vector",
            SearchMode::Hybrid => "hybrid",
        }
    }

    /// Parses a mode's name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_records::record_at;

    #[test]
    fn filters_match_records_as_the_stores_do() {
        let at = DateTime::parse_from_rfc3339("2026-11-20T14:05:00Z")
            .expect("ts")
            .to_utc();
        let record = record_at(at, "gateway", "kid not found");
        assert!(Filters::default().matches(&record));
        let hour = TimeRange::between(at - chrono::Duration::hours(1), at);
        let before = Filters {
            time: hour,
            ..Filters::default()
        };
        assert!(!before.matches(&record), "the range's end is exclusive");
        let around = Filters {
            services: vec!["gateway".into()],
            severities: vec![Severity::Info],
            kinds: vec![SourceKind::Log],
            time: TimeRange {
                from: Some(at),
                to: None,
            },
        };
        assert!(around.matches(&record));
        let undated = Record { ts: None, ..record };
        assert!(
            !around.matches(&undated),
            "no time never falls in a bounded range"
        );
        assert!(
            SearchMode::ALL
                .iter()
                .all(|m| SearchMode::parse(m.as_str()) == Some(*m))
        );
    }
}
