//! Evidence mode on a corpus unlike the bundled incident: syslog, a git log,
//! no question time. The symptom repeats the change's words, which must
//! still count as a link.

use std::fmt::Write;

use agent::EvidenceEngine;
use ingest::{ReadOptions, TemplateMiner};
use retrieval::{Stores, TextStore};

fn corpus(dir: &std::path::Path) {
    let mut syslog = String::new();
    for i in 0..4000u32 {
        let (minute, second) = (i * 6 / 5 / 60, i * 6 / 5 % 60);
        let ts = format!(
            "2026-11-22T{:02}:{:02}:{second:02}.000Z",
            9 + minute / 60,
            minute % 60
        );
        writeln!(
            syslog,
            "<14>1 {ts} node-{} kubelet {} - - probe ok for pod search-{}",
            i % 3,
            100 + i % 7,
            i % 5
        )
        .expect("write");
        if minute >= 41 && i % 4 == 0 {
            writeln!(syslog, "<11>1 {ts} node-1 kernel - - - Memory cgroup out of memory: Killed process {} (gateway)", 2000 + i).expect("write");
        }
    }
    std::fs::write(dir.join("syslog"), syslog).expect("write");
    let git = format!(
        "commit {}\nAuthor: Dev <dev@example.com>\nDate:   Sun Nov 22 09:37:17 2026 +0000\n\n    gateway: lower memory limit to 128Mi\n\ncommit {}\nAuthor: Dev <dev@example.com>\nDate:   Sun Nov 22 09:05:00 2026 +0000\n\n    docs: update README\n",
        "a".repeat(40),
        "b".repeat(40)
    );
    std::fs::write(dir.join("git.log"), git).expect("write");
}

/// Stores holding every file under `path`, read without a bad line.
fn stores_of(path: &std::path::Path, tenant: &str) -> Stores {
    let parsed = ingest::read_path(
        path,
        &ReadOptions::new(tenant),
        &mut TemplateMiner::default(),
    )
    .expect("read");
    assert!(parsed.bad.is_empty(), "{:?}", parsed.bad);
    let stores = Stores::new(TextStore::in_memory().expect("store"), None);
    stores.upsert(&parsed.records).expect("upsert");
    stores.commit().expect("commit");
    stores
}

/// `api.jsonl`: 90 minutes from 09:00 of requests served by node-0..5,
/// and from 10:00 verify failures on node-4 alone.
fn write_api_failing_on_node_4(dir: &std::path::Path) {
    let mut api = String::new();
    for i in 0..5400u32 {
        let (minute, second) = (i / 60, i % 60);
        let ts = format!(
            "2026-11-22T{:02}:{:02}:{second:02}.000Z",
            9 + minute / 60,
            minute % 60
        );
        writeln!(
            api,
            r#"{{"ts":"{ts}","level":"info","msg":"verify served","service":"api","node":"node-{}"}}"#,
            i % 6
        )
        .expect("write");
        if minute >= 60 && i % 6 == 4 {
            writeln!(
                api,
                r#"{{"ts":"{ts}","level":"error","msg":"verify aborted: deadline exceeded","service":"api","node":"node-4"}}"#
            )
            .expect("write");
        }
    }
    std::fs::write(dir.join("api.jsonl"), api).expect("write");
}

#[test]
fn a_change_sharing_the_symptoms_words_is_the_linked_cause() {
    let dir = tempfile::tempdir().expect("tempdir");
    corpus(dir.path());
    let stores = stores_of(dir.path(), "t");
    let answer = EvidenceEngine::new(&stores)
        .ask("t", "why is the gateway being killed?")
        .expect("answer");
    let cause = answer.root_cause.expect("a cause");
    assert!(
        cause.statement.contains("lower memory limit"),
        "{}",
        cause.statement
    );
    assert!(
        cause.statement.contains("out of memory"),
        "{}",
        cause.statement
    );
    // Timing alone gives 0.6; the words "gateway" and "memory" are frequent
    // only because the incident repeats them, so they still link.
    assert!(
        cause.confidence > 0.8,
        "{} in {}",
        cause.confidence,
        answer.text
    );
    assert!(
        answer
            .alternatives
            .iter()
            .any(|a| a.contains("docs: update README"))
    );
}

