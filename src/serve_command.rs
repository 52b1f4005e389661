//! `oncall serve` and `oncall token`: the web server with its state
//! database, authentication and chat settings, and the tokens that let
//! people and tools in.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::secrets::secret;

/// Arguments of `oncall serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Port to listen on (0: any free port, printed).
    #[arg(long, env = "ONCALL_PORT", default_value_t = 8080)]
    port: u16,
    /// Address to bind.
    #[arg(long, env = "ONCALL_BIND", default_value = "127.0.0.1")]
    bind: String,
    /// open (no credential: one engineer on loopback) or tokens (API tokens,
    /// each with a tenant and a role). Default: open on a loopback address,
    /// tokens on any other.
    #[arg(long, env = "ONCALL_AUTH", value_parser = parse_auth)]
    auth: Option<web::AuthMode>,
    /// Requests per minute per token on ask and search (0: no limit).
    #[arg(long, env = "ONCALL_RATE_LIMIT", default_value_t = 120)]
    rate_limit: u32,
    /// Base URL of this UI as users reach it, for links in chat answers.
    #[arg(long, env = "ONCALL_PUBLIC_URL")]
    public_url: Option<String>,
    /// More host names the server answers to, beside the loopback names and
    /// the public URL's host (behind a proxy or a load balancer). Requests
    /// naming any other host are refused (DNS-rebinding defence).
    #[arg(
        long = "allowed-host",
        env = "ONCALL_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    allowed_hosts: Vec<String>,
    /// OpenID provider (issuer URL) for logging in to the UI; the client
    /// secret is read from ONCALL_OIDC_CLIENT_SECRET.
    #[arg(long, env = "ONCALL_OIDC_ISSUER")]
    oidc_issuer: Option<String>,
    /// Client id registered with the provider.
    #[arg(long, env = "ONCALL_OIDC_CLIENT_ID", default_value = "oncall")]
    oidc_client_id: String,
    /// ID-token claim naming the user's tenant.
    #[arg(
        long,
        env = "ONCALL_OIDC_TENANT_CLAIM",
        default_value = "oncall_tenant"
    )]
    oidc_tenant_claim: String,
    /// ID-token claim naming the user's role (viewer when absent).
    #[arg(long, env = "ONCALL_OIDC_ROLE_CLAIM", default_value = "oncall_role")]
    oidc_role_claim: String,
    /// Hosts a Slack slash command's response_url may name.
    #[arg(
        long = "slack-response-host",
        env = "SLACK_RESPONSE_HOSTS",
        value_delimiter = ',',
        default_value = "hooks.slack.com"
    )]
    slack_response_hosts: Vec<String>,
    /// Slack Web API base URL.
    #[arg(long, env = "SLACK_API_BASE", default_value = "https://slack.com/api")]
    slack_api_base: String,
}

fn parse_auth(name: &str) -> Result<web::AuthMode, String> {
    match name {
        "open" => Ok(web::AuthMode::Open),
        "tokens" => Ok(web::AuthMode::Tokens),
        _ => Err(format!("unknown auth mode {name:?}; open or tokens")),
    }
}

/// The application state: PostgreSQL when `DATABASE_URL` names one,
/// otherwise SQLite in the data directory.
pub async fn open_state_db(home: &Path) -> Result<appdb::AppDb> {
    Ok(match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => appdb::AppDb::connect(&url)
            .await
            .context("connecting to DATABASE_URL")?,
        _ => appdb::AppDb::open_file(&home.join("state.db"))
            .await
            .with_context(|| format!("opening {}", home.join("state.db").display()))?,
    })
}

