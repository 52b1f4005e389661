//! `oncall gen-flows`: seeded login and token flows with known grouping,
//! across an identity provider (Okta or Auth0, per flow), the gateway's
//! access log and its token-validation log, overlapping in time, with
//! users behind shared IPs, retries, and injected failures whose first
//! failing step and reason are recorded as truth.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::formats::{
    Access, Auth0Event, OktaEvent, access_line, auth0_line, json_line, okta_line,
};
use super::rng::Rng;
use super::scene::{ACCESS_LOG, AUTH0_LOG, CLIENTS, GATEWAY_LOG, OKTA_LOG};
use crate::error::{EvalError, Result};

/// What to generate.
#[derive(Clone, Debug)]
pub struct FlowGenOptions {
    /// Seed: the same seed writes the same bytes.
    pub seed: u64,
    /// Number of flows.
    pub flows: usize,
}

/// One true flow: its records (`file:line`), outcome and first failure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrueFlow {
    /// Flow number.
    pub id: usize,
    /// `file:line` of every record of the flow.
    pub records: Vec<String>,
    /// The flow ends in failure.
    pub failed: bool,
    /// `file:line`, step kind and reason code of the first failing step.
    pub first_failure: Option<(String, String, String)>,
}

/// The truth of a generated flow set (`flows.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowTruth {
    /// Every flow.
    pub flows: Vec<TrueFlow>,
    /// Records written.
    pub events: usize,
}

/// A failure injected into a flow: where and why.
#[derive(Clone, Copy)]
enum Fault {
    None,
    PasswordRetried,
    PasswordGaveUp,
    MfaDenied,
    RedirectUri,
    InvalidGrant,
    TokenRateLimited,
    Jwt(&'static str, &'static str),
}

const JWT_FAULTS: [(&str, &str); 4] = [
    ("kid_unknown", "token signature check failed: unknown kid"),
    ("token_expired", "JWT rejected: token is expired"),
    (
        "not_yet_valid",
        "JWT rejected: token not yet valid (nbf in the future)",
    ),
    ("wrong_audience", "JWT validation failed: invalid audience"),
];

struct Line {
    file: &'static str,
    ts: DateTime<Utc>,
    sequence: u64,
    text: String,
    flow: usize,
    failure: Option<(&'static str, String)>,
}

struct Writer {
    rng: Rng,
    lines: Vec<Line>,
    sequence: u64,
    log_id: u64,
}

impl Writer {
    fn push(&mut self, file: &'static str, ts: DateTime<Utc>, text: String, flow: usize) {
        self.sequence += 1;
        self.lines.push(Line {
            file,
            ts,
            sequence: self.sequence,
            text,
            flow,
            failure: None,
        });
    }

    /// Marks the last line as the flow's failing step (kind, reason).
    fn failed(&mut self, kind: &'static str, reason: &str) {
        if let Some(line) = self.lines.last_mut() {
            line.failure = Some((kind, reason.to_string()));
        }
    }

    /// One identity-provider event of `attempt`, as its vendor logs it.
    fn idp(
        &mut self,
        attempt: &Attempt<'_>,
        ts: DateTime<Utc>,
        okta: OktaSide<'_>,
        auth0: Auth0Side<'_>,
    ) {
        let (line, file) = if attempt.okta {
            let (event_type, result, reason, extra) = okta;
            let mut debug = json!({"clientId": attempt.client});
            if let (Some(target), serde_json::Value::Object(extra)) = (debug.as_object_mut(), extra)
            {
                target.extend(extra);
            }
            let event = OktaEvent {
                event_type,
                message: event_type,
                result,
                reason,
                user: attempt.user,
                ip: attempt.ip,
                transaction: attempt.transaction,
                debug: Some(debug),
            };
            (okta_line(ts, &event), OKTA_LOG)
        } else {
            let (code, description, details) = auth0;
            self.log_id += 1;
            let event = Auth0Event {
                code,
                description,
                log_id: self.log_id,
                client_id: attempt.client,
                user: attempt.user,
                ip: attempt.ip,
                details,
            };
            (auth0_line(ts, &event), AUTH0_LOG)
        };
        self.push(file, ts, line, attempt.flow);
    }

