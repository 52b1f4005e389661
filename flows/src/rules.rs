//! Risky events: one documented rule each, a severity, the records behind
//! every flag, and thresholds that are configuration.
//!
//! Event rules read one record's event type (Okta `eventType`, Auth0 `type`
//! and, for Management API operations, `details.request` method and path).
//! Pattern rules count login, MFA and session events per user or per IP in
//! sliding windows. Vendor identifiers are those of Okta's System Log and
//! Auth0's log event type documentation.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use ingest::{Record, RecordId};
use serde::{Deserialize, Serialize};

use crate::step::{Outcome, StepKind, classify};

/// The rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Many failed logins against one user in a short window.
    BruteForce,
    /// Many users tried from few IPs, mostly failing, in a short window.
    CredentialStuffing,
    /// One IP tries many users a few times each over a longer window.
    PasswordSpraying,
    /// Many MFA pushes sent to or denied by one user in a short window.
    MfaFatigue,
    /// Two logins of one user farther apart than travel allows.
    ImpossibleTravel,
    /// A session used from another IP and user agent than it started on.
    SessionReuse,
    /// An admin role or privilege granted.
    AdminPrivilegeGranted,
    /// An API token, client or client secret created.
    ApiCredentialCreated,
    /// An MFA factor reset or removed.
    MfaFactorRemoved,
    /// A sign-on, password or MFA policy changed, deactivated or deleted.
    PolicyWeakened,
    /// Vendor support or impersonation access granted or used.
    SupportAccessGranted,
    /// A rate-limit or anomaly-detection block.
    RateLimitBlock,
    /// A Management API change to clients (applications) or connections.
    ManagementChange,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 13] = [
        Rule::BruteForce,
        Rule::CredentialStuffing,
        Rule::PasswordSpraying,
        Rule::MfaFatigue,
        Rule::ImpossibleTravel,
        Rule::SessionReuse,
        Rule::AdminPrivilegeGranted,
        Rule::ApiCredentialCreated,
        Rule::MfaFactorRemoved,
        Rule::PolicyWeakened,
        Rule::SupportAccessGranted,
        Rule::RateLimitBlock,
        Rule::ManagementChange,
    ];

    /// Name in output (`brute_force`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::BruteForce => "brute_force",
            Rule::CredentialStuffing => "credential_stuffing",
            Rule::PasswordSpraying => "password_spraying",
            Rule::MfaFatigue => "mfa_fatigue",
            Rule::ImpossibleTravel => "impossible_travel",
            Rule::SessionReuse => "session_reuse",
            Rule::AdminPrivilegeGranted => "admin_privilege_granted",
            Rule::ApiCredentialCreated => "api_credential_created",
            Rule::MfaFactorRemoved => "mfa_factor_removed",
            Rule::PolicyWeakened => "policy_weakened",
            Rule::SupportAccessGranted => "support_access_granted",
            Rule::RateLimitBlock => "rate_limit_block",
            Rule::ManagementChange => "management_change",
        }
    }

    /// How urgent a flag of this rule is.
    pub fn severity(self) -> Severity {
        match self {
            Rule::CredentialStuffing
            | Rule::MfaFatigue
            | Rule::ImpossibleTravel
            | Rule::SessionReuse
            | Rule::SupportAccessGranted
            | Rule::AdminPrivilegeGranted => Severity::High,
            Rule::BruteForce
            | Rule::PasswordSpraying
            | Rule::ApiCredentialCreated
            | Rule::MfaFactorRemoved
            | Rule::PolicyWeakened => Severity::Medium,
            Rule::RateLimitBlock | Rule::ManagementChange => Severity::Low,
        }
    }
}

/// Severity of a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Investigate.
    Medium,
    /// Act now.
    High,
}

