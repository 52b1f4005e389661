/// Errors of the agent.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// Retrieval failed underneath.
    #[error(transparent)]
    Retrieval(#[from] retrieval::RetrievalError),
}

/// Result of agent operations.
pub type Result<T> = std::result::Result<T, AgentError>;
