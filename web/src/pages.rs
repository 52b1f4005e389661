use agent::Answer;
use askama::Template;
use flows::Outcome;

use crate::insights::InsightsView;
use crate::search::{FacetGroup, RecordView, SearchParams, SearchResult};
use crate::sources::SourcesView;
use crate::timeline::{TimelineChart, TimelineParams, TimelineView};

/// The ask page: question box, and the answer with its evidence.
#[derive(Template)]
#[template(path = "ask.html")]
pub(crate) struct AskPage<'a> {
    pub question: String,
    pub answer: Option<&'a Answer>,
    pub question_id: Option<&'a str>,
}

/// An answer on its own: in the ask page, and streamed to it.
#[derive(Template)]
#[template(path = "answer.html")]
pub(crate) struct AnswerFragment<'a> {
    pub answer: &'a Answer,
    pub question_id: Option<&'a str>,
}

/// The search page.
#[derive(Template)]
#[template(path = "search.html")]
pub(crate) struct SearchPage {
    pub params: SearchParams,
    pub result: SearchResult,
    pub groups: Vec<FacetGroup>,
}

/// One record with its neighbours.
#[derive(Template)]
#[template(path = "record.html")]
pub(crate) struct RecordPage {
    pub view: RecordView,
}

/// Template rates with changes and anomalies.
#[derive(Template)]
#[template(path = "timeline.html")]
pub(crate) struct TimelinePage {
    pub params: TimelineParams,
    pub view: TimelineView,
    pub chart: TimelineChart,
}

/// Ingested sources, bad input and uploads.
#[derive(Template)]
#[template(path = "sources.html")]
pub(crate) struct SourcesPage {
    pub view: SourcesView,
    pub max_upload_mib: u64,
}

/// Metrics for architects.
#[derive(Template)]
#[template(path = "insights.html")]
pub(crate) struct InsightsPage {
    pub view: InsightsView,
    pub questions_chart: (String, f64),
    pub first_answer_chart: (String, f64),
}

/// Eval runs as trends and a table.
#[derive(Template)]
#[template(path = "evals.html")]
pub(crate) struct EvalsPage {
    pub rows: Vec<crate::eval_trends::RunRow>,
    pub charts: Vec<crate::eval_trends::Chart>,
}

/// Login and token flows with rates, rising reasons and flags.
#[derive(Template)]
#[template(path = "flows.html")]
pub(crate) struct FlowsPage {
    pub params: crate::auth_flows::FlowParams,
    pub view: crate::auth_flows::FlowsView,
    pub max_listed: usize,
}
