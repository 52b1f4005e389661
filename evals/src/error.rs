use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Errors of the eval harness and the generator.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        source: Arc<std::io::Error>,
    },
    /// A case file is malformed.
    #[error("case {path}: {reason}")]
    BadCase {
        /// The case file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Ingest failed.
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    /// Retrieval failed.
    #[error(transparent)]
    Retrieval(#[from] retrieval::RetrievalError),
    /// The LLM judge gave no usable verdict.
    #[error("judge: {0}")]
    Judge(String),
    /// The agent failed.
    #[error(transparent)]
    Agent(#[from] agent::AgentError),
}

impl EvalError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        EvalError::Io {
            path: path.to_path_buf(),
            source: Arc::new(source),
        }
    }
}

/// Result of eval operations.
pub type Result<T> = std::result::Result<T, EvalError>;
