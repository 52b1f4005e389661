//! The text store's contract: tenant isolation, filters, visibility after
//! commit and idempotent upserts.

use chrono::{DateTime, Utc};
use ingest::{ReadOptions, Record, Severity, SourceKind};
use retrieval::{Filters, SearchQuery, TextStore, TimeRange};

const LINES: &str = "\
2026-11-20T14:00:00Z INFO gw: GET /userinfo ok
2026-11-20T14:05:00Z WARN gw: invalid_token kid=k2 not found
2026-11-20T14:06:00Z ERROR gw: invalid_token upstream failed
";

fn records(tenant: &str) -> Vec<Record> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("gateway.log"), LINES).expect("write");
    let options = ReadOptions::new(tenant);
    ingest::read_path(dir.path(), &options, &mut ingest::TemplateMiner::default())
        .expect("read")
        .records
}

fn query(tenant: &str, text: &str, filters: Filters) -> SearchQuery {
    SearchQuery {
        tenant: tenant.into(),
        text: text.into(),
        filters,
        limit: 10,
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("ts").to_utc()
}

#[test]
fn records_are_searchable_after_commit_and_not_before() {
    let store = TextStore::in_memory().expect("store");
    store.upsert(&records("acme")).expect("upsert");
    assert!(
        store
            .search(&query("acme", "invalid_token", Filters::default()))
            .expect("search")
            .is_empty()
    );
    store.commit().expect("commit");
    let hits = store
        .search(&query("acme", "invalid_token", Filters::default()))
        .expect("search");
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].why, vec!["invalid_token".to_string()]);
}

#[test]
fn tenants_never_see_each_other() {
    let store = TextStore::in_memory().expect("store");
    store.upsert(&records("acme")).expect("upsert");
    store.upsert(&records("globex")).expect("upsert");
    store.commit().expect("commit");
    for tenant in ["acme", "globex"] {
        let hits = store
            .search(&query(tenant, "invalid_token", Filters::default()))
            .expect("search");
        assert_eq!(hits.len(), 2);
        assert!(hits.iter().all(|h| h.record.tenant == tenant));
        assert_eq!(store.count(tenant, &Filters::default()).expect("count"), 3);
    }
    assert!(
        store
            .search(&query("initech", "invalid_token", Filters::default()))
            .expect("search")
            .is_empty()
    );
    for blank in ["", "  "] {
        assert!(
            matches!(
                store.search(&query(blank, "invalid_token", Filters::default())),
                Err(retrieval::RetrievalError::InvalidQuery(_))
            ),
            "a query without a tenant ({blank:?}) is the caller's error"
        );
    }
    let ids: Vec<_> = records("acme").into_iter().map(|r| r.id).collect();
    assert!(
        store.get("globex", &ids).expect("get").is_empty(),
        "ids of another tenant do not resolve"
    );
}

#[test]
fn filters_narrow_by_severity_kind_service_and_time() {
    let store = TextStore::in_memory().expect("store");
    store.upsert(&records("acme")).expect("upsert");
    store.commit().expect("commit");
    let severe = Filters {
        severities: vec![Severity::Error],
        ..Filters::default()
    };
    assert_eq!(
        store
            .search(&query("acme", "invalid_token", severe))
            .expect("search")
            .len(),
        1
    );
    let changes = Filters {
        kinds: vec![SourceKind::Change],
        ..Filters::default()
    };
    assert!(
        store
            .search(&query("acme", "invalid_token", changes))
            .expect("search")
            .is_empty()
    );
    let other_service = Filters {
        services: vec!["billing".into()],
        ..Filters::default()
    };
    assert!(
        store
            .search(&query("acme", "invalid_token", other_service))
            .expect("search")
            .is_empty()
    );
    let early = Filters {
        time: TimeRange::between(at("2026-11-20T14:00:00Z"), at("2026-11-20T14:05:30Z")),
        ..Filters::default()
    };
    let scanned = store.scan("acme", &early, 100).expect("scan");
    assert_eq!(
        scanned.len(),
        2,
        "the range is half-open and inclusive at its start"
    );
    assert!(
        scanned.windows(2).all(|w| w[0].ts <= w[1].ts),
        "scans are time-ordered"
    );
    assert_eq!(
        store.time_bounds("acme").expect("bounds"),
        Some((at("2026-11-20T14:00:00Z"), at("2026-11-20T14:06:00Z")))
    );
}

#[test]
fn upserting_the_same_records_twice_adds_nothing_and_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = TextStore::open(dir.path()).expect("store");
        store.upsert(&records("acme")).expect("upsert");
        store.commit().expect("commit");
        store.upsert(&records("acme")).expect("upsert again");
        store.commit().expect("commit");
        assert_eq!(store.count("acme", &Filters::default()).expect("count"), 3);
    }
    let reopened = TextStore::open(dir.path()).expect("reopen");
    assert_eq!(
        reopened.count("acme", &Filters::default()).expect("count"),
        3
    );
}

/// A long-running reader (the server) sees what another writer (an
/// `oncall ingest` process) committed once it refreshes.
#[test]
fn a_reader_sees_another_writers_commits_after_refresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reader = TextStore::open(dir.path()).expect("reader");
    let writer = TextStore::open(dir.path()).expect("writer");
    let written = records("acme");
    writer.upsert(&written).expect("upsert");
    writer.commit().expect("commit");
    let all = Filters::default();
    assert_eq!(
        reader.count("acme", &all).expect("count"),
        0,
        "stale before refresh"
    );
    reader.refresh().expect("refresh");
    assert_eq!(reader.count("acme", &all).expect("count"), written.len());
}

#[test]
fn retention_deletes_a_tenants_old_records_and_keeps_the_ingest_state() {
    let store = TextStore::in_memory().expect("store");
    let mut config = records("acme")[0].clone();
    config.id = ingest::RecordId("r-config".into());
    config.ts = None;
    config.kind = SourceKind::Config;
    store.upsert(&records("acme")).expect("upsert");
    store.upsert(&records("initech")).expect("upsert");
    store.upsert(&[config]).expect("upsert");
    store.commit_with(Some("{\"state\":1}")).expect("commit");

    let deleted = store
        .delete_before("acme", at("2026-11-20T14:05:30Z"))
        .expect("retention");
    assert_eq!(deleted, 2, "the 14:00 and 14:05 records");
    let left: Vec<String> = store
        .scan("acme", &Filters::default(), 10)
        .expect("scan")
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert_eq!(
        left.len(),
        2,
        "the 14:06 record and the undated config: {left:?}"
    );
    assert!(left.iter().any(|b| b.contains("upstream failed")));
    assert_eq!(
        store.count("initech", &Filters::default()).expect("count"),
        3
    );
    assert_eq!(
        store.payload().expect("payload").as_deref(),
        Some("{\"state\":1}")
    );
    assert_eq!(
        store
            .delete_before("acme", at("2026-11-20T14:05:30Z"))
            .expect("again"),
        0,
        "nothing left to expire"
    );
}
