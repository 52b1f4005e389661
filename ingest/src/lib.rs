//! Ingest: reads logs, auth traces, configs and change records into
//! [`Record`]s, the normalized evidence every other crate shares.
//!
//! Parsing never fails a whole file for one bad line: [`read_path`] returns
//! every good record plus a [`BadInput`] (file, line, reason) for each part
//! it could not read. Record ids are content hashes of tenant, origin and raw
//! text, so ingesting the same input twice yields the same ids.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("app.log"), "2026-11-20T14:05:00Z ERROR jwt: kid=k2 not found\n").unwrap();
//! let options = ingest::ReadOptions::new("acme");
//! let mut miner = ingest::TemplateMiner::default();
//! let parsed = ingest::read_path(dir.path(), &options, &mut miner).unwrap();
//! assert_eq!(parsed.records[0].severity, ingest::Severity::Error);
//! assert!(parsed.bad.is_empty());
//! ```

mod bad_input;
mod checkpoint;
mod error;
mod format;
mod header_format;
mod masking;
mod reader;
mod record;
mod sources;
mod template_miner;
mod timestamp;
mod zone_inference;
mod zone_name;

pub use bad_input::BadInput;
pub use checkpoint::{Checkpoint, IngestState, checkpoint_key, split_checkpoint_key};
pub use error::{IngestError, Result};
pub use format::Format;
pub use header_format::{HeaderFormat, HeaderFormatError};
pub use reader::{
    BATCH_RECORDS, InferredZone, IngestReport, Ingestor, MAX_DOCUMENT_BYTES, MAX_GZIP_EXPANSION,
    MAX_LINE_BYTES, Parsed, ReadOptions, RecordSink, SinkError, read_path,
};
pub use record::{Origin, Record, RecordId, Severity, SourceKind, TemplateRef};
pub use sources::is_failed_okta_outcome;
pub use template_miner::{MinerConfig, TemplateMiner};
pub use timestamp::{parse_timestamp, parse_timestamp_in};
pub use zone_name::NamedZone;
