//! The team's postmortem library that every generated scenario carries:
//! past incidents of many kinds, each with its root cause and what fixed
//! it, as a real on-call team keeps them. One of them may share the
//! scenario's failure class; the rest are other incidents. Whether an answer
//! finds the right one (and brings its fix along) is what the eval measures.

use chrono::Duration;

use super::Family;
use super::scene::Scene;

/// One past incident: the generated family it shares a failure class with
/// (if any), file name, title, services, summary, cause, fix.
struct Past {
    family: Option<Family>,
    slug: &'static str,
    title: &'static str,
    services: &'static str,
    summary: &'static str,
    cause: &'static str,
    fix: &'static str,
}

const LIBRARY: &[Past] = &[
    Past {
        family: Some(Family::KeyRotation),
        slug: "signing-key-rotation-401s",
        title: "Tokens rejected after a signing key rotation",
        services: "edge-gateway, auth-server",
        summary: "After a scheduled signing key rotation the API gateway answered 401 invalid_token for every newly issued token.",
        cause: "The gateway cached the JWKS for 24 hours and did not know the kid of the new signing key.",
        fix: "Flushed the gateway's JWKS cache so it fetched the current key set, and changed the gateway to refetch the JWKS whenever a token carries an unknown kid. The old key now stays published for a full cache lifetime after each rotation.",
    },
    Past {
        family: Some(Family::TlsExpiry),
        slug: "login-certificate-expired",
        title: "Login page unreachable after a certificate expired",
        services: "edge-proxy, cert-manager",
        summary: "Browsers refused the login page with a certificate error; synthetic probes failed from every region.",
        cause: "The ACME order for the edge certificate stayed pending for a week and nobody saw the renewal warnings, so the certificate expired.",
        fix: "Issued a new certificate for the login host by hand and deployed it to the edge proxies, then repaired the DNS-01 challenge so automatic renewal works again. Added an alert 14 days before any certificate expires.",
    },
    Past {
        family: Some(Family::DnsMisroute),
        slug: "internal-dns-repointed",
        title: "Accounts API unreachable after a DNS change",
        services: "network, edge-gateway",
        summary: "The gateway returned 503 for account routes; connections to the upstream were refused.",
        cause: "A DNS record for an internal service was repointed to a load balancer that had been decommissioned.",
        fix: "Reverted the record to its previous target, flushed the resolver caches on the gateway nodes and confirmed that the name resolved to the live load balancer.",
    },
    Past {
        family: Some(Family::RateLimit),
        slug: "token-endpoint-throttled",
        title: "Token endpoint throttled by a gateway limit",
        services: "edge-gateway",
        summary: "Code exchanges failed with 429 Too Many Requests for all clients.",
        cause: "A gateway config change set the token route's limit per client far below normal traffic.",
        fix: "Rolled back the gateway change to restore the previous limit on the token route, and added a review rule for rate-limit changes.",
    },
    Past {
        family: Some(Family::CredentialStuffing),
        slug: "credential-stuffing-wave",
        title: "Login failures from a credential-stuffing wave",
        services: "auth0, edge-gateway",
        summary: "Failed logins rose twentyfold across thousands of accounts within minutes.",
        cause: "Attackers replayed leaked username and password pairs from a small set of IP addresses.",
        fix: "Blocked the offending IP ranges at the edge, turned on breached-password detection and bot protection, and added a per-IP login rate limit.",
    },
    Past {
        family: Some(Family::DbPoolExhaustion),
        slug: "checkout-db-pool",
        title: "Checkout failing with database connection timeouts",
        services: "orders-api",
        summary: "Order creation returned 503 while requests waited for database connections.",
        cause: "A deploy raised worker concurrency above the size of the database connection pool.",
        fix: "Rolled back the deploy, then raised the pool size to match the new concurrency before shipping it again.",
    },
    Past {
        family: Some(Family::ClockSkew),
        slug: "issuer-clock-ahead",
        title: "Fresh tokens rejected as not yet valid",
        services: "auth-server, edge-gateway",
        summary: "Resource servers rejected newly minted tokens because their nbf lay in the future.",
        cause: "A new node image shipped without time synchronisation, so the token issuers' clocks ran ahead.",
        fix: "Re-enabled chrony on the issuer nodes and gave JWT validation a 60-second leeway for clock skew.",
    },
    Past {
        family: Some(Family::RedirectUriMismatch),
        slug: "web-callback-removed",
        title: "Web login broken by a client configuration change",
        services: "idp-config, web-portal",
        summary: "Every web login ended on the identity provider's error page.",
        cause: "A Terraform change to the OIDC client removed the web app's callback URL from the allowed list.",
        fix: "Restored the web app's callback URL among the client's allowed callbacks by rolling back the Terraform change.",
    },
    Past {
        family: None,
        slug: "saml-idp-certificate-rollover",
        title: "SAML logins failing after an IdP certificate rollover",
        services: "idp, partner-sso",
        summary: "Two partner applications rejected SAML assertions with signature errors.",
        cause: "The identity provider rolled its SAML signing certificate and both service providers still trusted only the old one.",
        fix: "Uploaded the new IdP certificate to both service providers and scheduled future rollovers with an overlap window.",
    },
    Past {
        family: None,
        slug: "session-store-failover",
        title: "Users signed out after a session store failover",
        services: "session-store, web-portal",
        summary: "A third of active sessions vanished and users were sent back to the login page.",
        cause: "The session store's primary failed over and the session keys had not been replicated.",
        fix: "Enabled replication for the session keys and made the application retry reads against the new primary.",
    },
    Past {
        family: None,
        slug: "webhook-backlog",
        title: "Webhook deliveries delayed by a queue backlog",
        services: "webhooks, notifier",
        summary: "Customers received event webhooks up to an hour late.",
        cause: "A consumer crash loop left the delivery queue growing unread.",
        fix: "Fixed the consumer's configuration error, scaled consumers out to drain the backlog and added an alert on queue lag.",
    },
    Past {
        family: None,
        slug: "reset-emails-undelivered",
        title: "Password reset emails not delivered",
        services: "notifier",
        summary: "Users asked for password resets but no email arrived.",
        cause: "The email provider's API credential expired.",
        fix: "Rotated the provider credential and added expiry monitoring for third-party credentials.",
    },
    Past {
        family: None,
        slug: "refresh-tokens-purged",
        title: "Refresh tokens revoked by a cleanup job",
        services: "auth-server",
        summary: "Mobile users were signed out en masse overnight.",
        cause: "A cleanup job deleted live refresh tokens because of an inverted timestamp comparison.",
        fix: "Stopped the job, restored the token table from the nightly snapshot and added a dry-run mode to the job.",
    },
    Past {
        family: None,
        slug: "cors-after-gateway-upgrade",
        title: "CORS errors after a gateway upgrade",
        services: "edge-gateway, web-portal",
        summary: "Browsers blocked API calls from the single-page app with CORS errors.",
        cause: "The gateway upgrade reset the list of allowed origins to its default.",
        fix: "Re-applied the allowed origins configuration and added it to the upgrade checklist.",
    },
    Past {
        family: None,
        slug: "mfa-push-delays",
        title: "MFA push notifications delayed",
        services: "mfa, auth0",
        summary: "Push approvals arrived minutes late and many logins timed out.",
        cause: "The push provider throttled the tenant after a traffic spike.",
        fix: "Moved to the provider's higher quota tier and enabled one-time-code fallback.",
    },
    Past {
        family: None,
        slug: "log-shipper-disk-full",
        title: "Log shipper hosts ran out of disk",
        services: "logging",
        summary: "Logs from two regions stopped arriving in the central store.",
        cause: "Log rotation had been disabled on the shipper hosts during a migration.",
        fix: "Re-enabled rotation, removed old files and added disk-usage alerts.",
    },
];

