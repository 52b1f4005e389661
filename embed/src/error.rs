use std::path::PathBuf;

/// Why texts could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The model files are missing and could not be installed.
    #[error("embedding model unavailable in {dir}: {reason}")]
    ModelUnavailable {
        /// Where the files were looked for.
        dir: PathBuf,
        /// What went wrong, with the command to fix it where there is one.
        reason: String,
    },
    /// The model ran but failed.
    #[error("embedding model failed: {0}")]
    Model(String),
    /// The remote endpoint failed or answered something unusable.
    #[error("embedding endpoint: {0}")]
    Remote(String),
    /// The privacy filter could not run, so nothing was sent.
    #[error(transparent)]
    Privacy(#[from] privacy::PrivacyError),
}

impl From<candle_core::Error> for EmbedError {
    fn from(error: candle_core::Error) -> Self {
        EmbedError::Model(error.to_string())
    }
}
