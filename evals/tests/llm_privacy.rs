//! Zero planted secrets in any outbound LLM payload, across the bundled
//! incident and a generated scenario of every family. The scripted model
//! is as leaky as a model can be: it searches for secrets, reads the whole
//! timeline, and echoes every tool result back in its answer.

use std::path::Path;

use agent::scripted_llm::{Script, ScriptedLlm};
use agent::{Audience, LlmAgent, LlmClient, LlmConfig, Prompts};
use evals::{Case, Family, GenOptions, bundled_incident_dir, generate};
use ingest::{ReadOptions, TemplateMiner};
use privacy::AuditLog;
use retrieval::{Stores, TextStore};
use serde_json::{Value, json};

/// Each a different kind of secret or personal data, in shapes logs carry.
const PLANTED: [&str; 8] = [
    "planted.user@example.org",
    "198.18.7.201",
    "AKIAPLANTED7EXAMPLE9",
    "ghp_PlantedToken0123456789abcdefghijABCD",
    "sk_live_PlantedStripe0123456789",
    "Pl4nted-Passw0rd",
    "+1 415-555-0199",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlUGxhbnRlZA",
];

fn planted_log(dir: &Path, ts: &str) {
    std::fs::create_dir_all(dir).expect("dir");
    std::fs::write(
        dir.join("support-tool.log"),
        format!(
            "{ts} ERROR support-tool login failed for {} from {} password={}\n\
             {ts} WARN support-tool exported key {} and token {} to a ticket\n\
             {ts} WARN support-tool stripe_key={} callback +1 415-555-0199\n\
             {ts} ERROR support-tool Authorization: Bearer {}\n",
            PLANTED[0], PLANTED[1], PLANTED[5], PLANTED[2], PLANTED[3], PLANTED[4], PLANTED[7]
        ),
    )
    .expect("write");
}

fn echo_everything(request: &Value) -> String {
    let everything: String = request["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_str())
        .collect::<Vec<_>>()
        .join(" ");
    json!({"answer": everything, "root_cause": "", "confidence": 0.0, "alternatives": [],
           "remediation": {"steps": [], "diff": "", "rollback": [], "verify": ""}})
    .to_string()
}

async fn check_case(case: &Case, scratch: &Path) {
    let truth = &case.truth;
    let stores = Stores::new(TextStore::in_memory().expect("store"), None);
    let mut miner = TemplateMiner::default();
    let parsed = ingest::read_path(&case.data, &ReadOptions::new(&truth.tenant), &mut miner)
        .expect("read case");
    let onset = parsed
        .records
        .iter()
        .filter_map(|r| r.ts)
        .max()
        .expect("timestamped records");
    let planted = scratch.join("planted");
    planted_log(&planted, &onset.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    let extra = ingest::read_path(&planted, &ReadOptions::new(&truth.tenant), &mut miner)
        .expect("read planted");
    stores.upsert(&parsed.records).expect("upsert");
    stores.upsert(&extra.records).expect("upsert");
    stores.commit().expect("commit");
    let server = ScriptedLlm::start(vec![
        Script::ToolCalls(vec![
            (
                "search".into(),
                json!({"query": "password key token Bearer stripe login failed"}),
            ),
            ("search".into(), json!({"query": truth.question})),
            ("timeline".into(), json!({})),
            (
                "similar_incidents".into(),
                json!({"symptoms": truth.question}),
            ),
        ]),
        Script::Content(String::new()),
        Script::Respond(Box::new(echo_everything)),
        Script::Content(json!({"verdicts": []}).to_string()),
    ])
    .await
    .expect("server");
    let agent = LlmAgent::new(
        LlmClient::new(LlmConfig::new(&server.base_url(), "scripted")),
        Prompts::bundled().expect("prompts"),
        AuditLog::new(&scratch.join("audit.jsonl")),
    );
    let answer = agent
        .ask(
            &stores,
            &truth.tenant,
            &truth.question,
            Audience::Channel,
            None,
        )
        .await
        .expect("answer");
    let requests = server.requests();
    assert!(requests.len() >= 3, "{}: the loop ran", truth.question);
    let wire: String = requests.iter().map(Value::to_string).collect();
    assert!(
        wire.contains("support-tool"),
        "{}: the planted records reached the tool results",
        truth.question
    );
    let shown = serde_json::to_string(&answer).expect("json");
    for secret in PLANTED {
        assert!(
            !wire.contains(secret),
            "{secret} left the process ({})",
            truth.question
        );
        assert!(
            !shown.contains(secret),
            "{secret} reached a channel ({})",
            truth.question
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_planted_secret_leaves_the_process_in_any_scenario() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let bundled = Case::load(&bundled_incident_dir()).expect("bundled case");
    check_case(&bundled, &scratch.path().join("bundled")).await;
    for family in Family::ALL {
        let dir = scratch.path().join(family.name());
        generate(
            &dir,
            &GenOptions {
                family,
                seed: 3,
                background_lines: 2000,
                tenant: "acme".into(),
            },
        )
        .expect("generate");
        let case = Case::load(&dir).expect("generated case");
        check_case(
            &case,
            &scratch.path().join(format!("{}-planted", family.name())),
        )
        .await;
    }
}
