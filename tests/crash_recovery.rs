//! Kill -9 in the middle of a large ingest, repeatedly: the store must open,
//! hold no duplicate and lose nothing, and a re-run must complete the job.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{ingest, stored_ids, write_corpus};
use ingest::{ReadOptions, TemplateMiner};

const LINES: usize = 130_000;

#[test]
fn sigkill_mid_ingest_loses_nothing_and_duplicates_nothing() {
    let mut home = tempfile::tempdir().expect("tempdir");
    let input = tempfile::tempdir().expect("tempdir");
    let corpus = input.path().join("app.log");
    write_corpus(&corpus, LINES);
    let options = ReadOptions::new("default");
    let expected: BTreeSet<String> =
        ingest::read_path(&corpus, &options, &mut TemplateMiner::default())
            .expect("read")
            .records
            .into_iter()
            .map(|r| r.id.to_string())
            .collect();
    assert_eq!(expected.len(), LINES);

    // Time one full run elsewhere, then kill at random fractions of it, so
    // the kills land mid-ingest however fast the machine. The seed is printed
    // so a failing sequence can be replayed; ONCALL_CRASH_KILLS sets the count.
    let reference = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    assert!(
        ingest(reference.path(), &corpus)
            .wait()
            .expect("reference run")
            .success()
    );
    let full_run = started.elapsed();
    let runs: usize = std::env::var("ONCALL_CRASH_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let seed = std::env::var("ONCALL_CRASH_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| u64::from(std::process::id()));
    let mut random = seed;
    let mut kills = 0;
    let mut completed = 0;
    let mut stored_after_kills = Vec::new();
    for _ in 0..runs {
        // A linear congruential step is random enough to place a kill.
        random = random
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let fraction = 0.1 + 0.8 * ((random >> 11) as f64 / (1u64 << 53) as f64);
        let mut child = ingest(home.path(), &corpus);
        let deadline = Instant::now() + full_run.mul_f64(fraction);
        while Instant::now() < deadline {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let killed = child.try_wait().expect("wait").is_none();
        if killed {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        let status = child.wait().expect("reaped");
        let ids = stored_ids(home.path(), LINES * 2);
        let unique: BTreeSet<String> = ids.iter().cloned().collect();
        assert_eq!(unique.len(), ids.len(), "no duplicate after kill {kills}");
        assert!(unique.is_subset(&expected), "only records of the input");
        if killed {
            stored_after_kills.push(ids.len());
        } else {
            // Resumed runs finish: check the store whole, then start a new
            // one so every run still has something to be killed in.
            assert!(status.success(), "a resumed run completes");
            assert_eq!(unique, expected, "a completed store holds the input once");
            completed += 1;
            home = tempfile::tempdir().expect("tempdir");
        }
    }
    assert!(kills > 0, "at least one run was killed mid-ingest");

    let status = ingest(home.path(), &corpus).wait().expect("final run");
    assert!(status.success(), "a re-run completes");
    let ids = stored_ids(home.path(), LINES * 2);
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), LINES, "count matches the input");
    assert_eq!(
        unique, expected,
        "every input record is stored exactly once"
    );
    eprintln!(
        "crash recovery (seed {seed}): {kills} of {runs} runs killed mid-ingest, {completed} resumed runs completed a store; records stored after each kill: {stored_after_kills:?}; final store {} of {LINES}, 0 duplicates",
        ids.len()
    );
}