    fn access(
        &mut self,
        flow: usize,
        ts: DateTime<Utc>,
        ip: &str,
        route: &str,
        status: u16,
        error: Option<&str>,
    ) {
        let request_id = format!("req-{}", self.rng.hex(12));
        let method = if route.ends_with("/token") {
            "POST"
        } else {
            "GET"
        };
        let line = access_line(
            ts,
            &Access {
                ip,
                method,
                route,
                status,
                user_agent: "okhttp/4.12.0",
                latency_s: 0.004 + self.rng.unit() * 0.05,
                request_id: &request_id,
                error,
            },
        );
        self.push(ACCESS_LOG, ts, line, flow);
    }
}

/// Writes `data/` (Okta, Auth0, gateway access and validation logs) and
/// `flows.json` into `dir`, and returns the truth.
pub fn generate_flows(dir: &Path, options: &FlowGenOptions) -> Result<FlowTruth> {
    let mut writer = Writer {
        rng: Rng::new(options.seed.wrapping_mul(0x9e37_79b9).wrapping_add(17)),
        lines: Vec::new(),
        sequence: 0,
        log_id: 0,
    };
    let start = Utc
        .with_ymd_and_hms(2026, 10, 5, 8, 0, 0)
        .single()
        .unwrap_or_default();
    // Roughly one flow starting every two seconds: many overlap.
    let span_ms = (options.flows as u64).max(1) * 2000;
    let shared_ips: Vec<String> = (0..12).map(|i| format!("198.51.100.{}", 10 + i)).collect();
    for flow in 0..options.flows {
        let at = start + Duration::milliseconds(writer.rng.below(span_ms) as i64);
        one_flow(&mut writer, flow, at, &shared_ips);
    }
    write(dir, writer.lines, options.flows)
}

/// Who makes an attempt, and through which identity provider.
struct Attempt<'a> {
    flow: usize,
    user: &'a str,
    ip: &'a str,
    client: &'a str,
    transaction: &'a str,
    okta: bool,
}

/// An Okta event: type, result, reason, extra `debugData`.
type OktaSide<'a> = (&'a str, &'a str, Option<&'a str>, serde_json::Value);
/// An Auth0 event: type code, description, details.
type Auth0Side<'a> = (&'a str, &'a str, Option<serde_json::Value>);

