//! Fuzz harnesses: each feeds arbitrary bytes to one parser (every input
//! format, the format detector, gzip input, the JWT decoder, header layouts)
//! or to the privacy filter, and checks the invariants that must hold for
//! any input. A panic, a hang or a broken invariant is a finding.
//!
//! `scripts/fuzz` runs them under libFuzzer; `tests/replay.rs` replays the
//! seeds and every past finding on stable, in the workspace's test run.

use std::io::Write;
use std::path::PathBuf;
use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ingest::{Format, HeaderFormat, ReadOptions, TemplateMiner};
use privacy::{RedactionSession, Redactor};
use regex::Regex;

/// Every harness by name; each has a `fuzz_targets/<name>.rs` entry and a
/// `seeds/<name>/` corpus.
pub const TARGETS: [&str; 15] = [
    "jsonl",
    "access_log",
    "text",
    "syslog",
    "header",
    "terraform",
    "json",
    "config",
    "markdown",
    "changes",
    "detect",
    "gzip",
    "jwt",
    "privacy",
    "header_format",
];

/// Runs the harness `target` on `data`; panics on a finding, and on an
/// unknown target name.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "jsonl" => read_as(Format::JsonLines, data),
        "access_log" => read_as(Format::AccessLog, data),
        "text" => read_as(Format::PlainText, data),
        "syslog" => read_as(Format::Syslog, data),
        "header" => read_as(Format::Header, data),
        "terraform" => read_as(Format::Terraform, data),
        "json" => read_as(Format::JsonDocument, data),
        "config" => read_as(Format::ConfigDocument, data),
        "markdown" => read_as(Format::Markdown, data),
        "changes" => read_as(Format::ChangeLog, data),
        "detect" => detect(data),
        "gzip" => {
            read_file("input.log.gz", None, data);
        }
        "jwt" => jwt(data),
        "privacy" => privacy(data),
        "header_format" => header_format(data),
        other => panic!("no fuzz harness named {other}"),
    }
}

/// The layout of the `header` target, in the LogHub convention; compiled
/// once, as a run compiles it once.
static HEADER: LazyLock<HeaderFormat> = LazyLock::new(|| {
    HeaderFormat::parse("<Date> <Time> <Level> <Component>: <Content>")
        .expect("the fixed layout parses")
});

fn read_as(format: Format, data: &[u8]) {
    read_file("input", Some(format), data);
}

/// The detector sees a name too: the first byte picks its extension.
fn detect(data: &[u8]) {
    const NAMES: [&str; 12] = [
        "app.log",
        "events.json",
        "events.jsonl",
        "main.tf",
        "deploy.yaml",
        "config.toml",
        "nginx.conf",
        "runbook.md",
        "change.diff",
        "messages",
        "access.log.gz",
        "trace.txt",
    ];
    let Some((first, content)) = data.split_first() else {
        return;
    };
    read_file(NAMES[usize::from(*first) % NAMES.len()], None, content);
}

/// Reads `data` as the file `name` through the product's reader and checks
/// that what comes out is well formed.
fn read_file(name: &str, format: Option<Format>, data: &[u8]) -> Vec<ingest::Record> {
    let path = scratch_file(name, data);
    let mut options = ReadOptions::new("fuzz");
    options.format = format;
    if format == Some(Format::Header) {
        options.header = Some(HEADER.clone());
    }
    // An error is a valid outcome for hostile bytes; a panic is not.
    let parsed = ingest::read_path(&path, &options, &mut TemplateMiner::default());
    if let Some(folder) = path.parent() {
        // Best effort: a leftover scratch folder is harmless.
        let _ = std::fs::remove_dir_all(folder);
    }
    let Ok(parsed) = parsed else {
        return Vec::new();
    };
    for record in &parsed.records {
        assert_eq!(
            record.tenant, "fuzz",
            "every record belongs to the tenant read for"
        );
        assert!(!record.id.as_str().is_empty(), "every record has an id");
        assert!(record.origin.line >= 1, "lines count from 1");
    }
    for bad in &parsed.bad {
        assert!(!bad.reason.is_empty(), "bad input says why");
    }
    parsed.records
}

/// A file named `name` in a folder of its own (the name drives detection),
/// per process and thread, so parallel runs never share one.
fn scratch_file(name: &str, data: &[u8]) -> PathBuf {
    let folder = std::env::temp_dir().join(format!(
        "oncall-fuzz-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&folder).expect("scratch folder");
    let path = folder.join(name);
    let mut file = std::fs::File::create(&path).expect("scratch file");
    file.write_all(data).expect("scratch write");
    path
}

/// A raw JWT as the ingest side recognises one; none may be stored.
static RAW_JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*").expect("regex")
});

/// Builds a token whose header and claims are arbitrary bytes after `{"`
/// (so it looks like a JWT, as real ones start `eyJ`), puts it in an
/// authorization header and in the message of a JSON log line, and checks
/// that it is decoded or dropped, never stored raw.
fn jwt(data: &[u8]) {
    let split = data
        .iter()
        .position(|b| *b == 0xff)
        .unwrap_or(data.len() / 2);
    let (header, claims) = data.split_at(split);
    let part = |bytes: &[u8]| URL_SAFE_NO_PAD.encode([b"{\"".as_slice(), bytes].concat());
    let token = format!(
        "{}.{}.c2ln",
        part(header),
        part(claims.get(1..).unwrap_or_default())
    );
    let line = format!(
        "{{\"ts\":\"2026-01-01T00:00:00Z\",\"msg\":\"rejected Bearer {token}\",\"headers\":{{\"authorization\":\"Bearer {token}\"}}}}\n"
    );
    for record in read_file("trace.jsonl", Some(Format::JsonLines), line.as_bytes()) {
        assert!(
            !RAW_JWT.is_match(&record.body),
            "raw JWT in body: {}",
            record.body
        );
        let fields = format!("{:?}", record.fields);
        assert!(!RAW_JWT.is_match(&fields), "raw JWT in fields: {fields}");
    }
}

static REDACTOR: LazyLock<Redactor> =
    LazyLock::new(|| Redactor::new().expect("the privacy rules compile"));

/// Detections are ordered, disjoint and on character boundaries; redacting
/// then rehydrating gives the text back when it holds nothing that looks
/// like a placeholder.
fn privacy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut end = 0;
    for detection in REDACTOR.detect(&text) {
        assert!(
            detection.start >= end && detection.start < detection.end,
            "ordered, disjoint"
        );
        assert!(text.is_char_boundary(detection.start) && text.is_char_boundary(detection.end));
        end = detection.end;
    }
    let mut session = RedactionSession::default();
    let redacted = REDACTOR.redact(&text, &mut session);
    if !text.contains('<') {
        assert_eq!(session.rehydrate(&redacted.text), text, "round trip");
    }
}

/// The first line is a header layout, the rest lines to split with it.
fn header_format(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (layout, lines) = text.split_once('\n').unwrap_or((&text, ""));
    let Ok(header) = HeaderFormat::parse(layout) else {
        return;
    };
    for line in lines.lines() {
        if let Some(content) = header.content(line) {
            assert!(line.contains(content), "content is part of the line");
        }
        for (_, value) in header.split(line).unwrap_or_default() {
            assert!(line.contains(value), "each field is part of the line");
        }
    }
}
