//! The incident families: each injects its fault into a [`Scene`] and says
//! what a correct diagnosis contains.

use chrono::Duration;
use serde_json::json;

use super::formats::{json_line, text_line};
use super::scene::{GATEWAY_LOG, Scene, TERRAFORM_AFTER};

/// A family of incidents the generator can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Signing key rotated; the gateway's cached JWKS lacks the new kid.
    KeyRotation,
    /// The edge TLS certificate expired after a failed renewal.
    TlsExpiry,
    /// A DNS change points an internal name at a dead load balancer.
    DnsMisroute,
    /// A gateway change sets a tiny rate limit on the token endpoint.
    RateLimit,
    /// Many users, few IPs, mostly failed logins.
    CredentialStuffing,
    /// A deploy raises concurrency past the database pool.
    DbPoolExhaustion,
    /// Time sync disabled on token issuers; tokens arrive "not yet valid".
    ClockSkew,
    /// A client config change drops the app's callback URL.
    RedirectUriMismatch,
}

pub(crate) struct FamilyTruth {
    pub question: String,
    pub statement: String,
    pub key_facts: Vec<Vec<String>>,
    pub remediation: Vec<String>,
    /// The config file (under `data/`) a fix patches, when the cause is a config.
    pub config_fix: Option<String>,
}

fn facts(groups: &[&[&str]]) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|g| g.iter().map(|s| s.to_string()).collect())
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 8] = [
        Family::KeyRotation,
        Family::TlsExpiry,
        Family::DnsMisroute,
        Family::RateLimit,
        Family::CredentialStuffing,
        Family::DbPoolExhaustion,
        Family::ClockSkew,
        Family::RedirectUriMismatch,
    ];

    /// Name used on the command line and in case ids.
    pub fn name(self) -> &'static str {
        match self {
            Family::KeyRotation => "key-rotation",
            Family::TlsExpiry => "tls-expiry",
            Family::DnsMisroute => "dns-misroute",
            Family::RateLimit => "rate-limit",
            Family::CredentialStuffing => "credential-stuffing",
            Family::DbPoolExhaustion => "db-pool-exhaustion",
            Family::ClockSkew => "clock-skew",
            Family::RedirectUriMismatch => "redirect-uri-mismatch",
        }
    }

    /// Parses a name produced by [`Family::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    pub(crate) fn inject(self, scene: &mut Scene) -> FamilyTruth {
        match self {
            Family::KeyRotation => key_rotation(scene),
            Family::TlsExpiry => tls_expiry(scene),
            Family::DnsMisroute => dns_misroute(scene),
            Family::RateLimit => rate_limit(scene),
            Family::CredentialStuffing => credential_stuffing(scene),
            Family::DbPoolExhaustion => db_pool_exhaustion(scene),
            Family::ClockSkew => clock_skew(scene),
            Family::RedirectUriMismatch => redirect_uri_mismatch(scene),
        }
    }
}

/// When the causal change lands: two to eight minutes before the fault.
fn change_time(scene: &mut Scene) -> chrono::DateTime<chrono::Utc> {
    scene.fault - Duration::seconds(120 + scene.rng.below(360) as i64)
}

fn hhmm(scene: &Scene) -> String {
    scene.fault.format("%H:%M").to_string()
}

fn key_rotation(scene: &mut Scene) -> FamilyTruth {
    let (old, new) = (
        format!("main-{}", scene.rng.hex(4)),
        format!("main-{}", scene.rng.hex(4)),
    );
    let change = scene
        .corpus
        .gold_item("the change that rotated the signing key");
    let rotated = scene
        .corpus
        .gold_item("the issuer switching to the new key");
    let rejected = scene
        .corpus
        .gold_item("the gateway rejecting tokens with the unknown kid");
    let unauthorized = scene
        .corpus
        .gold_item("API requests answered 401 invalid_token");
    let at = change_time(scene);
    scene.change(
        at,
        "auth-server",
        &format!(
            "terraform apply: rotate token signing key {old} -> {new} (auth_signing_key.primary)"
        ),
        Some(change),
    );
    let signing_key = |kid: &str| {
        format!(
            "resource \"auth_signing_key\" \"primary\" {{\n  server_id = \"default\"\n  kid       = \"{kid}\"\n  algorithm = \"RS256\"\n  status    = \"ACTIVE\"\n}}\n"
        )
    };
    scene.terraform_versions("signing-keys.tf", signing_key(&old), signing_key(&new));
    let line = text_line(
        at + Duration::seconds(9),
        "INFO",
        "keys",
        &format!("active signing key is now kid={new} (previous {old} retained)"),
    );
    scene.emit(
        "auth-server/server.log",
        at + Duration::seconds(9),
        line,
        Some(rotated),
    );
    let (fault, end) = (scene.fault, scene.end);
    for ts in scene.arrivals(fault, end, 7.0) {
        let age = (ts - scene.start).num_seconds() + 30_000;
        let line = json_line(
            ts,
            "warn",
            "edge-gateway",
            &format!("token signature check failed: unknown kid={new}, JWKS cache age {age}s"),
            json!({"kid": new}),
        );
        scene.emit(GATEWAY_LOG, ts, line, Some(rejected));
        scene.access(
            ts,
            "GET",
            "/api/v2/accounts/me",
            401,
            Some("invalid_token"),
            Some(unauthorized),
        );
    }
    FamilyTruth {
        question: format!(
            "Why are API requests failing with 401 since {}?",
            hhmm(scene)
        ),
        statement: format!(
            "Signing key rotated {old} -> {new}; the gateway's cached JWKS lacks kid {new}, so new tokens fail validation."
        ),
        key_facts: facts(&[&["rotat"], &["signing key"]]),
        remediation: strings(&[
            "refresh the gateway JWKS cache or refetch on unknown kid",
            "keep the previous key published until caches expire",
        ]),
        config_fix: Some(format!("{TERRAFORM_AFTER}/signing-keys.tf")),
    }
}

