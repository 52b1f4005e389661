//! Flow reconstruction on generated auth traces with known grouping:
//! Okta and Auth0 flows interleaved with gateway logs, users behind shared
//! IPs, retries and injected failures.

use evals::{FlowGenOptions, generate_flows, score_flows};

#[test]
fn generated_flows_are_regrouped_and_their_first_failures_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let truth = generate_flows(
        dir.path(),
        &FlowGenOptions {
            seed: 5,
            flows: 1500,
        },
    )
    .expect("generate");
    assert!(truth.events > 5000, "{}", truth.events);
    let scores = score_flows(dir.path()).expect("score");
    assert_eq!(
        scores.steps, scores.events,
        "every generated event is a flow step"
    );
    assert!(scores.pairwise_precision > 0.95, "{scores:?}");
    assert!(scores.pairwise_recall > 0.95, "{scores:?}");
    assert!(scores.failing_flows > 150, "{scores:?}");
    assert!(
        scores.first_failure_correct as f64 >= 0.95 * scores.failing_flows as f64,
        "{scores:?}"
    );
}

#[test]
fn flow_generation_is_deterministic_per_seed() {
    let (a, b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let options = FlowGenOptions {
        seed: 9,
        flows: 200,
    };
    generate_flows(a.path(), &options).expect("a");
    generate_flows(b.path(), &options).expect("b");
    for file in [
        "flows.json",
        "data/okta/system-log.jsonl",
        "data/edge-gateway/access.log",
    ] {
        assert_eq!(
            std::fs::read(a.path().join(file)).expect("a"),
            std::fs::read(b.path().join(file)).expect("b"),
            "{file}"
        );
    }
}
