//! Attribution: which values of which fields concentrate a set of failing
//! records, compared with a contrast set (the same sources when they did
//! not fail, or before the onset).
//!
//! A template summary masks exactly what an engineer needs (the node, the
//! client id, the address, the app version): those live in the masked
//! variables and the structured fields. Each record is read as features
//! `key=value` (host, structured fields, the template's variables named by
//! the constant before them, and the /24 and /16 networks of every IPv4
//! address: a subnet of nodes is a /24, a partner's interconnect range or a
//! VPC often a /16),
//! and each feature is scored by a log-likelihood ratio (G statistic) of its
//! share among the failing records against its share in the contrast,
//! kept only when it covers a real part of the failures ([`MIN_SHARE`]) and
//! is over-represented there by a margin ([`MIN_LIFT`]).

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use ingest::Record;
use serde::Serialize;

/// Smallest share of the failing records a value must cover to be named.
pub const MIN_SHARE: f64 = 0.3;
/// How many times more common among the failures than in the contrast.
pub const MIN_LIFT: f64 = 3.0;
/// Fewest failing records with the value: below it, chance explains it.
pub const MIN_SUPPORT: usize = 3;
/// Values longer than this are text, not an entity.
const MAX_VALUE_CHARS: usize = 120;

/// A record's features, `(key, value)`.
type Features = Vec<(String, String)>;

/// A value that concentrates the failures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Attribution {
    /// What the value is of: a field name, `host`, `var:<word before it>`,
    /// or `<key>/24` and `<key>/16` for the networks of an address.
    pub key: String,
    /// The value.
    pub value: String,
    /// Failing records with the value.
    pub failing: usize,
    /// Failing records in all.
    pub failing_total: usize,
    /// Contrast records with the value.
    pub contrast: usize,
    /// Contrast records in all (0 when there was none to compare with).
    pub contrast_total: usize,
    /// Log-likelihood ratio of the two shares (larger: more concentrated).
    pub g: f64,
}

impl Attribution {
    /// Share of the failing records with the value, 0 to 1.
    pub fn share(&self) -> f64 {
        self.failing as f64 / self.failing_total.max(1) as f64
    }

    /// Share of the contrast records with the value, 0 to 1.
    pub fn contrast_share(&self) -> f64 {
        self.contrast as f64 / self.contrast_total.max(1) as f64
    }
}

/// The values concentrating `failing` against `contrast`, strongest first,
/// at most `limit`, one per key (its best value). With an empty contrast,
/// values shared by most of the failures are named with nothing to
/// compare: a new failure has no before.
pub fn attribute(failing: &[&Record], contrast: &[&Record], limit: usize) -> Vec<Attribution> {
    if failing.len() < MIN_SUPPORT {
        return Vec::new();
    }
    let failing_counts = feature_counts(failing.iter().map(|r| features(r)));
    // Each contrast record is read once: its structured part decides which
    // keys the template fixes, the whole of it the counts.
    let contrast_read: Vec<(Features, Features)> = contrast
        .iter()
        .map(|r| {
            let structured = structured_features(r);
            let all = features_from(r, structured.clone());
            (structured, all)
        })
        .collect();
    let bound = template_bound_keys(contrast.iter().zip(contrast_read.iter().map(|(s, _)| s)));
    let contrast_counts = feature_counts(contrast_read.into_iter().map(|(_, all)| all));
    let quantities = quantity_keys(failing_counts.keys().chain(contrast_counts.keys()));
    let (n1, n2) = (failing.len(), contrast.len());
    let mut found: Vec<Attribution> = failing_counts
        .into_iter()
        .filter(|((key, _), _)| !quantities.contains(key) && !bound.contains(key))
        .filter_map(|((key, value), k1)| {
            let k2 = contrast_counts
                .get(&(key.clone(), value.clone()))
                .copied()
                .unwrap_or(0);
            let share = k1 as f64 / n1 as f64;
            let contrast_share = if n2 == 0 { 0.0 } else { k2 as f64 / n2 as f64 };
            let concentrated = k1 >= MIN_SUPPORT
                && share >= MIN_SHARE
                && (n2 == 0 && share >= 2.0 * MIN_SHARE
                    || n2 > 0 && share >= MIN_LIFT * contrast_share.max(0.5 / n2 as f64));
            concentrated.then(|| Attribution {
                g: if n2 == 0 {
                    // Nothing to compare with: rank by how many failures share it.
                    k1 as f64 * share
                } else {
                    g_statistic(k1, n1, k2, n2)
                },
                key,
                value,
                failing: k1,
                failing_total: n1,
                contrast: k2,
                contrast_total: n2,
            })
        })
        .collect();
    // Among equals the narrower place wins: an address over its /24, a /24
    // over its /16.
    let specificity = |a: &Attribution| {
        network_key_base(&a.key)
            .and(network_prefix(&a.value))
            .map_or(u8::MAX, |(prefix, _)| prefix)
    };
    found.sort_by(|a, b| {
        b.g.total_cmp(&a.g)
            .then_with(|| specificity(b).cmp(&specificity(a)))
            .then_with(|| a.key.cmp(&b.key))
            .then_with(|| a.value.cmp(&b.value))
    });
    // One value per key; an address and its networks are one finding,
    // named by whichever ranks first.
    let mut keys = HashSet::new();
    let mut kept: Vec<Attribution> = Vec::new();
    for attribution in found {
        if !keys.insert(attribution.key.clone()) {
            continue;
        }
        let same_place = |kept: &Attribution| {
            let base = |key: &str| network_key_base(key).unwrap_or(key).to_string();
            base(&kept.key) == base(&attribution.key)
                && (holds(&kept.value, &attribution.value)
                    || holds(&attribution.value, &kept.value))
        };
        if !kept.iter().any(same_place) {
            kept.push(attribution);
        }
        if kept.len() == limit {
            break;
        }
    }
    kept
}

