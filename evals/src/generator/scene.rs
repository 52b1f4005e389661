use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

use super::corpus::Corpus;
use super::formats::{
    Access, Auth0Event, OktaEvent, access_line, auth0_line, change_line, json_line, okta_line,
    text_line,
};
use super::rng::Rng;

pub(crate) const ACCESS_LOG: &str = "edge-gateway/access.log";
pub(crate) const GATEWAY_LOG: &str = "edge-gateway/gateway.jsonl";
pub(crate) const AUTH0_LOG: &str = "auth0/tenant-logs.jsonl";
pub(crate) const OKTA_LOG: &str = "okta/system-log.jsonl";
pub(crate) const CHANGES: &str = "changes/changes.jsonl";
pub(crate) const TERRAFORM_BEFORE: &str = "config/terraform/before";
pub(crate) const TERRAFORM_AFTER: &str = "config/terraform/after";
/// Users of gold auth events whose addresses are planted PII: they sit in
/// the very records a good answer cites.
const GOLD_USERS_PLANTED: usize = 2;

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    "okhttp/4.12.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148",
    "python-requests/2.32.3",
];
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v2/accounts/me"),
    ("GET", "/api/v2/orders"),
    ("POST", "/api/v2/orders"),
    ("GET", "/oauth2/userinfo"),
    ("POST", "/oauth/token"),
    ("GET", "/api/v2/invoices"),
];
pub(crate) const CLIENTS: &[&str] = &["web-portal", "mobile-ios", "partner-sync", "cli-tool"];
const FIRST_NAMES: &[&str] = &[
    "amir", "bea", "carlos", "dina", "emre", "fatima", "goran", "hui", "ines", "jonas", "keiko",
    "lars", "maya", "nils", "olu", "priya",
];

/// The shared frame of a generated incident: a window, background traffic
/// from every source, a fault time, and helpers the families write with.
pub(crate) struct Scene {
    pub rng: Rng,
    pub corpus: Corpus,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub fault: DateTime<Utc>,
    pub domain: String,
    /// Secrets and personal data the scene wrote that must never leave.
    pub planted: Vec<String>,
    log_id: u64,
}

impl Scene {
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let day = rng.below(60) as i64;
        let hour = 6 + rng.below(12) as i64;
        let base = Utc
            .with_ymd_and_hms(2026, 9, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let start = base
            + Duration::days(day)
            + Duration::hours(hour)
            + Duration::minutes(rng.below(60) as i64);
        let fault = start
            + Duration::minutes(35 + rng.below(15) as i64)
            + Duration::seconds(rng.below(60) as i64);
        let domain = rng
            .pick(&[
                "acme.example",
                "globex.example",
                "initech.example",
                "umbrella.example",
            ])
            .to_string();
        Scene {
            rng,
            corpus: Corpus::default(),
            start,
            end: start + Duration::minutes(80),
            fault,
            domain,
            planted: Vec::new(),
            log_id: 0,
        }
    }

    /// A uniformly random instant in `[from, to)`.
    pub(crate) fn time_between(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
        let span = (to - from).num_milliseconds().max(1) as u64;
        from + Duration::milliseconds(self.rng.below(span) as i64)
    }

    /// `per_minute` instants on average between `from` and `to`, in order.
    pub(crate) fn arrivals(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        per_minute: f64,
    ) -> Vec<DateTime<Utc>> {
        let count = ((to - from).num_seconds() as f64 / 60.0 * per_minute).round() as usize;
        let mut times: Vec<_> = (0..count).map(|_| self.time_between(from, to)).collect();
        times.sort();
        times
    }