/// A postmortem of an earlier incident with the same symptoms is cited, and
/// what resolved it becomes a remediation step.
#[test]
fn a_similar_past_incident_is_cited_with_its_resolution() {
    let dir = tempfile::tempdir().expect("tempdir");
    corpus(dir.path());
    std::fs::write(
        dir.path().join("postmortem-gateway-oom.md"),
        "# Postmortem: gateway pods killed by the kernel\n\n\
         Date: 2026-08-03\n\n\
         ## Summary\n\
         The kernel logged Memory cgroup out of memory: Killed process for the gateway for 40 minutes.\n\n\
         Root cause: a memory limit below the gateway's working set\n\
         Resolution: raised the gateway memory limit to 512Mi and added a memory alert\n",
    )
    .expect("write");
    let stores = stores_of(dir.path(), "t");
    let answer = EvidenceEngine::new(&stores)
        .ask("t", "why is the gateway being killed?")
        .expect("answer");
    let past = answer
        .citations
        .iter()
        .find(|c| c.kind == ingest::SourceKind::Knowledge)
        .unwrap_or_else(|| panic!("the postmortem is cited: {}", answer.text));
    assert!(answer.text.contains(&format!("[{}]", past.id)));
    assert!(
        answer.text.contains("gateway pods killed by the kernel"),
        "{}",
        answer.text
    );
    assert!(
        answer
            .remediation
            .steps
            .iter()
            .any(|s| s.contains("raised the gateway memory limit to 512Mi")),
        "{:?}",
        answer.remediation.steps
    );
}

/// A change naming a config resource whose before and after versions were
/// ingested gets a revert patch in its remediation.
#[test]
fn a_config_change_gets_a_revert_patch() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../evals/incidents/key-rotation-stale-jwks/data");
    let stores = stores_of(&data, "acme");
    let answer = EvidenceEngine::new(&stores)
        .ask("acme", "Why are users getting 401s since 14:05?")
        .expect("answer");
    let diff = answer.remediation.diff.expect("a revert patch");
    assert!(diff.starts_with("--- a/config/terraform/after/"), "{diff}");
    assert!(diff.contains("+++ b/config/terraform/before/"), "{diff}");
    assert!(diff.contains("auth_signing_key"), "{diff}");
    assert!(
        diff.lines()
            .any(|l| l.starts_with('-') && !l.starts_with("---"))
    );
}

/// Two postmortems in unlike templates (Google SRE headings; a free-form
/// report with a timeline table), years before the live logs: a history
/// question is answered from the matching one, not from the live window.
#[test]
fn a_history_question_is_answered_from_a_postmortem_years_older_than_the_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    corpus(dir.path());
    std::fs::create_dir_all(dir.path().join("postmortems")).expect("dir");
    std::fs::write(
        dir.path().join("postmortems/2019-registry.md"),
        "# Image registry quota exhausted\n\nDate: 2019-03-02\n\n## Summary\n\nBuilds failed for 2 hours: pushes to the registry were refused with quota exceeded.\n\n## Root causes\n\nThe registry bucket hit its storage quota because old layers were never garbage collected.\n\n## Resolution\n\nRan the registry garbage collector and raised the bucket quota to 2 TB.\n\n## Action items\n\n- Schedule garbage collection weekly.\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("postmortems/2021-dns.md"),
        "# Resolver outage took login down\n\nWe lost name resolution in the cluster on 2021-07-09.\n\n| time | event |\n|---|---|\n| 10:02 | coredns pods OOMKilled after the node pool upgrade |\n| 10:40 | raised coredns memory limit to 512Mi, resolution back |\n\nWhat fixed it: raising the coredns memory limit and pinning two replicas per zone.\n",
    )
    .expect("write");
    let stores = stores_of(dir.path(), "t");
    let engine = EvidenceEngine::new(&stores);
    let answer = engine
        .ask(
            "t",
            "pushes refused with quota exceeded by the registry, have we seen this before?",
        )
        .expect("answer");
    let text = agent::answer_text(&answer);
    assert!(
        text.starts_with("Evidence mode (history question)"),
        "{text}"
    );
    assert_eq!(
        answer.citations[0].origin.source, "postmortems/2019-registry.md",
        "{text}"
    );
    assert!(text.contains("garbage collector"), "{text}");

    let answer = engine
        .ask(
            "t",
            "coredns OOMKilled after a node pool upgrade: what fixed it last time?",
        )
        .expect("answer");
    let text = agent::answer_text(&answer);
    assert_eq!(
        answer.citations[0].origin.source, "postmortems/2021-dns.md",
        "{text}"
    );
    assert!(
        text.contains("raised coredns memory limit to 512Mi"),
        "{text}"
    );
}