/// File name pattern of the past incident that shares `family`'s failure
/// class, for reading its records back as gold evidence.
pub(crate) fn postmortem_of(family: Family) -> Option<String> {
    LIBRARY
        .iter()
        .find(|past| past.family == Some(family))
        .map(|past| format!("*-{}.md", past.slug))
}

impl Scene {
    /// Writes the postmortem library under `knowledge/postmortems/`, each
    /// incident dated some weeks before this scene.
    pub(crate) fn postmortems(&mut self) {
        for past in LIBRARY {
            let day = self.start - Duration::days(7 + self.rng.below(150) as i64);
            let detected = day.date_naive().and_hms_opt(
                9 + self.rng.below(9) as u32,
                self.rng.below(60) as u32,
                0,
            );
            let Some(detected) = detected else { continue };
            let resolved = detected + Duration::minutes(25 + self.rng.below(150) as i64);
            let text = format!(
                "# Postmortem: {title}\n\n\
                 - Date: {date}\n\
                 - Services: {services}\n\
                 - Detected: {detected} UTC\n\
                 - Resolved: {resolved} UTC\n\n\
                 ## Summary\n\n{summary}\n\n\
                 ## Root cause\n\n{cause}\n\n\
                 ## Resolution\n\n{fix}\n",
                title = past.title,
                date = detected.format("%Y-%m-%d"),
                services = past.services,
                detected = detected.format("%H:%M"),
                resolved = resolved.format("%H:%M"),
                summary = past.summary,
                cause = past.cause,
                fix = past.fix,
            );
            self.corpus.document(
                &format!(
                    "knowledge/postmortems/{}-{}.md",
                    detected.format("%Y-%m-%d"),
                    past.slug
                ),
                text,
            );
        }
    }
}
