//! Search with filters and facet counts, and one record with its
//! neighbours in time.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use ingest::{Record, RecordId, Severity, SourceKind};
use retrieval::{Filters, Hit, SearchMode, SearchQuery, TimeRange};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::pages::{RecordPage, SearchPage};
use crate::state::AppState;

const MAX_SEARCH_LIMIT: usize = 200;
/// Longest search text: as long as a question may be. Each term becomes a
/// clause per searched field, so an unbounded query is unbounded work.
const MAX_QUERY_CHARS: usize = 2000;
const DEFAULT_LIMIT: usize = 20;
/// Records shown on each side of a record, and how far to look for them.
const NEIGHBOURS_PER_SIDE: usize = 10;
const NEIGHBOUR_WINDOW: Duration = Duration::minutes(10);
const NEIGHBOUR_SCAN: usize = 5000;

/// Search parameters; every filter is optional.
#[derive(Clone, Debug, Default, Deserialize, Serialize, IntoParams)]
pub(crate) struct SearchParams {
    /// Words to search for.
    #[serde(default)]
    pub q: String,
    /// Only this service.
    pub service: Option<String>,
    /// Only this source kind (log, auth, config, change, knowledge, incident, metric).
    pub kind: Option<String>,
    /// Only this severity (debug, info, warn, error, fatal).
    pub severity: Option<String>,
    /// Only records at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Only records before this time (RFC 3339).
    pub to: Option<String>,
    /// Retrievers: text, vector or hybrid (default).
    pub mode: Option<String>,
    /// Hits wanted (at most 200).
    pub limit: Option<usize>,
}

/// Hits, and how the hits considered split by service, kind and severity.
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct SearchResult {
    /// Ranked hits.
    #[schema(value_type = Vec<Object>)]
    pub hits: Vec<Hit>,
    /// Counts over the best 200 matches.
    pub facets: Facets,
}

/// Counts per value, largest first.
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct Facets {
    /// Per service.
    pub service: Vec<FacetCount>,
    /// Per source kind.
    pub kind: Vec<FacetCount>,
    /// Per severity.
    pub severity: Vec<FacetCount>,
}

/// One facet value and how many matches have it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FacetCount {
    /// The value.
    pub value: String,
    /// Matches with it.
    pub count: usize,
}

/// A record, its template, and what its service logged around it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecordView {
    /// The record.
    #[schema(value_type = Object)]
    pub record: Record,
    /// Records of the same service just before it, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub before: Vec<Record>,
    /// Records of the same service just after it, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub after: Vec<Record>,
}

pub(crate) fn parse_time(
    name: &str,
    text: Option<&str>,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => ingest::parse_timestamp(text)
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest(format!("{name}: not a timestamp: {text:?}"))),
    }
}

fn filters(params: &SearchParams) -> Result<Filters, ApiError> {
    let one = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let kinds = match one(&params.kind) {
        Some(name) => vec![
            SourceKind::parse(&name)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown kind {name:?}")))?,
        ],
        None => Vec::new(),
    };
    let severities = match one(&params.severity) {
        Some(name) => vec![
            Severity::parse(&name)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown severity {name:?}")))?,
        ],
        None => Vec::new(),
    };
    Ok(Filters {
        services: one(&params.service).into_iter().collect(),
        kinds,
        severities,
        time: TimeRange {
            from: parse_time("from", params.from.as_deref())?,
            to: parse_time("to", params.to.as_deref())?,
        },
    })
}

async fn search(
    state: AppState,
    tenant: &str,
    params: SearchParams,
) -> Result<SearchResult, ApiError> {
    let mode = match params.mode.as_deref().filter(|m| !m.is_empty()) {
        Some(name) => SearchMode::parse(name)
            .ok_or_else(|| ApiError::BadRequest(format!("unknown mode {name:?}")))?,
        None => SearchMode::Hybrid,
    };
    if params.q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::BadRequest(format!(
            "a search has at most {MAX_QUERY_CHARS} characters"
        )));
    }
    let wanted = params.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_SEARCH_LIMIT);
    let query = SearchQuery {
        tenant: tenant.to_string(),
        text: params.q.clone(),
        filters: filters(&params)?,
        limit: MAX_SEARCH_LIMIT,
    };
    let mut hits = tokio::task::spawn_blocking(move || {
        state.stores.text().refresh()?;
        state.stores.search(&query, mode)
    })
    .await??;
    let facets = facets(&hits);
    hits.truncate(wanted);
    Ok(SearchResult { hits, facets })
}