/// A long report that mentions a question's words in passing loses to the
/// one whose title names the symptom, and its hard-wrapped prose is quoted
/// as whole sentences, not as the halves of lines.
#[test]
fn a_report_titled_by_the_symptom_wins_and_its_wrapped_prose_is_quoted_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("postmortems")).expect("dir");
    std::fs::write(
        dir.path().join("postmortems/2018-logins.md"),
        "# Deploy broke logins\n\nDate: 2018-05-02\n\n## Summary\n\nA deploy to the login service left the session cache empty, and logins failed\nfor an hour while builds of the fix queued.\n\n## Timeline\n\n- 10:02 logging shows sessions missing on two nodes\n- 10:20 disk space on the cache device checked, not the problem\n- 11:02 rollback deployed, logins back\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("postmortems/2019-disk.md"),
        "# No space left on device on build nodes\n\nDate: 2019-01-10\n\n## Summary\n\nDocker image layers filled the\nnodes' disks and builds failed.\nWe cordoned the nodes and\nrecreated the node pool with larger disks.\n",
    )
    .expect("write");
    let stores = stores_of(dir.path(), "t");
    let answer = EvidenceEngine::new(&stores)
        .ask(
            "t",
            "nodes logging no space left on device and builds failing: have we had disk problems before?",
        )
        .expect("answer");
    let text = agent::answer_text(&answer);
    assert_eq!(
        answer.citations[0].origin.source, "postmortems/2019-disk.md",
        "{text}"
    );
    assert!(
        text.contains("We cordoned the nodes and recreated the node pool with larger disks."),
        "{text}"
    );
}

/// The failing records concentrate on one node and one upstream; the
/// answer names both with their shares, from the records themselves.
#[test]
fn a_diagnosis_names_the_values_that_concentrate_the_failures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::new();
    for i in 0..3000u32 {
        let (minute, second) = (i / 50, i % 50);
        let ts = format!("2026-11-22T10:{minute:02}:{second:02}.000Z");
        let node = format!("node-{}", i % 6);
        writeln!(
            log,
            r#"{{"ts":"{ts}","level":"info","msg":"request served","node":"{node}","route":"/token"}}"#
        )
        .expect("write");
        if minute >= 40 && i % 3 == 0 {
            writeln!(
                log,
                r#"{{"ts":"{ts}","level":"error","msg":"upstream timed out","node":"node-4","upstream":"10.8.44.12:8080","route":"/token"}}"#
            )
            .expect("write");
        }
    }
    std::fs::write(dir.path().join("api.jsonl"), log).expect("write");
    let stores = stores_of(dir.path(), "t");
    let answer = EvidenceEngine::new(&stores)
        .ask("t", "token endpoint timing out since 10:40?")
        .expect("answer");
    assert!(answer.text.contains("Concentrated on"), "{}", answer.text);
    // The reader files a `node` field as the record's host.
    assert!(
        answer.text.contains("host=node-4 (100 %"),
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("upstream=10.8.44.12:8080 (100 %"),
        "{}",
        answer.text
    );
}

