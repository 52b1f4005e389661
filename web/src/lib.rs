//! Web: the HTTP face of oncall. The only crate that knows HTTP.
//!
//! [`router`] builds the axum router (server-rendered askama pages and the
//! JSON API) over a cheap-to-clone [`AppState`]; [`serve`] runs it with
//! graceful shutdown. Handlers are named `resource_verb`. Every page is
//! auto-escaped by askama: log lines carry hostile text.

mod admin;
mod allowed_hosts;
mod api_error;
mod ask;
mod auth;
mod auth_flows;
mod chart;
mod chat;
mod eval_trends;
mod insights;
mod metrics;
mod oidc;
mod pages;
mod routes;
mod search;
mod sources;
mod state;
mod timeline;

pub use allowed_hosts::AllowedHosts;
pub use api_error::ApiError;
pub use auth::{ACCESS, Access, AuthMode, RateLimit, access};
pub use chat::{ChatConfig, slack_signature};
pub use oidc::{LoginError, OidcConfig, verify_id_token};
pub use routes::{FORMS, PAGES, openapi, router};
pub use state::{AppState, TokenPrices};

/// Serves `state` on `address` until Ctrl-C or SIGTERM.
pub async fn serve(state: AppState, address: std::net::SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    tracing::info!(%address, "serving");
    eprintln!("oncall listening on http://{}", listener.local_addr()?);
    serve_on(listener, state, shutdown_signal()).await
}

/// Serves `state` on `listener` until `shutdown` completes.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    sources::sweep_incoming(&state.home);
    // Client addresses feed the per-address rate limit.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
