use std::path::PathBuf;

/// Result of vector-store operations.
pub type Result<T, E = VectorError> = std::result::Result<T, E>;

/// Why a vector-store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// A query without a tenant: never "all tenants".
    #[error("a vector query must name its tenant")]
    NoTenant,
    /// The stored index was built for other vectors.
    #[error(
        "the vector index in {dir} holds {stored}; this run embeds with {wanted}: \
         remove the folder and ingest again"
    )]
    ModelMismatch {
        /// The index folder.
        dir: PathBuf,
        /// Model and dimension the index was built with.
        stored: String,
        /// Model and dimension of this run.
        wanted: String,
    },
    /// A vector of the wrong length.
    #[error("vector has {got} dimensions; the store holds {expected}")]
    Dimension {
        /// The store's dimension.
        expected: usize,
        /// The vector's.
        got: usize,
    },
    /// The embedded engine failed.
    #[error("embedded vector engine: {0}")]
    Engine(String),
    /// The Qdrant server failed or could not be reached.
    #[error("qdrant server: {0}")]
    Server(String),
    /// Reading or writing the index folder failed.
    #[error("vector index folder {path}: {source}")]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}
