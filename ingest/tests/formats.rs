//! One fixture per format in `testdata/`, read end to end: detection,
//! record count, kind, and the field that format exists to provide.

use std::path::Path;

use ingest::{Format, HeaderFormat, ReadOptions, Record, SourceKind, TemplateMiner};

fn read(name: &str, options: ReadOptions) -> (Option<Format>, Vec<Record>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name);
    let parsed = ingest::read_path(&path, &options, &mut TemplateMiner::default()).expect("reads");
    assert!(parsed.bad.is_empty(), "{name}: {:?}", parsed.bad);
    (parsed.files[0].1, parsed.records)
}

fn check(name: &str, format: Format, count: usize, kind: SourceKind, field: (&str, &str)) {
    let (detected, records) = read(name, ReadOptions::new("t"));
    assert_eq!(detected, Some(format), "{name}: detected format");
    assert_eq!(records.len(), count, "{name}: records");
    assert!(
        records.iter().all(|r| r.kind == kind),
        "{name}: kind {kind:?}"
    );
    let (key, value) = field;
    assert_eq!(
        records[0].field_str(key).as_deref(),
        Some(value),
        "{name}: field {key} of {:?}",
        records[0]
    );
    assert!(
        records
            .iter()
            .all(|r| r.kind != SourceKind::Log || r.template.is_some()),
        "{name}: log records have templates"
    );
}

#[test]
fn every_format_is_detected_and_read() {
    check(
        "okta_system_log.jsonl",
        Format::JsonLines,
        2,
        SourceKind::Auth,
        ("trace_id", "WbCj7aa"),
    );
    check(
        "auth0_tenant_logs.jsonl",
        Format::JsonLines,
        3,
        SourceKind::Auth,
        ("connection", "Username-Password-Authentication"),
    );
    check(
        "nginx_combined.log",
        Format::AccessLog,
        2,
        SourceKind::Log,
        ("http_status", "401"),
    );
    check(
        "envoy_access.jsonl",
        Format::JsonLines,
        2,
        SourceKind::Log,
        ("trace_id", "e-1"),
    );
    check(
        "kong_access.jsonl",
        Format::JsonLines,
        1,
        SourceKind::Log,
        ("jwt_kid", "k2"),
    );
    check(
        "syslog_5424.log",
        Format::Syslog,
        2,
        SourceKind::Log,
        ("route", "/userinfo"),
    );
    check(
        "syslog_3164.log",
        Format::Syslog,
        2,
        SourceKind::Log,
        ("pid", "4242"),
    );
    check(
        "app_text.log",
        Format::PlainText,
        2,
        SourceKind::Log,
        ("kid", "sig-2026-11b"),
    );
    check(
        "k8s_events.json",
        Format::JsonDocument,
        2,
        SourceKind::Log,
        ("reason", "BackOff"),
    );
    check(
        "terraform_plan.json",
        Format::JsonDocument,
        2,
        SourceKind::Change,
        ("address", "auth_signing_key.primary"),
    );
    check(
        "pagerduty_incidents.json",
        Format::JsonDocument,
        1,
        SourceKind::Incident,
        ("acknowledged_at", "2026-11-20T14:09:00Z"),
    );
    check(
        "opsgenie_alerts.json",
        Format::JsonDocument,
        1,
        SourceKind::Incident,
        ("incident_id", "42"),
    );
    check(
        "auth.tf",
        Format::Terraform,
        2,
        SourceKind::Config,
        ("attr.kid", "sig-2026-11b"),
    );
    check(
        "deployment.yaml",
        Format::ConfigDocument,
        2,
        SourceKind::Config,
        ("kind", "Deployment"),
    );
    check(
        "nginx.conf",
        Format::ConfigDocument,
        1,
        SourceKind::Config,
        ("server_name", "auth.example.com"),
    );
    check(
        "postmortem.md",
        Format::Markdown,
        3,
        SourceKind::Knowledge,
        ("time_to_resolve_min", "46"),
    );
    check(
        "git.log",
        Format::ChangeLog,
        2,
        SourceKind::Change,
        ("author", "J Doe <j@example.com>"),
    );
    check(
        "gateway.diff",
        Format::ChangeLog,
        1,
        SourceKind::Change,
        ("file", "gateway.yaml"),
    );
}

#[test]
fn header_format_reads_loghub_style_text() {
    let header =
        HeaderFormat::parse("<Date> <Time> <Level> <Component>: <Content>").expect("format");
    let options = ReadOptions {
        header: Some(header),
        ..ReadOptions::new("t")
    };
    let (detected, records) = read("spark_header.log", options);
    assert_eq!(detected, Some(Format::Header));
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[1].field_str("component").as_deref(),
        Some("storage.BlockManager")
    );
    assert_eq!(records[1].severity, ingest::Severity::Warn);
}

#[test]
fn raw_tokens_never_reach_a_record() {
    let (_, records) = read("kong_access.jsonl", ReadOptions::new("t"));
    let json = serde_json::to_string(&records).expect("json");
    assert!(
        !json.contains("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsyIn0"),
        "{json}"
    );
    assert_eq!(
        records[0].field_str("jwt_iss").as_deref(),
        Some("https://auth.example")
    );
}
