//! One record as a step of a login or token flow: what kind of step, its
//! outcome, the reason it failed, and the identifiers that tie it to the
//! other steps of the same attempt.

use chrono::{DateTime, Utc};
use ingest::{Record, RecordId};
use serde::{Deserialize, Serialize};

use crate::reason::{FailureReason, failure_reason};

/// Where a step sits in an OAuth/OIDC flow, in flow order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// `/authorize`: the client sends the user to the provider.
    Authorize,
    /// Primary authentication (password, SSO).
    Login,
    /// A second factor: push, OTP, WebAuthn.
    Mfa,
    /// An authorization code issued.
    Code,
    /// Code (or client credentials) exchanged for tokens.
    Token,
    /// Refresh token exchanged for new tokens.
    Refresh,
    /// An API call made with an access token.
    Api,
    /// A token revoked.
    Revoke,
    /// A session ended.
    Logout,
}

impl StepKind {
    /// Name in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Authorize => "authorize",
            StepKind::Login => "login",
            StepKind::Mfa => "mfa",
            StepKind::Code => "code",
            StepKind::Token => "token",
            StepKind::Refresh => "refresh",
            StepKind::Api => "api",
            StepKind::Revoke => "revoke",
            StepKind::Logout => "logout",
        }
    }

    /// Steps that begin an attempt: a new one of these after a flow has
    /// gone past it starts a new flow.
    pub(crate) fn starts_attempt(self) -> bool {
        matches!(self, StepKind::Authorize | StepKind::Login)
    }
}

/// Did the step succeed?
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It did.
    Success,
    /// It failed; the step carries the reason.
    Failure,
}

/// A record read as a flow step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The record.
    pub record: RecordId,
    /// When it happened.
    pub ts: DateTime<Utc>,
    /// Its place in the flow.
    pub kind: StepKind,
    /// Its outcome.
    pub outcome: Outcome,
    /// Why it failed.
    pub reason: Option<FailureReason>,
    /// Source of the record (`okta`, `auth0`, a gateway...).
    pub source: String,
    /// User (login name or email).
    pub user: Option<String>,
    /// Client IP.
    pub ip: Option<String>,
    /// OAuth client id.
    pub client: Option<String>,
    /// Correlation id (`transaction.id`, `x-request-id`, `traceparent`).
    pub trace: Option<String>,
    /// Session id, where the source gives one.
    pub session: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// Identity-provider connection (Auth0 `connection`: a database,
    /// social or enterprise login).
    #[serde(default)]
    pub connection: Option<String>,
}

/// Reads `record` as a flow step, if it is one: an identity-provider event
/// (Okta System Log, Auth0 tenant log) or an HTTP request to an OAuth or
/// API route, or a gateway's token-validation failure.
pub fn classify(record: &Record) -> Option<Step> {
    let ts = record.ts?;
    let (kind, outcome) = idp_step(record).or_else(|| http_step(record))?;
    let reason = match outcome {
        Outcome::Failure => Some(failure_reason(record)),
        Outcome::Success => None,
    };
    let text = |name: &str| record.field_str(name).filter(|v| !v.is_empty() && v != "-");
    Some(Step {
        record: record.id.clone(),
        ts,
        kind,
        outcome,
        reason,
        source: record.service.clone(),
        user: text("user").map(|u| u.to_lowercase()),
        ip: text("ip"),
        client: text("client_id"),
        trace: text("trace_id").filter(|_| record.service != "auth0"),
        session: text("session_id"),
        user_agent: text("user_agent"),
        connection: text("connection"),
    })
}

/// Okta `eventType` and Auth0 `type` codes.
fn idp_step(record: &Record) -> Option<(StepKind, Outcome)> {
    let event = record.field_str("event_type")?;
    if record.service == "okta" {
        // `token.grant.*` names the token issued; the grant type says
        // whether a refresh token was redeemed.
        let kind = match okta_kind(&event)? {
            StepKind::Token
                if record.field_str("grant_type").as_deref() == Some("refresh_token") =>
            {
                StepKind::Refresh
            }
            kind => kind,
        };
        let failed = record
            .field_str("outcome")
            .is_some_and(|o| ingest::is_failed_okta_outcome(&o));
        return Some((
            kind,
            if failed {
                Outcome::Failure
            } else {
                Outcome::Success
            },
        ));
    }
    let (kind, outcome) = auth0_kind(&event)?;
    // A failed login whose reason is the callback URL failed at /authorize.
    let body = record.body.to_lowercase();
    if kind == StepKind::Login
        && outcome == Outcome::Failure
        && (body.contains("callback url") || body.contains("redirect_uri"))
    {
        return Some((StepKind::Authorize, outcome));
    }
    Some((kind, outcome))
}

