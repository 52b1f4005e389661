//! The LLM judge over the real wire: a scripted OpenAI-compatible server
//! on loopback grades root causes; its verdicts, the agreement with the
//! key-fact match, and what the judge was sent (filtered, audited).

use agent::scripted_llm::{Script, ScriptedLlm};
use agent::{LlmClient, LlmConfig};
use evals::{
    Answerer, Case, Family, GenOptions, JUDGE_PROMPT_VERSION, Judge, Summary, bundled_incident_dir,
    generate, run_case,
};
use privacy::AuditLog;
use serde_json::{Value, json};

fn verdict(correct: bool) -> Script {
    Script::Content(json!({"correct": correct, "reason": "scripted"}).to_string())
}

#[test]
fn judge_verdicts_are_scored_filtered_and_compared_with_key_facts() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime
        .block_on(ScriptedLlm::start(vec![
            verdict(true),
            verdict(true),
            Script::Content("this is not a verdict".into()),
        ]))
        .expect("server");
    let scratch = tempfile::tempdir().expect("tempdir");
    let audit = AuditLog::new(&scratch.path().join("judge.jsonl")).keeping_payloads();
    let judge = Judge::new(
        LlmClient::new(LlmConfig::new(&server.base_url(), "judge-model")),
        audit.clone(),
    );

    let bundled = Case::load(&bundled_incident_dir()).expect("bundled");
    let (_, right, _) = run_case(&bundled, None, Answerer::evidence(), Some(&judge)).expect("run");
    assert!(right.root_cause_correct);
    assert_eq!(right.judge_correct, Some(true));

    // A wrong answer the judge calls right: the two graders disagree.
    let dir = scratch.path().join("tls");
    generate(
        &dir,
        &GenOptions {
            family: Family::TlsExpiry,
            seed: 2,
            background_lines: 1500,
            tenant: "default".into(),
        },
    )
    .expect("generate");
    let mut wrong = Case::load(&dir).expect("case");
    wrong.truth.root_cause.key_facts = vec![vec!["connection pool".into()]];
    let (_, disagreed, _) =
        run_case(&wrong, None, Answerer::evidence(), Some(&judge)).expect("run");
    assert!(!disagreed.root_cause_correct);
    assert_eq!(disagreed.judge_correct, Some(true));

    // An unreadable verdict is no verdict, not a crash.
    let (_, unread, _) = run_case(&bundled, None, Answerer::evidence(), Some(&judge)).expect("run");
    assert_eq!(unread.judge_correct, None);

    let summary = Summary::of(&[right, disagreed, unread]);
    let agreement = summary.judge_agreement.expect("two graded cases");
    assert_eq!((agreement.cases, agreement.rate), (2, 0.5));
    assert_eq!(summary.judge_root_cause_accuracy.map(|e| e.mean), Some(1.0));

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(
        requests[0]["response_format"]["type"], "json_schema",
        "verdicts are schema-constrained"
    );
    let entries = audit.entries().expect("audit");
    assert_eq!(entries.len(), 3);
    let wire: String = requests.iter().map(Value::to_string).collect();
    for entry in &entries {
        assert_eq!(entry.destination, "judge:judge-model");
        assert_eq!(entry.prompt_version.as_deref(), Some(JUDGE_PROMPT_VERSION));
    }
    for secret in bundled.truth.planted.iter().chain(&wrong.truth.planted) {
        assert!(
            !wire.contains(secret.as_str()),
            "{secret} reached the judge"
        );
    }
}
