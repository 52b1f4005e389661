//! Input written to hurt: each case has a documented behaviour
//! (docs/hostile-input.md) and keeps every good record around it.

use std::io::Write;
use std::path::Path;

use ingest::{Format, Parsed, ReadOptions, TemplateMiner};

fn read(path: &Path) -> Parsed {
    ingest::read_path(path, &ReadOptions::new("t"), &mut TemplateMiner::default())
        .expect("hostile input is reported, not an error")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write input");
    path
}

#[test]
fn a_decompression_bomb_stops_with_a_reason_and_keeps_what_came_before() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b"2026-03-02T10:00:00Z ERROR auth: signature verification failed\n")
        .expect("compress");
    // 80 MiB of one byte with no newline compresses about a thousand times.
    let block = vec![b'A'; 1 << 20];
    for _ in 0..80 {
        gz.write_all(&block).expect("compress");
    }
    let bytes = gz.finish().expect("compress");
    assert!(
        bytes.len() < 200 << 10,
        "the bomb is small: {}",
        bytes.len()
    );
    let parsed = read(&write(dir.path(), "app.log.gz", &bytes));

    assert_eq!(parsed.records.len(), 1, "the line before the bomb is kept");
    assert_eq!(parsed.bad.len(), 1, "{:?}", parsed.bad);
    assert_eq!(parsed.bad[0].origin.line, 2);
    assert!(
        parsed.bad[0].reason.contains("decompression bomb"),
        "{}",
        parsed.bad[0].reason
    );
}

#[test]
fn a_megabyte_of_json_nesting_is_one_bad_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = b"{\"ts\":\"2026-03-02T10:00:00Z\",\"msg\":\"before\"}\n".to_vec();
    text.extend(std::iter::repeat_n(b'[', 1_000_000));
    text.extend(b"\n{\"ts\":\"2026-03-02T10:00:01Z\",\"msg\":\"after\"}\n");
    let parsed = read(&write(dir.path(), "events.jsonl", &text));

    let bodies: Vec<&str> = parsed.records.iter().map(|r| r.body.as_str()).collect();
    assert_eq!(bodies, ["before", "after"]);
    assert_eq!(parsed.bad.len(), 1, "{:?}", parsed.bad);
    assert_eq!(parsed.bad[0].origin.line, 2);
    assert!(
        parsed.bad[0].reason.contains("recursion limit"),
        "{}",
        parsed.bad[0].reason
    );
}

#[test]
fn deep_nesting_in_whole_file_formats_is_reported_not_a_stack_overflow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nesting: Vec<u8> = std::iter::repeat_n(b'[', 1_000_000).collect();
    let mut object = b"{\"a\":".repeat(200_000);
    object.extend(b"1");
    for (name, bytes) in [
        ("plan.json", &nesting),
        ("object.json", &object),
        ("deploy.yaml", &nesting),
        ("main.tf", &nesting),
        ("runbook.md", &nesting),
    ] {
        let parsed = read(&write(dir.path(), name, bytes));
        assert!(
            !parsed.bad.is_empty() || !parsed.records.is_empty(),
            "{name}: either read or reported"
        );
        if name.ends_with(".json") {
            assert!(parsed.records.is_empty(), "{name}: nothing made up");
            assert!(
                parsed.bad[0].reason.contains("recursion limit"),
                "{name}: {:?}",
                parsed.bad
            );
        } else {
            assert!(!parsed.records.is_empty(), "{name}: read as text");
        }
    }
}

#[test]
fn markup_and_terminal_escapes_are_kept_verbatim_as_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "2026-03-02T10:00:00Z ERROR auth: <script>alert(1)</script> \u{1b}]0;owned\u{7}\u{1b}[2J user=<img src=x onerror=alert(2)>\n";
    let parsed = read(&write(dir.path(), "auth.log", text.as_bytes()));

    assert!(parsed.bad.is_empty(), "{:?}", parsed.bad);
    assert_eq!(parsed.records.len(), 1);
    let body = &parsed.records[0].body;
    assert!(body.contains("<script>alert(1)</script>"), "{body}");
    assert!(body.contains("\u{1b}]0;owned\u{7}"), "{body}");
}

#[test]
fn confusable_service_names_stay_distinct() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Latin "auth", then Cyrillic "а" (U+0430) + "uth", then a fullwidth form.
    let text = "{\"ts\":\"2026-03-02T10:00:00Z\",\"service\":\"auth\",\"msg\":\"a\"}\n\
                {\"ts\":\"2026-03-02T10:00:01Z\",\"service\":\"\u{430}uth\",\"msg\":\"b\"}\n\
                {\"ts\":\"2026-03-02T10:00:02Z\",\"service\":\"\u{ff41}uth\",\"msg\":\"c\"}\n";
    let parsed = read(&write(dir.path(), "events.jsonl", text.as_bytes()));

    let services: Vec<&str> = parsed.records.iter().map(|r| r.service.as_str()).collect();
    assert_eq!(services, ["auth", "\u{430}uth", "\u{ff41}uth"]);
    let ids: std::collections::BTreeSet<&str> =
        parsed.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 3, "no record passes for another");
}

#[test]
fn an_oversized_document_is_reported_without_being_parsed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("huge.yaml");
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(&b"key: value\n".repeat(10_000))
        .expect("write");
    // The rest is a hole: cheap to make, still read byte by byte.
    file.set_len(ingest::MAX_DOCUMENT_BYTES + 1)
        .expect("sparse file");
    let mut options = ReadOptions::new("t");
    options.format = Some(Format::ConfigDocument);
    let parsed = ingest::read_path(&path, &options, &mut TemplateMiner::default()).expect("reads");
    assert!(parsed.records.is_empty());
    assert!(
        parsed.bad[0].reason.contains("byte limit"),
        "{:?}",
        parsed.bad
    );
}
