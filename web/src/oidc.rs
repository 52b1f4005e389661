//! Login to the web UI with any OpenID provider: authorization code flow
//! with PKCE (S256), `state` and `nonce` checked, the ID token's RS256
//! signature verified against the provider's JWKS and its issuer, audience
//! and expiry checked. The session is a random id in an `HttpOnly`,
//! `Secure`, `SameSite=Lax` cookie; the server keeps only its hash. The
//! tenant and role come from the ID token's claims (names configurable).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use appdb::Role;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::api_error::ApiError;
use crate::state::AppState;

/// Name of the session cookie.
pub(crate) const SESSION_COOKIE: &str = "oncall_session";
/// Name of the cookie binding a login in progress to its browser.
const LOGIN_COOKIE: &str = "oncall_login";
/// Path the login cookie is sent to: the callback only.
const LOGIN_COOKIE_PATH: &str = "/auth/callback";
/// How long a login may take at the provider.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Logins in progress at once; more are refused until some finish or
/// expire, so a flood of `/auth/login` cannot grow memory without bound.
const MAX_PENDING_LOGINS: usize = 10_000;
/// How long a session lasts.
const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);
/// Clock difference tolerated on `exp` and `iat`.
const LEEWAY_SECS: i64 = 60;
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The provider and this client's registration with it.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    /// Issuer URL; discovery is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Client secret (from the environment, never logged).
    pub client_secret: String,
    /// This server's callback, e.g. `https://oncall.example.net/auth/callback`.
    pub redirect_url: String,
    /// ID-token claim naming the tenant.
    pub tenant_claim: String,
    /// ID-token claim naming the role (viewer when absent).
    pub role_claim: String,
}

#[derive(Clone, Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

struct Pending {
    /// Hash of the pre-login cookie of the browser that started the login.
    browser: String,
    verifier: String,
    nonce: String,
    started: Instant,
}

/// A logged-in user.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub tenant: Arc<str>,
    pub role: Role,
    pub subject: String,
    expires: Instant,
}

/// Logins in progress and live sessions (by hashed id).
pub(crate) struct Oidc {
    config: OidcConfig,
    discovery: tokio::sync::OnceCell<Discovery>,
    pending: Mutex<HashMap<String, Pending>>,
    sessions: Mutex<HashMap<String, Session>>,
}

/// Why a login was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// The callback's `state` is not a login in progress.
    #[error("unknown or expired login state")]
    State,
    /// The callback comes from a browser that did not start the login.
    #[error("this login was started in another browser")]
    Browser,
    /// Too many logins are in progress.
    #[error("too many logins in progress; try again shortly")]
    Busy,
    /// Discovery, token or key endpoints failed.
    #[error("the provider could not be reached: {0}")]
    Provider(String),
    /// Not a JWT.
    #[error("malformed ID token")]
    Malformed,
    /// Bad signature, unknown key or another algorithm.
    #[error("ID token signature does not verify")]
    Signature,
    /// Issuer, audience or times are wrong.
    #[error("ID token issuer, audience or expiry is wrong")]
    Claims,
    /// Not the nonce of this login (a replayed token).
    #[error("ID token nonce does not match the login")]
    Nonce,
    /// No tenant claim.
    #[error("ID token names no tenant")]
    Tenant,
}

fn random_token() -> Result<String, LoginError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| LoginError::Provider(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn hashed(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(id.as_bytes()))
}