/// A failure that is no change of ours: the api's requests time out on one
/// node whose kernel reports hung tasks, and a deploy of the same service
/// two minutes before the onset is a decoy. The deploy is ruled out with
/// its reason, the node's own warnings are quoted from their source, and
/// the remediation drains the node instead of rolling back.
#[test]
fn a_decoy_deploy_on_the_same_service_is_ruled_out_and_the_node_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_api_failing_on_node_4(dir.path());
    let mut journal = String::new();
    for i in 0..5400u32 {
        let (minute, second) = (i / 60, i % 60);
        let ts = format!(
            "2026-11-22T{:02}:{:02}:{second:02}.000Z",
            9 + minute / 60,
            minute % 60
        );
        if minute >= 58 && second == 0 {
            writeln!(
                journal,
                "{ts} node-4 kernel: INFO: task jbd2/nvme1n1p1-8:{} blocked for more than 122 seconds.",
                400 + minute
            )
            .expect("write");
        }
        if second == 30 {
            writeln!(journal, "{ts} node-4 kubelet: probe ok").expect("write");
        }
    }
    std::fs::create_dir(dir.path().join("node-4")).expect("mkdir");
    std::fs::write(dir.path().join("node-4").join("journal.log"), journal).expect("write");
    std::fs::write(
        dir.path().join("deploys.jsonl"),
        r#"{"ts":"2026-11-22T09:58:00Z","change_id":"CHG-7","service":"api","summary":"bump tracing library"}"#,
    )
    .expect("write");
    let stores = stores_of(dir.path(), "t");
    let answer = EvidenceEngine::new(&stores)
        .ask(
            "t",
            "verify requests failing since 10:00 right after the deploy, roll back?",
        )
        .expect("answer");
    let cause = answer.root_cause.expect("a cause");
    assert!(!cause.statement.contains("bump tracing"), "{}", answer.text);
    assert!(
        cause.statement.contains("blocked for more than") && cause.statement.contains("node-4"),
        "the node's own warning leads: {}",
        cause.statement
    );
    let decoy = answer
        .alternatives
        .iter()
        .find(|a| a.contains("bump tracing library"))
        .unwrap_or_else(|| panic!("decoy not discussed: {:?}", answer.alternatives));
    assert!(
        decoy.contains("ruled out") && decoy.contains("shares no terms"),
        "{decoy}"
    );
    assert!(
        answer.text.contains("host=node-4 (100 %"),
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("On host=node-4:") && answer.text.contains("blocked for more than"),
        "{}",
        answer.text
    );
    assert!(
        answer
            .remediation
            .steps
            .iter()
            .any(|s| s.starts_with("Cordon and drain node node-4 so api")),
        "{:?}",
        answer.remediation.steps
    );
}

