use std::path::PathBuf;
use std::sync::Arc;

/// Errors that stop an ingest. Bad lines are not errors: they are
/// [`crate::BadInput`] reports beside the good records.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// A path could not be read at all.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        source: Arc<std::io::Error>,
    },
    /// The store rejected a batch or a commit; nothing after the last
    /// commit is kept, and a re-run resumes from it.
    #[error("writing records from {source_name}: {reason}")]
    Sink {
        /// Source being read.
        source_name: String,
        /// What the store said.
        reason: String,
    },
}

impl IngestError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        IngestError::Io {
            path: path.to_path_buf(),
            source: Arc::new(source),
        }
    }
}

impl IngestError {
    pub(crate) fn sink(source: &str, error: crate::SinkError) -> Self {
        IngestError::Sink {
            source_name: source.to_string(),
            reason: error.to_string(),
        }
    }
}

/// Result of ingest operations.
pub type Result<T> = std::result::Result<T, IngestError>;
