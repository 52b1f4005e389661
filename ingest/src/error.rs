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
}

impl IngestError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        IngestError::Io {
            path: path.to_path_buf(),
            source: Arc::new(source),
        }
    }
}

/// Result of ingest operations.
pub type Result<T> = std::result::Result<T, IngestError>;