/// Thresholds of the pattern rules (the `[rules]` table of `oncall.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleConfig {
    /// Window of brute force, stuffing and MFA fatigue, in seconds.
    pub window_secs: i64,
    /// Failed logins against one user in the window.
    pub brute_force_failures: usize,
    /// Distinct users tried in the window, for credential stuffing.
    pub stuffing_users: usize,
    /// At most this many source IPs, for credential stuffing.
    pub stuffing_max_ips: usize,
    /// Share of failed attempts, for stuffing and spraying.
    pub min_failure_ratio: f64,
    /// Window of password spraying, in seconds.
    pub spraying_window_secs: i64,
    /// Distinct users one IP tries in the spraying window.
    pub spraying_users: usize,
    /// At most this many attempts per user, for spraying.
    pub spraying_attempts_per_user: usize,
    /// MFA pushes sent or denied for one user in the window.
    pub mfa_fatigue_challenges: usize,
    /// Fastest plausible travel between two logins, km/h.
    pub max_travel_kmh: f64,
    /// Two logins closer than this are never impossible travel, km.
    pub min_travel_km: f64,
}

impl Default for RuleConfig {
    fn default() -> Self {
        RuleConfig {
            window_secs: 600,
            brute_force_failures: 10,
            stuffing_users: 20,
            stuffing_max_ips: 5,
            min_failure_ratio: 0.8,
            spraying_window_secs: 3600,
            spraying_users: 10,
            spraying_attempts_per_user: 2,
            mfa_fatigue_challenges: 5,
            max_travel_kmh: 900.0,
            min_travel_km: 500.0,
        }
    }
}

/// One flag: a rule that fired, on whom, and the records behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    /// The rule.
    pub rule: Rule,
    /// Its severity.
    pub severity: Severity,
    /// When the flagged activity began.
    pub ts: DateTime<Utc>,
    /// Who or what it is about (a user, an IP, a session).
    pub subject: String,
    /// What was seen, in a sentence.
    pub summary: String,
    /// The records behind the flag.
    pub records: Vec<RecordId>,
}

/// Flags every rule raises on `records` (any order), oldest first.
pub fn flag_events(records: &[Record], config: &RuleConfig) -> Vec<Flag> {
    let mut timed: Vec<&Record> = records.iter().filter(|r| r.ts.is_some()).collect();
    timed.sort_by_key(|r| r.ts);
    let mut flags: Vec<Flag> = timed.iter().filter_map(|r| event_flag(r)).collect();
    let logins = login_attempts(&timed);
    flags.extend(brute_force(&logins, config));
    flags.extend(stuffing_and_spraying(&logins, config));
    flags.extend(mfa_fatigue(&timed, config));
    flags.extend(impossible_travel(&logins, config));
    flags.extend(session_reuse(&timed));
    flags.sort_by_key(|f| (f.ts, f.rule));
    flags
}

/// The single-event rules, by vendor event identifier.
fn event_flag(record: &Record) -> Option<Flag> {
    let event = record.field_str("event_type")?;
    let failed = record
        .field_str("outcome")
        .is_some_and(|o| ingest::is_failed_okta_outcome(&o));
    let rule = if record.service == "okta" {
        okta_rule(&event, failed)?
    } else {
        auth0_rule(&event, record)?
    };
    let subject = ["user", "ip", "client_id"]
        .iter()
        .find_map(|f| record.field_str(f))
        .unwrap_or_else(|| record.service.clone());
    Some(Flag {
        rule,
        severity: rule.severity(),
        ts: record.ts?,
        subject,
        summary: record.body.clone(),
        records: vec![record.id.clone()],
    })
}

fn okta_rule(event: &str, failed: bool) -> Option<Rule> {
    let rule = match event {
        "user.account.privilege.grant" | "group.privilege.grant" => Rule::AdminPrivilegeGranted,
        "system.api_token.create" => Rule::ApiCredentialCreated,
        e if e.starts_with("app.oauth2.credentials.lifecycle.create")
            || e == "app.oauth2.client.lifecycle.create" =>
        {
            Rule::ApiCredentialCreated
        }
        "user.mfa.factor.deactivate"
        | "user.mfa.factor.reset_all"
        | "system.mfa.factor.deactivate" => Rule::MfaFactorRemoved,
        e if (e.starts_with("policy.lifecycle.") || e.starts_with("policy.rule."))
            && [".update", ".deactivate", ".delete", ".overwrite"]
                .iter()
                .any(|action| e.ends_with(action)) =>
        {
            Rule::PolicyWeakened
        }
        "user.session.impersonation.grant"
        | "user.session.impersonation.initiate"
        | "user.session.impersonation.extend" => Rule::SupportAccessGranted,
        e if e.ends_with("rate_limit.violation") || e == "security.request.blocked" => {
            Rule::RateLimitBlock
        }
        "security.threat.detected" if failed => Rule::RateLimitBlock,
        e if e.starts_with("application.lifecycle.")
            || e.starts_with("app.oauth2.client.lifecycle.") =>
        {
            Rule::ManagementChange
        }
        "security.session.detect_client_roaming" => Rule::SessionReuse,
        _ => return None,
    };
    Some(rule)
}