pub fn run(
    args: ServeArgs,
    state: web::AppState,
    runtime: &tokio::runtime::Runtime,
    home: &Path,
) -> Result<ExitCode> {
    let address: std::net::SocketAddr = format!("{}:{}", args.bind, args.port)
        .parse()
        .with_context(|| format!("bad bind address {}:{}", args.bind, args.port))?;
    let auth = args.auth.unwrap_or(if address.ip().is_loopback() {
        web::AuthMode::Open
    } else {
        web::AuthMode::Tokens
    });
    let limit = (args.rate_limit > 0).then(|| web::RateLimit {
        per_caller: args.rate_limit,
        per_address: args.rate_limit.saturating_mul(5),
    });
    let redactor = match privacy::Redactor::new() {
        Ok(redactor) => Some(std::sync::Arc::new(redactor)),
        Err(error) => {
            tracing::error!(%error, "privacy filter unavailable: chat replies will not be sent");
            None
        }
    };
    let public_url = args
        .public_url
        .unwrap_or_else(|| format!("http://{address}"))
        .trim_end_matches('/')
        .to_string();
    let chat = web::ChatConfig {
        slack_signing_secret: secret("SLACK_SIGNING_SECRET")?,
        slack_bot_token: secret("SLACK_BOT_TOKEN")?,
        slack_api_base: args.slack_api_base,
        slack_response_hosts: args.slack_response_hosts,
        public_url: public_url.clone(),
        redactor,
        audit: privacy::AuditLog::new(&home.join("audit").join("chat.jsonl")),
    };
    let allowed_hosts = args.allowed_hosts.iter().fold(
        web::AllowedHosts::default().with_url_host(&public_url),
        |hosts, host| hosts.with(host),
    );
    tracing::info!(hosts = ?allowed_hosts.names(), "host names served");
    let mut state = state
        .with_auth(auth)
        .with_rate_limit(limit)
        .with_chat(chat)
        .with_allowed_hosts(allowed_hosts);
    if let Some(issuer) = args.oidc_issuer {
        state = state.with_oidc(web::OidcConfig {
            issuer,
            client_id: args.oidc_client_id,
            client_secret: secret("ONCALL_OIDC_CLIENT_SECRET")?
                .context("ONCALL_OIDC_CLIENT_SECRET is needed with --oidc-issuer")?,
            redirect_url: format!("{public_url}/auth/callback"),
            tenant_claim: args.oidc_tenant_claim,
            role_claim: args.oidc_role_claim,
        });
    }
    runtime.block_on(web::serve(state, address))?;
    Ok(ExitCode::SUCCESS)
}

/// `oncall token`: API tokens of the current tenant.
#[derive(clap::Subcommand)]
pub enum TokenCommand {
    /// Make a token; its secret is printed once.
    Create {
        /// What it is for.
        #[arg(long)]
        name: String,
        /// viewer, oncall or admin.
        #[arg(long, value_parser = parse_role)]
        role: appdb::Role,
        /// Days until it stops working (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke {
        /// Token id (`t-…`).
        id: String,
    },
}

fn parse_role(name: &str) -> Result<appdb::Role, String> {
    appdb::Role::parse(name)
        .ok_or_else(|| format!("unknown role {name:?}; viewer, oncall or admin"))
}

pub fn token(command: TokenCommand, home: &Path, tenant: &str) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let db = open_state_db(home).await?;
        match command {
            TokenCommand::Create {
                name,
                role,
                expires_in_days,
            } => {
                let expires = match expires_in_days {
                    None => None,
                    Some(days) => Some(appdb::token_expiry(days).with_context(|| {
                        format!(
                            "--expires-in-days takes 1 to {} days, not {days}",
                            appdb::MAX_TOKEN_DAYS
                        )
                    })?),
                };
                let (secret, token) = db.create_token(tenant, &name, role, expires).await?;
                eprintln!(
                    "token {} ({}, {} of tenant {tenant}); the secret is shown once:",
                    token.id,
                    token.name,
                    token.role.as_str()
                );
                println!("{secret}");
            }
            TokenCommand::List => {
                for token in db.tokens(tenant).await? {
                    let state = if token.revoked_at.is_some() {
                        "revoked".to_string()
                    } else {
                        token
                            .expires_at
                            .map_or("live".into(), |at| format!("expires {}", at.to_rfc3339()))
                    };
                    println!(
                        "{}\t{}\t{}\t{state}",
                        token.id,
                        token.role.as_str(),
                        token.name
                    );
                }
            }
            TokenCommand::Revoke { id } => {
                db.revoke_token(tenant, &id)
                    .await
                    .with_context(|| format!("revoking {id}"))?;
                eprintln!("revoked {id}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
