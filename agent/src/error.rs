/// Errors of the agent.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// Retrieval failed underneath.
    #[error(transparent)]
    Retrieval(#[from] retrieval::RetrievalError),
    /// The privacy filter could not run, so nothing was sent.
    #[error("{0}")]
    Privacy(String),
    /// The LLM endpoint failed, timed out or answered out of contract.
    #[error("LLM {kind}: {detail}")]
    Llm {
        /// What went wrong.
        kind: LlmFailure,
        /// Details for the log.
        detail: String,
    },
    /// A prompt file is missing or malformed.
    #[error("prompt {name}: {reason}")]
    Prompt {
        /// The file.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The local LLM server could not be started.
    #[error("local LLM: {0}")]
    LocalLlm(String),
}

/// Kinds of LLM failure; each degrades an answer to evidence mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LlmFailure {
    /// No reply within the deadline.
    Timeout,
    /// The endpoint answered with an error (after retries for 429 and 5xx).
    Endpoint,
    /// The reply was not the JSON or stream the contract asks for.
    Malformed,
    /// The stream ended before the answer did.
    StreamCut,
    /// The per-question token budget is spent.
    Budget,
}

impl std::fmt::Display for LlmFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LlmFailure::Timeout => "timeout",
            LlmFailure::Endpoint => "endpoint error",
            LlmFailure::Malformed => "malformed reply",
            LlmFailure::StreamCut => "stream cut",
            LlmFailure::Budget => "token budget spent",
        })
    }
}

impl AgentError {
    pub(crate) fn llm(kind: LlmFailure, detail: impl Into<String>) -> Self {
        AgentError::Llm {
            kind,
            detail: detail.into(),
        }
    }
}

impl From<privacy::PrivacyError> for AgentError {
    fn from(error: privacy::PrivacyError) -> Self {
        AgentError::Privacy(error.to_string())
    }
}

/// Result of agent operations.
pub type Result<T> = std::result::Result<T, AgentError>;
