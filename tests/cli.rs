//! End to end through the `oncall` binary: the demo, ingest with bad input,
//! idempotent re-ingest, search, ask, gen.

use std::path::Path;
use std::process::{Command, Output};

fn oncall(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oncall"))
        .args(args)
        .env("ONCALL_HOME", home)
        .env_remove("ONCALL_TENANT")
        .env_remove("ONCALL_REDACT_AT_REST")
        .output()
        .expect("oncall runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn demo_names_the_key_rotation_and_cites_gold_evidence() {
    let home = tempfile::tempdir().expect("tempdir");
    let output = oncall(home.path(), &["demo", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: agent::Answer = serde_json::from_str(&stdout(&output)).expect("answer json");
    let cause = answer
        .root_cause
        .as_ref()
        .expect("root cause")
        .statement
        .to_lowercase();
    assert!(
        cause.contains("rotate") && cause.contains("signing key") && cause.contains("jwks"),
        "{cause}"
    );
    let truth = evals::Case::load(&evals::bundled_incident_dir())
        .expect("bundled")
        .truth;
    let gold: Vec<_> = truth.evidence.iter().flat_map(|e| e.ids.iter()).collect();
    let cited = answer.cited_ids();
    assert!(
        cited.iter().any(|id| gold.contains(&id)),
        "cites gold evidence: {cited:?}"
    );
    let human = oncall(home.path(), &["demo"]);
    assert!(
        stdout(&human).contains("Likely root cause"),
        "{}",
        stdout(&human)
    );
}

#[test]
fn ingest_reports_bad_lines_keeps_good_ones_and_is_idempotent() {
    let home = tempfile::tempdir().expect("tempdir");
    let input = tempfile::tempdir().expect("tempdir");
    let mut bytes = b"2026-11-20T14:00:00Z INFO app: tick one\n".to_vec();
    bytes.extend_from_slice(b"2026-11-20T14:00:01Z INFO app: tick \xff\xfe broken\n");
    bytes.extend_from_slice(b"2026-11-20T14:00:02Z INFO app: tick two\n");
    std::fs::write(input.path().join("app.log"), bytes).expect("write");
    std::fs::write(
        input.path().join("events.jsonl"),
        "{\"ts\":\"2026-11-20T14:00:03Z\",\"msg\":\"tick three\"}\n{not json\n",
    )
    .expect("write");
    let path = input.path().to_str().expect("utf-8 path");

    let first = oncall(home.path(), &["ingest", path]);
    assert_eq!(
        first.status.code(),
        Some(3),
        "partial ingest has its own exit status"
    );
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains("app.log:2") && stderr.contains("UTF-8"),
        "{stderr}"
    );
    assert!(
        stderr.contains("events.jsonl:2") && stderr.contains("invalid JSON"),
        "{stderr}"
    );
    let quarantine =
        std::fs::read_to_string(home.path().join("quarantine/default/bad-input.jsonl"))
            .expect("quarantine written");
    assert_eq!(quarantine.lines().count(), 2);

    let count = || {
        let output = oncall(home.path(), &["search", "tick", "--json", "--limit", "50"]);
        assert!(output.status.success());
        serde_json::from_str::<Vec<serde_json::Value>>(&stdout(&output))
            .expect("hits")
            .len()
    };
    assert_eq!(count(), 3, "every good record is kept");
    let again = oncall(home.path(), &["ingest", path, "--json"]);
    assert!(again.status.success(), "nothing new, nothing bad");
    let summary: serde_json::Value = serde_json::from_str(&stdout(&again)).expect("summary json");
    assert_eq!(summary["up_to_date"], 2, "checkpoints show both files done");
    assert_eq!(count(), 3, "ingesting the same input twice adds nothing");

    let copy = tempfile::tempdir().expect("tempdir");
    for name in ["app.log", "events.jsonl"] {
        std::fs::copy(input.path().join(name), copy.path().join(name)).expect("copy");
    }
    let from_copy = oncall(
        home.path(),
        &["ingest", copy.path().to_str().expect("utf-8")],
    );
    assert_eq!(
        from_copy.status.code(),
        Some(3),
        "a copy has no checkpoint, so it is read again"
    );
    assert_eq!(
        count(),
        3,
        "the same content from elsewhere yields the same ids"
    );
}

#[test]
fn ask_without_data_explains_what_to_do() {
    let home = tempfile::tempdir().expect("tempdir");
    let output = oncall(home.path(), &["ask", "why 500s?"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("oncall ingest"));
}

#[test]
fn gen_writes_a_case_that_ask_can_answer() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let output = oncall(
        home.path(),
        &[
            "gen",
            "--family",
            "dns-misroute",
            "--seed",
            "5",
            "--lines",
            "2000",
            "--out",
            out.path().to_str().expect("utf-8"),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let case = evals::Case::load(&out.path().join("dns-misroute-5")).expect("case");
    let ingest = oncall(home.path(), &["ingest", case.data.to_str().expect("utf-8")]);
    assert!(
        ingest.status.success(),
        "{}",
        String::from_utf8_lossy(&ingest.stderr)
    );
    let answer = oncall(home.path(), &["ask", &case.truth.question, "--json"]);
    let answer: agent::Answer = serde_json::from_str(&stdout(&answer)).expect("answer json");
    let cause = answer
        .root_cause
        .expect("root cause")
        .statement
        .to_lowercase();
    assert!(cause.contains("dns"), "{cause}");
}

#[test]
fn eval_keeps_history_and_checks_against_the_accepted_baseline() {
    let home = tempfile::tempdir().expect("tempdir");
    let dataset = tempfile::tempdir().expect("tempdir");
    let path = dataset.path().join("small.jsonl");
    std::fs::write(
        &path,
        "{\"version\":1,\"split\":\"dev\",\"generate\":{\"family\":\"tls-expiry\",\"seed\":9,\"lines\":1500}}\n{\"version\":1,\"split\":\"test\",\"generate\":{\"family\":\"rate-limit\",\"seed\":9,\"lines\":1500}}\n",
    )
    .expect("write");
    let path = path.to_str().expect("utf-8");
    let first = oncall(
        home.path(),
        &[
            "eval",
            "--dataset",
            path,
            "--split",
            "dev",
            "--accept",
            "--json",
        ],
    );
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout(&first)).expect("json");
    assert_eq!(summary["cases"], 1);
    assert_eq!(summary["root_cause_accuracy"], 1.0);
    for key in [
        "recall_at_10",
        "citation_precision",
        "mrr",
        "ndcg_at_10",
        "latency_p95_secs",
    ] {
        assert!(summary[key].is_number(), "{key} in {summary}");
    }
    let report = home.path().join("report.html");
    let report_arg = report.to_str().expect("utf-8");
    let again = oncall(
        home.path(),
        &[
            "eval",
            "--dataset",
            path,
            "--split",
            "dev",
            "--check",
            "--report",
            report_arg,
        ],
    );
    assert!(
        again.status.success(),
        "the same run passes its own baseline: {}",
        String::from_utf8_lossy(&again.stderr)
    );
    let html = std::fs::read_to_string(&report).expect("report written");
    assert!(
        html.contains("tls-expiry-9") && html.contains("Gold root cause"),
        "per-case drill-down"
    );
    let runs = std::fs::read_dir(home.path().join("evals/runs"))
        .expect("runs")
        .count();
    assert_eq!(runs, 2, "every run is kept");
}

/// `eval --ablate` runs each configuration and shows them side by side: here
/// BM25-only evidence mode against an LLM (a scripted endpoint whose answers
/// are malformed, so every answer falls back and the table says so).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eval_ablate_puts_configurations_side_by_side() {
    use agent::scripted_llm::{Script, ScriptedLlm};
    let home = tempfile::tempdir().expect("tempdir");
    let dataset = home.path().join("one.jsonl");
    std::fs::write(
        &dataset,
        format!(
            "{{\"version\": 1, \"split\": \"test\", \"case\": \"{}\"}}\n",
            evals::bundled_incident_dir().display()
        ),
    )
    .expect("write");
    // Three LLM arms (the configured model, another model, another prompt
    // version), two requests each.
    let server = ScriptedLlm::start(
        (0..3)
            .flat_map(|_| {
                [
                    Script::Content(String::new()),
                    Script::Content("this is not the answer's JSON".into()),
                ]
            })
            .collect(),
    )
    .await
    .expect("server");
    let url = server.base_url();
    let prompts = home.path().join("prompts");
    std::fs::create_dir_all(&prompts).expect("mkdir");
    for entry in
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts")).expect("prompts")
    {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.contains(".v1.") {
            std::fs::copy(&path, prompts.join(name)).expect("copy");
            std::fs::copy(&path, prompts.join(name.replace(".v1.", ".v1b."))).expect("copy");
        }
    }
    let output = oncall(
        home.path(),
        &[
            "--vectors",
            "off",
            "--llm",
            "openai",
            "--llm-url",
            &url,
            "--llm-model",
            "scripted",
            "--prompts",
            prompts.to_str().expect("utf-8"),
            "eval",
            "--ablate",
            "--ablate-model",
            "other-model",
            "--ablate-prompts",
            "v1b",
            "--dataset",
            dataset.to_str().expect("utf-8"),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = stdout(&output);
    let header = table.lines().next().unwrap_or_default();
    for arm in [
        "evidence/text",
        "llm:scripted/v1",
        "llm:other-model/v1",
        "llm:scripted/v1b",
    ] {
        assert!(header.contains(arm), "{arm} in {table}");
    }
    let fallback = table
        .lines()
        .find(|l| l.starts_with("llm_fallback_rate"))
        .unwrap_or_default();
    assert!(fallback.contains("1.000 (+1.000)"), "{table}");
    let cause = table
        .lines()
        .find(|l| l.starts_with("root_cause_accuracy"))
        .unwrap_or_default();
    assert!(
        cause.contains("1.000 (+0.000)"),
        "evidence mode still answered: {table}"
    );
    let models: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r["model"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        models,
        [
            "scripted",
            "scripted",
            "other-model",
            "other-model",
            "scripted",
            "scripted"
        ]
    );
}

/// CI's smoke eval: the bundled incident and one generated case of every
/// family, in evidence mode, held to floors; and a run in which a planted
/// value reaches an outbound payload fails whatever its other scores.
#[test]
fn smoke_eval_meets_its_floors_and_a_leak_fails_the_run() {
    let home = tempfile::tempdir().expect("tempdir");
    let smoke = Path::new(env!("CARGO_MANIFEST_DIR")).join("evals/datasets/smoke.jsonl");
    let smoke = smoke.to_str().expect("utf-8");
    let run = oncall(
        home.path(),
        &[
            "eval",
            "--dataset",
            smoke,
            "--json",
            "--min",
            "root_cause_accuracy=0.85",
            "--min",
            "recall_at_10=0.6",
            "--min",
            "citations_resolve=1",
            "--min",
            "diff_apply_rate=0.9",
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout(&run)).expect("json");
    assert_eq!(summary["cases"], 9);
    assert_eq!(summary["leaks"], 0);

    let cases = tempfile::tempdir().expect("tempdir");
    let case = cases.path().join("leaky");
    let generated = oncall(
        home.path(),
        &[
            "gen",
            "--family",
            "dns-misroute",
            "--seed",
            "3",
            "--lines",
            "1500",
            "--out",
            cases.path().to_str().expect("utf-8"),
        ],
    );
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    std::fs::rename(cases.path().join("dns-misroute-3"), &case).expect("rename");
    let truth_path = case.join("truth.json");
    let mut truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&truth_path).expect("truth")).expect("json");
    // A value the filter cannot know is sensitive, and that every answer to
    // this case shows: the service at fault.
    truth["planted"]
        .as_array_mut()
        .expect("planted")
        .push("edge-gateway".into());
    std::fs::write(&truth_path, truth.to_string()).expect("write");
    let dataset = cases.path().join("leaky.jsonl");
    std::fs::write(
        &dataset,
        "{\"version\":1,\"split\":\"dev\",\"case\":\"leaky\"}\n",
    )
    .expect("write");
    let leaky = oncall(
        home.path(),
        &[
            "eval",
            "--dataset",
            dataset.to_str().expect("utf-8"),
            "--json",
            "--min",
            "citation_precision=1.01",
        ],
    );
    assert!(!leaky.status.success(), "a leak fails the run");
    let summary: serde_json::Value = serde_json::from_str(&stdout(&leaky)).expect("json");
    assert_eq!(summary["leaks"], 1);
    assert!(
        String::from_utf8_lossy(&leaky.stderr).contains("below floor"),
        "a floor no run can meet fails too"
    );
    assert!(String::from_utf8_lossy(&leaky.stderr).contains("privacy"));
}

/// `oncall flows --flags --json FILE...` prints one line per input event,
/// flagged or not and by which rules, so flags can be scored against any
/// labelled set; thresholds come from the `[rules]` table of the config.
#[test]
fn flows_flags_every_event_with_thresholds_from_the_config_file() {
    let home = tempfile::tempdir().expect("tempdir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("flows/tests/fixtures/brute_force/auth0-negative.jsonl");
    let fixture = fixture.to_str().expect("utf-8");
    let lines = |output: &Output| -> Vec<serde_json::Value> {
        stdout(output)
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    };
    let default = oncall(home.path(), &["flows", "--flags", "--json", fixture]);
    assert!(
        default.status.success(),
        "{}",
        String::from_utf8_lossy(&default.stderr)
    );
    let events = lines(&default);
    assert_eq!(events.len(), 6, "one line per input event");
    assert!(
        events.iter().all(|e| e["flagged"] == false),
        "5 failures are under the default 10"
    );
    let config = home.path().join("oncall.toml");
    std::fs::write(&config, "[rules]\nbrute_force_failures = 5\n").expect("write");
    let config = config.to_str().expect("utf-8");
    let strict = oncall(
        home.path(),
        &["--config", config, "flows", "--flags", "--json", fixture],
    );
    assert!(
        strict.status.success(),
        "{}",
        String::from_utf8_lossy(&strict.stderr)
    );
    let events = lines(&strict);
    let flagged: Vec<_> = events.iter().filter(|e| e["flagged"] == true).collect();
    assert_eq!(flagged.len(), 5, "the five failed logins, not the success");
    assert_eq!(flagged[0]["rules"][0], "brute_force");
    assert!(
        flagged[0]["origin"]
            .as_str()
            .is_some_and(|o| o.ends_with(":1"))
    );
    std::fs::write(home.path().join("bad.toml"), "[rules]\nbrute_force = 5\n").expect("write");
    let bad = home.path().join("bad.toml");
    let typo = oncall(
        home.path(),
        &[
            "--config",
            bad.to_str().expect("utf-8"),
            "flows",
            "--flags",
            fixture,
        ],
    );
    assert!(
        !typo.status.success(),
        "an unknown threshold is an error, not ignored"
    );
}

/// Runs `oncall args` on `home` and checks it succeeded.
fn succeeds(home: &Path, args: &[&str]) -> Output {
    let output = oncall(home, args);
    assert!(
        output.status.success(),
        "oncall {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A log file `auth.log` holding `text`, in a folder of its own.
fn auth_log(text: &str) -> (tempfile::TempDir, String) {
    let input = tempfile::tempdir().expect("tempdir");
    let log = input.path().join("auth.log");
    std::fs::write(&log, text).expect("write log");
    let path = log.to_str().expect("utf-8 path").to_string();
    (input, path)
}

#[test]
fn escape_sequences_in_logs_reach_the_terminal_as_visible_text() {
    let home = tempfile::tempdir().expect("tempdir");
    let (_input, log) = auth_log(
        "2026-03-02T10:00:00Z ERROR auth: token rejected \u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\n",
    );
    succeeds(home.path(), &["ingest", &log]);

    let found = succeeds(home.path(), &["search", "rejected"]);
    let shown = stdout(&found);
    assert!(
        shown.contains("token rejected \\u001b]0;owned\\u0007\\u001b[2J\\u009b31m"),
        "{shown}"
    );
    assert!(
        !shown
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "no raw control character: {shown:?}"
    );
}

#[test]
fn prune_deletes_records_past_the_retention_age_only() {
    let home = tempfile::tempdir().expect("tempdir");
    let (_input, log) = auth_log(
        "2026-03-01T10:00:00Z ERROR auth: token rejected old\n\
         2026-03-09T10:00:00Z ERROR auth: token rejected recent\n",
    );
    succeeds(home.path(), &["ingest", &log]);

    let pruned = succeeds(
        home.path(),
        &[
            "prune",
            "--older-than",
            "7d",
            "--now",
            "2026-03-10T00:00:00Z",
        ],
    );
    assert!(
        stdout(&pruned).starts_with("deleted 1 records"),
        "{}",
        stdout(&pruned)
    );
    let found = stdout(&oncall(
        home.path(),
        &["search", "rejected", "--mode", "text", "--json"],
    ));
    assert!(
        found.contains("recent") && !found.contains("old\""),
        "{found}"
    );

    succeeds(home.path(), &["ingest", &log]);
    let found = stdout(&oncall(
        home.path(),
        &["search", "rejected", "--mode", "text", "--json"],
    ));
    assert!(
        !found.contains("rejected old"),
        "a pruned record does not come back: {found}"
    );
}

/// Issue 19, finding 16: `--redact-at-rest` stores pseudonyms, never the
/// address, and keeps its key owner-only in the data directory.
#[test]
fn redaction_at_rest_stores_pseudonyms_only() {
    let home = tempfile::tempdir().expect("tempdir");
    let (_input, log) =
        auth_log("2026-03-02T10:00:00Z ERROR auth: token rejected for ana.lopez@example.com\n");
    succeeds(home.path(), &["--redact-at-rest", "ingest", &log]);
    let shown = stdout(&succeeds(home.path(), &["search", "rejected"]));
    assert!(shown.contains("<EMAIL:"), "{shown}");
    assert!(!shown.contains("ana.lopez"), "{shown}");
    assert!(home.path().join("keys/at-rest.key").is_file());
}
