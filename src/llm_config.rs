//! Which LLM answers, if any: flags and environment over the `[llm]` table
//! of the config file, over defaults. Evidence mode when none is chosen.

use std::path::{Path, PathBuf};
use std::time::Duration;

use agent::{LlmAgent, LlmClient, LlmConfig, LocalLlm, Prompts, ToolCallMode};
use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// Where answers come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LlmBackend {
    /// Evidence mode: a deterministic analysis, no LLM.
    Off,
    /// llama.cpp's llama-server with SmolLM2-135M-Instruct, started on loopback.
    Local,
    /// Any OpenAI-compatible endpoint (OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp).
    Openai,
}

/// LLM settings from flags and the environment; unset ones come from the
/// config file.
#[derive(clap::Args, Clone, Debug)]
pub struct LlmArgs {
    /// Config file with an [llm] table (default: ./oncall.toml when present).
    #[arg(long, env = "ONCALL_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Who answers: off (evidence mode), local (llama-server on loopback) or openai (--llm-url).
    #[arg(long, env = "ONCALL_LLM", value_enum, global = true)]
    llm: Option<LlmBackend>,
    /// Base URL of the OpenAI-compatible endpoint, up to /v1.
    #[arg(long, env = "ONCALL_LLM_URL", global = true)]
    llm_url: Option<String>,
    /// Model name at the endpoint.
    #[arg(long, env = "ONCALL_LLM_MODEL", global = true)]
    llm_model: Option<String>,
    /// API key of the endpoint (or a file named by ONCALL_LLM_API_KEY_FILE).
    #[arg(
        long,
        env = "ONCALL_LLM_API_KEY",
        hide_env_values = true,
        global = true
    )]
    llm_api_key: Option<String>,
    /// Agent steps as native tool calls, or as schema-constrained JSON (small models).
    #[arg(long, env = "ONCALL_LLM_TOOL_CALLS", value_parser = parse_tool_calls, global = true)]
    llm_tool_calls: Option<ToolCallMode>,
    /// Deadline of one LLM call, in seconds.
    #[arg(long, env = "ONCALL_LLM_TIMEOUT", global = true)]
    llm_timeout: Option<u64>,
    /// Tokens one question may spend.
    #[arg(long, env = "ONCALL_LLM_TOKEN_BUDGET", global = true)]
    llm_token_budget: Option<u32>,
    /// Folder of the local LLM (default: a per-user cache).
    #[arg(long, env = "ONCALL_LLM_DIR", global = true)]
    llm_dir: Option<PathBuf>,
    /// Folder of prompt files (default: the set built into the binary).
    #[arg(long, env = "ONCALL_PROMPTS", global = true)]
    prompts: Option<PathBuf>,
    /// Prompt version to load from --prompts.
    #[arg(long, env = "ONCALL_PROMPT_VERSION", global = true)]
    prompt_version: Option<String>,
}

fn parse_tool_calls(name: &str) -> Result<ToolCallMode, String> {
    match name {
        "native" => Ok(ToolCallMode::Native),
        "json" => Ok(ToolCallMode::Json),
        _ => Err(format!("unknown tool-call mode {name:?}; native or json")),
    }
}

/// The `[llm]` table of `oncall.toml`. The API key itself never sits in the
/// file: `api_key_env` names the variable holding it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LlmFile {
    /// off, local or openai.
    backend: Option<LlmBackend>,
    /// Endpoint base URL, up to /v1.
    base_url: Option<String>,
    /// Model name.
    model: Option<String>,
    /// Environment variable holding the API key.
    api_key_env: Option<String>,
    /// File holding the API key, readable by its owner only.
    api_key_file: Option<PathBuf>,
    /// "native" or "json".
    tool_calls: Option<String>,
    /// Deadline of one call, in seconds.
    timeout_secs: Option<u64>,
    /// Retries after 429 or 5xx.
    max_retries: Option<usize>,
    /// Tokens per question.
    token_budget: Option<u32>,
    /// Tool steps per question.
    max_steps: Option<usize>,
    /// Prompt folder and version.
    prompts: Option<PathBuf>,
    prompt_version: Option<String>,
    /// US dollars per million prompt tokens, for the cost figures.
    prompt_usd_per_million: Option<f64>,
    /// US dollars per million completion tokens.
    completion_usd_per_million: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    llm: LlmFile,
    /// Thresholds of the risky-event rules (`oncall flows --flags`).
    #[serde(default)]
    rules: flows::RuleConfig,
}

/// An LLM agent ready to ask, with the local server it talks to (stopped
/// when this is dropped).
pub struct LlmSetup {
    pub agent: std::sync::Arc<LlmAgent>,
    _local: Option<LocalLlm>,
}

impl LlmSetup {
    /// Another agent on the same endpoint, with another model or prompt
    /// set, auditing in the same log: one arm of an ablation.
    pub fn variant(&self, model: Option<&str>, prompts: Option<Prompts>) -> LlmAgent {
        let mut config = self.agent.llm_config().clone();
        if let Some(model) = model {
            config.model = model.to_string();
        }
        LlmAgent::new(
            LlmClient::new(config),
            prompts.unwrap_or_else(|| self.agent.prompts().clone()),
            self.agent.audit().clone(),
        )
    }
}

