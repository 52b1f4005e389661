use std::path::PathBuf;
use std::sync::Arc;

use agent::LlmAgent;
use appdb::AppDb;
use retrieval::Stores;

use crate::allowed_hosts::AllowedHosts;
use crate::auth::{AuthMode, RateLimit, RateLimiter};
use crate::chat::{ChatConfig, ReplayGuard};
use crate::oidc::{Oidc, OidcConfig};
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
    pub(crate) auth: AuthMode,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) rate_limiter: Arc<RateLimiter>,
    pub(crate) chat: Option<Arc<ChatConfig>>,
    pub(crate) chat_replays: Arc<ReplayGuard>,
    pub(crate) oidc: Option<Arc<Oidc>>,
    pub(crate) allowed_hosts: Arc<AllowedHosts>,
    /// Permits of the scanning routes running at once.
    pub(crate) heavy: Arc<tokio::sync::Semaphore>,
    /// Most bytes an uploaded gzip file may expand to.
    pub(crate) max_upload_expansion: u64,
    /// Connection and request limits of the server.
    pub(crate) limits: ServerLimits,
    /// Pseudonymizes uploads before they are stored, when set.
    pub(crate) at_rest: Option<Arc<privacy::AtRest>>,
}

/// What one client may hold of the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Connections open at once; more are closed as they arrive.
    pub max_connections: usize,
    /// Time a client has to send a request's headers.
    pub header_read_timeout: std::time::Duration,
    /// Time a request has from its headers to its response (uploads and
    /// streamed answers included); past it the client gets a 408.
    pub request_timeout: std::time::Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 1024,
            header_read_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(300),
        }
    }
}

/// Scanning views served at once by default: each may hold a few hundred
/// megabytes of records.
const DEFAULT_HEAVY_REQUESTS: usize = 2;
/// Most bytes an uploaded gzip file may expand to by default, whatever its
/// ratio.
const DEFAULT_MAX_UPLOAD_EXPANSION: u64 = 2 * 1024 * 1024 * 1024;

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
    /// quarantine live there), keeping questions and feedback in `db`,
    /// answering in evidence mode. Open: every request acts for `tenant`
    /// until [`AppState::with_auth`] asks for tokens.
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
            auth: AuthMode::Open,
            rate_limit: Some(RateLimit::default()),
            rate_limiter: Arc::default(),
            chat: None,
            chat_replays: Arc::default(),
            oidc: None,
            allowed_hosts: Arc::default(),
            heavy: Arc::new(tokio::sync::Semaphore::new(DEFAULT_HEAVY_REQUESTS)),
            max_upload_expansion: DEFAULT_MAX_UPLOAD_EXPANSION,
            limits: ServerLimits::default(),
            at_rest: None,
        }
    }

    /// Pseudonymizes uploaded records before they are stored, and removes
    /// each upload's raw file once it is read.
    pub fn with_redaction_at_rest(mut self, filter: Arc<privacy::AtRest>) -> Self {
        self.at_rest = Some(filter);
        self
    }

    /// Connection and request limits of [`crate::serve_on`].
    pub fn with_limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// How many scanning views (flows, timeline, insights, evals) run at
    /// once; more get a 503 with `Retry-After`.
    pub fn with_heavy_requests(mut self, at_once: usize) -> Self {
        self.heavy = Arc::new(tokio::sync::Semaphore::new(at_once));
        self
    }

    /// Most bytes an uploaded gzip file may expand to; reading stops there,
    /// keeping what was read, and the rest is reported as bad input.
    pub fn with_max_upload_expansion(mut self, bytes: u64) -> Self {
        self.max_upload_expansion = bytes;
        self
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

    /// How requests are authenticated.
    pub fn with_auth(mut self, auth: AuthMode) -> Self {
        self.auth = auth;
        self
    }

    /// Rate limits of the costly routes; `None` turns them off.
    pub fn with_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Answers in team channels (Slack, webhooks).
    pub fn with_chat(mut self, chat: ChatConfig) -> Self {
        self.chat = Some(Arc::new(chat));
        self
    }

    /// Lets people log in to the UI with an OpenID provider.
    pub fn with_oidc(mut self, config: OidcConfig) -> Self {
        self.oidc = Some(Arc::new(Oidc::new(config)));
        self
    }

    /// Serves requests naming these hosts only (default: the loopback names).
    pub fn with_allowed_hosts(mut self, hosts: AllowedHosts) -> Self {
        self.allowed_hosts = Arc::new(hosts);
        self
    }

    /// Prices tokens for the cost figures.
    pub fn with_token_prices(mut self, prices: TokenPrices) -> Self {
        self.prices = prices;
        self
    }
}
