use std::path::PathBuf;
use std::sync::Arc;

use agent::LlmAgent;
use appdb::AppDb;
use retrieval::Stores;

use crate::sources::Uploads;

/// What every handler shares. Cloning is cheap.
#[derive(Clone)]
pub struct AppState {
    pub(crate) stores: Arc<Stores>,
    pub(crate) tenant: Arc<str>,
    pub(crate) db: AppDb,
    pub(crate) home: Arc<PathBuf>,
    pub(crate) llm: Option<Arc<LlmAgent>>,
    pub(crate) evals: Option<Arc<evals::History>>,
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
    pub(crate) uploads: Arc<Uploads>,
    pub(crate) prices: TokenPrices,
}

/// What an LLM's tokens cost, in US dollars per million; zero when unknown
/// (a local model).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TokenPrices {
    /// Per million prompt tokens.
    pub prompt_per_million: f64,
    /// Per million completion tokens.
    pub completion_per_million: f64,
}

impl AppState {
    /// State over the stores in the data directory `home` (uploads and the
    /// quarantine live there), serving one tenant, keeping questions and
    /// feedback in `db`, answering in evidence mode.
    pub fn new(stores: Stores, tenant: String, db: AppDb, home: PathBuf) -> Self {
        AppState {
            stores: Arc::new(stores),
            tenant: tenant.into(),
            db,
            home: Arc::new(home),
            llm: None,
            evals: None,
            metrics: Arc::default(),
            uploads: Arc::default(),
            prices: TokenPrices::default(),
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

    /// Prices tokens for the cost figures.
    pub fn with_token_prices(mut self, prices: TokenPrices) -> Self {
        self.prices = prices;
        self
    }
}
