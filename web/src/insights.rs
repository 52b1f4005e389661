//! Metrics for architects: is the tool used, is it fast, does it help,
//! what does it cost, and how long incidents take to acknowledge and
//! resolve. Questions and feedback come from the state database; incident
//! durations from ingested incident records; quality from the eval history.

use std::collections::BTreeMap;
use std::sync::Arc;

use agent::{Answer, EvidenceRole};
use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use ingest::{RecordId, SourceKind};
use retrieval::Filters;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::chart::polyline;
use crate::pages::InsightsPage;
use crate::state::{AppState, TokenPrices};

const DEFAULT_DAYS: i64 = 30;
const MAX_DAYS: i64 = 366;
const TOP: usize = 10;
const MAX_INCIDENTS: usize = 10_000;
const FEEDBACK_LISTED: u32 = 20;
const CHART_WIDTH: f64 = 420.0;
const CHART_HEIGHT: f64 = 120.0;

/// The period looked at.
#[derive(Clone, Copy, Debug, Deserialize, IntoParams)]
pub(crate) struct InsightsParams {
    /// Days back from now (default 30, at most 366).
    days: Option<i64>,
}

/// One day of use.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub(crate) struct DayRow {
    /// The day (UTC), `YYYY-MM-DD`.
    pub day: String,
    /// Questions asked.
    pub questions: u64,
    /// "Useful" votes.
    pub useful: u64,
    /// "Not useful" votes.
    pub not_useful: u64,
    /// Median milliseconds to the first answer shown.
    pub first_answer_p50_ms: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Cost in US dollars at the configured prices.
    pub cost_usd: f64,
}

/// A value and how often it recurred.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct Recurring {
    /// The root cause or template.
    pub text: String,
    /// How many answers had it.
    pub count: usize,
}

/// An incident record's durations.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct IncidentRow {
    /// Incident title.
    pub title: String,
    /// Service paged.
    pub service: String,
    /// When it was opened.
    pub opened: DateTime<Utc>,
    /// Minutes to acknowledge.
    pub ack_minutes: Option<f64>,
    /// Minutes to resolve.
    pub resolve_minutes: Option<f64>,
}

/// Everything the architects' page shows.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct InsightsView {
    /// Days looked at.
    pub days: i64,
    /// Questions in the period.
    pub questions: u64,
    /// Share of votes that said "useful" (none when there are no votes).
    pub usefulness: Option<f64>,
    /// Median and 95th percentile milliseconds to the first answer.
    pub first_answer_p50_ms: u64,
    /// 95th percentile milliseconds to the first answer.
    pub first_answer_p95_ms: u64,
    /// Mean LLM tokens per answer.
    pub tokens_per_answer: f64,
    /// Mean cost per answer in US dollars.
    pub cost_per_answer_usd: f64,
    /// Per day, oldest first.
    pub per_day: Vec<DayRow>,
    /// Root causes that recurred, most frequent first.
    pub root_causes: Vec<Recurring>,
    /// Symptom templates behind the answers, most frequent first.
    pub templates: Vec<Recurring>,
    /// Incidents with their durations, newest first.
    pub incidents: Vec<IncidentRow>,
    /// Mean minutes to acknowledge.
    pub mtta_minutes: Option<f64>,
    /// Mean minutes to resolve.
    pub mttr_minutes: Option<f64>,
    /// Latest eval scores by metric.
    pub eval_scores: BTreeMap<String, f64>,
    /// Latest feedback, newest first.
    #[schema(value_type = Vec<Object>)]
    pub feedback: Vec<appdb::FeedbackRow>,
}

fn percentile(sorted: &[u64], fraction: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn cost(prices: TokenPrices, prompt: u64, completion: u64) -> f64 {
    (prompt as f64 * prices.prompt_per_million + completion as f64 * prices.completion_per_million)
        / 1e6
}

/// A root cause with the parts that differ between occurrences of the
/// same cause (cited ids, numbers, times) masked, so recurrences group.
fn recurring_form(statement: &str) -> String {
    let mut out = String::new();
    let mut chars = statement.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '[' {
            // Citations like [r-63d5ba2d877f7dae] are dropped.
            let rest: String = chars.clone().take_while(|&c| c != ']').collect();
            if rest.starts_with("r-") {
                for _ in 0..=rest.chars().count() {
                    chars.next();
                }
                continue;
            }
        }
        if c.is_ascii_digit() {
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_digit() || *c == ':' || *c == '.')
            {
                chars.next();
            }
            out.push('#');
        } else {
            out.push(c);
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn top(counts: BTreeMap<String, usize>) -> Vec<Recurring> {
    let mut rows: Vec<Recurring> = counts
        .into_iter()
        .map(|(text, count)| Recurring { text, count })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.text.cmp(&b.text)));
    rows.truncate(TOP);
    rows
}

