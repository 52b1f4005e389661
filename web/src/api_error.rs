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
    /// No valid credential.
    #[error("authentication required")]
    Unauthorized,
    /// The credential's role does not allow this.
    #[error("forbidden")]
    Forbidden,
    /// The thing asked for does not exist (for this tenant).
    #[error("not found")]
    NotFound,
    /// The request body is larger than allowed.
    #[error("{0}")]
    TooLarge(String),
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
        match error {
            // Asked of a server that has no vector side, or without a
            // tenant: the caller's choice, not the server's failure.
            retrieval::RetrievalError::NoVectors | retrieval::RetrievalError::InvalidQuery(_) => {
                ApiError::BadRequest(error.to_string())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<evals::EvalError> for ApiError {
    fn from(error: evals::EvalError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<appdb::DbError> for ApiError {
    fn from(error: appdb::DbError) -> Self {
        match error {
            appdb::DbError::NotFound => ApiError::NotFound,
            other => ApiError::Internal(other.to_string()),
        }
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

impl ApiError {
    /// What the client is told: never the internal detail.
    pub(crate) fn client_message(&self) -> String {
        if let ApiError::Internal(detail) = self {
            tracing::error!(%detail, "request failed");
        }
        self.to_string()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut response = (
            status,
            Json(serde_json::json!({ "error": self.client_message() })),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The caller's mistakes are 4xx; a broken invariant is a 500.
    #[test]
    fn retrieval_errors_are_the_callers_or_the_servers() {
        let status =
            |error: retrieval::RetrievalError| ApiError::from(error).into_response().status();
        assert_eq!(
            status(retrieval::RetrievalError::NoVectors),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(retrieval::RetrievalError::InvalidQuery(
                "a query needs a tenant".into()
            )),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(retrieval::RetrievalError::Invariant(
                "a unit lost its vector".into()
            )),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