fn one_flow(w: &mut Writer, flow: usize, at: DateTime<Utc>, shared_ips: &[String]) {
    let user = format!("user{:05}@corp.example", w.rng.below(20_000));
    let ip = if w.rng.chance(0.25) {
        w.rng.pick(shared_ips).clone()
    } else {
        format!("203.0.{}.{}", w.rng.below(250), 1 + w.rng.below(250))
    };
    let client = *w.rng.pick(CLIENTS);
    let fault = match w.rng.unit() {
        r if r < 0.08 => Fault::PasswordRetried,
        r if r < 0.11 => Fault::PasswordGaveUp,
        r if r < 0.14 => Fault::MfaDenied,
        r if r < 0.16 => Fault::RedirectUri,
        r if r < 0.19 => Fault::InvalidGrant,
        r if r < 0.21 => Fault::TokenRateLimited,
        r if r < 0.26 => {
            let (code, text) = *w.rng.pick(&JWT_FAULTS);
            Fault::Jwt(code, text)
        }
        _ => Fault::None,
    };
    let mfa = w.rng.chance(0.4) || matches!(fault, Fault::MfaDenied);
    let okta = w.rng.chance(0.5);
    let transaction = format!("W{}", w.rng.hex(10));
    let attempt = Attempt {
        flow,
        user: &user,
        ip: &ip,
        client,
        transaction: &transaction,
        okta,
    };
    let mut ts = at;
    let mut next = |w: &mut Writer, max_ms: u64| {
        ts += Duration::milliseconds(200 + w.rng.below(max_ms) as i64);
        ts
    };
    let none = || json!({});
    // Authorize: Auth0 logs only an error; Okta logs the code later.
    if let Fault::RedirectUri = fault {
        let t = next(w, 300);
        w.idp(
            &attempt,
            t,
            ("app.oauth2.as.authorize", "FAILURE", Some("redirect_uri mismatch"), json!({"error": "invalid_request"})),
            ("f", "Callback URL mismatch. https://evil.example/cb is not in the list of allowed callback URLs", None),
        );
        w.failed("authorize", "redirect_uri_mismatch");
        return;
    }
    // Login, with a wrong password first when the fault says so.
    if matches!(fault, Fault::PasswordRetried | Fault::PasswordGaveUp) {
        let t = next(w, 3000);
        w.idp(
            &attempt,
            t,
            (
                "user.session.start",
                "FAILURE",
                Some("INVALID_CREDENTIALS"),
                none(),
            ),
            ("fp", "Wrong email or password.", None),
        );
        w.failed("login", "invalid_credentials");
        if let Fault::PasswordGaveUp = fault {
            return;
        }
    }
    let t = next(w, 4000);
    w.idp(
        &attempt,
        t,
        ("user.session.start", "SUCCESS", None, none()),
        ("s", "Successful login", None),
    );
    if mfa {
        let t = next(w, 2000);
        w.idp(
            &attempt,
            t,
            (
                "system.push.send_factor_verify_push",
                "SUCCESS",
                None,
                none(),
            ),
            (
                "gd_send_pn",
                "Push notification for MFA sent successfully",
                None,
            ),
        );
        let t = next(w, 8000);
        if let Fault::MfaDenied = fault {
            w.idp(
                &attempt,
                t,
                (
                    "user.mfa.okta_verify.deny_push",
                    "FAILURE",
                    Some("USER_REJECTED_OKTA_VERIFY_PUSH"),
                    none(),
                ),
                (
                    "gd_auth_rejected",
                    "A user rejected a Multi-factor authentication request via push-notification",
                    None,
                ),
            );
            w.failed("mfa", "mfa_failed");
            return;
        }
        w.idp(
            &attempt,
            t,
            ("user.authentication.auth_via_mfa", "SUCCESS", None, none()),
            (
                "gd_auth_succeed",
                "Multi-factor authentication succeeded",
                None,
            ),
        );
    }
    // Code issued (only Okta logs it), then the exchange at the token
    // endpoint: each its own request, so its own transaction.
    if okta {
        let t = next(w, 500);
        let code_transaction = format!("W{}", w.rng.hex(10));
        let code = Attempt {
            transaction: &code_transaction,
            ..attempt
        };
        w.idp(
            &code,
            t,
            ("app.oauth2.as.authorize.code", "SUCCESS", None, none()),
            ("", "", None),
        );
    }
    let t = next(w, 1500);
    let token_transaction = format!("W{}", w.rng.hex(10));
    let token = Attempt {
        transaction: &token_transaction,
        ..attempt
    };
    match fault {
        Fault::InvalidGrant => {
            w.idp(
                &token,
                t,
                ("app.oauth2.as.token.grant", "FAILURE", Some("invalid_grant"), json!({"error": "invalid_grant", "grantType": "authorization_code"})),
                ("feacft", "Invalid authorization code", Some(json!({"error": "invalid_grant", "error_description": "Invalid authorization code"}))),
            );
            w.failed("token", "invalid_grant");
            return;
        }
        Fault::TokenRateLimited => {
            w.access(flow, t, &ip, "/oauth/token", 429, Some("too_many_requests"));
            w.failed("token", "rate_limited");
            return;
        }
        _ => {}
    }
    w.idp(
        &token,
        t,
        (
            "app.oauth2.as.token.grant.access_token",
            "SUCCESS",
            None,
            json!({"grantType": "authorization_code"}),
        ),
        ("seacft", "Authorization Code for Access Token", None),
    );
    // API calls with the token.
    let calls = 1 + w.rng.below(4);
    for call in 0..calls {
        let t = next(w, 5000);
        let route = *w
            .rng
            .pick(&["/api/v2/accounts/me", "/api/v2/orders", "/api/v2/invoices"]);
        if let (Fault::Jwt(code, text), true) = (fault, call + 1 == calls) {
            let line = json_line(
                t,
                "warn",
                "edge-gateway",
                text,
                json!({"client_id": client, "ip": ip}),
            );
            w.push(GATEWAY_LOG, t, line, flow);
            w.failed("api", code);
            w.access(
                flow,
                t + Duration::milliseconds(1),
                &ip,
                route,
                401,
                Some("invalid_token"),
            );
            return;
        }
        w.access(flow, t, &ip, route, 200, None);
    }
}

/// The earliest failure written for a flow so far.
#[derive(Clone)]
struct FirstFailure {
    ts: DateTime<Utc>,
    sequence: u64,
    truth: (String, String, String),
}