/// Keys whose values are numbers of many values (latencies, sizes,
/// counts): quantities, which a failure changes, not entities it comes
/// from. Numeric keys of few values (a broker id, a partition) stay.
fn quantity_keys<'a>(features: impl Iterator<Item = &'a (String, String)>) -> HashSet<String> {
    let mut numeric: HashMap<&str, (HashSet<&str>, bool)> = HashMap::new();
    for (key, value) in features {
        let entry = numeric.entry(key).or_insert_with(|| (HashSet::new(), true));
        entry.1 &= value.parse::<f64>().is_ok();
        if entry.0.len() < QUANTITY_VALUES {
            entry.0.insert(value);
        }
    }
    numeric
        .into_iter()
        .filter(|(_, (values, all_numbers))| *all_numbers && values.len() >= QUANTITY_VALUES)
        .map(|(key, _)| key.to_string())
        .collect()
}

/// Distinct numeric values that make a key a quantity.
const QUANTITY_VALUES: usize = 20;

/// Share of a template's records its commonest value must cover for the
/// key to be fixed by that template.
const BOUND_VALUE_SHARE: f64 = 0.95;
/// Share of the records (in templates that carry the key) whose template
/// fixes the key, for the key to describe code rather than an entity.
const BOUND_RECORD_SHARE: f64 = 0.9;

/// Structured keys whose value the template decides (the logger, the
/// source line, a numeric level): in the contrast, each template with the
/// key has one value of it. Such a key concentrates any failing template
/// by construction and names code, not the node, client or network the
/// failures come from, whose values vary within a template. Judged on the
/// contrast alone and only from two templates up, so that the failing
/// template's own constant values decide nothing.
fn template_bound_keys<'a>(
    contrast: impl Iterator<Item = (&'a &'a Record, &'a Features)>,
) -> HashSet<String> {
    let mut by_template: HashMap<&str, Vec<&Features>> = HashMap::new();
    for (record, structured) in contrast {
        if let Some(template) = &record.template {
            by_template
                .entry(&template.id)
                .or_default()
                .push(structured);
        }
    }
    // key -> (templates with it, records with it, records in templates that fix it)
    let mut tally: HashMap<String, (usize, usize, usize)> = HashMap::new();
    for members in by_template.values().filter(|m| m.len() >= MIN_SUPPORT) {
        let mut values: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for structured in members {
            for (key, value) in structured.iter() {
                *values
                    .entry(key.clone())
                    .or_default()
                    .entry(value.clone())
                    .or_insert(0) += 1;
            }
        }
        for (key, counts) in values {
            let with_key: usize = counts.values().sum();
            let commonest = counts.values().copied().max().unwrap_or(0);
            let entry = tally.entry(key).or_insert((0, 0, 0));
            entry.0 += 1;
            entry.1 += with_key;
            if commonest as f64 >= BOUND_VALUE_SHARE * with_key as f64 {
                entry.2 += with_key;
            }
        }
    }
    tally
        .into_iter()
        .filter(|(_, (templates, with_key, fixed))| {
            *templates >= 2 && *fixed as f64 >= BOUND_RECORD_SHARE * *with_key as f64
        })
        .map(|(key, _)| key)
        .collect()
}