/// A cause hours before the onset that shares no word with the symptoms
/// but names where they concentrate: a console edit (CloudTrail) revoking
/// the database rule for one subnet, while a deploy of the failing service
/// three minutes before the onset is the decoy.
#[test]
fn a_change_naming_the_implicated_network_is_linked_across_hours() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut api = String::new();
    for i in 0..6000u32 {
        let (minute, second) = (i / 50, i % 50);
        let ts = format!(
            "2026-03-24T{:02}:{:02}:{second:02}.000Z",
            6 + minute / 60,
            minute % 60
        );
        let subnet = 1 + i % 3;
        let node = format!("ip-10-30-{subnet}-{}", 10 + i % 7);
        let (level, msg) = if minute >= 100 && subnet == 3 {
            (
                "error",
                "connection is not available, request timed out after 5000ms",
            )
        } else {
            ("info", "session refreshed")
        };
        writeln!(
            api,
            r#"{{"ts":"{ts}","level":"{level}","msg":"{msg}","service":"session-api","k8s_node":"{node}"}}"#
        )
        .expect("write");
    }
    std::fs::write(dir.path().join("session-api.jsonl"), api).expect("write");
    std::fs::write(
        dir.path().join("cloudtrail.json"),
        // Pretty-printed, as CloudTrail exports are.
        r#"{"Records":[
{"eventTime":"2026-03-24T00:47:13Z","eventSource":"ec2.amazonaws.com","eventName":"RevokeSecurityGroupIngress","readOnly":false,"userIdentity":{"userName":"m.okafor"},"requestParameters":{"groupId":"sg-0c3f","ipPermissions":{"items":[{"fromPort":5432,"ipRanges":{"items":[{"cidrIp":"10.30.3.0/24"}]}}]}}},
{"eventTime":"2026-03-24T01:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","readOnly":true,"userIdentity":{"userName":"ci"}}
]}"#,
    )
    .expect("write");
    std::fs::create_dir(dir.path().join("changes")).expect("mkdir");
    std::fs::write(
        dir.path().join("changes").join("deploys.jsonl"),
        r#"{"ts":"2026-03-24T07:37:00Z","service":"session-api","version":"12.3","by":"argocd","summary":"remember-device cookie"}"#,
    )
    .expect("write");
    let stores = stores_of(dir.path(), "t");
    let answer = EvidenceEngine::new(&stores)
        .ask(
            "t",
            "logins time out since 07:40, session-api 12.3 went out just before, is it that?",
        )
        .expect("answer");
    let cause = answer.root_cause.expect("a cause");
    assert!(
        cause.statement.contains("RevokeSecurityGroupIngress"),
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("it names 10.30.3.0/24"),
        "{}",
        answer.text
    );
    assert!(
        answer
            .alternatives
            .iter()
            .any(|a| a.contains("remember-device cookie") && a.contains("ruled out")),
        "{:?}",
        answer.alternatives
    );
}

/// A cause that writes no error: the disk of the node the failures
/// concentrate on saturates, seen only in a Prometheus range query saved
/// beside the logs, while a change to another service an hour earlier
/// shares a word with the symptom.
#[test]
fn a_metric_of_the_implicated_node_outweighs_a_change_linked_by_words_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let start = 1_795_338_000_i64; // 2026-11-22T09:00:00Z
    write_api_failing_on_node_4(dir.path());
    let series: Vec<String> = (0..6)
        .map(|node| {
            let values: Vec<String> = (0..180)
                .map(|step| {
                    let jitter = f64::from((step * 37 + node * 11) % 7) / 1000.0;
                    let busy = if node == 4 && step >= 114 { 0.98 } else { 0.05 };
                    format!("[{},\"{:.3}\"]", start + i64::from(step) * 30, busy + jitter)
                })
                .collect();
            format!(
                r#"{{"metric":{{"instance":"node-{node}:9100","job":"node-exporter"}},"values":[{}]}}"#,
                values.join(",")
            )
        })
        .collect();
    std::fs::create_dir(dir.path().join("metrics")).expect("mkdir");
    std::fs::write(
        dir.path().join("metrics").join("node_disk_busy_ratio.json"),
        format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{}]}}}}"#,
            series.join(",")
        ),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("deploys.jsonl"),
        r#"{"ts":"2026-11-22T09:05:00Z","change_id":"CHG-9","service":"billing","summary":"raise export deadline for invoices"}"#,
    )
    .expect("write");
    let stores = stores_of(dir.path(), "t");
    let answer = EvidenceEngine::new(&stores)
        .ask("t", "verify requests failing since 10:00, what broke?")
        .expect("answer");
    assert!(
        answer.text.contains(
            "Metric node_disk_busy_ratio rose from 0.053 to 0.983 from 09:57 UTC, 3 min before the onset in 1 of its 6 series, first instance=\"node-4:9100\""
        ),
        "{}",
        answer.text
    );
    let cause = answer.root_cause.expect("a cause");
    assert!(!cause.statement.contains("raise export"), "{}", answer.text);
    assert!(
        cause
            .statement
            .starts_with("Metric node_disk_busy_ratio rose from 0.053 to 0.983 on host=node-4"),
        "{}",
        cause.statement
    );
    assert!(
        answer
            .citations
            .iter()
            .any(|c| c.role == agent::EvidenceRole::Metric
                && c.origin.source == "metrics/node_disk_busy_ratio.json"),
        "{:?}",
        answer.citations
    );
    assert!(
        answer
            .alternatives
            .iter()
            .any(|a| a.contains("raise export deadline") && a.contains("ruled out")),
        "{:?}",
        answer.alternatives
    );
    assert!(
        answer.remediation.steps.iter().any(|s| s
            == "Verify node_disk_busy_ratio (instance=\"node-4:9100\", job=\"node-exporter\") returns to about 0.053 (it rose to 0.983)."),
        "{:?}",
        answer.remediation.steps
    );
}

