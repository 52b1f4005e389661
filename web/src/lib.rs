//! Web: the HTTP face of oncall. The only crate that knows HTTP.
//!
//! [`router`] builds the axum router (server-rendered askama pages and the
//! JSON API) over a cheap-to-clone [`AppState`]; [`serve`] runs it with
//! graceful shutdown, a header-read timeout, a per-request deadline and a
//! cap on open connections (a slow client cannot hold the server). Handlers
//! are named `resource_verb`. Every page is auto-escaped by askama: log
//! lines carry hostile text.

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
pub use state::{AppState, ServerLimits, TokenPrices};

/// Serves `state` on `address` until Ctrl-C or SIGTERM.
pub async fn serve(state: AppState, address: std::net::SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    tracing::info!(%address, "serving");
    eprintln!("oncall listening on http://{}", listener.local_addr()?);
    serve_on(listener, state, shutdown_signal()).await
}

/// Serves `state` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish. Connections past
/// [`ServerLimits::max_connections`] are closed at once; a client that does
/// not finish its headers within [`ServerLimits::header_read_timeout`] is
/// disconnected.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt;

    sources::sweep_incoming(&state.home);
    let limits = state.limits;
    let app = router(state);
    let connections = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let builder = std::sync::Arc::new(builder);
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached: connection closed");
            continue;
        };
        // Client addresses feed the per-address rate limit.
        let service = app.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request
            },
        );
        let service = hyper_util::service::TowerToHyperService::new(service);
        let builder = builder.clone();
        let mut closed = closed.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, %peer, "connection ended");
                    }
                    return;
                }
                _ = closed.changed() => connection.as_mut().graceful_shutdown(),
            }
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended");
            }
        });
    }
    drop(closed);
    let _ = closing.send(true);
    // Every connection task holds a receiver until it ends.
    closing.closed().await;
    Ok(())
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