/// G statistic of a 2x2 table: value present in k1 of n1 failing and k2 of
/// n2 contrast records.
fn g_statistic(k1: usize, n1: usize, k2: usize, n2: usize) -> f64 {
    let cells = [
        (k1 as f64, n1 as f64, (k1 + k2) as f64),
        ((n1 - k1) as f64, n1 as f64, (n1 + n2 - k1 - k2) as f64),
        (k2 as f64, n2 as f64, (k1 + k2) as f64),
        ((n2 - k2) as f64, n2 as f64, (n1 + n2 - k1 - k2) as f64),
    ];
    let total = (n1 + n2) as f64;
    2.0 * cells
        .iter()
        .filter(|(observed, _, _)| *observed > 0.0)
        .map(|(observed, row, column)| observed * (observed * total / (row * column)).ln())
        .sum::<f64>()
}

/// How many records carry each feature (once per record), given each
/// record's features.
fn feature_counts(records: impl Iterator<Item = Features>) -> HashMap<(String, String), usize> {
    let mut counts = HashMap::new();
    for mut features in records {
        features.sort_unstable();
        features.dedup();
        for feature in features {
            *counts.entry(feature).or_insert(0) += 1;
        }
    }
    counts
}

/// A record's features: host, structured fields (nested objects flattened
/// with dots), template variables, and the /24 network of IPv4 values.
pub fn features(record: &Record) -> Features {
    features_from(record, structured_features(record))
}

/// [`features`] given the record's structured features.
fn features_from(record: &Record, mut out: Features) -> Features {
    if let Some(template) = &record.template {
        out.extend(template_variables(&template.text, &record.body));
    }
    let networks: Vec<(String, String)> = out
        .iter()
        .flat_map(|(key, value)| {
            NETWORK_PREFIXES.iter().filter_map(move |&prefix| {
                Some((format!("{key}/{prefix}"), network_of(value, prefix)?))
            })
        })
        .collect();
    out.extend(networks);
    out.retain(|(_, value)| !value.is_empty() && value.chars().count() <= MAX_VALUE_CHARS);
    out
}

/// The host and the structured fields, nested objects flattened with dots.
fn structured_features(record: &Record) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(host) = &record.host {
        out.push(("host".to_string(), host.clone()));
    }
    for (key, value) in &record.fields {
        flatten(key, value, &mut out);
    }
    out
}

fn flatten(key: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::String(s) => out.push((key.to_string(), s.clone())),
        serde_json::Value::Number(n) => out.push((key.to_string(), n.to_string())),
        serde_json::Value::Bool(b) => out.push((key.to_string(), b.to_string())),
        serde_json::Value::Object(map) => {
            for (inner, value) in map {
                flatten(&format!("{key}.{inner}"), value, out);
            }
        }
        serde_json::Value::Array(_) | serde_json::Value::Null => {}
    }
}

/// The values of a template's `<*>` positions in `body`, each named by the
/// constant text before it in its token (`user=<*>` -> `user`) or by the
/// constant token before it (`client <*>` -> `var:client`). Only when the
/// body has as many whitespace tokens as the template: the miner tokenizes
/// the same way, so positions line up.
pub fn template_variables(template: &str, body: &str) -> Vec<(String, String)> {
    let pattern: Vec<&str> = template.split_whitespace().collect();
    let tokens: Vec<&str> = body.split_whitespace().collect();
    if pattern.len() != tokens.len() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut previous = "";
    for (position, (shape, token)) in pattern.iter().zip(&tokens).enumerate() {
        if let Some((prefix, suffix)) = shape.split_once("<*>") {
            let value = token
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(suffix.split("<*>").last().unwrap_or("")))
                .unwrap_or(token);
            let value = value.trim_matches(|c: char| "\"'(),;:[]{}".contains(c));
            let name = prefix.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
            let key = if !name.is_empty() {
                name.to_string()
            } else if !previous.is_empty() {
                format!("var:{previous}")
            } else {
                format!("var#{position}")
            };
            out.push((key, value.to_string()));
        } else {
            previous = shape.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
        }
    }
    out
}

