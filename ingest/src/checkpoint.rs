use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::TemplateMiner;

/// How far a source has been ingested and committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Hash of the source's first `fingerprint_len` bytes: a rotated or
    /// replaced file at the same path has another fingerprint and is read
    /// from the start.
    pub fingerprint: String,
    /// How many leading bytes the fingerprint covers (fewer than 4 KiB for a
    /// file that was small when first read, so that it stays stable as the
    /// file grows).
    pub fingerprint_len: usize,
    /// Bytes consumed (of the decompressed stream for `.gz`).
    pub offset: u64,
    /// Lines consumed.
    pub line: u64,
    /// Zone the file's zone-less times were read in, seconds east of UTC
    /// (`None` in checkpoints written before zones were inferred).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_offset_secs: Option<i32>,
}

impl Checkpoint {
    /// The zone the file was read in, if recorded.
    pub fn zone(&self) -> Option<chrono::FixedOffset> {
        self.zone_offset_secs
            .and_then(chrono::FixedOffset::east_opt)
    }

    /// True when a source starting with `head` is the file this checkpoint
    /// was taken of.
    pub fn matches(&self, head: &[u8]) -> bool {
        head.len() >= self.fingerprint_len
            && crate::reader::fingerprint(&head[..self.fingerprint_len]) == self.fingerprint
    }
}

/// Separates the tenant from the path in a checkpoint key: a control
/// character no path or tenant name contains.
const TENANT_SEPARATOR: char = '\u{1f}';

/// The key of a source's checkpoint: one tenant's reading of a path, so
/// that another tenant's file of the same content is read in full (and
/// learns nothing of what the first tenant ingested).
pub fn checkpoint_key(tenant: &str, path: &str) -> String {
    format!("{tenant}{TENANT_SEPARATOR}{path}")
}

/// The tenant and path of a checkpoint key made by [`checkpoint_key`];
/// `None` for a key of another form (a store written before checkpoints
/// were per tenant).
pub fn split_checkpoint_key(key: &str) -> Option<(&str, &str)> {
    key.split_once(TENANT_SEPARATOR)
}

/// Everything an ingest must persist together with the records it wrote:
/// the template miner (template ids) and the per-source checkpoints. Stores
/// commit it atomically with the records, so a crash leaves both consistent.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct IngestState {
    /// Template miner.
    pub miner: TemplateMiner,
    /// Checkpoints by tenant and canonical source path ([`checkpoint_key`]).
    pub checkpoints: BTreeMap<String, Checkpoint>,
}

impl IngestState {
    /// Restores a state saved with [`IngestState::to_json`].
    pub fn from_json(json: &str) -> serde_json::Result<Self> {
        let mut state: IngestState = serde_json::from_str(json)?;
        state.miner.rebuild_routes();
        Ok(state)
    }

    /// The state as JSON.
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }
}
