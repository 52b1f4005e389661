//! Who is calling, what they may do, and how often.
//!
//! Every route has an access rule in [`ACCESS`]; a route without one is
//! refused (fail closed), and a test walks the router to keep the table
//! complete. The caller's tenant comes from the credential (an API token,
//! or in open mode the server's own tenant), never from the request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use appdb::Role;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api_error::ApiError;
use crate::state::AppState;

/// How requests are authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// No credential needed: every request acts for the server's tenant
    /// as admin. For one engineer on loopback.
    Open,
    /// Every request but the public ones needs an API token.
    Tokens,
}

/// Who may use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, the script, the spec).
    Public,
    /// A caller with at least this role.
    Least(Role),
    /// Chat platforms, which prove themselves by signature or token.
    Chat,
}

/// Routes that scan up to hundreds of thousands of records: besides the
/// rate limit, only [`crate::AppState::with_heavy_requests`] of them run
/// at once, so concurrent views cannot grow memory without bound.
const HEAVY: [&str; 9] = [
    "/api/flows",
    "/flows",
    "/api/timeline",
    "/timeline",
    "/api/insights",
    "/insights",
    "/api/insights.csv",
    "/api/evals",
    "/evals",
];

/// Routes limited per caller and per address (they cost an analysis or a
/// scan).
const LIMITED: [&str; 17] = [
    "/api/ask",
    "/api/ask/stream",
    "/api/search",
    "/",
    "/search",
    "/slack/commands",
    "/slack/events",
    "/chat/webhook",
    HEAVY[0],
    HEAVY[1],
    HEAVY[2],
    HEAVY[3],
    HEAVY[4],
    HEAVY[5],
    HEAVY[6],
    HEAVY[7],
    HEAVY[8],
];

/// The access rule of every route, by method and pattern.
pub const ACCESS: &[(&str, &str, Access)] = &[
    ("GET", "/healthz", Access::Public),
    ("GET", "/metrics", Access::Least(Role::Admin)),
    ("GET", "/api/openapi.json", Access::Public),
    ("GET", "/static/app.js", Access::Public),
    ("GET", "/favicon.ico", Access::Public),
    ("GET", "/", Access::Least(Role::Viewer)),
    ("GET", "/search", Access::Least(Role::Viewer)),
    ("GET", "/records/{id}", Access::Least(Role::Viewer)),
    ("GET", "/timeline", Access::Least(Role::Viewer)),
    ("GET", "/sources", Access::Least(Role::Viewer)),
    ("GET", "/insights", Access::Least(Role::Viewer)),
    ("GET", "/flows", Access::Least(Role::Viewer)),
    ("GET", "/evals", Access::Least(Role::Viewer)),
    ("POST", "/api/ask", Access::Least(Role::Oncall)),
    ("GET", "/api/ask/stream", Access::Least(Role::Oncall)),
    (
        "POST",
        "/api/questions/{id}/feedback",
        Access::Least(Role::Oncall),
    ),
    ("GET", "/api/search", Access::Least(Role::Viewer)),
    ("GET", "/api/records/{id}", Access::Least(Role::Viewer)),
    ("GET", "/api/timeline", Access::Least(Role::Viewer)),
    ("GET", "/api/sources", Access::Least(Role::Viewer)),
    ("POST", "/api/uploads", Access::Least(Role::Oncall)),
    ("GET", "/api/uploads/{id}", Access::Least(Role::Oncall)),
    ("GET", "/api/insights", Access::Least(Role::Viewer)),
    ("GET", "/api/insights.csv", Access::Least(Role::Viewer)),
    ("GET", "/api/flows", Access::Least(Role::Viewer)),
    ("GET", "/api/evals", Access::Least(Role::Viewer)),
    ("GET", "/api/tokens", Access::Least(Role::Admin)),
    ("POST", "/api/tokens", Access::Least(Role::Admin)),
    ("DELETE", "/api/tokens/{id}", Access::Least(Role::Admin)),
    ("GET", "/api/channels", Access::Least(Role::Admin)),
    ("PUT", "/api/channels", Access::Least(Role::Admin)),
    ("GET", "/auth/login", Access::Public),
    ("GET", "/auth/callback", Access::Public),
    ("POST", "/auth/logout", Access::Public),
    ("POST", "/slack/commands", Access::Chat),
    ("POST", "/slack/events", Access::Chat),
    ("POST", "/chat/webhook", Access::Chat),
];

/// The rule for `method` on route pattern `path`, if there is one. HEAD
/// is a GET without the body (axum answers it with the GET handler), so it
/// has the GET rule.
pub fn access(method: &Method, path: &str) -> Option<Access> {
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    ACCESS
        .iter()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map(|(_, _, access)| *access)
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Tenant whose data the request reads and writes.
    pub tenant: Arc<str>,
    /// What it may do.
    pub role: Role,
    /// What rate limits count against (the token's id, or "open").
    pub key: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}