/// Prefix lengths of the networks an address is grouped into.
pub const NETWORK_PREFIXES: [u8; 2] = [24, 16];

/// The key an address came from, when `key` names one of its networks
/// (`client/24` -> `client`).
pub fn network_key_base(key: &str) -> Option<&str> {
    let (base, prefix) = key.rsplit_once('/')?;
    let prefix: u8 = prefix.parse().ok()?;
    NETWORK_PREFIXES.contains(&prefix).then_some(base)
}

/// The network of `cidr` (`172.22.0.0/16`): its prefix length, and the
/// dotted octets every address in it starts with (`172.22.`).
pub fn network_prefix(cidr: &str) -> Option<(u8, String)> {
    let (address, prefix) = cidr.split_once('/')?;
    let prefix: u8 = prefix.parse().ok()?;
    if !NETWORK_PREFIXES.contains(&prefix) {
        return None;
    }
    let octets: Vec<&str> = address.split('.').collect();
    let kept = usize::from(prefix / 8);
    (octets.len() == 4).then(|| (prefix, format!("{}.", octets[..kept].join("."))))
}

/// Whether `network` (a CIDR) holds `value` (an address or a narrower
/// network); a value that is no network of `network`'s kind does not.
fn holds(network: &str, value: &str) -> bool {
    let Some((prefix, _)) = network_prefix(network) else {
        return false;
    };
    let (address, narrower) = match value.split_once('/') {
        Some((address, inner)) => (address, inner.parse::<u8>().is_ok_and(|p| p >= prefix)),
        None => (value, true),
    };
    narrower && network_of(address, prefix).as_deref() == Some(network)
}

/// `10.30.3.17` or `10.30.3.17:5432` -> `10.30.3.0/24` (prefix 24) or
/// `10.30.0.0/16` (prefix 16).
fn network_of(value: &str, prefix: u8) -> Option<String> {
    let address = value.rsplit_once(':').map_or(value, |(host, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            host
        } else {
            value
        }
    });
    let ip: Ipv4Addr = address.parse().ok().or_else(|| embedded_address(address))?;
    let [a, b, c, _] = ip.octets();
    match prefix {
        24 => Some(format!("{a}.{b}.{c}.0/24")),
        16 => Some(format!("{a}.{b}.0.0/16")),
        _ => None,
    }
}