fn auth0_rule(code: &str, record: &Record) -> Option<Rule> {
    match code {
        "limit_wc" | "limit_mu" | "limit_sul" | "api_limit" => return Some(Rule::RateLimitBlock),
        "gd_unenroll" => return Some(Rule::MfaFactorRemoved),
        "sapi" => {}
        _ => return None,
    }
    // Management API operations: by method and path, which Auth0 logs for
    // every write (`details.request`).
    let method = record.field_str("api_method")?.to_lowercase();
    let path = record.field_str("api_path")?.to_lowercase();
    let path = path.trim_start_matches("/api");
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rule = match (method.as_str(), segments.as_slice()) {
        ("post" | "patch" | "put", ["v2", "users", _, "roles"])
        | ("post", ["v2", "roles", _, "users"]) => Rule::AdminPrivilegeGranted,
        ("post", ["v2", "clients"]) | ("post", ["v2", "clients", _, "rotate-secret"]) => {
            Rule::ApiCredentialCreated
        }
        ("delete", ["v2", "users", _, "authentication-methods", ..])
        | ("delete", ["v2", "users", _, "multifactor", ..])
        | ("delete", ["v2", "guardian", "enrollments", ..]) => Rule::MfaFactorRemoved,
        (_, ["v2", "guardian", "policies"])
        | (_, ["v2", "guardian", "factors", ..])
        | (_, ["v2", "attack-protection", ..]) => Rule::PolicyWeakened,
        (_, ["v2", "clients", ..]) | (_, ["v2", "connections", ..]) => Rule::ManagementChange,
        _ => return None,
    };
    Some(rule)
}

/// A primary-authentication attempt.
struct Attempt<'a> {
    record: &'a Record,
    ts: DateTime<Utc>,
    user: Option<String>,
    ip: Option<String>,
    failed: bool,
}

fn login_attempts<'a>(records: &[&'a Record]) -> Vec<Attempt<'a>> {
    records
        .iter()
        .filter_map(|record| {
            let step = classify(record)?;
            (step.kind == StepKind::Login).then(|| Attempt {
                record,
                ts: step.ts,
                user: step.user,
                ip: step.ip,
                failed: step.outcome == Outcome::Failure,
            })
        })
        .collect()
}

/// Brute force: at least `brute_force_failures` failed logins against one
/// user within `window_secs`. One flag per user and burst.
fn brute_force(logins: &[Attempt<'_>], config: &RuleConfig) -> Vec<Flag> {
    let mut per_user: BTreeMap<&str, Vec<&Attempt<'_>>> = BTreeMap::new();
    for attempt in logins.iter().filter(|a| a.failed) {
        if let Some(user) = &attempt.user {
            per_user.entry(user).or_default().push(attempt);
        }
    }
    let window = Duration::seconds(config.window_secs);
    per_user
        .into_iter()
        .flat_map(|(user, failures)| {
            bursts(&failures, window, config.brute_force_failures)
                .into_iter()
                .map(move |burst| Flag {
                    rule: Rule::BruteForce,
                    severity: Rule::BruteForce.severity(),
                    ts: burst[0].ts,
                    subject: user.to_string(),
                    summary: format!(
                        "{} failed logins for {user} within {} min",
                        burst.len(),
                        config.window_secs / 60
                    ),
                    records: burst.iter().map(|a| a.record.id.clone()).collect(),
                })
        })
        .collect()
}

/// Maximal runs of `events` (time-ordered) in which at least `min` fall
/// within `window` of the run's first; runs do not overlap.
fn bursts<'e, 'a>(
    events: &[&'e Attempt<'a>],
    window: Duration,
    min: usize,
) -> Vec<Vec<&'e Attempt<'a>>> {
    let mut found = Vec::new();
    let mut start = 0;
    while start < events.len() {
        let end = events[start..]
            .iter()
            .take_while(|e| e.ts - events[start].ts <= window)
            .count();
        if end >= min {
            found.push(events[start..start + end].to_vec());
            start += end;
        } else {
            start += 1;
        }
    }
    found
}

/// Login attempts of one IP inside the sliding window.
#[derive(Default)]
struct IpWindow<'a> {
    users: HashMap<&'a str, usize>,
    attempts: usize,
    failed: usize,
}