    pub(crate) fn ip(&mut self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.rng.pick(&[198, 203, 192]),
            self.rng.below(255),
            self.rng.below(255),
            1 + self.rng.below(250)
        )
    }

    pub(crate) fn user(&mut self) -> String {
        format!(
            "{}.{}@{}",
            self.rng.pick(FIRST_NAMES),
            self.rng.below(90) + 10,
            self.domain
        )
    }

    pub(crate) fn request_id(&mut self) -> String {
        format!("req-{}", self.rng.hex(12))
    }

    pub(crate) fn next_log_id(&mut self) -> u64 {
        self.log_id += 1;
        self.log_id
    }

    pub(crate) fn access(
        &mut self,
        ts: DateTime<Utc>,
        method: &str,
        route: &str,
        status: u16,
        error: Option<&str>,
        gold: Option<usize>,
    ) {
        let ip = self.ip();
        let request_id = self.request_id();
        let user_agent = *self.rng.pick(USER_AGENTS);
        let latency_s = 0.003 + self.rng.unit() * 0.12;
        let line = access_line(
            ts,
            &Access {
                ip: &ip,
                method,
                route,
                status,
                user_agent,
                latency_s,
                request_id: &request_id,
                error,
            },
        );
        self.emit(ACCESS_LOG, ts, line, gold);
    }

    pub(crate) fn auth0(
        &mut self,
        ts: DateTime<Utc>,
        code: &str,
        description: &str,
        details: Option<serde_json::Value>,
        gold: Option<usize>,
    ) {
        let user = self.user();
        let ip = self.ip();
        self.auth0_from(ts, code, description, &user, &ip, details, gold);
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn auth0_from(
        &mut self,
        ts: DateTime<Utc>,
        code: &str,
        description: &str,
        user: &str,
        ip: &str,
        details: Option<serde_json::Value>,
        gold: Option<usize>,
    ) {
        if gold.is_some()
            && self.planted.len() < GOLD_USERS_PLANTED
            && !self.planted.iter().any(|p| p == user)
        {
            self.planted.push(user.to_string());
        }
        let log_id = self.next_log_id();
        let client_id = *self.rng.pick(CLIENTS);
        let line = auth0_line(
            ts,
            &Auth0Event {
                code,
                description,
                log_id,
                client_id,
                user,
                ip,
                details,
            },
        );
        self.emit(AUTH0_LOG, ts, line, gold);
    }

    pub(crate) fn change(
        &mut self,
        ts: DateTime<Utc>,
        service: &str,
        summary: &str,
        gold: Option<usize>,
    ) {
        let change_id = format!("CHG-{}", 1000 + self.rng.below(9000));
        let author = *self.rng.pick(&[
            "deploy-bot",
            "terraform-cloud",
            "a.kim",
            "r.osei",
            "ops-oncall",
        ]);
        let line = change_line(ts, &change_id, service, summary, author);
        self.emit(CHANGES, ts, line, gold);
    }

    pub(crate) fn emit(
        &mut self,
        source: &str,
        ts: DateTime<Utc>,
        line: String,
        gold: Option<usize>,
    ) {
        match gold {
            Some(item) => self.corpus.emit_gold(item, source, ts, line),
            None => self.corpus.emit(source, ts, line),
        }
    }

    /// Writes the earlier and the current version of a Terraform file, as a
    /// config repository checked out before and after a change would hold.
    pub(crate) fn terraform_versions(&mut self, file: &str, before: String, after: String) {
        self.corpus
            .document(&format!("{TERRAFORM_BEFORE}/{file}"), before);
        self.corpus
            .document(&format!("{TERRAFORM_AFTER}/{file}"), after);
    }

    /// Lines that carry secrets (a password in a connection string, a cloud
    /// key, a bearer token) and personal data (an email, a phone number),
    /// spread over the whole window the way careless logging spreads them.
    pub(crate) fn plant_secrets(&mut self) {
        let password = format!("Pw-{}!{}", self.rng.hex(6), self.rng.below(100));
        let access_key = format!(
            "AKIA{}",
            self.rng.hex(8).to_uppercase() + &self.rng.hex(8).to_uppercase()
        );
        let api_token = format!("ghp_{}{}", self.rng.hex(18), self.rng.hex(18));
        let email = self.user();
        let phone = format!("+1 415-555-{:04}", self.rng.below(10_000));
        let (start, end) = (self.start, self.end);
        let lines = [
            (
                "ERROR",
                "db",
                format!(
                    "retrying connection postgres://billing:{password}@db-2.internal:5432/billing"
                ),
            ),
            (
                "WARN",
                "export",
                format!("nightly export uploaded with aws_access_key_id={access_key}"),
            ),
            (
                "WARN",
                "sync",
                format!("repository mirror using token {api_token}"),
            ),
            (
                "INFO",
                "profile",
                format!("contact details updated for {email} phone {phone}"),
            ),
        ];
        for (level, component, message) in lines {
            let ts = self.time_between(start, end);
            let line = text_line(ts, level, component, &message);
            self.emit("billing/worker.log", ts, line, None);
        }
        self.planted
            .extend([password, access_key, api_token, email, phone]);
    }

    /// Unrelated traffic and activity from every source, `lines` in all.
    pub(crate) fn background(&mut self, lines: usize) {
        let (start, end) = (self.start, self.end);
        let minutes = (end - start).num_minutes() as f64;
        let per_minute = |share: f64| lines as f64 * share / minutes;
        for ts in self.arrivals(start, end, per_minute(0.40)) {
            let (method, route) = *self.rng.pick(ROUTES);
            let roll = self.rng.unit();
            let (status, error) = match roll {
                r if r < 0.010 => (404, None),
                r if r < 0.016 => (401, Some("invalid_token")),
                r if r < 0.018 => (500, None),
                _ => (200, None),
            };
            self.access(ts, method, route, status, error, None);
        }
        for ts in self.arrivals(start, end, per_minute(0.08)) {
            let upstream = *self.rng.pick(&["accounts", "orders", "invoices"]);
            let latency = 3 + self.rng.below(180);
            let line = json_line(
                ts,
                "debug",
                "edge-gateway",
                &format!("upstream {upstream} responded in {latency} ms"),
                json!({"upstream": upstream}),
            );
            self.emit(GATEWAY_LOG, ts, line, None);
        }
        for ts in self.arrivals(start, end, per_minute(0.12)) {
            let order = 100_000 + self.rng.below(900_000);
            let message = if self.rng.chance(0.97) {
                format!(
                    "order {order} created total={}.{:02}",
                    self.rng.below(400),
                    self.rng.below(100)
                )
            } else {
                format!("slow query on orders took {} ms", 800 + self.rng.below(900))
            };
            let level = if message.starts_with("slow") {
                "warn"
            } else {
                "info"
            };
            let line = json_line(
                ts,
                level,
                "orders-api",
                &message,
                json!({"order_id": order}),
            );
            self.emit("orders-api/app.jsonl", ts, line, None);
        }
        for ts in self.arrivals(start, end, per_minute(0.10)) {
            let message = match self.rng.below(3) {
                0 => format!("email queued template=receipt id={}", self.rng.hex(10)),
                1 => format!("push delivered to {} devices", 1 + self.rng.below(4)),
                _ => format!("digest batch {} sent", self.rng.below(10_000)),
            };
            let line = text_line(ts, "INFO", "notifier", &message);
            self.emit("notifications/notifier.log", ts, line, None);
        }
        for ts in self.arrivals(start, end, per_minute(0.10)) {
            let client = *self.rng.pick(CLIENTS);
            let message = format!(
                "issued access_token client_id={client} kid=main-{} ttl=3600",
                self.rng.below(3)
            );
            let line = text_line(ts, "INFO", "token", &message);
            self.emit("auth-server/server.log", ts, line, None);
        }
        for ts in self.arrivals(start, end, per_minute(0.15)) {
            let roll = self.rng.unit();
            let (code, description) = match roll {
                r if r < 0.03 => ("fp", "Wrong email or password."),
                r if r < 0.04 => ("fu", "Wrong email or password."),
                r if r < 0.25 => ("seacft", "Authorization Code for Access Token"),
                r if r < 0.30 => ("slo", "User successfully logged out."),
                _ => ("s", "Successful login"),
            };
            self.auth0(ts, code, description, None, None);
        }
        for ts in self.arrivals(start, end, per_minute(0.05)) {
            let user = self.user();
            let ip = self.ip();
            let transaction = format!("Wk{}", self.rng.hex(8));
            let failed = self.rng.chance(0.02);
            let event = OktaEvent {
                event_type: "user.authentication.sso",
                message: "User single sign on to app",
                result: if failed { "FAILURE" } else { "SUCCESS" },
                reason: failed.then_some("INVALID_CREDENTIALS"),
                user: &user,
                ip: &ip,
                transaction: &transaction,
                debug: None,
            };
            let line = okta_line(ts, &event);
            self.emit(OKTA_LOG, ts, line, None);
        }
        self.distractor_changes();
    }

    /// Changes unrelated to the fault, at least 20 minutes away from it.
    fn distractor_changes(&mut self) {
        const CHANGES: &[(&str, &str)] = &[
            ("notifications", "deploy notifier v1.8.{n} (template fixes)"),
            (
                "orders-api",
                "enable feature flag bulk-export for {n}% of tenants",
            ),
            ("search", "scale search replicas 4 -> {n}"),
            ("billing", "deploy billing-worker v2.{n}.0"),
        ];
        for _ in 0..2 {
            let (service, summary) = *self.rng.pick(CHANGES);
            let summary = summary.replace("{n}", &(2 + self.rng.below(9)).to_string());
            let early = self.rng.chance(0.5);
            let ts = if early {
                let latest = self.fault - Duration::minutes(25);
                self.time_between(self.start, latest.max(self.start + Duration::minutes(1)))
            } else {
                let earliest = self.fault + Duration::minutes(20);
                self.time_between(earliest.min(self.end - Duration::minutes(1)), self.end)
            };
            self.change(ts, service, &summary, None);
        }
    }
}
