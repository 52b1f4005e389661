use std::sync::Arc;

use agent::LlmAgent;
use retrieval::Stores;

/// What every handler shares. Cloning is cheap.
#[derive(Clone)]
pub struct AppState {
    pub(crate) stores: Arc<Stores>,
    pub(crate) tenant: Arc<str>,
    pub(crate) llm: Option<Arc<LlmAgent>>,
    pub(crate) evals: Option<Arc<evals::History>>,
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    /// State over the stores, serving one tenant, answering in evidence mode.
    pub fn new(stores: Stores, tenant: String) -> Self {
        AppState {
            stores: Arc::new(stores),
            tenant: tenant.into(),
            llm: None,
            evals: None,
            metrics: Arc::default(),
        }
    }

    /// Shows the eval runs kept in `history` as trends.
    pub fn with_eval_history(mut self, history: evals::History) -> Self {
        self.evals = Some(Arc::new(history));
        self
    }

    /// Answers with `agent` (evidence mode when it fails).
    pub fn with_llm(mut self, agent: Arc<LlmAgent>) -> Self {
        self.llm = Some(agent);
        self
    }
}
