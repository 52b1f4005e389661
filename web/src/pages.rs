use agent::Answer;
use askama::Template;
use flows::Outcome;
use retrieval::Hit;

/// The ask page: question box, and the answer with its evidence.
#[derive(Template)]
#[template(path = "ask.html")]
pub(crate) struct AskPage {
    pub question: String,
    pub answer: Option<Answer>,
}

/// The search page.
#[derive(Template)]
#[template(path = "search.html")]
pub(crate) struct SearchPage {
    pub query: String,
    pub hits: Vec<Hit>,
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