/// Adds `attempt` to the window's per-IP counts, or removes it.
fn slide<'a>(
    per_ip: &mut HashMap<&'a str, IpWindow<'a>>,
    several_users: &mut BTreeSet<&'a str>,
    attempt: &'a Attempt<'_>,
    added: bool,
) {
    let (Some(ip), Some(user)) = (attempt.ip.as_deref(), attempt.user.as_deref()) else {
        return;
    };
    let entry = per_ip.entry(ip).or_default();
    let count = entry.users.entry(user).or_insert(0);
    if added {
        *count += 1;
        entry.attempts += 1;
        entry.failed += usize::from(attempt.failed);
    } else {
        *count = count.saturating_sub(1);
        if *count == 0 {
            entry.users.remove(user);
        }
        entry.attempts = entry.attempts.saturating_sub(1);
        entry.failed = entry.failed.saturating_sub(usize::from(attempt.failed));
    }
    if entry.users.len() > 1 {
        several_users.insert(ip);
    } else {
        several_users.remove(ip);
    }
}

/// Credential stuffing over a window sliding attempt by attempt, with
/// per-IP counts kept incrementally; only IPs that tried several users are
/// examined. Returns the flags and the IPs they name.
fn credential_stuffing(
    logins: &[Attempt<'_>],
    config: &RuleConfig,
) -> (Vec<Flag>, BTreeSet<String>) {
    let window = Duration::seconds(config.window_secs);
    let mut flags = Vec::new();
    let mut stuffed: BTreeSet<String> = BTreeSet::new();
    let mut per_ip: HashMap<&str, IpWindow<'_>> = HashMap::new();
    let mut several_users: BTreeSet<&str> = BTreeSet::new();
    let (mut start, mut end) = (0, 0);
    while start < logins.len() {
        while end < logins.len() && logins[end].ts - logins[start].ts <= window {
            slide(&mut per_ip, &mut several_users, &logins[end], true);
            end += 1;
        }
        let mut ips: Vec<(&str, usize)> = several_users
            .iter()
            .filter_map(|ip| {
                let w = per_ip.get(ip)?;
                (w.failed as f64 >= config.min_failure_ratio * w.attempts as f64)
                    .then_some((*ip, w.users.len()))
            })
            .collect();
        ips.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        ips.truncate(config.stuffing_max_ips);
        let users: BTreeSet<&str> = ips
            .iter()
            .filter_map(|(ip, _)| per_ip.get(ip))
            .flat_map(|w| w.users.keys().copied())
            .collect();
        if users.len() < config.stuffing_users {
            slide(&mut per_ip, &mut several_users, &logins[start], false);
            start += 1;
            continue;
        }
        let top: BTreeSet<&str> = ips.iter().map(|(ip, _)| *ip).collect();
        let from_top: Vec<&Attempt<'_>> = logins[start..end]
            .iter()
            .filter(|a| a.ip.as_deref().is_some_and(|ip| top.contains(ip)))
            .collect();
        let failed = from_top.iter().filter(|a| a.failed).count();
        stuffed.extend(top.iter().map(|ip| ip.to_string()));
        flags.push(Flag {
            rule: Rule::CredentialStuffing,
            severity: Rule::CredentialStuffing.severity(),
            ts: from_top.first().map_or(logins[start].ts, |a| a.ts),
            subject: top.iter().copied().collect::<Vec<_>>().join(", "),
            summary: format!(
                "{} users tried from {} IPs within {} min, {failed} of {} attempts failed",
                users.len(),
                top.len(),
                config.window_secs / 60,
                from_top.len()
            ),
            records: from_top.iter().map(|a| a.record.id.clone()).collect(),
        });
        // The burst is reported; the window starts after it.
        for attempt in &logins[start..end] {
            slide(&mut per_ip, &mut several_users, attempt, false);
        }
        start = end;
    }
    (flags, stuffed)
}

/// Credential stuffing: within `window_secs`, at least `stuffing_users`
/// distinct users tried from at most `stuffing_max_ips` IPs, with a failure
/// ratio of at least `min_failure_ratio`. Password spraying: within
/// `spraying_window_secs`, one IP tries at least `spraying_users` distinct
/// users, none more than `spraying_attempts_per_user` times, with the same
/// failure ratio, and the activity is not already stuffing.
fn stuffing_and_spraying(logins: &[Attempt<'_>], config: &RuleConfig) -> Vec<Flag> {
    let (mut flags, stuffed) = credential_stuffing(logins, config);
    let spraying_window = Duration::seconds(config.spraying_window_secs);
    let mut per_ip: BTreeMap<&str, Vec<&Attempt<'_>>> = BTreeMap::new();
    for attempt in logins {
        if let Some(ip) = attempt.ip.as_deref().filter(|ip| !stuffed.contains(*ip)) {
            per_ip.entry(ip).or_default().push(attempt);
        }
    }
    for (ip, attempts) in per_ip {
        let Some(first) = attempts.first() else {
            continue;
        };
        let run: Vec<&&Attempt<'_>> = attempts
            .iter()
            .take_while(|a| a.ts - first.ts <= spraying_window)
            .collect();
        let mut per_user: HashMap<&str, usize> = HashMap::new();
        for attempt in &run {
            if let Some(user) = attempt.user.as_deref() {
                *per_user.entry(user).or_insert(0) += 1;
            }
        }
        let failed = run.iter().filter(|a| a.failed).count();
        if per_user.len() >= config.spraying_users
            && per_user
                .values()
                .all(|n| *n <= config.spraying_attempts_per_user)
            && failed as f64 >= config.min_failure_ratio * run.len() as f64
        {
            flags.push(Flag {
                rule: Rule::PasswordSpraying,
                severity: Rule::PasswordSpraying.severity(),
                ts: first.ts,
                subject: ip.to_string(),
                summary: format!(
                    "{ip} tried {} users at most {} times each within {} min; {failed} of {} failed",
                    per_user.len(),
                    config.spraying_attempts_per_user,
                    config.spraying_window_secs / 60,
                    run.len()
                ),
                records: run.iter().map(|a| a.record.id.clone()).collect(),
            });
        }
    }
    flags
}

/// MFA fatigue: at least `mfa_fatigue_challenges` push challenges sent to,
/// or denied by, one user within `window_secs` (Okta
/// `system.push.send_factor_verify_push`, `user.mfa.okta_verify.deny_push`,
/// failed `user.authentication.auth_via_mfa`; Auth0 `gd_send_pn`,
/// `gd_auth_rejected`).
fn mfa_fatigue(records: &[&Record], config: &RuleConfig) -> Vec<Flag> {
    const CHALLENGES: &[&str] = &[
        "system.push.send_factor_verify_push",
        "user.mfa.okta_verify.deny_push",
        "gd_send_pn",
        "gd_auth_rejected",
    ];
    let mut per_user: BTreeMap<String, Vec<Attempt<'_>>> = BTreeMap::new();
    for record in records {
        let Some(event) = record.field_str("event_type") else {
            continue;
        };
        let failed_mfa = event == "user.authentication.auth_via_mfa"
            && record
                .field_str("outcome")
                .is_some_and(|o| o.eq_ignore_ascii_case("FAILURE"));
        let (Some(user), Some(ts)) = (record.field_str("user"), record.ts) else {
            continue;
        };
        if CHALLENGES.contains(&event.as_str()) || failed_mfa {
            per_user
                .entry(user.to_lowercase())
                .or_default()
                .push(Attempt {
                    record,
                    ts,
                    user: None,
                    ip: None,
                    failed: true,
                });
        }
    }
    let window = Duration::seconds(config.window_secs);
    per_user
        .iter()
        .flat_map(|(user, challenges)| {
            let refs: Vec<&Attempt<'_>> = challenges.iter().collect();
            bursts(&refs, window, config.mfa_fatigue_challenges)
                .into_iter()
                .map(|burst| Flag {
                    rule: Rule::MfaFatigue,
                    severity: Rule::MfaFatigue.severity(),
                    ts: burst[0].ts,
                    subject: user.clone(),
                    summary: format!(
                        "{} MFA push challenges or denials for {user} within {} min",
                        burst.len(),
                        config.window_secs / 60
                    ),
                    records: burst.iter().map(|a| a.record.id.clone()).collect(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Impossible travel: two successful logins of one user whose locations
/// (Okta `client.geographicalContext.geolocation`, Auth0 `location_info`)
/// are at least `min_travel_km` apart and would need more than
/// `max_travel_kmh`.
fn impossible_travel(logins: &[Attempt<'_>], config: &RuleConfig) -> Vec<Flag> {
    let mut last: HashMap<&str, (&Attempt<'_>, (f64, f64))> = HashMap::new();
    let mut flags = Vec::new();
    for attempt in logins.iter().filter(|a| !a.failed) {
        let (Some(user), Some(at)) = (attempt.user.as_deref(), location(attempt.record)) else {
            continue;
        };
        if let Some((previous, from)) = last.get(user) {
            let km = haversine_km(*from, at);
            let hours = (attempt.ts - previous.ts).num_seconds().max(1) as f64 / 3600.0;
            if km >= config.min_travel_km && km / hours > config.max_travel_kmh {
                flags.push(Flag {
                    rule: Rule::ImpossibleTravel,
                    severity: Rule::ImpossibleTravel.severity(),
                    ts: attempt.ts,
                    subject: user.to_string(),
                    summary: format!(
                        "{user} logged in {km:.0} km apart within {:.0} min ({:.0} km/h)",
                        hours * 60.0,
                        km / hours
                    ),
                    records: vec![previous.record.id.clone(), attempt.record.id.clone()],
                });
            }
        }
        last.insert(user, (attempt, at));
    }
    flags
}

fn location(record: &Record) -> Option<(f64, f64)> {
    let number = |name: &str| record.field_str(name)?.parse::<f64>().ok();
    Some((number("geo_lat")?, number("geo_lon")?))
}

fn haversine_km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (dlat, dlon) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
    let a = (dlat / 2.0).sin().powi(2)
        + lat1.to_radians().cos() * lat2.to_radians().cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
}

/// Session reuse: an event of an established session (Okta
/// `authenticationContext.externalSessionId`, Auth0 `details.session_id`)
/// from an IP and a user agent both different from the session's first.
fn session_reuse(records: &[&Record]) -> Vec<Flag> {
    let mut first: HashMap<String, (&Record, String, String)> = HashMap::new();
    let mut flags = Vec::new();
    let mut flagged: BTreeSet<String> = BTreeSet::new();
    for record in records {
        let (Some(session), Some(ip), Some(agent)) = (
            record.field_str("session_id").filter(|s| !s.is_empty()),
            record.field_str("ip"),
            record.field_str("user_agent"),
        ) else {
            continue;
        };
        match first.get(&session) {
            None => {
                first.insert(session, (record, ip, agent));
            }
            Some((origin, first_ip, first_agent))
                if *first_ip != ip && *first_agent != agent && !flagged.contains(&session) =>
            {
                flags.push(Flag {
                    rule: Rule::SessionReuse,
                    severity: Rule::SessionReuse.severity(),
                    ts: record.ts.unwrap_or_default(),
                    subject: session.clone(),
                    summary: format!(
                        "session {session} started from {first_ip} is used from {ip} with another user agent"
                    ),
                    records: vec![origin.id.clone(), record.id.clone()],
                });
                flagged.insert(session);
            }
            Some(_) => {}
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_matches_a_known_distance() {
        let paris = (48.8566, 2.3522);
        let new_york = (40.7128, -74.0060);
        let km = haversine_km(paris, new_york);
        assert!((km - 5837.0).abs() < 20.0, "{km}");
    }
}
