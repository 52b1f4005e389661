use std::sync::Arc;

/// Errors of the stores and the queries over them.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RetrievalError {
    /// The text index failed (open, write, commit or search).
    #[error("text index: {0}")]
    TextIndex(Arc<tantivy::TantivyError>),
    /// The data directory could not be prepared.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// Directory that failed.
        path: std::path::PathBuf,
        /// Underlying error.
        source: Arc<std::io::Error>,
    },
    /// A stored record could not be decoded: the index is from another version.
    #[error("stored record is unreadable ({0}); re-ingest into a fresh data directory")]
    StoredRecord(String),
    /// A query was malformed: the caller's mistake (no tenant).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// An invariant of the stores did not hold (a unit without its vector):
    /// a defect here, never the caller's.
    #[error("internal: {0}")]
    Invariant(String),
    /// Texts could not be embedded.
    #[error(transparent)]
    Embedding(Arc<embed::EmbedError>),
    /// The vector store failed.
    #[error(transparent)]
    Vectors(Arc<vectors::VectorError>),
    /// A path could not be ingested at all (bad lines are not errors).
    #[error("ingest {0}")]
    Ingest(String),
    /// A vector search was asked of stores that have no vector side.
    #[error("no vector store is configured; search in text mode")]
    NoVectors,
}

impl From<embed::EmbedError> for RetrievalError {
    fn from(e: embed::EmbedError) -> Self {
        RetrievalError::Embedding(Arc::new(e))
    }
}

impl From<vectors::VectorError> for RetrievalError {
    fn from(e: vectors::VectorError) -> Self {
        RetrievalError::Vectors(Arc::new(e))
    }
}

impl From<tantivy::TantivyError> for RetrievalError {
    fn from(e: tantivy::TantivyError) -> Self {
        RetrievalError::TextIndex(Arc::new(e))
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for RetrievalError {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        RetrievalError::TextIndex(Arc::new(e.into()))
    }
}

/// Every query names a tenant: an empty or blank one is refused, never
/// read as "all".
pub(crate) fn require_tenant(tenant: &str) -> Result<()> {
    if tenant.trim().is_empty() {
        return Err(RetrievalError::InvalidQuery(
            "a query needs a tenant".into(),
        ));
    }
    Ok(())
}

/// Result of retrieval operations.
pub type Result<T> = std::result::Result<T, RetrievalError>;
