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

#[test]
fn a_change_sharing_the_symptoms_words_is_the_linked_cause() {
    let dir = tempfile::tempdir().expect("tempdir");
    corpus(dir.path());
    let parsed = ingest::read_path(
        dir.path(),
        &ReadOptions::new("t"),
        &mut TemplateMiner::default(),
    )
    .expect("read");
    assert!(parsed.bad.is_empty(), "{:?}", parsed.bad);
    let mut stores = Stores::new(TextStore::in_memory().expect("store"), None);
    stores.upsert(&parsed.records).expect("upsert");
    stores.commit().expect("commit");
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