/// Two failure patterns of one edge log, both from a partner's range that
/// spans many /24s: each is the other's failure, not its contrast, so the
/// range is named for both.
#[test]
fn a_range_shared_by_two_failure_patterns_is_named_by_its_network() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::new();
    for second in 0..5400u32 {
        let ts = format!(
            "2026/11/22 {:02}:{:02}:{:02}",
            9 + second / 3600,
            second / 60 % 60,
            second % 60
        );
        if second % 10 == 0 {
            writeln!(
                log,
                "{ts} [info] 31#31: *{second} client 81.2.{}.9 closed keepalive connection",
                second % 40
            )
            .expect("write");
        }
        if second >= 3600 && second % 2 == 0 {
            let (a, b) = (second * 7 % 250, second % 200 + 3);
            let pattern = if second % 4 == 0 {
                "while SSL handshaking"
            } else {
                "while sending response to client"
            };
            writeln!(
                log,
                "{ts} [info] 31#31: *{second} client timed out (110: Connection timed out) {pattern}, client: 172.22.{a}.{b}, server: 0.0.0.0:443"
            )
            .expect("write");
        }
    }
    std::fs::write(dir.path().join("error.log"), log).expect("write");
    let stores = stores_of(dir.path(), "t");
    let answer = EvidenceEngine::new(&stores)
        .ask("t", "login page hangs for one customer since 10:00, why?")
        .expect("answer");
    assert_eq!(
        answer
            .text
            .matches("in subnet 172.22.0.0/16 (100 %")
            .count(),
        2,
        "{}",
        answer.text
    );
}

/// Verify failures from 10:00, a consensus error first seen with them in
/// another source, and a change to another service that shares only a
/// word with the symptoms, made `lead_minutes` before the onset.
fn ask_with_a_words_only_change(lead_minutes: u32) -> agent::Answer {
    let dir = tempfile::tempdir().expect("tempdir");
    write_api_failing_on_node_4(dir.path());
    let mut consul = String::new();
    for minute in 0..90u32 {
        let hour = 9 + minute / 60;
        writeln!(
            consul,
            "2026-11-22T{hour:02}:{:02}:00.000Z [INFO ] agent: synced node info",
            minute % 60
        )
        .expect("write");
    }
    for at in ["09:59:50", "10:00:20", "10:00:50"] {
        writeln!(
            consul,
            "2026-11-22T{at}.000Z [ERROR] agent: Request error: error=\"No cluster leader\""
        )
        .expect("write");
    }
    std::fs::write(dir.path().join("consul.log"), consul).expect("write");
    // Minutes after 08:00.
    let made = 120 - lead_minutes;
    std::fs::write(
        dir.path().join("deploys.jsonl"),
        format!(
            r#"{{"ts":"2026-11-22T{:02}:{:02}:00Z","change_id":"CHG-7","service":"billing","summary":"billing: raise deadline for exports"}}"#,
            8 + made / 60,
            made % 60
        ),
    )
    .expect("write");
    let stores = stores_of(dir.path(), "t");
    EvidenceEngine::new(&stores)
        .ask("t", "verify requests failing since 10:00, what broke?")
        .expect("answer")
}