fn tls_expiry(scene: &mut Scene) -> FamilyTruth {
    let host = format!("login.{}", scene.domain);
    let warning = scene.corpus.gold_item("the failed certificate renewal");
    let handshake = scene
        .corpus
        .gold_item("TLS handshakes failing on the expired certificate");
    let probe = scene.corpus.gold_item("the synthetic probe failing");
    let renewal = scene.start + Duration::minutes(3);
    let line = text_line(
        renewal,
        "WARN",
        "cert-manager",
        &format!(
            "renewal failed for certificate edge-{host}: ACME order still pending; certificate expires {}",
            scene.fault.format("%Y-%m-%dT%H:%M:%SZ")
        ),
    );
    scene.emit(
        "cert-manager/cert-manager.log",
        renewal,
        line,
        Some(warning),
    );
    let (fault, end) = (scene.fault, scene.end);
    for ts in scene.arrivals(fault, end, 9.0) {
        let line = json_line(
            ts,
            "error",
            "edge-proxy",
            &format!("TLS handshake failed for {host}: x509: certificate has expired"),
            json!({"sni": host}),
        );
        scene.emit("edge-proxy/envoy.jsonl", ts, line, Some(handshake));
    }
    for ts in scene.arrivals(fault, end, 1.0) {
        let line = text_line(
            ts,
            "ERROR",
            "probe",
            &format!("https://{host}/ check failed: certificate has expired"),
        );
        scene.emit("synthetics/probe.log", ts, line, Some(probe));
    }
    FamilyTruth {
        question: format!(
            "Why can't users reach the login page since {}?",
            hhmm(scene)
        ),
        statement: format!("The edge TLS certificate for {host} expired after its renewal failed."),
        key_facts: facts(&[&["certificate"], &["expired"]]),
        remediation: strings(&[
            "renew the edge certificate",
            "fix the failing ACME renewal",
            "alert on certificate expiry",
        ]),
        config_fix: None,
    }
}

fn dns_misroute(scene: &mut Scene) -> FamilyTruth {
    let target = format!("accounts.internal.{}", scene.domain);
    let change = scene.corpus.gold_item("the DNS change");
    let refused = scene
        .corpus
        .gold_item("the gateway failing to reach the upstream");
    let unavailable = scene.corpus.gold_item("requests answered 503");
    let at = change_time(scene);
    let summary = format!(
        "update DNS record {target} CNAME -> lb-legacy-{}.{}",
        scene.rng.below(9),
        scene.domain
    );
    scene.change(at, "network", &summary, Some(change));
    let (fault, end) = (scene.fault, scene.end);
    for ts in scene.arrivals(fault, end, 6.0) {
        let line = json_line(
            ts,
            "error",
            "edge-gateway",
            &format!("upstream connect error: connection refused to {target}:8443"),
            json!({"upstream": "accounts"}),
        );
        scene.emit(GATEWAY_LOG, ts, line, Some(refused));
        scene.access(
            ts,
            "GET",
            "/api/v2/accounts/me",
            503,
            None,
            Some(unavailable),
        );
    }
    FamilyTruth {
        question: format!(
            "Why is /api/v2/accounts/me returning 503 since {}?",
            hhmm(scene)
        ),
        statement: format!(
            "A DNS change pointed {target} at a legacy load balancer that refuses connections."
        ),
        key_facts: facts(&[&["dns"], &[&target]]),
        remediation: strings(&[
            "revert the DNS record",
            "flush resolver caches",
            "verify the upstream resolves to the live load balancer",
        ]),
        config_fix: None,
    }
}

