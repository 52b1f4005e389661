//! Entity pivot: what else the records say about a value that concentrates
//! a failure (a node, a client id, a network), in every source.
//!
//! Attribution says *where* the failures come from; the cause is often in
//! another source that names the same entity: the kernel and log shipper of
//! the node, the IdP's token grants of the client, the flow log of the
//! subnet. Two kinds of finding come out of the records that mention the
//! entity, grouped by template:
//! - **events of the entity**: warnings and worse of a template that occurs
//!   mostly on this entity (its share of the template's records is at least
//!   [`MIN_ENTITY_SHARE`]);
//! - **how it differs from its peers**: for a template the entity shares
//!   with others (a token grant every client gets), the values that
//!   concentrate the entity's records against its peers' records of the
//!   same template ([`attribute`]), e.g. the scopes its tokens carry.

use std::collections::{HashMap, HashSet};

use ingest::{Record, Severity};
use serde::Serialize;

use chrono::{DateTime, Utc};

use crate::attribution::{Attribution, attribute, features, network_prefix};
use crate::precursors::{MIN_QUIET, ONSET_SLACK, PRECURSOR_LOOKBACK};

/// Share of a template's records on the entity for the template to count
/// as something that happens to the entity.
pub const MIN_ENTITY_SHARE: f64 = 0.5;
/// Values named per peer template.
const DIFFERENCES_NAMED: usize = 2;
/// Values weighed per peer template before other names of the entity are
/// set aside: a record carries several (its address, its user, its id).
const CANDIDATE_DIFFERENCES: usize = 16;

/// One template of records naming the entity.
#[derive(Clone, Debug, Serialize)]
pub struct EntityFinding<'r> {
    /// Service of the template's records.
    pub service: String,
    /// The template's text (the body when none was mined).
    pub template: String,
    /// The entity's records of the template, in time order.
    #[serde(skip)]
    pub records: Vec<&'r Record>,
    /// All records of the template, the entity's and its peers'.
    pub template_total: usize,
    /// Values that set the entity's records apart from its peers' (empty
    /// for events of the entity).
    pub differences: Vec<Attribution>,
    /// Worst severity among the entity's records.
    pub severity: Severity,
    /// The template was first seen shortly before the onset (as a
    /// precursor is), after a quiet history.
    pub new_near_onset: bool,
}

impl EntityFinding<'_> {
    /// Share of the template's records that are the entity's.
    pub fn entity_share(&self) -> f64 {
        self.records.len() as f64 / self.template_total.max(1) as f64
    }

    /// Whether the finding happens mostly to this entity and is a warning
    /// (or worse) or new shortly before the onset (a kernel's hung task is
    /// logged at info), rather than a difference from its peers.
    pub fn is_event_of_entity(&self) -> bool {
        self.differences.is_empty()
            && (self.severity >= Severity::Warn || self.new_near_onset)
            && self.entity_share() >= MIN_ENTITY_SHARE
    }
}

/// Records of one template: the entity's and its peers'.
type Split<'r> = (Vec<&'r Record>, Vec<&'r Record>);

/// The findings about `value` in `records`, strongest first, at most
/// `limit`; templates in `known` (the symptoms already described) are left
/// out, and values in `aliases` (other names of the entity, such as the
/// address its failures came from) are no difference. Events of the
/// entity come first (worst severity, then the most concentrated), then
/// the peer templates it differs in. `onset` tells which templates are new.
pub fn pivot<'r>(
    value: &str,
    records: &[&'r Record],
    known: &HashSet<&str>,
    aliases: &HashSet<&str>,
    onset: DateTime<Utc>,
    limit: usize,
) -> Vec<EntityFinding<'r>> {
    let needles = Needles::of(value);
    let Some(observed_from) = records.iter().filter_map(|r| r.ts).min() else {
        return Vec::new();
    };
    if needles.is_empty() {
        return Vec::new();
    }
    // (service, template) -> (the entity's records, its peers')
    let mut groups: HashMap<(&str, &str), Split<'r>> = HashMap::new();
    for &record in records {
        let template = template_key(record);
        if known.contains(template) {
            continue;
        }
        let group = groups
            .entry((record.service.as_str(), template))
            .or_default();
        if needles.found_in(record) {
            group.0.push(record);
        } else {
            group.1.push(record);
        }
    }
    let mut findings: Vec<EntityFinding<'r>> = groups
        .into_values()
        .filter(|(mine, _)| !mine.is_empty())
        .filter_map(|(mine, peers)| {
            let template_total = mine.len() + peers.len();
            let severity = mine.iter().map(|r| r.severity).max()?;
            let first = mine.first()?;
            let first_seen = mine.iter().chain(&peers).filter_map(|r| r.ts).min();
            let new_near_onset = first_seen.is_some_and(|at| {
                at - observed_from >= MIN_QUIET
                    && at >= onset - PRECURSOR_LOOKBACK
                    && at <= onset + ONSET_SLACK
            });
            let mut finding = EntityFinding {
                service: first.service.clone(),
                template: first
                    .template
                    .as_ref()
                    .map_or_else(|| first.body.clone(), |t| t.text.clone()),
                records: mine,
                template_total,
                differences: Vec::new(),
                severity,
                new_near_onset,
            };
            if finding.is_event_of_entity() {
                return Some(finding);
            }
            let candidates = attribute(&finding.records, &peers, CANDIDATE_DIFFERENCES);
            let identifying = identifying_keys(candidates.iter().map(|a| a.key.as_str()), &peers);
            finding.differences = candidates
                .into_iter()
                .filter(|a| {
                    !needles.names(&a.value)
                        && !aliases.contains(a.value.as_str())
                        && !identifying.contains(a.key.as_str())
                })
                .take(DIFFERENCES_NAMED)
                .collect();
            (!finding.differences.is_empty()).then_some(finding)
        })
        .collect();
    findings.sort_by(|a, b| {
        b.is_event_of_entity()
            .cmp(&a.is_event_of_entity())
            .then(b.severity.cmp(&a.severity))
            .then(b.entity_share().total_cmp(&a.entity_share()))
            .then(b.records.len().cmp(&a.records.len()))
            .then_with(|| a.template.cmp(&b.template))
    });
    findings.truncate(limit);
    findings
}

