//! The incident timeline: template rates over a window, the changes made
//! in it marked on the chart, and the anomalies found in the rates.

use std::sync::Arc;

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use ingest::SourceKind;
use retrieval::{Anomaly, Filters, TimeRange, Timeline, detect_anomalies};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::chart::{COLOURS, polyline, x_of};
use crate::pages::TimelinePage;
use crate::search::parse_time;
use crate::state::AppState;

/// Window shown when none is asked for: the last hours of data.
const DEFAULT_WINDOW: Duration = Duration::hours(3);
/// Buckets across the chart, whatever the window.
const BUCKETS: i64 = 90;
const SCAN_LIMIT: usize = 200_000;
const MAX_CHANGES: usize = 40;
/// Series drawn: those with anomalies first, then the busiest.
const MAX_LINES: usize = 8;
const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 260.0;

/// Which window and service.
#[derive(Clone, Debug, Default, Deserialize, Serialize, IntoParams)]
pub(crate) struct TimelineParams {
    /// Only this service's records (changes of every service are shown).
    pub service: Option<String>,
    /// Window start (RFC 3339); default: three hours before `to`.
    pub from: Option<String>,
    /// Window end (RFC 3339); default: the newest record.
    pub to: Option<String>,
}

/// A change record in the window.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct ChangeMark {
    /// Record id.
    pub id: String,
    /// When it was made.
    pub ts: DateTime<Utc>,
    /// Service changed.
    pub service: String,
    /// What changed.
    pub body: String,
}

/// Rates, changes and anomalies of a window.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct TimelineView {
    /// Counts per template and bucket.
    #[schema(value_type = Object)]
    pub timeline: Timeline,
    /// Changes in the window, oldest first.
    pub changes: Vec<ChangeMark>,
    /// Rate changes found, strongest first.
    #[schema(value_type = Vec<Object>)]
    pub anomalies: Vec<Anomaly>,
}

/// What the page draws.
pub(crate) struct TimelineChart {
    pub width: f64,
    pub height: f64,
    pub lines: Vec<ChartLine>,
    pub changes: Vec<(f64, ChangeMark)>,
    pub onsets: Vec<(f64, String)>,
    pub start: String,
    pub end: String,
    pub max: u32,
}

pub(crate) struct ChartLine {
    pub label: String,
    pub colour: &'static str,
    pub points: String,
    pub total: u64,
}

async fn timeline_view(
    state: AppState,
    tenant: Arc<str>,
    params: TimelineParams,
) -> Result<TimelineView, ApiError> {
    let from = parse_time("from", params.from.as_deref())?;
    let to = parse_time("to", params.to.as_deref())?;
    tokio::task::spawn_blocking(move || {
        let text = state.stores.text();
        text.refresh()?;
        let newest = text.time_bounds(&tenant)?.map(|(_, last)| last);
        let end = to
            .or(newest.map(|last| last + Duration::seconds(1)))
            .unwrap_or_else(Utc::now);
        let start = from.unwrap_or(end - DEFAULT_WINDOW);
        if start >= end {
            return Err(ApiError::BadRequest("from must be before to".into()));
        }
        let window = TimeRange::between(start, end);
        // Rates are of what services log; changes are drawn as markers.
        let activity = Filters {
            kinds: vec![SourceKind::Log, SourceKind::Auth],
            services: params
                .service
                .iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect(),
            time: window,
            ..Filters::default()
        };
        let records = text.scan(&tenant, &activity, SCAN_LIMIT)?;
        // Series that begin with the data are not new: start at the first
        // record unless a start was asked for.
        let start = match (from, records.first().and_then(|r| r.ts)) {
            (None, Some(first)) => first.max(start),
            _ => start,
        };
        let bucket = Duration::seconds(((end - start).num_seconds() / BUCKETS).max(1));
        let timeline = Timeline::build(&records, start, end, bucket);
        let anomalies = detect_anomalies(&timeline);
        let changed = Filters {
            kinds: vec![SourceKind::Change],
            time: window,
            ..Filters::default()
        };
        let changes = text
            .scan(&tenant, &changed, MAX_CHANGES)?
            .into_iter()
            .filter_map(|r| {
                Some(ChangeMark {
                    ts: r.ts?,
                    id: r.id.to_string(),
                    service: r.service,
                    body: r.body,
                })
            })
            .collect();
        Ok(TimelineView {
            timeline,
            changes,
            anomalies,
        })
    })
    .await?
}

pub(crate) fn chart(view: &TimelineView) -> TimelineChart {
    let timeline = &view.timeline;
    let anomalous = |template_id: &str| {
        view.anomalies
            .iter()
            .position(|a| a.template_id == template_id)
            .unwrap_or(usize::MAX)
    };
    let mut series: Vec<_> = timeline.series.iter().collect();
    series.sort_by(|a, b| {
        anomalous(&a.template_id)
            .cmp(&anomalous(&b.template_id))
            .then_with(|| b.total.cmp(&a.total))
    });
    series.truncate(MAX_LINES);
    let max = series
        .iter()
        .flat_map(|s| s.counts.iter().copied())
        .max()
        .unwrap_or(0);
    let lines = series
        .iter()
        .enumerate()
        .map(|(index, s)| ChartLine {
            label: format!("{} · {}", s.service, s.template),
            colour: COLOURS[index % COLOURS.len()],
            points: polyline(
                &s.counts.iter().map(|&c| f64::from(c)).collect::<Vec<_>>(),
                f64::from(max),
                WIDTH,
                HEIGHT,
            ),
            total: s.total,
        })
        .collect();
    let end = timeline.bucket_start(timeline.buckets);
    let x_at = |ts: DateTime<Utc>| {
        let span = (end - timeline.start).num_milliseconds().max(1) as f64;
        ((ts - timeline.start).num_milliseconds() as f64 / span * WIDTH).clamp(0.0, WIDTH)
    };
    TimelineChart {
        width: WIDTH,
        height: HEIGHT,
        lines,
        changes: view
            .changes
            .iter()
            .map(|c| (x_at(c.ts), c.clone()))
            .collect(),
        onsets: view
            .anomalies
            .iter()
            .map(|a| {
                let index = ((a.onset - timeline.start).num_seconds() / timeline.bucket_secs).max(0)
                    as usize;
                (
                    x_of(index, timeline.buckets, WIDTH),
                    format!("{:?} · {} · {}", a.direction, a.service, a.template),
                )
            })
            .collect(),
        start: timeline.start.format("%Y-%m-%d %H:%M").to_string(),
        end: end.format("%H:%M").to_string(),
        max,
    }
}

/// Template rates, change records and anomalies of a window.
#[utoipa::path(get, path = "/api/timeline", params(TimelineParams),
    responses((status = 200, body = TimelineView), (status = 400, description = "bad window")))]
pub(crate) async fn timeline_show(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<TimelineParams>,
) -> Result<Json<TimelineView>, ApiError> {
    Ok(Json(timeline_view(state, caller.tenant, params).await?))
}

/// The timeline page.
pub(crate) async fn timeline_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<TimelineParams>,
) -> Result<Response, ApiError> {
    let view = timeline_view(state, caller.tenant, params.clone()).await?;
    let page = TimelinePage {
        chart: chart(&view),
        params,
        view,
    };
    Ok(Html(page.render()?).into_response())
}