fn minutes_between(from: DateTime<Utc>, to: Option<String>) -> Option<f64> {
    let to = ingest::parse_timestamp(&to?)?;
    (to >= from).then(|| (to - from).num_seconds() as f64 / 60.0)
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (count > 0).then(|| sum / count as f64)
}

async fn insights(
    state: AppState,
    tenant: Arc<str>,
    params: InsightsParams,
) -> Result<InsightsView, ApiError> {
    let days = params.days.unwrap_or(DEFAULT_DAYS).clamp(1, MAX_DAYS);
    let since = Utc::now() - Duration::days(days);
    let questions = state.db.questions_since(&tenant, since).await?;
    let feedback = state.db.recent_feedback(&tenant, FEEDBACK_LISTED).await?;
    let answers: Vec<Answer> = questions
        .iter()
        .filter_map(|row| serde_json::from_str(&row.answer_json).ok())
        .collect();
    let prices = state.prices;
    let mut by_day: BTreeMap<String, (DayRow, Vec<u64>)> = BTreeMap::new();
    for row in &questions {
        let (day, firsts) = by_day
            .entry(row.asked_at.format("%Y-%m-%d").to_string())
            .or_default();
        day.questions += 1;
        day.useful += row.useful;
        day.not_useful += row.not_useful;
        day.prompt_tokens += row.prompt_tokens;
        day.completion_tokens += row.completion_tokens;
        firsts.push(row.first_answer_ms);
    }
    let per_day: Vec<DayRow> = by_day
        .into_iter()
        .map(|(name, (mut day, mut firsts))| {
            firsts.sort_unstable();
            day.day = name;
            day.first_answer_p50_ms = percentile(&firsts, 0.5);
            day.cost_usd = cost(prices, day.prompt_tokens, day.completion_tokens);
            day
        })
        .collect();
    let mut firsts: Vec<u64> = questions.iter().map(|q| q.first_answer_ms).collect();
    firsts.sort_unstable();
    let (useful, not_useful) = questions
        .iter()
        .fold((0, 0), |(u, n), q| (u + q.useful, n + q.not_useful));
    let answered = questions.len().max(1) as f64;
    let prompt: u64 = questions.iter().map(|q| q.prompt_tokens).sum();
    let completion: u64 = questions.iter().map(|q| q.completion_tokens).sum();
    let mut causes: BTreeMap<String, usize> = BTreeMap::new();
    for cause in questions.iter().filter_map(|q| q.root_cause.as_deref()) {
        *causes.entry(recurring_form(cause)).or_default() += 1;
    }
    let symptom_ids: Vec<RecordId> = answers
        .iter()
        .flat_map(|a| a.citations.iter())
        .filter(|c| c.role == EvidenceRole::Symptom)
        .map(|c| c.id.clone())
        .collect();
    let (worker, scope) = (state.clone(), tenant.clone());
    let (templates, incidents) = tokio::task::spawn_blocking(move || {
        let text = worker.stores.text();
        text.refresh()?;
        let mut templates: BTreeMap<String, usize> = BTreeMap::new();
        for record in text.get(&scope, &symptom_ids)? {
            let template = record.template.map_or(record.body, |t| t.text);
            *templates
                .entry(format!("{} · {template}", record.service))
                .or_default() += 1;
        }
        let paged = Filters {
            kinds: vec![SourceKind::Incident],
            ..Filters::default()
        };
        let mut incidents: Vec<IncidentRow> = text
            .scan(&scope, &paged, MAX_INCIDENTS)?
            .into_iter()
            .filter_map(|record| {
                let opened = record.ts?;
                Some(IncidentRow {
                    ack_minutes: minutes_between(opened, record.field_str("acknowledged_at")),
                    resolve_minutes: minutes_between(opened, record.field_str("resolved_at")),
                    title: record.body,
                    service: record.service,
                    opened,
                })
            })
            .collect();
        incidents.reverse();
        Ok::<_, ApiError>((top(templates), incidents))
    })
    .await??;
    let eval_scores = match &state.evals {
        Some(history) => {
            let history = history.clone();
            tokio::task::spawn_blocking(move || crate::eval_trends::rows(&history))
                .await??
                .pop()
                .map(|run| run.metrics)
                .unwrap_or_default()
        }
        None => BTreeMap::new(),
    };
    Ok(InsightsView {
        days,
        questions: questions.len() as u64,
        usefulness: (useful + not_useful > 0).then(|| useful as f64 / (useful + not_useful) as f64),
        first_answer_p50_ms: percentile(&firsts, 0.5),
        first_answer_p95_ms: percentile(&firsts, 0.95),
        tokens_per_answer: (prompt + completion) as f64 / answered,
        cost_per_answer_usd: cost(prices, prompt, completion) / answered,
        per_day,
        root_causes: top(causes),
        templates,
        mtta_minutes: mean(incidents.iter().filter_map(|i| i.ack_minutes)),
        mttr_minutes: mean(incidents.iter().filter_map(|i| i.resolve_minutes)),
        incidents,
        eval_scores,
        feedback,
    })
}