impl LlmArgs {
    /// The key from the flag or its variable, else from the file
    /// ONCALL_LLM_API_KEY_FILE names.
    fn api_key(&self) -> Result<Option<String>> {
        let file_too = std::env::var_os("ONCALL_LLM_API_KEY_FILE").is_some_and(|v| !v.is_empty());
        match self.llm_api_key.as_deref().filter(|key| !key.is_empty()) {
            Some(_) if file_too => bail!(
                "the LLM key is given both directly (--llm-api-key or ONCALL_LLM_API_KEY) and by ONCALL_LLM_API_KEY_FILE; keep one"
            ),
            Some(key) => Ok(Some(key.to_string())),
            None => crate::secrets::secret("ONCALL_LLM_API_KEY"),
        }
    }

    /// The agent for these settings, or `None` for evidence mode; its
    /// requests are audited in `$ONCALL_HOME/audit/outbound.jsonl`.
    pub fn agent(&self, home: &Path) -> Result<Option<LlmSetup>> {
        self.agent_with_audit(privacy::AuditLog::new(
            &home.join("audit").join("outbound.jsonl"),
        ))
    }

    /// [`LlmArgs::agent`], auditing its requests in `audit`.
    pub fn agent_with_audit(&self, audit: privacy::AuditLog) -> Result<Option<LlmSetup>> {
        let file = self.file()?;
        let backend = self.llm.or(file.backend).unwrap_or(LlmBackend::Off);
        let (mut config, local) = match backend {
            LlmBackend::Off => return Ok(None),
            LlmBackend::Local => {
                let dir = self.llm_dir.clone().unwrap_or_else(default_local_dir);
                let local = LocalLlm::start(&dir)
                    .context("starting the local LLM (install it with scripts/setup-local-llm)")?;
                (local.config(), Some(local))
            }
            LlmBackend::Openai => {
                let Some(base_url) = self.llm_url.clone().or(file.base_url.clone()) else {
                    bail!("--llm openai needs --llm-url (ONCALL_LLM_URL) or base_url in [llm]");
                };
                let model = self
                    .llm_model
                    .clone()
                    .or(file.model.clone())
                    .unwrap_or_else(|| "gpt-4o-mini".into());
                (LlmConfig::new(&base_url, &model), None)
            }
        };
        config.api_key = match (self.api_key()?, &file.api_key_env, &file.api_key_file) {
            (Some(key), _, _) => Some(key),
            (None, Some(_), Some(_)) => {
                bail!("[llm] sets both api_key_env and api_key_file; keep one")
            }
            (None, Some(name), None) => Some(
                std::env::var(name)
                    .with_context(|| format!("[llm] api_key_env names {name}, which is unset"))?,
            ),
            (None, None, Some(path)) => {
                Some(crate::secrets::read_secret_file(path).context("[llm] api_key_file")?)
            }
            (None, None, None) => config.api_key.take(),
        };
        if let Some(mode) = self.llm_tool_calls.or(match file.tool_calls.as_deref() {
            Some(name) => Some(parse_tool_calls(name).map_err(anyhow::Error::msg)?),
            None => None,
        }) {
            config.tool_calls = mode;
        }
        if let Some(secs) = self.llm_timeout.or(file.timeout_secs) {
            config.timeout = Duration::from_secs(secs);
        }
        if let Some(budget) = self.llm_token_budget.or(file.token_budget) {
            config.token_budget = budget;
        }
        if let Some(retries) = file.max_retries {
            config.max_retries = retries;
        }
        if let Some(steps) = file.max_steps {
            config.max_steps = steps;
        }
        let prompts = match self.prompts.clone().or(file.prompts.clone()) {
            Some(dir) => {
                let version = self
                    .prompt_version
                    .clone()
                    .or(file.prompt_version.clone())
                    .unwrap_or_else(|| "v1".into());
                Prompts::load(&dir, &version)?
            }
            None => Prompts::bundled()?,
        };
        Ok(Some(LlmSetup {
            agent: std::sync::Arc::new(LlmAgent::new(LlmClient::new(config), prompts, audit)),
            _local: local,
        }))
    }

    /// Prompt set `version` from the configured prompt folder (`--prompts`
    /// or the `[llm]` table), for comparing prompt versions.
    pub fn prompt_set(&self, version: &str) -> Result<Prompts> {
        let dir =
            self.prompts.clone().or(self.file()?.prompts).context(
                "comparing prompt versions needs the folder that holds them: --prompts DIR",
            )?;
        Ok(Prompts::load(&dir, version)?)
    }

    fn file(&self) -> Result<LlmFile> {
        Ok(self.config_file()?.llm)
    }

    /// Risky-event thresholds from the `[rules]` table of the config file;
    /// the defaults where it sets none.
    pub fn rule_config(&self) -> Result<flows::RuleConfig> {
        Ok(self.config_file()?.rules)
    }

    /// Token prices from the `[llm]` table (zero where unset: a local model).
    pub fn token_prices(&self) -> Result<web::TokenPrices> {
        let file = self.file()?;
        Ok(web::TokenPrices {
            prompt_per_million: file.prompt_usd_per_million.unwrap_or(0.0),
            completion_per_million: file.completion_usd_per_million.unwrap_or(0.0),
        })
    }

    fn config_file(&self) -> Result<ConfigFile> {
        let path = match &self.config {
            Some(path) => path.clone(),
            None if Path::new("oncall.toml").is_file() => PathBuf::from("oncall.toml"),
            None => return Ok(ConfigFile::default()),
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

fn default_local_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("oncall/llm")
}
