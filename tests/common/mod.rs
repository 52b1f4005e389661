//! What the process-level store tests share: a generated corpus, the
//! `oncall ingest` child, and the ids a store holds.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use retrieval::{Filters, TextStore};

/// Writes `lines` timestamped log lines to `path`.
pub fn write_corpus(path: &Path, lines: usize) {
    let mut text = String::with_capacity(lines * 80);
    for i in 0..lines {
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

fn ingest_command(home: &Path, input: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oncall"));
    command.arg("ingest").arg(input).env("ONCALL_HOME", home);
    command
}

/// Starts `oncall ingest input` on the store in `home`, output dropped.
#[allow(dead_code, reason = "not every test binary kills its ingests")]
pub fn ingest(home: &Path, input: &Path) -> Child {
    ingest_command(home, input)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("oncall starts")
}

/// Runs `oncall ingest input` on the store in `home` to its end.
#[allow(dead_code, reason = "not every test binary reads the output")]
pub fn ingest_to_end(home: &Path, input: &Path) -> Output {
    ingest_command(home, input).output().expect("oncall runs")
}

/// Every record id in the text store of `home`; opening it must succeed.
pub fn stored_ids(home: &Path, at_most: usize) -> Vec<String> {
    let store = TextStore::open(&home.join("text")).expect("the store opens");
    store
        .scan("default", &Filters::default(), at_most)
        .expect("scan")
        .into_iter()
        .map(|r| r.id.to_string())
        .collect()
}
