//! A data directory that fills up or turns read-only mid-life: `oncall`
//! stops with a clear error, the store still opens holding only whole
//! commits, and once space is back a re-run completes the job.
//!
//! Needs a small filesystem of its own: a tmpfs mounted for the test (root
//! on Linux), sized from a run in a roomy directory to fill during the
//! third of the ingest's three commits. Where mounting is not allowed the
//! test says so and skips.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::{ingest_to_end, stored_ids, write_corpus};
use ingest::{ReadOptions, TemplateMiner};

const LINES: usize = 130_000;

/// A tmpfs mounted on a temporary directory, unmounted on drop.
struct SmallVolume {
    dir: tempfile::TempDir,
}

impl SmallVolume {
    fn mount(size: &str) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        mount(
            &["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"],
            dir.path(),
        )?;
        Ok(SmallVolume { dir })
    }

    fn remount(&self, options: &str) {
        mount(&["-o", &format!("remount,{options}")], self.dir.path())
            .expect("remount the test volume");
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallVolume {
    fn drop(&mut self) {
        // Best effort: a leftover mount point is visible and harmless.
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn mount(args: &[&str], at: &Path) -> Result<(), String> {
    let output = Command::new("mount")
        .args(args)
        .arg(at)
        .output()
        .map_err(|e| format!("mount: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}

fn skip(reason: &str) {
    if std::env::var_os("ONCALL_REQUIRE_TMPFS").is_some() {
        panic!("ONCALL_REQUIRE_TMPFS is set but no tmpfs could be mounted: {reason}");
    }
    eprintln!(
        "SKIPPED: cannot mount a small tmpfs for the data directory ({reason}); run as root on Linux to test a full and a read-only disk"
    );
}

fn expected_ids(corpus: &Path) -> BTreeSet<String> {
    ingest::read_path(
        corpus,
        &ReadOptions::new("default"),
        &mut TemplateMiner::default(),
    )
    .expect("read")
    .records
    .into_iter()
    .map(|r| r.id.to_string())
    .collect()
}

fn assert_clear_failure(output: &std::process::Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the run fails");
    assert_ne!(
        output.status.code(),
        Some(101),
        "a clean error, not a panic: {stderr}"
    );
    assert!(
        stderr.contains(expected),
        "the error names the cause: {stderr}"
    );
}

/// Bytes allocated on disk for the files under `dir`.
fn allocated_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let meta = entry.metadata().expect("metadata");
        total += if meta.is_dir() {
            allocated_bytes(&entry.path())
        } else {
            meta.blocks() * 512
        };
    }
    total
}

/// A volume size that holds the store after the first two commits of
/// [`LINES`] records but not the third: measured by ingesting one and two
/// batches into a roomy directory, plus a quarter of what a commit adds to
/// the text index (the vector index grows by whole preallocated files).
fn size_full_after_two_commits(scratch: &Path) -> u64 {
    let store_after = |batches: usize| {
        let corpus = scratch.join(format!("first-{batches}.log"));
        write_corpus(&corpus, batches * ingest::BATCH_RECORDS);
        let home = scratch.join(format!("home-{batches}"));
        let run = ingest_to_end(&home, &corpus);
        assert!(run.status.success(), "a roomy ingest completes");
        (allocated_bytes(&home), allocated_bytes(&home.join("text")))
    };
    let (_, text_one) = store_after(1);
    let (two, text_two) = store_after(2);
    two + text_two.saturating_sub(text_one) / 4
}

#[test]
fn a_full_then_read_only_data_directory_fails_cleanly_and_recovers() {
    let input = tempfile::tempdir().expect("tempdir");
    let size = size_full_after_two_commits(input.path());
    let volume = match SmallVolume::mount(&format!("{}k", size.div_ceil(1024))) {
        Ok(volume) => volume,
        Err(reason) => return skip(&reason),
    };
    let corpus = input.path().join("app.log");
    write_corpus(&corpus, LINES);
    let expected = expected_ids(&corpus);
    let home = volume.path().join("home");

    let full = ingest_to_end(&home, &corpus);
    assert_clear_failure(&full, "No space left on device");
    let ids = stored_ids(&home, LINES * 2);
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "no duplicate after a full disk");
    assert!(
        unique.is_subset(&expected),
        "only whole records of the input"
    );
    let before = ids.len();
    assert_eq!(
        before % ingest::BATCH_RECORDS,
        0,
        "whole commits only: {before}"
    );

    volume.remount("ro");
    let read_only = ingest_to_end(&home, &corpus);
    assert_clear_failure(&read_only, "Read-only file system");
    // Opening the store takes its write lock, so it is counted writable again.
    volume.remount("rw");
    assert_eq!(
        stored_ids(&home, LINES * 2).len(),
        before,
        "nothing changed"
    );

    volume.remount(&format!("size={}k", size.div_ceil(1024) * 4));
    let rerun = ingest_to_end(&home, &corpus);
    assert!(
        rerun.status.success(),
        "with space back a re-run completes: {}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let ids = stored_ids(&home, LINES * 2);
    let unique: BTreeSet<String> = ids.into_iter().collect();
    assert_eq!(unique, expected, "every record stored exactly once");
    eprintln!("disk full kept {before} of {LINES} records; the re-run stored all {LINES}");
}