fn rate_limit(scene: &mut Scene) -> FamilyTruth {
    let change = scene.corpus.gold_item("the gateway rate-limit change");
    let limited = scene
        .corpus
        .gold_item("token requests rejected by the rate limit");
    let too_many = scene.corpus.gold_item("token endpoint answering 429");
    let failed = scene
        .corpus
        .gold_item("token exchanges failing in the auth traces");
    let at = change_time(scene);
    scene.change(
        at,
        "edge-gateway",
        "gateway config: rate-limit /oauth/token to 20 req/min per client, was 2000 (kong_plugin.token_rate_limit)",
        Some(change),
    );
    let plugin = |per_minute: u32| {
        format!(
            "resource \"kong_plugin\" \"token_rate_limit\" {{\n  name     = \"rate-limiting\"\n  route_id = kong_route.oauth_token.id\n  config_json = jsonencode({{\n    minute   = {per_minute}\n    limit_by = \"consumer\"\n    policy   = \"local\"\n  }})\n}}\n"
        )
    };
    scene.terraform_versions("gateway.tf", plugin(2000), plugin(20));
    let (fault, end) = (scene.fault, scene.end);
    for ts in scene.arrivals(fault, end, 8.0) {
        let client = *scene.rng.pick(super::scene::CLIENTS);
        let line = json_line(
            ts,
            "warn",
            "edge-gateway",
            &format!("rate limit exceeded route=/oauth/token client_id={client} limit=20/min"),
            json!({"client_id": client}),
        );
        scene.emit(GATEWAY_LOG, ts, line, Some(limited));
        scene.access(ts, "POST", "/oauth/token", 429, None, Some(too_many));
        if scene.rng.chance(0.5) {
            scene.auth0(
                ts,
                "feacft",
                "Too Many Requests",
                Some(json!({"error": "too_many_requests", "status": 429})),
                Some(failed),
            );
        }
    }
    FamilyTruth {
        question: format!("Why are logins failing since {}?", hhmm(scene)),
        statement: "A gateway config change limited /oauth/token to 20 requests per minute per client, so token exchanges are rejected with 429.".into(),
        key_facts: facts(&[&["rate-limit", "rate limit"], &["/oauth/token"]]),
        remediation: strings(&["restore the /oauth/token rate limit", "roll back the gateway config change"]),
        config_fix: Some(format!("{TERRAFORM_AFTER}/gateway.tf")),
    }
}

fn credential_stuffing(scene: &mut Scene) -> FamilyTruth {
    let attempts = scene
        .corpus
        .gold_item("failed logins across many users from a few IPs");
    let blocked = scene
        .corpus
        .gold_item("IPs blocked for attempts on multiple users");
    let ips: Vec<String> = (0..3).map(|_| scene.ip()).collect();
    let (fault, end) = (scene.fault, scene.end);
    for ts in scene.arrivals(fault, end, 25.0) {
        let user = scene.user();
        let ip = scene.rng.pick(&ips).clone();
        let (code, gold) = if scene.rng.chance(0.6) {
            ("fu", attempts)
        } else {
            ("fp", attempts)
        };
        scene.auth0_from(
            ts,
            code,
            "Wrong email or password.",
            &user,
            &ip,
            None,
            Some(gold),
        );
    }
    for ts in scene.arrivals(fault + Duration::minutes(2), end, 0.4) {
        let user = scene.user();
        let ip = scene.rng.pick(&ips).clone();
        scene.auth0_from(
            ts,
            "limit_mu",
            "Blocked IP address: too many attempts on multiple users",
            &user,
            &ip,
            None,
            Some(blocked),
        );
    }
    FamilyTruth {
        question: format!("Why are failed logins spiking since {}?", hhmm(scene)),
        statement: format!(
            "A credential-stuffing attack from {} IPs tries many usernames with wrong passwords; no change caused it.",
            ips.len()
        ),
        key_facts: facts(&[&["failed login"], &["no recorded change", "attack"]]),
        remediation: strings(&[
            "block the attacking IPs",
            "enable breached-password and bot detection",
            "rate limit logins per IP",
        ]),
        config_fix: None,
    }
}

