use std::sync::OnceLock;

use askama::Template;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, middleware};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api_error::ApiError;
use crate::ask::{self, ask_page};
use crate::auth::{self, Caller};
use crate::auth_flows::{FlowParams, FlowsView, MAX_LISTED, view};
use crate::eval_trends::{RunRow, charts, rows};
use crate::insights::{self, insights_page};
use crate::pages::{EvalsPage, FlowsPage};
use crate::search::{self, record_page, search_page};
use crate::sources::{self, sources_page};
use crate::state::AppState;
use crate::timeline::{self, timeline_page};
use crate::{admin, allowed_hosts, chat, oidc};

/// Largest request body accepted, in bytes (uploads stream past it with
/// their own limit).
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Form posts of the pages (outside the OpenAPI spec).
pub const FORMS: [&str; 1] = ["/auth/logout"];

/// The server-rendered pages, their assets and the login redirects, by
/// path (GET); everything else is in the OpenAPI spec.
pub const PAGES: [&str; 12] = [
    "/",
    "/search",
    "/records/{id}",
    "/timeline",
    "/sources",
    "/insights",
    "/flows",
    "/evals",
    "/static/app.js",
    "/favicon.ico",
    "/auth/login",
    "/auth/callback",
];

#[derive(OpenApi)]
#[openapi(info(
    title = "oncall",
    description = "Ask, search, timelines, sources and metrics of the on-call assistant."
))]
struct ApiDoc;

/// Every JSON (and machine-read) route. Added only through `routes!`, which
/// needs the handler's `#[utoipa::path]`: the spec and the router are one
/// list, so a route cannot be served without being documented.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ask::answers_create))
        .routes(routes!(ask::answers_stream))
        .routes(routes!(ask::feedback_create))
        .routes(routes!(search::hits_index))
        .routes(routes!(search::record_show))
        .routes(routes!(timeline::timeline_show))
        .routes(routes!(sources::sources_index))
        .routes(routes!(sources::uploads_create))
        .routes(routes!(sources::upload_show))
        .routes(routes!(insights::insights_show))
        .routes(routes!(insights::insights_csv))
        .routes(routes!(flows_index))
        .routes(routes!(eval_runs_index))
        .routes(routes!(admin::tokens_index, admin::tokens_create))
        .routes(routes!(admin::token_delete))
        .routes(routes!(admin::channels_index, admin::channels_update))
        .routes(routes!(chat::slack_command))
        .routes(routes!(chat::slack_events))
        .routes(routes!(chat::webhook_answer))
        .routes(routes!(openapi_show))
        .routes(routes!(health_show))
        .routes(routes!(metrics_show))
}

/// The OpenAPI document of [`api_routes`].
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static SPEC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    SPEC.get_or_init(|| api_routes().into_openapi())
}

/// The whole HTTP surface: pages, JSON API and health.
pub fn router(state: AppState) -> Router {
    let (api, _) = api_routes().split_for_parts();
    let [
        ask,
        search,
        record,
        timeline,
        sources,
        insights,
        flows,
        evals,
        script,
        icon,
        login,
        callback,
    ] = PAGES;
    let [logout] = FORMS;
    Router::new()
        .route(ask, get(ask_page))
        .route(search, get(search_page))
        .route(record, get(record_page))
        .route(timeline, get(timeline_page))
        .route(sources, get(sources_page))
        .route(insights, get(insights_page))
        .route(flows, get(flows_page))
        .route(evals, get(evals_page))
        .route(script, get(script_show))
        .route(icon, get(icon_show))
        .route(login, get(oidc::login_start))
        .route(callback, get(oidc::login_finish))
        .route(logout, axum::routing::post(oidc::logout))
        .merge(api)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), auth::guard))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), deadline))
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            allowed_hosts::check_host,
        ))
        .with_state(state)
}

/// Ends a request that has not been answered within
/// [`crate::ServerLimits::request_timeout`] with a 408.
async fn deadline(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    match tokio::time::timeout(state.limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Json(serde_json::json!({ "error": "the request took too long" })),
        )
            .into_response(),
    }
}

/// Counts every request by its route pattern (unmatched ones as one).
async fn count_request(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .request(&route, response.status().as_u16(), started.elapsed());
    response
}

async fn security_headers(request: axum::extract::Request, next: middleware::Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn script_show() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../static/app.js"),
    )
        .into_response()
}

/// Browsers ask for an icon on every page; there is none.
async fn icon_show() -> axum::http::StatusCode {
    axum::http::StatusCode::NO_CONTENT
}

/// This API's OpenAPI document.
#[utoipa::path(get, path = "/api/openapi.json", responses((status = 200, description = "OpenAPI 3.1 document")))]
async fn openapi_show() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(openapi())
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = String, example = "ok")))]
async fn health_show() -> &'static str {
    "ok"
}

/// Requests, latencies, answers, LLM calls and tokens in Prometheus text
/// format. They count every tenant's traffic, so they are the operator's:
/// only admins of the server's own tenant read them.
#[utoipa::path(get, path = "/metrics", responses((status = 200, content_type = "text/plain", body = String),
    (status = 403, description = "an admin of another tenant")))]
async fn metrics_show(State(state): State<AppState>, caller: Caller) -> Response {
    if caller.tenant != state.tenant {
        return ApiError::Forbidden.into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn eval_rows(state: AppState) -> Result<Vec<RunRow>, ApiError> {
    match state.evals {
        Some(history) => Ok(tokio::task::spawn_blocking(move || rows(&history)).await??),
        None => Ok(Vec::new()),
    }
}

/// Eval runs, oldest first, with their metrics.
#[utoipa::path(get, path = "/api/evals", responses((status = 200, body = Vec<RunRow>)))]
async fn eval_runs_index(State(state): State<AppState>) -> Result<Json<Vec<RunRow>>, ApiError> {
    Ok(Json(eval_rows(state).await?))
}

async fn evals_page(State(state): State<AppState>) -> Result<Response, ApiError> {
    let rows = eval_rows(state).await?;
    let page = EvalsPage {
        charts: charts(&rows),
        rows,
    };
    Ok(Html(page.render()?).into_response())
}

async fn flows_view(
    state: AppState,
    caller: Caller,
    params: FlowParams,
) -> Result<FlowsView, ApiError> {
    tokio::task::spawn_blocking(move || view(&state.stores, &caller.tenant, &params)).await?
}

/// Login and token flows with success rates, rising failure reasons and
/// risky-event flags.
#[utoipa::path(get, path = "/api/flows", params(FlowParams),
    responses((status = 200, body = serde_json::Value, description = "flows, rates, rising reasons and flags")))]
async fn flows_index(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<FlowParams>,
) -> Result<Json<FlowsView>, ApiError> {
    Ok(Json(flows_view(state, caller, params).await?))
}

async fn flows_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<FlowParams>,
) -> Result<Response, ApiError> {
    let view = flows_view(state, caller, params.clone()).await?;
    let page = FlowsPage {
        params,
        view,
        max_listed: MAX_LISTED,
    };
    Ok(Html(page.render()?).into_response())
}