/// Requests allowed per minute on the limited routes, per caller and per
/// address; `None` turns limiting off (load tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Per API token (or the open-mode caller).
    pub per_caller: u32,
    /// Per client address.
    pub per_address: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_caller: 120,
            per_address: 600,
        }
    }
}

/// Failed authentications (a wrong token, an unknown session) allowed per
/// client address per minute; past it, the address gets 429s until the
/// window ends, whatever it presents, so tokens cannot be guessed at speed.
const AUTH_FAILURES_PER_MINUTE: u32 = 20;

/// Fixed one-minute windows per key: cheap, and a burst can at most double
/// the rate at a window's edge.
#[derive(Default)]
pub(crate) struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// The wait before `key` may try again when it is already over
    /// `limit` in this window; counts nothing.
    fn exceeded(&self, key: &str, limit: u32) -> Option<Duration> {
        let now = Instant::now();
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let (start, count) = windows.get(key)?;
        let age = now.duration_since(*start);
        (age < Duration::from_secs(60) && *count > limit)
            .then(|| Duration::from_secs(60).saturating_sub(age))
    }

    /// Counts a request against `key`; the wait before the next one is
    /// allowed when over `limit`.
    fn check(&self, key: &str, limit: u32) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let (start, count) = windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(*start) >= Duration::from_secs(60) {
            *start = now;
            *count = 0;
        }
        *count += 1;
        if *count > limit {
            Err(Duration::from_secs(60).saturating_sub(now.duration_since(*start)))
        } else {
            Ok(())
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    if let Some(secret) = bearer(headers) {
        return Ok(state.db.token_by_secret(secret).await?.map(|token| Caller {
            tenant: token.tenant.into(),
            role: token.role,
            key: token.id,
        }));
    }
    if let (Some(oidc), Some(cookie)) =
        (state.oidc.as_deref(), crate::oidc::session_cookie(headers))
        && let Some(session) = oidc.session(cookie)
    {
        return Ok(Some(Caller {
            tenant: session.tenant,
            role: session.role,
            key: format!("session:{}", session.subject),
        }));
    }
    Ok((state.auth == AuthMode::Open).then(|| Caller {
        tenant: state.tenant.clone(),
        role: Role::Admin,
        key: "open".into(),
    }))
}

/// A state-changing request sent by another site's page (CSRF).
pub(crate) fn cross_site_write(method: &Method, headers: &HeaderMap) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) && cross_site(headers)
}

/// Routes whose GET runs and keeps a question when it carries `q`: they
/// get the cross-site check of a write.
const ASKS_ON_GET: [&str; 2] = ["/", "/api/ask/stream"];

/// Whether a request would ask a question: a GET of [`ASKS_ON_GET`] with
/// a non-empty `q`.
fn asks_on_get(method: &Method, route: &str, query: Option<&str>) -> bool {
    *method == Method::GET
        && ASKS_ON_GET.contains(&route)
        && query.is_some_and(|q| {
            q.split('&')
                .any(|pair| pair.strip_prefix("q=").is_some_and(|v| !v.is_empty()))
        })
}

/// A request sent by another site's page: browsers say so in
/// `Sec-Fetch-Site`, and in `Origin` when it differs from the host asked.
/// Tools without a browser send neither and are not affected.
fn cross_site(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if text("sec-fetch-site").is_some_and(|site| site == "cross-site" || site == "same-site") {
        return true;
    }
    match (text("origin"), text("host")) {
        (Some(origin), Some(host)) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            origin_host != host
        }
        (Some(_), None) => true,
        _ => false,
    }
}

/// The client's IP address, when the server knows it.
fn client_address(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip().to_string())
}

/// Whether a request carries a credential (a bearer token or a session
/// cookie), so its failure is a failed authentication.
fn presents_credentials(headers: &HeaderMap) -> bool {
    bearer(headers).is_some() || crate::oidc::session_cookie(headers).is_some()
}

