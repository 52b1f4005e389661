use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Every failure a handler can return: a status and a short message for
/// the client; the detail goes to the log only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// Something failed inside.
    #[error("internal error")]
    Internal(String),
}

impl From<agent::AgentError> for ApiError {
    fn from(error: agent::AgentError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<retrieval::RetrievalError> for ApiError {
    fn from(error: retrieval::RetrievalError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<evals::EvalError> for ApiError {
    fn from(error: evals::EvalError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<askama::Error> for ApiError {
    fn from(error: askama::Error) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}