/// The address a host name spells in its first label, as cloud providers
/// name nodes: `ip-10-30-3-17.eu-west-1.compute.internal` -> 10.30.3.17.
fn embedded_address(host: &str) -> Option<Ipv4Addr> {
    let label = host.split('.').next()?;
    // Read without building a string: this runs on every feature value.
    let octet = |part: Option<&str>| -> Option<u8> {
        let part = part?;
        let canonical = !part.is_empty()
            && part.len() <= 3
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'));
        canonical.then(|| part.parse().ok()).flatten()
    };
    let mut parts = label.rsplitn(5, '-');
    let d = octet(parts.next())?;
    let c = octet(parts.next())?;
    let b = octet(parts.next())?;
    let a = octet(parts.next())?;
    Some(Ipv4Addr::new(a, b, c, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_records::record_at;
    use chrono::{Duration, TimeZone, Utc};

    fn with_fields(body: &str, fields: &[(&str, &str)], minute: i64) -> Record {
        let at = Utc
            .with_ymd_and_hms(2026, 3, 24, 8, 0, 0)
            .single()
            .expect("time")
            + Duration::minutes(minute);
        let mut record = record_at(at, "api", body);
        for (key, value) in fields {
            record
                .fields
                .insert((*key).to_string(), serde_json::json!(value));
        }
        record
    }

    /// One check per field kind: failures concentrated on one value of it,
    /// the contrast spread over several.
    fn check(key: &str, failing_value: &str, other_values: &[&str]) {
        let failing: Vec<Record> = (0..20)
            .map(|i| {
                let value = if i < 18 {
                    failing_value
                } else {
                    other_values[0]
                };
                with_fields("request failed", &[(key, value)], i)
            })
            .collect();
        let contrast: Vec<Record> = (0..60)
            .map(|i| {
                let value = other_values[i % other_values.len()];
                with_fields("request ok", &[(key, value)], i as i64)
            })
            .collect();
        let failing: Vec<&Record> = failing.iter().collect();
        let contrast: Vec<&Record> = contrast.iter().collect();
        let found = attribute(&failing, &contrast, 3);
        let top = found
            .first()
            .unwrap_or_else(|| panic!("{key}: nothing named"));
        assert_eq!(top.key, key);
        assert_eq!(top.value, failing_value);
        assert!((top.share() - 0.9).abs() < 1e-9);
        assert_eq!(top.contrast, 0);
    }

    #[test]
    fn the_concentrated_value_is_named_for_each_kind_of_field() {
        check(
            "node",
            "ip-10-8-44-12",
            &["ip-10-8-41-7", "ip-10-8-42-19", "ip-10-8-43-88"],
        );
        check(
            "client_id",
            "0oa9reportsvc7",
            &["0oa1web", "0oa2mobile", "0oa3cli"],
        );
        check(
            "user_agent",
            "AdatumMobile/4.9.1",
            &["AdatumMobile/5.0.2", "Mozilla/5.0"],
        );
        check(
            "connection",
            "wingtip-oidc",
            &["Username-Password", "google-oauth2"],
        );
        check("route", "invoices-v2", &["orders", "profile", "billing"]);
        check("status", "503", &["200", "201", "302"]);
        check("tenant", "litware", &["contoso", "fabrikam"]);
        check("error_code", "insufficient_scope", &["none"]);
    }

    #[test]
    fn addresses_are_attributed_with_their_network() {
        let failing: Vec<Record> = (0..12)
            .map(|i| with_fields("timeout", &[("client", &format!("172.22.4.{i}"))], i))
            .collect();
        let contrast: Vec<Record> = (0..40)
            .map(|i| with_fields("ok", &[("client", &format!("198.51.{}.7", i % 20))], i))
            .collect();
        let found = attribute(
            &failing.iter().collect::<Vec<_>>(),
            &contrast.iter().collect::<Vec<_>>(),
            3,
        );
        assert_eq!(found[0].key, "client/24");
        assert_eq!(found[0].value, "172.22.4.0/24");
        assert_eq!(found[0].failing, 12);
    }

    /// Clients spread over many /24s of one range: the /16 concentrates.
    #[test]
    fn a_range_wider_than_a_subnet_is_named_by_its_16() {
        let failing: Vec<Record> = (0..30)
            .map(|i| {
                with_fields(
                    "timeout",
                    &[("client", &format!("172.22.{}.{}", i * 7 % 250, i + 3))],
                    i,
                )
            })
            .collect();
        let contrast: Vec<Record> = (0..60)
            .map(|i| with_fields("ok", &[("client", &format!("81.2.{}.9", i % 40))], i))
            .collect();
        let found = attribute(
            &failing.iter().collect::<Vec<_>>(),
            &contrast.iter().collect::<Vec<_>>(),
            3,
        );
        assert_eq!(found[0].key, "client/16", "{found:?}");
        assert_eq!(found[0].value, "172.22.0.0/16");
        assert_eq!(
            found.iter().filter(|a| a.key.starts_with("client")).count(),
            1
        );
    }

    #[test]
    fn quantities_are_not_entities_but_few_numeric_ids_are() {
        let failing: Vec<Record> = (0..10)
            .map(|i| with_fields("slow", &[("latency_ms", "0"), ("broker", "7")], i))
            .collect();
        let contrast: Vec<Record> = (0..40)
            .map(|i| {
                let latency = (100 + i).to_string();
                let broker = (i % 3).to_string();
                with_fields("ok", &[("latency_ms", &latency), ("broker", &broker)], i)
            })
            .collect();
        let found = attribute(
            &failing.iter().collect::<Vec<_>>(),
            &contrast.iter().collect::<Vec<_>>(),
            3,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].key.as_str(), found[0].value.as_str()),
            ("broker", "7")
        );
    }

    #[test]
    fn a_value_as_common_before_is_not_named() {
        let failing: Vec<Record> = (0..10)
            .map(|i| with_fields("x", &[("region", "eu")], i))
            .collect();
        let contrast: Vec<Record> = (0..10)
            .map(|i| with_fields("y", &[("region", "eu")], i))
            .collect();
        assert!(
            attribute(
                &failing.iter().collect::<Vec<_>>(),
                &contrast.iter().collect::<Vec<_>>(),
                3
            )
            .is_empty()
        );
    }

    #[test]
    fn template_variables_are_named_by_what_precedes_them() {
        assert_eq!(
            template_variables(
                "dial tcp <*> i/o timeout user=<*>",
                "dial tcp 10.61.8.21:5432: i/o timeout user=ana"
            ),
            [
                ("var:tcp".to_string(), "10.61.8.21:5432".to_string()),
                ("user".to_string(), "ana".to_string())
            ]
        );
        assert!(template_variables("a <*>", "a b c").is_empty());
    }

    #[test]
    fn failures_with_no_before_name_what_most_of_them_share() {
        let failing: Vec<Record> = (0..8)
            .map(|i| {
                let at = Utc
                    .with_ymd_and_hms(2026, 3, 24, 8, 0, 0)
                    .single()
                    .expect("time")
                    + Duration::minutes(i);
                let mut record = record_at(at, "db", "connect to 10.61.8.21 timed out");
                record.template = Some(ingest::TemplateRef::from_text(
                    "connect to <*> timed out".into(),
                ));
                record
            })
            .collect();
        let found = attribute(&failing.iter().collect::<Vec<_>>(), &[], 3);
        assert_eq!(found[0].key, "var:to");
        assert_eq!(found[0].value, "10.61.8.21");
        assert_eq!(found[0].contrast_total, 0);
    }

    fn templated(body: &str, template: &str, fields: &[(&str, &str)], minute: i64) -> Record {
        let mut record = with_fields(body, fields, minute);
        record.template = Some(ingest::TemplateRef::from_text(template.into()));
        record
    }

    /// A logger name or source line is fixed by each template: it
    /// concentrates any failing template and says nothing of where the
    /// failures come from. The node, which varies within templates, is named.
    #[test]
    fn keys_the_template_decides_are_not_named() {
        let failing: Vec<Record> = (0..20)
            .map(|i| {
                templated(
                    "spool fsync slow",
                    "spool fsync slow",
                    &[("caller", "spool.go:61"), ("node", "n-4")],
                    i,
                )
            })
            .collect();
        let contrast: Vec<Record> = (0..60)
            .map(|i| {
                let (body, caller) = if i % 2 == 0 {
                    ("verified", "verify.go:40")
                } else {
                    ("session read", "session.go:12")
                };
                let node = ["n-1", "n-2", "n-3", "n-4"][i % 4];
                templated(body, body, &[("caller", caller), ("node", node)], i as i64)
            })
            .collect();
        let found = attribute(
            &failing.iter().collect::<Vec<_>>(),
            &contrast.iter().collect::<Vec<_>>(),
            3,
        );
        let keys: Vec<&str> = found.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["node"], "{found:?}");
    }

    #[test]
    fn host_names_that_spell_an_address_group_by_network() {
        assert_eq!(
            network_of("ip-10-30-3-17.eu-west-1.compute.internal", 24).as_deref(),
            Some("10.30.3.0/24")
        );
        assert_eq!(
            network_of("node-192-168-7-2", 16).as_deref(),
            Some("192.168.0.0/16")
        );
        assert_eq!(network_of("mfa-verify-85b7c6d9f-1jol6", 24), None);
        assert_eq!(network_of("2026-08-20", 16), None);
        assert!(holds("10.30.0.0/16", "10.30.3.0/24") && holds("10.30.3.0/24", "10.30.3.17:5432"));
        assert!(!holds("10.30.3.0/24", "10.30.0.0/16") && !holds("client", "10.30.3.17"));
        assert!(!holds("10.30.0.0/24", "10.30.0.0/16"), "a /24 holds no /16");
        assert_eq!(network_key_base("client/16"), Some("client"));
        assert_eq!(network_key_base("route/v2"), None);
    }
}