/// Distinct values per peer record above which a key identifies whoever
/// sent the record (an address, a user name, a session) rather than
/// describing what was sent: another name of the entity, not a finding.
const IDENTIFYING_DISTINCT_SHARE: f64 = 0.5;

/// Which of `keys` identify whoever sent the peer records; the peers'
/// features are read once for all of them.
fn identifying_keys<'k>(keys: impl Iterator<Item = &'k str>, peers: &[&Record]) -> HashSet<String> {
    let mut values: HashMap<String, HashSet<String>> =
        keys.map(|k| (k.to_string(), HashSet::new())).collect();
    if values.is_empty() {
        return HashSet::new();
    }
    for record in peers {
        for (key, value) in features(record) {
            if let Some(seen) = values.get_mut(&key) {
                seen.insert(value);
            }
        }
    }
    values
        .into_iter()
        .filter(|(_, seen)| {
            seen.len() >= MIN_IDENTIFYING_VALUES
                && seen.len() as f64 > IDENTIFYING_DISTINCT_SHARE * peers.len() as f64
        })
        .map(|(key, _)| key)
        .collect()
}

/// Fewest distinct values among the peers for a key to identify them: a
/// setting that takes one or two values describes, whatever the peers' number.
const MIN_IDENTIFYING_VALUES: usize = 3;

fn template_key(record: &Record) -> &str {
    record
        .template
        .as_ref()
        .map_or(record.body.as_str(), |t| t.id.as_str())
}

/// The forms an entity value takes in records: the value, the first label
/// of a host name (`ip-10-8-44-12` of `ip-10-8-44-12.us-west-2.compute.internal`),
/// or, for a network (`10.30.3.0/24`), any address in it.
struct Needles {
    words: Vec<String>,
    network: Option<Network>,
}

/// A network (`10.30.3.0/24`, `172.22.0.0/16`) and the two ways its
/// addresses start in records: dotted (`10.30.3.`) and, in a host name,
/// dashed (`10-30-3-`).
struct Network {
    cidr: String,
    dotted: String,
    dashed: String,
}

impl Network {
    fn of(cidr: &str) -> Option<Self> {
        let (_, dotted) = network_prefix(cidr)?;
        Some(Network {
            cidr: cidr.to_string(),
            dashed: dotted.replace('.', "-"),
            dotted,
        })
    }

    /// Whether `text` may hold an address of the network.
    fn may_be_in(&self, text: &str) -> bool {
        !self.dotted.is_empty() && (text.contains(&self.dotted) || text.contains(&self.dashed))
    }
}

/// Shorter values are too common to pivot on (a status, a digit).
const MIN_NEEDLE_CHARS: usize = 4;