/// A change that shares only a word with the symptoms, to a service that
/// shows none, made long before the onset, yields to a failure first seen
/// as the symptoms begin; made minutes before, it stays the suspect.
#[test]
fn a_words_only_change_long_before_yields_to_a_failure_first_seen_at_the_onset() {
    let answer = ask_with_a_words_only_change(80);
    assert!(
        answer
            .text
            .contains("Likely cause, outside recorded changes: consul")
            && answer.text.contains("No cluster leader"),
        "{}",
        answer.text
    );
    assert!(
        answer
            .alternatives
            .iter()
            .any(|a| a.contains("raise deadline") && a.contains("ruled out")),
        "{:?}",
        answer.alternatives
    );
    let answer = ask_with_a_words_only_change(3);
    assert!(
        answer.text.contains("Likely root cause: change CHG-7"),
        "{}",
        answer.text
    );
}

/// Three endpoints of one service failing together: the two that follow
/// the first are stated in one line, each with its rates and citation.
#[test]
fn patterns_of_one_service_moving_together_are_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut api = String::new();
    for i in 0..5400u32 {
        let (minute, second) = (i / 60, i % 60);
        let ts = format!(
            "2026-11-22T{:02}:{:02}:{second:02}.000Z",
            9 + minute / 60,
            minute % 60
        );
        // Of different lengths, so that no template merges them.
        let call = ["login", "token exchange", "userinfo fetch for user"][(i % 3) as usize];
        let (level, outcome) = if minute >= 60 {
            ("error", "failed 503")
        } else {
            ("info", "ok")
        };
        writeln!(
            api,
            r#"{{"ts":"{ts}","level":"{level}","msg":"{call} {outcome}","service":"api"}}"#
        )
        .expect("write");
    }
    std::fs::write(dir.path().join("api.jsonl"), api).expect("write");
    let stores = stores_of(dir.path(), "t");
    let answer = EvidenceEngine::new(&stores)
        .ask("t", "api failing since 10:00?")
        .expect("answer");
    let grouped = answer
        .text
        .lines()
        .find(|l| l.starts_with("At the same time api shows new patterns "))
        .unwrap_or_else(|| panic!("{}", answer.text));
    assert_eq!(
        grouped.matches(" failed <*>\" (0.0/min before").count(),
        2,
        "{grouped}"
    );
    assert_eq!(grouped.matches("[r-").count(), 2, "{grouped}");
    assert!(
        !answer
            .text
            .contains("At the same time api shows a new pattern"),
        "{}",
        answer.text
    );
}

/// An undated patch to the failing service that shares a word with the
/// symptoms is no cause (it may be months old), while one naming the node
/// the failures concentrate on is.
#[test]
fn an_undated_patch_is_the_cause_only_when_it_names_an_implicated_entity() {
    let ask = |patch: &str| {
        let dir = tempfile::tempdir().expect("tempdir");
        write_api_failing_on_node_4(dir.path());
        std::fs::write(dir.path().join("api.diff"), patch).expect("write");
        let stores = stores_of(dir.path(), "t");
        EvidenceEngine::new(&stores)
            .ask("t", "verify requests failing since 10:00, what broke?")
            .expect("answer")
    };
    let header = "diff --git a/api/values.yaml b/api/values.yaml\n--- a/api/values.yaml\n+++ b/api/values.yaml\n@@ -1,2 +1,2 @@\n";
    let words_only = ask(&format!("{header}-deadline: 5s\n+deadline: 1s\n"));
    assert!(
        !words_only.text.contains("Likely root cause:"),
        "{}",
        words_only.text
    );
    assert!(
        words_only
            .alternatives
            .iter()
            .any(|a| a.contains("it carries no date and names no implicated entity")),
        "{:?}",
        words_only.alternatives
    );
    let naming = ask(&format!(
        "{header}-nodeSelector: node-3\n+nodeSelector: node-4\n"
    ));
    assert!(
        naming.text.contains("Likely root cause:") && naming.text.contains("it names node-4"),
        "{}",
        naming.text
    );
}

