//! Remediation steps drafted from the class of the cause and the entities
//! the failures concentrate on, rather than one "roll back" for all.
//!
//! The class of an entity comes from the name of the field it was found in
//! and the shape of its value: a host or node, a pod, a network, a client
//! or user, an app version or user agent. Each class has the step an
//! engineer takes to take the entity out of harm's way; a change cause adds
//! its revert (naming the setting it modified and the value to restore) and
//! a precursor names the component to repair. Nothing here is executed.

use retrieval::Attribution;

use crate::change_summary::ChangedLine;

/// What kind of thing an attributed value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntityClass {
    Node,
    Pod,
    Network,
    Address,
    Client,
    Version,
    Other,
}

/// The class of `attribution` by its key's words and its value's shape.
pub(crate) fn entity_class(attribution: &Attribution) -> EntityClass {
    let key = attribution.key.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| key.contains(w));
    if retrieval::network_key_base(&key).is_some() {
        EntityClass::Network
    } else if attribution
        .value
        .rsplit_once(':')
        .map_or(attribution.value.as_str(), |(host, _)| host)
        .parse::<std::net::Ipv4Addr>()
        .is_ok()
    {
        EntityClass::Address
    } else if has(&["pod"]) {
        EntityClass::Pod
    } else if has(&["host", "node", "instance"]) {
        EntityClass::Node
    } else if has(&["agent", "version", "app_version", "release"]) {
        EntityClass::Version
    } else if has(&[
        "client", "consumer", "user", "actor", "app", "tenant", "account",
    ]) {
        EntityClass::Client
    } else {
        EntityClass::Other
    }
}

/// The first label of a host name: what `kubectl` and people call the node.
fn short_host(value: &str) -> &str {
    value.split('.').next().unwrap_or(value)
}

/// The step that takes the entity out of harm's way.
pub(crate) fn isolate_step(attribution: &Attribution, service: &str) -> String {
    let value = attribution.value.as_str();
    match entity_class(attribution) {
        EntityClass::Node => format!(
            "Cordon and drain node {} so {service} reschedules on healthy nodes; the failures come from it ({:.0} % of them).",
            short_host(value),
            100.0 * attribution.share()
        ),
        EntityClass::Pod => format!(
            "Delete pod {value} so its controller replaces it on a healthy node, after saving its logs."
        ),
        EntityClass::Network => format!(
            "Check what admits {value} to {service} (security group, NetworkPolicy, firewall, routes): restore the rule or route for that network."
        ),
        EntityClass::Address => format!(
            "Identify the caller at {value} ({}) and fix, rate-limit or block it; the failures come from it ({:.0} %).",
            attribution.key,
            100.0 * attribution.share()
        ),
        EntityClass::Client => format!(
            "Fix the configuration of client {value} ({}): what it is granted and what it requests; tell its owner, and exempt it temporarily if the rule is right.",
            attribution.key
        ),
        EntityClass::Version => format!(
            "Exempt {value} ({}) until its users upgrade, or force the upgrade by raising the minimum supported version.",
            attribution.key
        ),
        EntityClass::Other => format!(
            "Isolate {}={value}: the failures concentrate on it ({:.0} %).",
            attribution.key,
            100.0 * attribution.share()
        ),
    }
}

/// The revert of a change (`noun`: "commit" or "change"): its id (and
/// ticket), and each setting it modified with the value to restore.
pub(crate) fn revert_step(
    noun: &str,
    change_ref: &str,
    ticket: Option<&str>,
    service: &str,
    effects: &[ChangedLine],
) -> String {
    let id = match ticket {
        Some(ticket) => format!("{change_ref} ({ticket})"),
        None => change_ref.to_string(),
    };
    let restores: Vec<String> = effects
        .iter()
        .filter_map(|e| match e {
            ChangedLine::Modified { key, before, after } => {
                Some(format!("{key} back to {before} (now {after})"))
            }
            _ => None,
        })
        .take(3)
        .collect();
    if restores.is_empty() {
        format!(
            "Roll back (revert) {noun} {id} on {service}, or fix what it changed for the failing callers."
        )
    } else {
        format!(
            "Roll back (revert) {noun} {id} on {service}: set {}; or fix it for the failing callers.",
            restores.join(", ")
        )
    }
}