fn db_pool_exhaustion(scene: &mut Scene) -> FamilyTruth {
    let change = scene.corpus.gold_item("the deploy that raised concurrency");
    let exhausted = scene
        .corpus
        .gold_item("requests waiting for a database connection");
    let unavailable = scene.corpus.gold_item("orders requests answered 503");
    let at = change_time(scene);
    let summary = format!(
        "deploy orders-api v3.{}.0 (worker concurrency 16 -> 64)",
        scene.rng.below(9)
    );
    scene.change(at, "orders-api", &summary, Some(change));
    let (fault, end) = (scene.fault, scene.end);
    for ts in scene.arrivals(fault, end, 7.0) {
        let waiting = 20 + scene.rng.below(60);
        let line = json_line(
            ts,
            "error",
            "orders-api",
            &format!(
                "could not acquire database connection within 5000 ms (pool=20 active=20 waiting={waiting})"
            ),
            json!({"pool": "orders-db"}),
        );
        scene.emit("orders-api/app.jsonl", ts, line, Some(exhausted));
        scene.access(ts, "POST", "/api/v2/orders", 503, None, Some(unavailable));
    }
    FamilyTruth {
        question: format!("Why is checkout failing since {}?", hhmm(scene)),
        statement: "The orders-api deploy raised worker concurrency past the database connection pool, so requests time out waiting for connections.".into(),
        key_facts: facts(&[&["connection"], &["pool"]]),
        remediation: strings(&["roll back the orders-api deploy", "raise the pool size or lower worker concurrency"]),
        config_fix: None,
    }
}

fn clock_skew(scene: &mut Scene) -> FamilyTruth {
    let change = scene.corpus.gold_item("the change that disabled time sync");
    let offset = scene.corpus.gold_item("the issuer's clock drifting");
    let rejected = scene.corpus.gold_item("tokens rejected as not yet valid");
    let at = change_time(scene);
    scene.change(
        at,
        "auth-server",
        "roll out node image 2026.11 to auth-server pool (chrony disabled)",
        Some(change),
    );
    let (fault, end) = (scene.fault, scene.end);
    for ts in scene.arrivals(fault, end, 0.5) {
        let line = text_line(
            ts,
            "WARN",
            "clock",
            &format!(
                "system clock offset {}s from NTP peers",
                90 + scene.rng.below(60)
            ),
        );
        scene.emit("auth-server/server.log", ts, line, Some(offset));
    }
    for ts in scene.arrivals(fault, end, 6.0) {
        let line = json_line(
            ts,
            "warn",
            "edge-gateway",
            &format!(
                "JWT rejected: token not yet valid (nbf {}s in the future)",
                90 + scene.rng.below(60)
            ),
            json!({}),
        );
        scene.emit(GATEWAY_LOG, ts, line, Some(rejected));
        scene.access(
            ts,
            "GET",
            "/api/v2/orders",
            401,
            Some("invalid_token"),
            None,
        );
    }
    FamilyTruth {
        question: format!("Why are freshly issued tokens rejected since {}?", hhmm(scene)),
        statement: "A node image with time sync disabled let the issuers' clocks run ahead, so tokens carry an nbf in the future.".into(),
        key_facts: facts(&[&["chrony", "clock", "nbf", "not yet valid"]]),
        remediation: strings(&["re-enable time sync (chrony/NTP)", "allow a small clock-skew leeway in JWT validation"]),
        config_fix: None,
    }
}

fn redirect_uri_mismatch(scene: &mut Scene) -> FamilyTruth {
    let app = format!("https://app.{}/callback", scene.domain);
    let change = scene.corpus.gold_item("the client config change");
    let mismatch = scene
        .corpus
        .gold_item("logins failing with a callback URL mismatch");
    let at = change_time(scene);
    scene.change(
        at,
        "idp-config",
        "update OIDC client web-portal: allowed callback URLs (terraform, auth0_client.web_portal)",
        Some(change),
    );
    let mobile = format!("https://m.{}/callback", scene.domain);
    let client = |callbacks: &[&str]| {
        let list: Vec<String> = callbacks
            .iter()
            .map(|c| format!("    \"{c}\",\n"))
            .collect();
        format!(
            "resource \"auth0_client\" \"web_portal\" {{\n  name     = \"web-portal\"\n  app_type = \"regular_web\"\n  callbacks = [\n{}  ]\n  grant_types = [\"authorization_code\", \"refresh_token\"]\n}}\n",
            list.concat()
        )
    };
    scene.terraform_versions("clients.tf", client(&[&app, &mobile]), client(&[&mobile]));
    let (fault, end) = (scene.fault, scene.end);
    for ts in scene.arrivals(fault, end, 6.0) {
        let description =
            format!("Callback URL mismatch. {app} is not in the list of allowed callback URLs");
        scene.auth0(
            ts,
            "f",
            &description,
            Some(json!({"error": "invalid_request", "error_description": "redirect_uri mismatch"})),
            Some(mismatch),
        );
    }
    FamilyTruth {
        question: format!(
            "Why can't users log in to the web app since {}?",
            hhmm(scene)
        ),
        statement: format!(
            "A change to the web-portal OIDC client removed {app} from its allowed callback URLs."
        ),
        key_facts: facts(&[&["callback"], &["client"]]),
        remediation: strings(&[
            "restore the callback URL in the client's allowed list",
            "roll back the client config change",
        ]),
        config_fix: Some(format!("{TERRAFORM_AFTER}/clients.tf")),
    }
}
