//! Kill -9 in the middle of a large ingest, repeatedly: the store must open,
//! hold no duplicate and lose nothing, and a re-run must complete the job.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ingest::{ReadOptions, TemplateMiner};
use retrieval::{Filters, TextStore};

const LINES: usize = 130_000;

fn write_corpus(path: &Path) {
    let mut text = String::with_capacity(LINES * 80);
    for i in 0..LINES {
        text.push_str(&format!(
            "2026-11-20T{:02}:{:02}:{:02}Z INFO app{}: request {i} served in {} ms\n",
            10 + i / 36_000,
            (i / 600) % 60,
            (i / 10) % 60,
            i % 7,
            (i * 7919) % 900
        ));
    }
    std::fs::write(path, text).expect("write corpus");
}

fn ingest(home: &Path, input: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_oncall"))
        .arg("ingest")
        .arg(input)
        .env("ONCALL_HOME", home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("oncall starts")
}

fn stored_ids(home: &Path) -> Vec<String> {
    let store = TextStore::open(&home.join("text")).expect("the store opens after a kill");
    store
        .scan("default", &Filters::default(), LINES * 2)
        .expect("scan")
        .into_iter()
        .map(|r| r.id.to_string())
        .collect()
}

#[test]
fn sigkill_mid_ingest_loses_nothing_and_duplicates_nothing() {
    let home = tempfile::tempdir().expect("tempdir");
    let input = tempfile::tempdir().expect("tempdir");
    let corpus = input.path().join("app.log");
    write_corpus(&corpus);
    let options = ReadOptions::new("default");
    let expected: BTreeSet<String> =
        ingest::read_path(&corpus, &options, &mut TemplateMiner::default())
            .expect("read")
            .records
            .into_iter()
            .map(|r| r.id.to_string())
            .collect();
    assert_eq!(expected.len(), LINES);

    // Time one full run elsewhere, then kill at fractions of it, in a fixed
    // shuffled order, so the kills land mid-ingest however fast the machine.
    let reference = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    assert!(
        ingest(reference.path(), &corpus)
            .wait()
            .expect("reference run")
            .success()
    );
    let full_run = started.elapsed();
    let mut kills = 0;
    for fraction in [0.35, 0.1, 0.3, 0.2, 0.4] {
        let mut child = ingest(home.path(), &corpus);
        let deadline = Instant::now() + full_run.mul_f64(fraction);
        while Instant::now() < deadline {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        child.wait().expect("reaped");
        let ids = stored_ids(home.path());
        let unique: BTreeSet<String> = ids.iter().cloned().collect();
        assert_eq!(unique.len(), ids.len(), "no duplicate after kill {kills}");
        assert!(unique.is_subset(&expected), "only records of the input");
    }
    assert!(kills > 0, "at least one run was killed mid-ingest");

    let status = ingest(home.path(), &corpus).wait().expect("final run");
    assert!(status.success(), "a re-run completes");
    let ids = stored_ids(home.path());
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), LINES, "count matches the input");
    assert_eq!(
        unique, expected,
        "every input record is stored exactly once"
    );
    eprintln!("{kills} kills survived");
}