/// A ticket reference in a change's text (`API-1881`, `FINOPS-219`).
pub(crate) fn ticket_of(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|word| {
            let Some((project, number)) = word.split_once('-') else {
                return false;
            };
            project.len() >= 2
                && project
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && project.starts_with(|c: char| c.is_ascii_uppercase())
                && !number.is_empty()
                && number.chars().all(|c| c.is_ascii_digit())
        })
        .map(str::to_string)
}

/// The step that checks the fix: the failing pattern stops, for the
/// entity it concentrated on when there is one.
pub(crate) fn verify_step(
    template: &str,
    service: &str,
    entity: Option<&Attribution>,
    rate_before: f64,
) -> String {
    let scope = entity.map_or(String::new(), |a| format!(" for {}={}", a.key, a.value));
    format!(
        "Verify \"{template}\" on {service}{scope} drops back to its rate before the onset ({rate_before:.1}/min) and requests succeed again."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribution(key: &str, value: &str) -> Attribution {
        Attribution {
            key: key.into(),
            value: value.into(),
            failing: 9,
            failing_total: 10,
            contrast: 0,
            contrast_total: 50,
            g: 10.0,
        }
    }

    #[test]
    fn each_class_of_entity_gets_its_own_step() {
        let node = isolate_step(
            &attribution("host", "ip-10-8-44-12.us-west-2.compute.internal"),
            "mfa-verify",
        );
        assert!(
            node.starts_with("Cordon and drain node ip-10-8-44-12 so mfa-verify"),
            "{node}"
        );
        let kube_node = isolate_step(&attribution("k8s_node", "aks-pool-3"), "session-api");
        assert!(kube_node.contains("drain node aks-pool-3"), "{kube_node}");
        let net = isolate_step(&attribution("src/24", "10.30.3.0/24"), "aurora");
        assert!(
            net.contains("10.30.3.0/24") && net.contains("security group"),
            "{net}"
        );
        let client = isolate_step(&attribution("consumer.custom_id", "0oa9reportsvc7"), "api");
        assert!(client.starts_with("Fix the configuration of client 0oa9reportsvc7"));
        let app = isolate_step(&attribution("user_agent", "AdatumMobile/4.9.1"), "auth");
        assert!(app.starts_with("Exempt AdatumMobile/4.9.1"));
        assert!(isolate_step(&attribution("pod", "api-7f-x"), "api").starts_with("Delete pod"));
        let caller = isolate_step(&attribution("client_ip", "20.61.118.14"), "api");
        assert!(
            caller.starts_with("Identify the caller at 20.61.118.14"),
            "{caller}"
        );
    }

    #[test]
    fn a_revert_names_the_settings_to_restore() {
        let effects = [ChangedLine::Modified {
            key: "scopes_required".into(),
            before: "[invoices]".into(),
            after: "[invoices:read]".into(),
        }];
        assert_eq!(
            revert_step(
                "commit",
                "c4e81b0f3a9d",
                Some("API-1881"),
                "gateway",
                &effects
            ),
            "Roll back (revert) commit c4e81b0f3a9d (API-1881) on gateway: set scopes_required back to [invoices] (now [invoices:read]); or fix it for the failing callers."
        );
        assert!(
            revert_step("change", "CHG-7", None, "k8s", &[])
                .starts_with("Roll back (revert) change CHG-7 on k8s")
        );
    }

    #[test]
    fn tickets_are_found_in_change_text() {
        assert_eq!(
            ticket_of("FINOPS-219: cut CPU limits").as_deref(),
            Some("FINOPS-219")
        );
        assert_eq!(
            ticket_of("see SECURITY-77 (pkce)").as_deref(),
            Some("SECURITY-77")
        );
        assert_eq!(ticket_of("bump to v2-3 and a-1"), None);
    }
}
