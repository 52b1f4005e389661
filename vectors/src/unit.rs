use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Result, VectorError};

/// What a point stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// A log template: the shape shared by many lines.
    Template,
    /// Events of one service in one minute, or of one trace.
    Window,
    /// Authentication failures of one kind in one minute.
    AuthFailures,
    /// A config resource or change record.
    Config,
}

/// What a point carries besides its vector; the filterable fields mirror
/// the text store's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitPayload {
    /// Owner of the records.
    pub tenant: String,
    /// What the unit is.
    pub unit: UnitKind,
    /// Services of its records.
    pub services: Vec<String>,
    /// Source kinds of its records (`log`, `auth`, `config`, ...).
    pub kinds: Vec<String>,
    /// Severities of its records.
    pub severities: Vec<String>,
    /// Earliest record time, milliseconds since the epoch.
    pub start_ms: Option<i64>,
    /// Latest record time.
    pub end_ms: Option<i64>,
    /// Records the unit stands for (a sample when there are many).
    pub record_ids: Vec<String>,
    /// The text that was embedded.
    pub text: String,
}

/// A unit with its vector, keyed by a stable string.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorPoint {
    /// Stable key: the same unit always gets the same key.
    pub key: String,
    /// Unit-length embedding.
    pub vector: Vec<f32>,
    /// Filterable fields and the records behind the unit.
    pub payload: UnitPayload,
}

/// One search result.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorHit {
    /// Cosine similarity.
    pub score: f32,
    /// The unit found.
    pub payload: UnitPayload,
}

/// Which points a search may return. Empty lists mean "any"; the tenant is
/// always required.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VectorFilter {
    /// Owner; required.
    pub tenant: String,
    /// Keep units touching any of these services.
    pub services: Vec<String>,
    /// Keep units with any of these source kinds.
    pub kinds: Vec<String>,
    /// Keep units with any of these severities.
    pub severities: Vec<String>,
    /// Keep units ending at or after this time (ms).
    pub from_ms: Option<i64>,
    /// Keep units starting before this time (ms).
    pub to_ms: Option<i64>,
    /// Keep units ending before this time (ms): what retention removes.
    pub ended_before_ms: Option<i64>,
}

impl VectorFilter {
    /// Everything of one tenant.
    pub fn tenant(tenant: &str) -> Self {
        VectorFilter {
            tenant: tenant.to_string(),
            ..VectorFilter::default()
        }
    }

    /// The time conditions, in the terms both engines share: units ending
    /// at or after `from_ms`, starting before `to_ms`, ending before
    /// `ended_before_ms`.
    pub(crate) fn time_bounds(&self) -> Vec<TimeBound> {
        let at_least = |field, ms: Option<i64>| {
            ms.map(|ms| TimeBound {
                field,
                at_least: Some(ms as f64),
                below: None,
            })
        };
        let below = |field, ms: Option<i64>| {
            ms.map(|ms| TimeBound {
                field,
                at_least: None,
                below: Some(ms as f64),
            })
        };
        [
            at_least(field::END_MS, self.from_ms),
            below(field::START_MS, self.to_ms),
            below(field::END_MS, self.ended_before_ms),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    pub(crate) fn checked(&self) -> Result<&Self> {
        if self.tenant.trim().is_empty() {
            Err(VectorError::NoTenant)
        } else {
            Ok(self)
        }
    }
}

/// A range condition on one time field of the payload (milliseconds).
pub(crate) struct TimeBound {
    /// `start_ms` or `end_ms`.
    pub field: &'static str,
    /// Inclusive lower bound.
    pub at_least: Option<f64>,
    /// Exclusive upper bound.
    pub below: Option<f64>,
}

/// Fails unless `vector` has the store's `expected` number of components.
pub(crate) fn check_dimension(expected: usize, vector: &[f32]) -> Result<()> {
    if vector.len() == expected {
        Ok(())
    } else {
        Err(VectorError::Dimension {
            expected,
            got: vector.len(),
        })
    }
}

/// The numeric point id both engines use for a key: the first eight bytes
/// of its SHA-256.
pub fn point_number(key: &str) -> u64 {
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes)
}

/// Payload field names, shared by both engines' filters and indexes.
pub(crate) mod field {
    pub const TENANT: &str = "tenant";
    pub const SERVICES: &str = "services";
    pub const KINDS: &str = "kinds";
    pub const SEVERITIES: &str = "severities";
    pub const START_MS: &str = "start_ms";
    pub const END_MS: &str = "end_ms";
    pub const KEYWORDS: [&str; 4] = [TENANT, SERVICES, KINDS, SEVERITIES];
    pub const INTEGERS: [&str; 2] = [START_MS, END_MS];
}