impl Needles {
    fn of(value: &str) -> Self {
        if let Some(network) = Network::of(value) {
            return Needles {
                words: Vec::new(),
                network: Some(network),
            };
        }
        let mut words = vec![value.to_string()];
        if let Some((label, rest)) = value.split_once('.')
            && label.chars().any(|c| c.is_ascii_alphabetic())
            && rest.chars().any(|c| c.is_ascii_alphabetic())
        {
            words.push(label.to_string());
        }
        words.retain(|w| w.chars().count() >= MIN_NEEDLE_CHARS);
        Needles {
            words,
            network: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.words.is_empty() && self.network.is_none()
    }

    /// Whether `value` is one of the entity's own forms.
    fn names(&self, value: &str) -> bool {
        self.words.iter().any(|w| w == value)
            || self.network.as_ref().is_some_and(|n| n.cidr == value)
    }

    fn found_in(&self, record: &Record) -> bool {
        if let Some(network) = &self.network {
            // Reading a record's features is costly; a record none of whose
            // texts starts an address of the network cannot hold one.
            let may_hold = record.host.as_deref().is_some_and(|h| network.may_be_in(h))
                || network.may_be_in(&record.body)
                || record
                    .fields
                    .values()
                    .any(|v| any_text(v, &|t| network.may_be_in(t)));
            return may_hold && features(record).iter().any(|(_, v)| *v == network.cidr);
        }
        self.words.iter().any(|word| {
            record.host.as_deref().is_some_and(|h| mentions(h, word))
                || mentions(&record.body, word)
                || record
                    .origin
                    .source
                    .split(['/', '\\'])
                    .any(|part| part == word)
                || record
                    .fields
                    .values()
                    .any(|v| any_text(v, &|t| mentions(t, word)))
        })
    }
}

/// Whether any text inside `value` (nested objects and arrays included)
/// satisfies `test`.
fn any_text(value: &serde_json::Value, test: &dyn Fn(&str) -> bool) -> bool {
    match value {
        serde_json::Value::String(s) => test(s),
        serde_json::Value::Object(map) => map.values().any(|v| any_text(v, test)),
        serde_json::Value::Array(items) => items.iter().any(|v| any_text(v, test)),
        _ => false,
    }
}

/// `word` in `text` as a whole token: not inside a longer name
/// (`n-4` is not in `n-44`).
fn mentions(text: &str, word: &str) -> bool {
    let is_name = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        before.is_none_or(|c| !is_name(c)) && after.is_none_or(|c| !is_name(c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_records::record_at;
    use chrono::{Duration, TimeZone, Utc};

    fn at(minute: i64) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 8, 4, 15, 0, 0)
            .single()
            .expect("time")
            + Duration::minutes(minute)
    }

    fn refs(records: &[Record]) -> Vec<&Record> {
        records.iter().collect()
    }

    fn templated(service: &str, body: &str, template: &str, minute: i64) -> Record {
        let mut record = record_at(at(minute), service, body);
        record.template = Some(ingest::TemplateRef::from_text(template.into()));
        record
    }

    /// A node's kernel and shipper warnings, in sources other than the
    /// failing service's, are events of the node.
    #[test]
    fn warnings_that_happen_only_on_the_entity_are_its_events() {
        let mut records = Vec::new();
        for minute in 0..10 {
            let mut kernel = templated(
                "kernel",
                "task jbd2:412 blocked for more than 122 seconds",
                "task <*> blocked for more than <*> seconds",
                minute,
            );
            kernel.host = Some("ip-10-8-44-12.us-west-2.compute.internal".into());
            kernel.severity = Severity::Warn;
            records.push(kernel);
            for node in ["ip-10-8-41-7", "ip-10-8-44-12"] {
                let mut ok = templated("kubelet", "probe ok", "probe ok", minute);
                ok.host = Some(node.into());
                records.push(ok);
            }
        }
        let found = pivot(
            "ip-10-8-44-12",
            &refs(&records),
            &HashSet::new(),
            &HashSet::new(),
            at(60),
            3,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].service, "kernel");
        assert!(found[0].is_event_of_entity());
        assert_eq!(found[0].records.len(), 10);
    }

    /// A client's token grants look like everyone's, but for the scope they
    /// carry: that value is the finding, not the client's own name.
    #[test]
    fn a_shared_template_names_what_sets_the_entity_apart() {
        let mut records = Vec::new();
        for minute in 0..40 {
            let client = if minute % 4 == 0 {
                "0oa9reportsvc7"
            } else {
                ["0oa1web", "0oa2mobile", "0oa3cli"][minute as usize % 3]
            };
            let mut grant = templated(
                "okta",
                "access token granted",
                "access token granted",
                minute,
            );
            grant
                .fields
                .insert("client".into(), serde_json::json!(client));
            let scope = if client == "0oa9reportsvc7" {
                "invoices"
            } else {
                "invoices:read"
            };
            grant
                .fields
                .insert("scopes".into(), serde_json::json!(scope));
            records.push(grant);
        }
        let found = pivot(
            "0oa9reportsvc7",
            &refs(&records),
            &HashSet::new(),
            &HashSet::new(),
            at(60),
            3,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(!found[0].is_event_of_entity());
        assert_eq!(found[0].differences[0].key, "scopes");
        assert_eq!(found[0].differences[0].value, "invoices");
    }

    #[test]
    fn known_templates_and_longer_names_are_not_the_entity() {
        let mut records = Vec::new();
        for minute in 0..6 {
            let mut warn = templated("api", "disk slow on n-44", "disk slow on <*>", minute);
            warn.severity = Severity::Warn;
            records.push(warn);
        }
        assert!(
            pivot(
                "n-4x",
                &refs(&records),
                &HashSet::new(),
                &HashSet::new(),
                at(60),
                3
            )
            .is_empty()
        );
        assert!(mentions("node ip-10-8-44-12.us-west-2", "ip-10-8-44-12"));
        assert!(!mentions("disk slow on n-44", "n-4"));
        let known: HashSet<&str> = records
            .iter()
            .filter_map(|r| r.template.as_ref().map(|t| t.id.as_str()))
            .collect();
        assert!(pivot("n-44", &refs(&records), &known, &HashSet::new(), at(60), 3).is_empty());
        assert_eq!(
            pivot(
                "n-44",
                &refs(&records),
                &HashSet::new(),
                &HashSet::new(),
                at(60),
                3
            )
            .len(),
            1
        );
    }
}
