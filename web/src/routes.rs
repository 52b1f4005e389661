use agent::{Answer, Audience, EvidenceEngine};
use askama::Template;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use ingest::{Severity, SourceKind};
use retrieval::{Filters, Hit, SearchMode, SearchQuery};
use serde::Deserialize;

use crate::api_error::ApiError;
use crate::auth_flows::{FlowParams, FlowsView, MAX_LISTED, view};
use crate::eval_trends::{RunRow, charts, rows};
use crate::pages::{AskPage, EvalsPage, FlowsPage, SearchPage};
use crate::state::AppState;

/// Largest request body accepted, in bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;
const MAX_QUESTION_CHARS: usize = 2000;
const MAX_SEARCH_LIMIT: usize = 200;

/// The whole HTTP surface: pages, JSON API and health.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(ask_page))
        .route("/search", get(search_page))
        .route("/api/ask", post(answers_create))
        .route("/api/search", get(hits_index))
        .route("/flows", get(flows_page))
        .route("/api/flows", get(flows_index))
        .route("/evals", get(evals_page))
        .route("/api/evals", get(eval_runs_index))
        .route("/healthz", get(health_show))
        .route("/metrics", get(metrics_show))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .with_state(state)
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

async fn metrics_show(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
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

async fn health_show() -> &'static str {
    "ok"
}

#[derive(Deserialize)]
struct AskRequest {
    question: String,
}

async fn ask(state: AppState, question: String) -> Result<Answer, ApiError> {
    let metrics = state.metrics.clone();
    let answer = answer_question(state, question).await?;
    metrics.answer(&answer);
    Ok(answer)
}

async fn answer_question(state: AppState, question: String) -> Result<Answer, ApiError> {
    state.stores.text().refresh()?;
    let question = question.trim().to_string();
    if question.is_empty() || question.chars().count() > MAX_QUESTION_CHARS {
        return Err(ApiError::BadRequest(format!(
            "a question has 1 to {MAX_QUESTION_CHARS} characters"
        )));
    }
    if let Some(llm) = &state.llm {
        // The engineer asking sees identities put back; secrets stay redacted.
        return Ok(llm
            .ask(
                &state.stores,
                &state.tenant,
                &question,
                Audience::LocalUser,
                None,
            )
            .await?);
    }
    let answer = tokio::task::spawn_blocking(move || {
        EvidenceEngine::new(&state.stores).ask(&state.tenant, &question)
    })
    .await??;
    Ok(answer)
}

async fn answers_create(
    State(state): State<AppState>,
    Json(request): Json<AskRequest>,
) -> Result<Json<Answer>, ApiError> {
    Ok(Json(ask(state, request.question).await?))
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    q: String,
}

async fn ask_page(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let answer = if query.q.trim().is_empty() {
        None
    } else {
        Some(ask(state, query.q.clone()).await?)
    };
    let page = AskPage {
        question: query.q,
        answer,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
    service: Option<String>,
    kind: Option<String>,
    severity: Option<String>,
    mode: Option<String>,
    limit: Option<usize>,
}

async fn search(state: AppState, params: SearchParams) -> Result<Vec<Hit>, ApiError> {
    let mode = match params.mode.as_deref() {
        Some(name) => SearchMode::parse(name)
            .ok_or_else(|| ApiError::BadRequest(format!("unknown mode {name:?}")))?,
        None => SearchMode::Hybrid,
    };
    let kinds = match params.kind.as_deref() {
        Some(name) => vec![
            SourceKind::parse(name)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown kind {name:?}")))?,
        ],
        None => Vec::new(),
    };
    let severities = match params.severity.as_deref() {
        Some(name) => vec![
            Severity::parse(name)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown severity {name:?}")))?,
        ],
        None => Vec::new(),
    };
    let query = SearchQuery {
        tenant: state.tenant.to_string(),
        text: params.q,
        filters: Filters {
            services: params.service.into_iter().collect(),
            kinds,
            severities,
            ..Filters::default()
        },
        limit: params.limit.unwrap_or(20).min(MAX_SEARCH_LIMIT),
    };
    Ok(tokio::task::spawn_blocking(move || {
        state.stores.text().refresh()?;
        state.stores.search(&query, mode)
    })
    .await??)
}

async fn hits_index(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> Result<Json<Vec<Hit>>, ApiError> {
    Ok(Json(search(state, params).await?))
}

async fn search_page(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> Result<Response, ApiError> {
    let query = params.q.clone();
    let hits = if query.trim().is_empty() {
        Vec::new()
    } else {
        search(state, params).await?
    };
    Ok(Html(SearchPage { query, hits }.render()?).into_response())
}

async fn eval_rows(state: AppState) -> Result<Vec<RunRow>, ApiError> {
    match state.evals {
        Some(history) => Ok(tokio::task::spawn_blocking(move || rows(&history)).await??),
        None => Ok(Vec::new()),
    }
}

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

async fn flows_view(state: AppState, params: FlowParams) -> Result<FlowsView, ApiError> {
    tokio::task::spawn_blocking(move || view(&state.stores, &state.tenant, &params)).await?
}

async fn flows_index(
    State(state): State<AppState>,
    Query(params): Query<FlowParams>,
) -> Result<Json<FlowsView>, ApiError> {
    Ok(Json(flows_view(state, params).await?))
}

async fn flows_page(
    State(state): State<AppState>,
    Query(params): Query<FlowParams>,
) -> Result<Response, ApiError> {
    let view = flows_view(state, params.clone()).await?;
    let page = FlowsPage {
        params,
        view,
        max_listed: MAX_LISTED,
    };
    Ok(Html(page.render()?).into_response())
}