/// A 429 when a limited route is over its limit for the caller or the
/// client's address.
fn over_limit(
    state: &AppState,
    route: &str,
    request: &Request,
    caller: Option<&Caller>,
) -> Option<Response> {
    let limit = state.rate_limit?;
    if !LIMITED.contains(&route) {
        return None;
    }
    let address = client_address(request);
    let checks = [
        caller.map(|c| (format!("caller:{}", c.key), limit.per_caller)),
        address.map(|ip| (format!("ip:{ip}"), limit.per_address)),
    ];
    for (key, allowed) in checks.into_iter().flatten() {
        if let Err(wait) = state.rate_limiter.check(&key, allowed) {
            return Some(too_many(wait));
        }
    }
    None
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

fn too_many(wait: Duration) -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(serde_json::json!({ "error": "rate limit exceeded" })),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Authenticates, authorizes by [`ACCESS`] and rate-limits every request.
pub(crate) async fn guard(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(route) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
    else {
        return next.run(request).await;
    };
    let Some(rule) = access(request.method(), &route) else {
        tracing::error!(%route, method = %request.method(), "route without an access rule");
        return ApiError::Forbidden.into_response();
    };
    let least = match rule {
        Access::Public => return next.run(request).await,
        // Chat platforms are limited per address before they are verified.
        Access::Chat => {
            if let Some(response) = over_limit(&state, &route, &request, None) {
                return response;
            }
            return next.run(request).await;
        }
        Access::Least(least) => least,
    };
    let asks = asks_on_get(request.method(), &route, request.uri().query());
    if cross_site_write(request.method(), request.headers())
        || asks && cross_site(request.headers())
    {
        tracing::warn!(%route, "cross-site write refused");
        return ApiError::Forbidden.into_response();
    }
    let failures = format!(
        "auth-failures:{}",
        client_address(&request).unwrap_or_else(|| "unknown".into())
    );
    if state.rate_limit.is_some()
        && let Some(wait) = state
            .rate_limiter
            .exceeded(&failures, AUTH_FAILURES_PER_MINUTE)
    {
        return too_many(wait);
    }
    let caller = match authenticate(&state, request.headers()).await {
        Ok(Some(caller)) => caller,
        Ok(None) => {
            if state.rate_limit.is_some() && presents_credentials(request.headers()) {
                // Counted; the request past the limit is refused above.
                let _ = state
                    .rate_limiter
                    .check(&failures, AUTH_FAILURES_PER_MINUTE);
            }
            // A browser without a session goes to the login page.
            if state.oidc.is_some() && wants_html(request.headers()) {
                return axum::response::Redirect::to("/auth/login").into_response();
            }
            return ApiError::Unauthorized.into_response();
        }
        Err(error) => return error.into_response(),
    };
    if caller.role < least {
        return ApiError::Forbidden.into_response();
    }
    if let Some(response) = over_limit(&state, &route, &request, Some(&caller)) {
        return response;
    }
    // Held until the response is built.
    let _permit = if HEAVY.contains(&route.as_str()) {
        match state.heavy.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => return busy(),
        }
    } else {
        None
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// A 503 asking to retry shortly: the heavy routes are all in use.
fn busy() -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(serde_json::json!({ "error": "busy: too many scanning views at once" })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_from_another_site_are_refused_and_tools_pass() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        let post = Method::POST;
        assert!(cross_site_write(
            &post,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(cross_site_write(
            &post,
            &headers(&[
                ("origin", "https://evil.example"),
                ("host", "127.0.0.1:8080")
            ])
        ));
        assert!(!cross_site_write(
            &post,
            &headers(&[
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080"),
                ("sec-fetch-site", "same-origin")
            ])
        ));
        assert!(
            !cross_site_write(&post, &HeaderMap::new()),
            "curl and scripts"
        );
        assert!(!cross_site_write(
            &Method::GET,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
    }

    #[test]
    fn a_window_allows_its_limit_then_asks_to_wait() {
        let limiter = RateLimiter::default();
        for _ in 0..3 {
            assert!(limiter.check("k", 3).is_ok());
        }
        let wait = limiter.check("k", 3).expect_err("over the limit");
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        assert!(limiter.check("other", 3).is_ok(), "keys are counted apart");
    }

    /// Issue 19, finding 5: six concurrent flow views took a server from 2
    /// to 5.3 GB. Scanning views beyond the permits are refused with a 503
    /// and `Retry-After`, other routes are unaffected, and a view runs
    /// again once a permit is free.
    #[tokio::test]
    async fn scanning_views_past_the_permits_wait_their_turn() {
        use tower::ServiceExt;
        let home = tempfile::tempdir().expect("tempdir");
        let db = appdb::AppDb::open_file(&home.path().join("state.db"))
            .await
            .expect("db");
        let stores =
            retrieval::Stores::new(retrieval::TextStore::in_memory().expect("store"), None);
        let state = AppState::new(stores, "acme".into(), db, home.path().to_path_buf())
            .with_heavy_requests(1);
        let app = crate::router(state.clone());
        let status = |uri: &'static str| {
            let app = app.clone();
            async move {
                let request = Request::get(uri)
                    .header("host", "localhost")
                    .body(axum::body::Body::empty())
                    .expect("request");
                let response = app.oneshot(request).await.expect("response");
                (
                    response.status(),
                    response.headers().get(header::RETRY_AFTER).cloned(),
                )
            }
        };
        let held = state.heavy.clone().try_acquire_owned().expect("a permit");
        for uri in ["/api/flows", "/api/timeline", "/api/insights", "/flows"] {
            let (code, retry) = status(uri).await;
            assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
            assert_eq!(retry.as_ref().and_then(|v| v.to_str().ok()), Some("1"));
        }
        assert_eq!(status("/api/search?q=x").await.0, StatusCode::OK);
        drop(held);
        assert_eq!(status("/api/flows").await.0, StatusCode::OK);
        assert_eq!(state.heavy.available_permits(), 1, "the permit is returned");
    }
}