fn write(dir: &Path, mut lines: Vec<Line>, flows: usize) -> Result<FlowTruth> {
    let data = dir.join("data");
    let mut truth: Vec<TrueFlow> = (0..flows)
        .map(|id| TrueFlow {
            id,
            records: Vec::new(),
            failed: false,
            first_failure: None,
        })
        .collect();
    let mut by_file: BTreeMap<&'static str, Vec<Line>> = BTreeMap::new();
    for line in lines.drain(..) {
        by_file.entry(line.file).or_default().push(line);
    }
    let mut events = 0;
    let mut firsts: Vec<Option<FirstFailure>> = vec![None; flows];
    for (file, mut entries) in by_file {
        entries.sort_by_key(|e| (e.ts, e.sequence));
        let path = data.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| EvalError::io(parent, e))?;
        }
        let handle = std::fs::File::create(&path).map_err(|e| EvalError::io(&path, e))?;
        let mut out = BufWriter::new(handle);
        for (index, entry) in entries.iter().enumerate() {
            writeln!(out, "{}", entry.text).map_err(|e| EvalError::io(&path, e))?;
            let origin = format!("{file}:{}", index + 1);
            let flow = &mut truth[entry.flow];
            flow.records.push(origin.clone());
            if let Some((kind, reason)) = &entry.failure {
                let slot = &mut firsts[entry.flow];
                if slot
                    .as_ref()
                    .is_none_or(|f| (entry.ts, entry.sequence) < (f.ts, f.sequence))
                {
                    *slot = Some(FirstFailure {
                        ts: entry.ts,
                        sequence: entry.sequence,
                        truth: (origin, kind.to_string(), reason.clone()),
                    });
                }
            }
            events += 1;
        }
        out.flush().map_err(|e| EvalError::io(&path, e))?;
    }
    for (flow, first) in truth.iter_mut().zip(firsts) {
        flow.first_failure = first.map(|f| f.truth);
    }
    // A flow fails when its failure was not followed by a success: the
    // retried password is the only fault a flow recovers from.
    for flow in &mut truth {
        flow.failed = flow
            .first_failure
            .as_ref()
            .is_some_and(|(_, kind, reason)| {
                !(kind == "login" && reason == "invalid_credentials" && flow.records.len() > 1)
            });
    }
    let truth = FlowTruth {
        flows: truth,
        events,
    };
    let path = dir.join("flows.json");
    let json = serde_json::to_string(&truth).map_err(|e| EvalError::BadCase {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    std::fs::write(&path, json).map_err(|e| EvalError::io(&path, e))?;
    Ok(truth)
}

/// How well flows were reconstructed against the truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowScores {
    /// Events read.
    pub events: usize,
    /// Events read as flow steps.
    pub steps: usize,
    /// True flows and flows found.
    pub true_flows: usize,
    /// Flows reconstructed.
    pub found_flows: usize,
    /// Of step pairs put in one flow, the share truly in one.
    pub pairwise_precision: f64,
    /// Of step pairs truly in one flow, the share put in one.
    pub pairwise_recall: f64,
    /// Failing flows in the truth.
    pub failing_flows: usize,
    /// Of those, the flows whose first failing step and reason were named.
    pub first_failure_correct: usize,
}

/// Reads the flows generated in `dir`, reconstructs them, and scores the
/// grouping and the first failures against `flows.json`.
pub fn score_flows(dir: &Path) -> Result<FlowScores> {
    let path = dir.join("flows.json");
    let text = std::fs::read_to_string(&path).map_err(|e| EvalError::io(&path, e))?;
    let truth: FlowTruth = serde_json::from_str(&text).map_err(|e| EvalError::BadCase {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let parsed = ingest::read_path(
        &dir.join("data"),
        &ingest::ReadOptions::new("default"),
        &mut ingest::TemplateMiner::default(),
    )?;
    let label: BTreeMap<&str, usize> = truth
        .flows
        .iter()
        .flat_map(|f| f.records.iter().map(move |r| (r.as_str(), f.id)))
        .collect();
    let origin: BTreeMap<&ingest::RecordId, String> = parsed
        .records
        .iter()
        .map(|r| (&r.id, r.origin.to_string()))
        .collect();
    let steps: Vec<flows::Step> = parsed.records.iter().filter_map(flows::classify).collect();
    let found = flows::reconstruct(steps.clone(), &flows::StitchConfig::default());
    let mut true_labels = Vec::new();
    let mut found_labels = Vec::new();
    for flow in &found {
        for timed in &flow.steps {
            let at = origin
                .get(&timed.step.record)
                .map(String::as_str)
                .unwrap_or_default();
            if let Some(true_flow) = label.get(at) {
                true_labels.push(*true_flow);
                found_labels.push(flow.id);
            }
        }
    }
    let (pairwise_precision, pairwise_recall) = flows::pairwise_scores(&true_labels, &found_labels);
    let failing: Vec<&TrueFlow> = truth.flows.iter().filter(|f| f.failed).collect();
    let first_failure_correct = failing
        .iter()
        .filter(|flow| {
            let Some((at, kind, reason)) = &flow.first_failure else {
                return false;
            };
            found.iter().any(|f| {
                f.first_failure
                    .as_ref()
                    .is_some_and(|(index, found_reason)| {
                        let step = &f.steps[*index].step;
                        origin.get(&step.record) == Some(at)
                            && step.kind.as_str() == kind
                            && found_reason.code == *reason
                    })
            })
        })
        .count();
    Ok(FlowScores {
        events: parsed.records.len(),
        steps: steps.len(),
        true_flows: truth.flows.len(),
        found_flows: found.len(),
        pairwise_precision,
        pairwise_recall,
        failing_flows: failing.len(),
        first_failure_correct,
    })
}
