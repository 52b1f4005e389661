use std::path::{Path, PathBuf};

use ingest::RecordId;
use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};

/// What a correct answer to a case must find and say (`truth.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Case id.
    pub id: String,
    /// Tenant the corpus is ingested as.
    pub tenant: String,
    /// The question an on-call engineer asks.
    pub question: String,
    /// Scenario family (`key-rotation`, `tls-expiry`, ...).
    pub family: String,
    /// Pieces of evidence a good answer cites; each is satisfied by any one
    /// of its records.
    pub evidence: Vec<GoldEvidence>,
    /// The cause.
    pub root_cause: GoldRootCause,
    /// Key points of the fix.
    pub remediation: Vec<String>,
    /// The config file (relative to `data/`) a fix patches, when the cause
    /// is a config: a drafted diff must apply cleanly to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_fix: Option<String>,
    /// Secrets and personal data in the corpus that must never leave the
    /// process: any of them in an outbound payload is a leak.
    #[serde(default)]
    pub planted: Vec<String>,
}

/// One piece of gold evidence: equivalent records (any one will do).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoldEvidence {
    /// What the evidence shows.
    pub what: String,
    /// `source:line` of each acceptable record.
    pub records: Vec<String>,
    /// Ids of the same records, in the same order.
    pub ids: Vec<RecordId>,
}

/// The gold root cause.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoldRootCause {
    /// One or two sentences.
    pub statement: String,
    /// Facts a correct statement contains: each inner list holds
    /// alternatives (lowercase substrings), any one of which suffices.
    pub key_facts: Vec<Vec<String>>,
}

/// A case on disk: `truth.json` beside a `data/` folder.
#[derive(Clone, Debug)]
pub struct Case {
    /// The ground truth.
    pub truth: GroundTruth,
    /// Folder to ingest.
    pub data: PathBuf,
}

impl Case {
    /// Loads the case in `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("truth.json");
        let text = std::fs::read_to_string(&path).map_err(|e| EvalError::io(&path, e))?;
        let truth = serde_json::from_str(&text).map_err(|e| EvalError::BadCase {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Ok(Case {
            truth,
            data: dir.join("data"),
        })
    }

    /// Writes `truth.json` into `dir`.
    pub fn write_truth(dir: &Path, truth: &GroundTruth) -> Result<()> {
        let path = dir.join("truth.json");
        let json = serde_json::to_string_pretty(truth).map_err(|e| EvalError::BadCase {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        std::fs::write(&path, json + "\n").map_err(|e| EvalError::io(&path, e))
    }
}

/// Folder of the incident bundled with the product.
pub fn bundled_incident_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("incidents/key-rotation-stale-jwks")
}
