//! Every risky-event rule against a positive and a negative fixture, in
//! Okta System Log shape and in Auth0 tenant-log shape where the event
//! exists in both (`tests/fixtures/<rule>/<vendor>-<positive|negative>.jsonl`).

use std::path::{Path, PathBuf};

use flows::{Rule, RuleConfig, flag_events};
use ingest::{ReadOptions, TemplateMiner};

fn fixture(rule: Rule, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rule.as_str())
        .join(format!("{name}.jsonl"))
}

fn rules_fired(path: &Path) -> Vec<Rule> {
    let parsed = ingest::read_path(
        path,
        &ReadOptions::new("acme"),
        &mut TemplateMiner::default(),
    )
    .expect("fixture reads");
    assert!(
        parsed.bad.is_empty(),
        "{}: {:?}",
        path.display(),
        parsed.bad
    );
    assert!(!parsed.records.is_empty(), "{}", path.display());
    flag_events(&parsed.records, &RuleConfig::default())
        .into_iter()
        .map(|flag| flag.rule)
        .collect()
}

#[test]
fn each_rule_fires_on_its_positive_fixtures_and_not_on_its_negative_ones() {
    let mut checked = 0;
    for rule in Rule::ALL {
        for vendor in ["okta", "auth0"] {
            let positive = fixture(rule, &format!("{vendor}-positive"));
            if !positive.exists() {
                // Auth0 has no tenant-log event for vendor support access.
                assert_eq!((rule, vendor), (Rule::SupportAccessGranted, "auth0"));
                continue;
            }
            let fired = rules_fired(&positive);
            assert!(
                fired.contains(&rule),
                "{rule:?} on {}: {fired:?}",
                positive.display()
            );
            let negative = fixture(rule, &format!("{vendor}-negative"));
            let fired = rules_fired(&negative);
            assert!(
                !fired.contains(&rule),
                "{rule:?} on {}: {fired:?}",
                negative.display()
            );
            checked += 2;
        }
    }
    assert_eq!(
        checked, 50,
        "13 rules x 2 vendors x 2, less Auth0 support access"
    );
}

#[test]
fn thresholds_are_configuration() {
    let path = fixture(Rule::BruteForce, "auth0-negative");
    let parsed = ingest::read_path(
        &path,
        &ReadOptions::new("acme"),
        &mut TemplateMiner::default(),
    )
    .expect("reads");
    let strict = RuleConfig {
        brute_force_failures: 5,
        ..RuleConfig::default()
    };
    let flags = flag_events(&parsed.records, &strict);
    let flag = flags
        .iter()
        .find(|f| f.rule == Rule::BruteForce)
        .expect("five failures reach a threshold of five");
    assert_eq!(
        flag.records.len(),
        5,
        "the flag cites the records behind it"
    );
}