/// The steps a matching runbook lists under its actions, and those a
/// postmortem lists under its mitigation, join the remediation, cited;
/// its checks and follow-up action items do not.
#[test]
fn a_matching_runbook_or_postmortem_lends_its_action_steps() {
    let documents = [
        (
            "runbook-gateway-oom.md",
            "# Runbook: gateway killed by the kernel\n\n\
             ## Symptoms\n\
             - Memory cgroup out of memory: Killed process for the gateway.\n\n\
             ## Checks\n\
             1. Compare the gateway memory limit with its working set.\n\n\
             ## Actions\n\
             - Raise the gateway memory limit back to 512Mi,\n  then watch the OOM kills stop.\n\
             - Page the gateway owners if kills continue.\n",
            [
                "Raise the gateway memory limit back to 512Mi, then watch the OOM kills stop.",
                "Page the gateway owners if kills continue.",
            ],
        ),
        (
            "postmortem-gateway-oom.md",
            "# Postmortem: gateway out of memory\n\n\
             ## Summary\n\
             The kernel logged Memory cgroup out of memory: Killed process for the gateway.\n\n\
             ## Mitigation\n\
             1. Reverted the gateway memory limit.\n\
             2. Drained node-1.\n\n\
             ## Action items\n\
             - [ ] alert on gateway memory\n",
            ["Reverted the gateway memory limit.", "Drained node-1."],
        ),
    ];
    for (name, text, expected) in documents {
        let dir = tempfile::tempdir().expect("tempdir");
        corpus(dir.path());
        std::fs::write(dir.path().join(name), text).expect("write");
        let stores = stores_of(dir.path(), "t");
        let answer = EvidenceEngine::new(&stores)
            .ask("t", "why is the gateway being killed?")
            .expect("answer");
        let lent: Vec<&String> = answer
            .remediation
            .steps
            .iter()
            .filter(|s| s.contains("\" prescribes [r-"))
            .collect();
        assert_eq!(lent.len(), expected.len(), "{name}: {lent:?}");
        for (step, item) in lent.iter().zip(expected) {
            assert!(step.ends_with(item), "{name}: {step}");
            let id = step
                .split("[")
                .nth(1)
                .and_then(|rest| rest.split(']').next())
                .expect("a citation");
            assert!(
                answer.citations.iter().any(|c| c.id.to_string() == id),
                "{name}: {id} is cited"
            );
        }
        assert!(
            !answer
                .remediation
                .steps
                .iter()
                .any(|s| s.contains("alert on gateway memory")),
            "{name}: follow-up items are no remediation"
        );
    }
}

/// A warning of the implicated node is the outside cause when it began
/// after a quiet stretch before the onset; written from the start of the
/// data, it is how the node always is, and names no cause.
#[test]
fn an_entity_warning_is_a_cause_only_when_it_began_after_a_quiet_stretch() {
    let ask = |from_minute: u32| {
        let dir = tempfile::tempdir().expect("tempdir");
        write_api_failing_on_node_4(dir.path());
        let mut kernel = String::new();
        for minute in from_minute..90 {
            writeln!(
                kernel,
                r#"{{"ts":"2026-11-22T{:02}:{:02}:30.000Z","level":"warn","msg":"disk io stall detected","service":"kernel","node":"node-4"}}"#,
                9 + minute / 60,
                minute % 60
            )
            .expect("write");
        }
        std::fs::write(dir.path().join("kernel.jsonl"), kernel).expect("write");
        let stores = stores_of(dir.path(), "t");
        EvidenceEngine::new(&stores)
            .ask("t", "verify requests failing since 10:00, what broke?")
            .expect("answer")
    };
    let began = ask(50);
    assert!(
        began
            .text
            .contains("Likely cause, outside recorded changes: kernel \"disk io stall detected\" on host=node-4"),
        "{}",
        began.text
    );
    let always = ask(0);
    assert!(
        !always
            .text
            .contains("Likely cause, outside recorded changes: kernel"),
        "{}",
        always.text
    );
}