/// A JWKS entry (RSA keys only are used).
#[derive(Deserialize)]
struct Jwk {
    kid: Option<String>,
    kty: String,
    n: Option<String>,
    e: Option<String>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

/// Verifies an RS256 ID token with `jwks` (the provider's key set as
/// JSON) and checks its issuer, audience, expiry and nonce; returns the
/// claims.
pub fn verify_id_token(
    token: &str,
    jwks: &serde_json::Value,
    issuer: &str,
    client_id: &str,
    nonce: &str,
    now: i64,
) -> Result<serde_json::Map<String, serde_json::Value>, LoginError> {
    let mut parts = token.split('.');
    let (Some(head), Some(body), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(LoginError::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| LoginError::Malformed)
    };
    let header: serde_json::Value =
        serde_json::from_slice(&decode(head)?).map_err(|_| LoginError::Malformed)?;
    if header["alg"] != "RS256" {
        return Err(LoginError::Signature);
    }
    let keys: Jwks = serde_json::from_value(jwks.clone()).map_err(|_| LoginError::Malformed)?;
    let kid = header["kid"].as_str();
    let key = keys
        .keys
        .iter()
        .find(|k| k.kty == "RSA" && (kid.is_none() || k.kid.as_deref() == kid))
        .ok_or(LoginError::Signature)?;
    let (Some(n), Some(e)) = (&key.n, &key.e) else {
        return Err(LoginError::Signature);
    };
    let public = ring::signature::RsaPublicKeyComponents {
        n: decode(n)?,
        e: decode(e)?,
    };
    public
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            format!("{head}.{body}").as_bytes(),
            &decode(signature)?,
        )
        .map_err(|_| LoginError::Signature)?;
    let claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&decode(body)?).map_err(|_| LoginError::Malformed)?;
    let audience_ok = match &claims.get("aud") {
        Some(serde_json::Value::String(aud)) => aud == client_id,
        Some(serde_json::Value::Array(auds)) => {
            auds.iter().any(|a| a == client_id)
                && claims.get("azp").is_none_or(|azp| azp == client_id)
        }
        _ => false,
    };
    let expires = claims.get("exp").and_then(serde_json::Value::as_i64);
    let issued = claims.get("iat").and_then(serde_json::Value::as_i64);
    if claims.get("iss").and_then(|v| v.as_str()) != Some(issuer)
        || !audience_ok
        || expires.is_none_or(|exp| exp + LEEWAY_SECS < now)
        || issued.is_some_and(|iat| iat - LEEWAY_SECS > now)
    {
        return Err(LoginError::Claims);
    }
    if claims.get("nonce").and_then(|v| v.as_str()) != Some(nonce) {
        return Err(LoginError::Nonce);
    }
    Ok(claims)
}

impl Oidc {
    pub(crate) fn new(config: OidcConfig) -> Self {
        Oidc {
            config,
            discovery: tokio::sync::OnceCell::new(),
            pending: Mutex::default(),
            sessions: Mutex::default(),
        }
    }

    async fn discovery(&self) -> Result<&Discovery, LoginError> {
        self.discovery
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.config.issuer.trim_end_matches('/')
                );
                get_json(&url).await.and_then(|value| {
                    serde_json::from_value(value).map_err(|e| LoginError::Provider(e.to_string()))
                })
            })
            .await
    }

    /// The live session behind a cookie value.
    pub(crate) fn session(&self, cookie: &str) -> Option<Session> {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions
            .get(&hashed(cookie))
            .filter(|s| s.expires > Instant::now())
            .cloned()
    }

    fn end(&self, cookie: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&hashed(cookie));
    }

    /// Begins a login: returns the provider URL to send the browser to and
    /// the pre-login cookie value that binds the login to that browser.
    async fn start(&self) -> Result<(String, String), LoginError> {
        let discovery = self.discovery().await?;
        let (state, nonce, verifier) = (random_token()?, random_token()?, random_token()?);
        let browser = random_token()?;
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", self.config.client_id.as_str()),
            ("redirect_uri", self.config.redirect_url.as_str()),
            ("scope", "openid email oncall"),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .map_err(|e| LoginError::Provider(e.to_string()))?;
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.len() >= MAX_PENDING_LOGINS {
            pending.retain(|_, p| p.started.elapsed() < LOGIN_TIMEOUT);
        }
        if pending.len() >= MAX_PENDING_LOGINS {
            return Err(LoginError::Busy);
        }
        pending.insert(
            state,
            Pending {
                browser: hashed(&browser),
                verifier,
                nonce,
                started: Instant::now(),
            },
        );
        Ok((
            format!("{}?{query}", discovery.authorization_endpoint),
            browser,
        ))
    }

    /// Completes a login begun by the browser holding `browser` (its
    /// pre-login cookie): returns the new session's cookie value. A
    /// callback from another browser leaves the login in progress, so the
    /// rightful browser can still finish it.
    async fn finish(
        &self,
        code: &str,
        state: &str,
        browser: Option<&str>,
    ) -> Result<(String, Session), LoginError> {
        let pending = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            let login = pending
                .get(state)
                .filter(|p| p.started.elapsed() < LOGIN_TIMEOUT)
                .ok_or(LoginError::State)?;
            if browser.map(hashed).as_deref() != Some(login.browser.as_str()) {
                return Err(LoginError::Browser);
            }
            pending.remove(state).ok_or(LoginError::State)?
        };
        let discovery = self.discovery().await?;
        let form = serde_urlencoded::to_string([
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.config.redirect_url.as_str()),
            ("code_verifier", pending.verifier.as_str()),
        ])
        .map_err(|e| LoginError::Provider(e.to_string()))?;
        let response = reqwest::Client::new()
            .post(&discovery.token_endpoint)
            .timeout(HTTP_TIMEOUT)
            .basic_auth(&self.config.client_id, Some(&self.config.client_secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|e| LoginError::Provider(e.to_string()))?;
        if !response.status().is_success() {
            return Err(LoginError::Provider(format!(
                "token endpoint answered {}",
                response.status()
            )));
        }
        let tokens: serde_json::Value = response
            .json()
            .await
            .map_err(|e| LoginError::Provider(e.to_string()))?;
        let id_token = tokens["id_token"].as_str().ok_or(LoginError::Malformed)?;
        let jwks = get_json(&discovery.jwks_uri).await?;
        let claims = verify_id_token(
            id_token,
            &jwks,
            &discovery.issuer,
            &self.config.client_id,
            &pending.nonce,
            chrono::Utc::now().timestamp(),
        )?;
        let tenant = claims
            .get(&self.config.tenant_claim)
            .and_then(|v| v.as_str())
            .filter(|t| !t.is_empty())
            .ok_or(LoginError::Tenant)?;
        let role = claims
            .get(&self.config.role_claim)
            .and_then(|v| v.as_str())
            .and_then(Role::parse)
            .unwrap_or(Role::Viewer);
        let session = Session {
            tenant: tenant.into(),
            role,
            subject: claims
                .get("sub")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
            expires: Instant::now() + SESSION_TTL,
        };
        let cookie = random_token()?;
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(hashed(&cookie), session.clone());
        Ok((cookie, session))
    }
}