fn facets(hits: &[Hit]) -> Facets {
    let count = |value: &dyn Fn(&Record) -> String| {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for hit in hits {
            *counts.entry(value(&hit.record)).or_default() += 1;
        }
        let mut counts: Vec<FacetCount> = counts
            .into_iter()
            .map(|(value, count)| FacetCount { value, count })
            .collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        counts
    };
    Facets {
        service: count(&|r| r.service.clone()),
        kind: count(&|r| r.kind.as_str().to_string()),
        severity: count(&|r| r.severity.as_str().to_string()),
    }
}

/// Hybrid (or text, or vector) search within the filters, with facet counts.
#[utoipa::path(get, path = "/api/search", params(SearchParams),
    responses((status = 200, body = SearchResult), (status = 400, description = "bad filter")))]
pub(crate) async fn hits_index(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchResult>, ApiError> {
    Ok(Json(search(state, &caller.tenant, params).await?))
}

/// The search page.
pub(crate) async fn search_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<SearchParams>,
) -> Result<Response, ApiError> {
    let result = if params.q.trim().is_empty() {
        SearchResult::default()
    } else {
        search(state, &caller.tenant, params.clone()).await?
    };
    let groups = [
        ("service", &result.facets.service),
        ("kind", &result.facets.kind),
        ("severity", &result.facets.severity),
    ]
    .into_iter()
    .map(|(field, counts)| FacetGroup {
        field,
        entries: counts
            .iter()
            .map(|c| {
                (
                    c.value.clone(),
                    c.count,
                    facet_link(&params, field, &c.value),
                )
            })
            .collect(),
    })
    .collect();
    let page = SearchPage {
        params,
        result,
        groups,
    };
    Ok(Html(page.render()?).into_response())
}

/// One facet's values, counts and links that filter by them.
pub(crate) struct FacetGroup {
    pub field: &'static str,
    pub entries: Vec<(String, usize, String)>,
}

/// The search URL with one more filter set.
fn facet_link(params: &SearchParams, field: &str, value: &str) -> String {
    let mut params = params.clone();
    let value = Some(value.to_string());
    match field {
        "service" => params.service = value,
        "kind" => params.kind = value,
        _ => params.severity = value,
    }
    let query = query_string(&params);
    format!("/search?{query}")
}

fn query_string(params: &SearchParams) -> String {
    let pairs: Vec<(&str, String)> = [
        ("q", Some(params.q.clone())),
        ("service", params.service.clone()),
        ("kind", params.kind.clone()),
        ("severity", params.severity.clone()),
        ("from", params.from.clone()),
        ("to", params.to.clone()),
        ("mode", params.mode.clone()),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value.filter(|v| !v.is_empty())?)))
    .collect();
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

async fn record_view(
    state: AppState,
    tenant: Arc<str>,
    id: String,
) -> Result<RecordView, ApiError> {
    tokio::task::spawn_blocking(move || {
        let text = state.stores.text();
        text.refresh()?;
        let record = text
            .get(&tenant, &[RecordId(id)])?
            .into_iter()
            .next()
            .ok_or(ApiError::NotFound)?;
        let (mut before, mut after) = (Vec::new(), Vec::new());
        if let Some(ts) = record.ts {
            let around = Filters {
                services: vec![record.service.clone()],
                time: TimeRange::between(ts - NEIGHBOUR_WINDOW, ts + NEIGHBOUR_WINDOW),
                ..Filters::default()
            };
            for other in text.scan(&tenant, &around, NEIGHBOUR_SCAN)? {
                if other.id == record.id {
                    continue;
                }
                if other.ts < record.ts {
                    before.push(other);
                } else {
                    after.push(other);
                }
            }
            before.drain(..before.len().saturating_sub(NEIGHBOURS_PER_SIDE));
            after.truncate(NEIGHBOURS_PER_SIDE);
        }
        Ok(RecordView {
            record,
            before,
            after,
        })
    })
    .await?
}

/// One record with its template and its service's records around it.
#[utoipa::path(get, path = "/api/records/{id}", params(("id" = String, Path, description = "record id")),
    responses((status = 200, body = RecordView), (status = 404, description = "no such record")))]
pub(crate) async fn record_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RecordView>, ApiError> {
    Ok(Json(record_view(state, caller.tenant, id).await?))
}

/// The record page.
pub(crate) async fn record_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let view = record_view(state, caller.tenant, id).await?;
    Ok(Html(RecordPage { view }.render()?).into_response())
}