/// Use, speed, usefulness, cost and incident durations over a period.
#[utoipa::path(get, path = "/api/insights", params(InsightsParams),
    responses((status = 200, body = InsightsView)))]
pub(crate) async fn insights_show(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<InsightsParams>,
) -> Result<Json<InsightsView>, ApiError> {
    Ok(Json(insights(state, caller.tenant, params).await?))
}

/// The per-day figures as CSV, for spreadsheets.
#[utoipa::path(get, path = "/api/insights.csv", params(InsightsParams),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub(crate) async fn insights_csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<InsightsParams>,
) -> Result<Response, ApiError> {
    let view = insights(state, caller.tenant, params).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| ApiError::Internal(e.to_string());
    writer
        .write_record([
            "day",
            "questions",
            "useful",
            "not_useful",
            "first_answer_p50_ms",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
        ])
        .map_err(internal)?;
    for day in &view.per_day {
        writer
            .write_record([
                day.day.clone(),
                day.questions.to_string(),
                day.useful.to_string(),
                day.not_useful.to_string(),
                day.first_answer_p50_ms.to_string(),
                day.prompt_tokens.to_string(),
                day.completion_tokens.to_string(),
                format!("{:.6}", day.cost_usd),
            ])
            .map_err(internal)?;
    }
    let body = writer
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"oncall-usage.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// The architects' page.
pub(crate) async fn insights_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<InsightsParams>,
) -> Result<Response, ApiError> {
    let view = insights(state, caller.tenant, params).await?;
    let series = |value: &dyn Fn(&DayRow) -> f64| -> (String, f64) {
        let values: Vec<f64> = view.per_day.iter().map(value).collect();
        let max = values.iter().copied().fold(0.0, f64::max);
        (polyline(&values, max, CHART_WIDTH, CHART_HEIGHT), max)
    };
    let page = InsightsPage {
        questions_chart: series(&|d| d.questions as f64),
        first_answer_chart: series(&|d| d.first_answer_p50_ms as f64),
        view,
    };
    Ok(Html(page.render()?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recurring_causes_group_whatever_their_times_and_citations() {
        let a = recurring_form(
            "the change on auth-server at 14:02:00 UTC, \"rotate key\" [r-63d5ba2d877f7dae]: it precedes the onset by 3 min.",
        );
        let b = recurring_form(
            "the change on auth-server at 09:41:10 UTC, \"rotate key\" [r-0000aaaa11112222]: it precedes the onset by 12 min.",
        );
        assert_eq!(a, b);
        assert!(!a.contains("r-63d5"), "{a}");
    }

    #[test]
    fn percentiles_of_sorted_values() {
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[10, 20, 30], 0.5), 20);
        assert_eq!(percentile(&[10, 20, 30, 40], 0.95), 40);
    }
}
