//! Administration of a tenant: API tokens (the secret shown once) and the
//! chat channels that answer for it.

use appdb::Role;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::state::AppState;

const MAX_NAME_CHARS: usize = 100;

/// A token to make.
#[derive(Deserialize, ToSchema)]
pub(crate) struct TokenRequest {
    /// What it is for.
    name: String,
    /// viewer, oncall or admin.
    role: String,
    /// Days until it stops working; none: never.
    expires_in_days: Option<u32>,
}

/// A new token: the secret is shown now and never again.
#[derive(Serialize, ToSchema)]
pub(crate) struct NewToken {
    /// Send as `Authorization: Bearer <secret>`.
    secret: String,
    /// The stored token.
    #[schema(value_type = Object)]
    token: appdb::TokenRow,
}

/// A channel to link to the caller's tenant.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ChannelRequest {
    /// `slack:<team id>:<channel id>` or `webhook:<channel id>`.
    channel: String,
    /// Services its answers are scoped to by default.
    #[serde(default)]
    services: Vec<String>,
}

/// The tenant's tokens, revoked ones included; never their secrets.
#[utoipa::path(get, path = "/api/tokens", responses((status = 200, body = serde_json::Value, description = "tokens")))]
pub(crate) async fn tokens_index(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<appdb::TokenRow>>, ApiError> {
    Ok(Json(state.db.tokens(&caller.tenant).await?))
}

/// Makes a token for the caller's tenant.
#[utoipa::path(post, path = "/api/tokens", request_body = TokenRequest,
    responses((status = 201, body = NewToken), (status = 400, description = "bad role or name")))]
pub(crate) async fn tokens_create(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<TokenRequest>,
) -> Result<Response, ApiError> {
    let role = Role::parse(&request.role)
        .ok_or_else(|| ApiError::BadRequest("role: viewer, oncall or admin".into()))?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::BadRequest(format!(
            "a token name has 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    let expires = match request.expires_in_days {
        None => None,
        Some(days) => Some(appdb::token_expiry(days).ok_or_else(|| {
            ApiError::BadRequest(format!("expires_in_days: 1 to {}", appdb::MAX_TOKEN_DAYS))
        })?),
    };
    let (secret, token) = state
        .db
        .create_token(&caller.tenant, name, role, expires)
        .await?;
    Ok((StatusCode::CREATED, Json(NewToken { secret, token })).into_response())
}

/// Revokes one of the tenant's tokens.
#[utoipa::path(delete, path = "/api/tokens/{id}", params(("id" = String, Path, description = "token id")),
    responses((status = 204, description = "revoked"), (status = 404, description = "no such live token")))]
pub(crate) async fn token_delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.db.revoke_token(&caller.tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's linked chat channels.
#[utoipa::path(get, path = "/api/channels", responses((status = 200, body = serde_json::Value, description = "channels")))]
pub(crate) async fn channels_index(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<appdb::ChannelRow>>, ApiError> {
    Ok(Json(state.db.channels(&caller.tenant).await?))
}

/// Links a chat channel to the caller's tenant with a default service
/// scope (a channel of another tenant is not taken over).
#[utoipa::path(put, path = "/api/channels", request_body = ChannelRequest,
    responses((status = 204, description = "linked"), (status = 404, description = "linked to another tenant")))]
pub(crate) async fn channels_update(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<ChannelRequest>,
) -> Result<StatusCode, ApiError> {
    let channel = request.channel.trim();
    if channel.is_empty() || channel.len() > 200 {
        return Err(ApiError::BadRequest(
            "a channel id has 1 to 200 characters".into(),
        ));
    }
    state
        .db
        .link_channel(&caller.tenant, channel, &request.services)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
