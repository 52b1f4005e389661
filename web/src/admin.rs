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
    /// For a webhook channel: the token its platform sends (Mattermost's
    /// outgoing-webhook token), which proves the channel.
    #[serde(default)]
    webhook_token: Option<String>,
}

/// A Slack channel link waiting for its proof.
#[derive(Serialize, ToSchema)]
pub(crate) struct ChannelClaim {
    /// The channel asked for.
    channel: String,
    /// One-time code to send from that channel: `/oncall link <code>`.
    code: String,
    /// Minutes the code stays valid.
    expires_in_minutes: i64,
}

/// Shortest webhook token accepted: a guessable token would let anyone
/// who knows the channel id ask for the tenant.
const MIN_WEBHOOK_TOKEN_CHARS: usize = 16;

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
/// scope, on proof of the channel. A webhook channel is linked at once,
/// keyed by its platform's token. A Slack channel already the tenant's is
/// re-scoped at once; any other gets a claim code that links it when sent
/// from that channel. A channel of another tenant is never taken over.
#[utoipa::path(put, path = "/api/channels", request_body = ChannelRequest,
    responses((status = 204, description = "linked"), (status = 202, body = ChannelClaim, description = "send the code from the channel to link it"),
        (status = 400, description = "not a channel, or a webhook without a token"), (status = 404, description = "linked to another tenant")))]
pub(crate) async fn channels_update(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<ChannelRequest>,
) -> Result<Response, ApiError> {
    let channel = request.channel.trim();
    if channel.len() > 200 {
        return Err(ApiError::BadRequest(
            "a channel id has at most 200 characters".into(),
        ));
    }
    if let Some(id) = channel.strip_prefix("webhook:").filter(|id| !id.is_empty()) {
        let token = request.webhook_token.as_deref().unwrap_or_default().trim();
        if token.chars().count() < MIN_WEBHOOK_TOKEN_CHARS {
            return Err(ApiError::BadRequest(format!(
                "a webhook channel needs webhook_token, the token its platform sends (at least {MIN_WEBHOOK_TOKEN_CHARS} characters)"
            )));
        }
        let key = crate::chat::webhook_channel(token, id);
        state
            .db
            .link_channel(&caller.tenant, &key, &request.services)
            .await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let is_slack = channel
        .strip_prefix("slack:")
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(team, id)| !team.is_empty() && !id.is_empty() && !id.contains(':'));
    if !is_slack {
        return Err(ApiError::BadRequest(
            "a channel is slack:<team id>:<channel id> or webhook:<channel id>".into(),
        ));
    }
    let linked = state.db.channel(channel).await?;
    match linked {
        Some(link) if *link.tenant == *caller.tenant => {
            state
                .db
                .link_channel(&caller.tenant, channel, &request.services)
                .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Some(_) => Err(ApiError::NotFound),
        None => {
            let code = state
                .db
                .claim_channel(&caller.tenant, channel, &request.services)
                .await?;
            Ok((
                StatusCode::ACCEPTED,
                Json(ChannelClaim {
                    channel: channel.to_string(),
                    code,
                    expires_in_minutes: appdb::CLAIM_MINUTES,
                }),
            )
                .into_response())
        }
    }
}
