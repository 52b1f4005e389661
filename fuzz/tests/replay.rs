//! Replays every seed and every past finding of the fuzz harnesses, so a
//! parser change that brings a crash back fails the ordinary test run.

use std::path::{Path, PathBuf};

fn corpus(dir: &str, target: &str) -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(target);
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    files.sort();
    files
}

#[test]
fn every_target_has_an_entry_point_and_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for target in oncall_fuzz::TARGETS {
        let entry = root.join("fuzz_targets").join(format!("{target}.rs"));
        assert!(entry.is_file(), "{} is missing", entry.display());
        assert!(!corpus("seeds", target).is_empty(), "no seeds for {target}");
    }
    let entries = std::fs::read_dir(root.join("fuzz_targets"))
        .expect("fuzz_targets")
        .count();
    assert_eq!(
        entries,
        oncall_fuzz::TARGETS.len(),
        "an entry point without a harness"
    );
}

#[test]
fn seeds_and_past_findings_replay_cleanly() {
    let mut replayed = 0;
    for target in oncall_fuzz::TARGETS {
        for file in corpus("seeds", target)
            .into_iter()
            .chain(corpus("regressions", target))
        {
            let data = std::fs::read(&file).expect("corpus file");
            oncall_fuzz::run(target, &data);
            replayed += 1;
        }
    }
    assert!(replayed >= oncall_fuzz::TARGETS.len());
}