fn okta_kind(event: &str) -> Option<StepKind> {
    let kind = match event {
        e if e.starts_with("app.oauth2.") && e.contains("authorize.code") => StepKind::Code,
        e if e.starts_with("app.oauth2.") && e.contains("authorize") => StepKind::Authorize,
        e if e.starts_with("app.oauth2.") && e.contains("token.grant") => StepKind::Token,
        e if e.starts_with("app.oauth2.") && e.contains("token.revoke") => StepKind::Revoke,
        e if e.contains("mfa") || e.contains("push") || e.contains("factor_verify") => {
            StepKind::Mfa
        }
        "user.session.start"
        | "user.authentication.sso"
        | "user.authentication.authenticate"
        | "user.authentication.verify" => StepKind::Login,
        e if e.starts_with("user.authentication.auth_via_") => StepKind::Login,
        "user.session.end" => StepKind::Logout,
        _ => return None,
    };
    Some(kind)
}

fn auth0_kind(code: &str) -> Option<(StepKind, Outcome)> {
    use Outcome::{Failure, Success};
    let step = match code {
        "s" | "ss" | "ssa" | "scoa" => (StepKind::Login, Success),
        "f" | "fp" | "fu" | "fs" | "fcoa" | "limit_wc" | "limit_mu" | "limit_sul" => {
            (StepKind::Login, Failure)
        }
        "gd_auth_succeed" | "gd_send_pn" => (StepKind::Mfa, Success),
        "gd_auth_failed" | "gd_auth_rejected" | "gd_otp_rate_limit_exceed" => {
            (StepKind::Mfa, Failure)
        }
        "seacft" | "seccft" | "sepft" => (StepKind::Token, Success),
        "feacft" | "feccft" | "fepft" => (StepKind::Token, Failure),
        "sertft" => (StepKind::Refresh, Success),
        "fertft" => (StepKind::Refresh, Failure),
        "srrt" => (StepKind::Revoke, Success),
        "slo" => (StepKind::Logout, Success),
        "flo" => (StepKind::Logout, Failure),
        _ => return None,
    };
    Some(step)
}

/// An HTTP request to an OAuth or API route, or a token rejected by a
/// gateway (a log line naming a JWT problem).
fn http_step(record: &Record) -> Option<(StepKind, Outcome)> {
    let status = record
        .field_str("http_status")
        .and_then(|s| s.parse::<u16>().ok());
    let route = record.field_str("route").unwrap_or_default().to_lowercase();
    let path = route.split('?').next().unwrap_or_default();
    let kind = if path.ends_with("/authorize") {
        StepKind::Authorize
    } else if path.ends_with("/token") {
        StepKind::Token
    } else if path.ends_with("/revoke") {
        StepKind::Revoke
    } else if path.ends_with("/logout") {
        StepKind::Logout
    } else if path.ends_with("/login") || path.contains("/usernamepassword/") {
        StepKind::Login
    } else if path.contains("/api/") || path.ends_with("/userinfo") {
        StepKind::Api
    } else if status.is_none() && crate::reason::jwt_problem(&record.body).is_some() {
        return Some((StepKind::Api, Outcome::Failure));
    } else {
        return None;
    };
    let status = status?;
    Some((
        kind,
        if status >= 400 {
            Outcome::Failure
        } else {
            Outcome::Success
        },
    ))
}

/// A successful step at 14:00 + `second` on 2026-11-20 with no actor, for
/// tests to adjust.
#[cfg(test)]
pub(crate) fn test_step(second: i64, kind: StepKind) -> Step {
    use chrono::TimeZone;
    Step {
        record: RecordId(format!("r-{second}")),
        ts: Utc
            .with_ymd_and_hms(2026, 11, 20, 14, 0, 0)
            .single()
            .unwrap_or_default()
            + chrono::Duration::seconds(second),
        kind,
        outcome: Outcome::Success,
        reason: None,
        source: "test".into(),
        user: None,
        ip: None,
        client: None,
        trace: None,
        session: None,
        user_agent: None,
        connection: None,
    }
}