async fn get_json(url: &str) -> Result<serde_json::Value, LoginError> {
    let response = reqwest::Client::new()
        .get(url)
        .timeout(HTTP_TIMEOUT)
        .send()
        .await
        .map_err(|e| LoginError::Provider(e.to_string()))?;
    if !response.status().is_success() {
        return Err(LoginError::Provider(format!(
            "{url} answered {}",
            response.status()
        )));
    }
    response
        .json()
        .await
        .map_err(|e| LoginError::Provider(e.to_string()))
}

/// The value of cookie `name` in a request, if any.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// The session cookie's value in a request, if any.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

fn login_failed(error: &LoginError) -> Response {
    tracing::warn!(%error, "login refused");
    let status = if *error == LoginError::Busy {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::UNAUTHORIZED
    };
    (status, format!("login failed: {error}")).into_response()
}

/// `Set-Cookie` value of the pre-login cookie (`Max-Age=0` clears it).
fn login_cookie(value: &str, max_age: Duration) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={value}; Path={LOGIN_COOKIE_PATH}; HttpOnly; Secure; SameSite=Lax; Max-Age={}",
        max_age.as_secs()
    ))
    .ok()
}

/// Starts a login at the provider.
pub(crate) async fn login_start(State(state): State<AppState>) -> Response {
    let Some(oidc) = state.oidc.as_deref() else {
        return ApiError::NotFound.into_response();
    };
    match oidc.start().await {
        Ok((url, browser)) => {
            let mut response = Redirect::to(&url).into_response();
            if let Some(value) = login_cookie(&browser, LOGIN_TIMEOUT) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(error) => login_failed(&error),
    }
}

/// The provider's redirect back.
#[derive(Deserialize)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Completes a login and sets the session cookie.
pub(crate) async fn login_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let Some(oidc) = state.oidc.as_deref() else {
        return ApiError::NotFound.into_response();
    };
    if let Some(error) = callback.error {
        return (
            StatusCode::UNAUTHORIZED,
            format!("the provider refused: {error}"),
        )
            .into_response();
    }
    let (Some(code), Some(login)) = (callback.code, callback.state) else {
        return login_failed(&LoginError::State);
    };
    match oidc
        .finish(&code, &login, cookie(&headers, LOGIN_COOKIE))
        .await
    {
        Ok((cookie, session)) => {
            tracing::info!(subject = %session.subject, tenant = %session.tenant, "logged in");
            let mut response = Redirect::to("/").into_response();
            let value = format!(
                "{SESSION_COOKIE}={cookie}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={}",
                SESSION_TTL.as_secs()
            );
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            if let Some(value) = login_cookie("", Duration::ZERO) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(error) => login_failed(&error),
    }
}

/// Ends the session. Another site's page cannot log a user out (its
/// request is refused as a cross-site write).
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if crate::auth::cross_site_write(&axum::http::Method::POST, &headers) {
        return ApiError::Forbidden.into_response();
    }
    if let (Some(oidc), Some(cookie)) = (state.oidc.as_deref(), session_cookie(&headers)) {
        oidc.end(cookie);
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "oncall_session=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0",
        ),
    );
    response
}
