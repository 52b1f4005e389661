//! One behaviour, two engines: the embedded engine always, a Qdrant server
//! when `QDRANT_URL` points at one.

use vectors::{
    CollectionLayout, EdgeStore, QdrantStore, UnitKind, UnitPayload, VectorError, VectorFilter,
    VectorPoint, VectorStore,
};

const DIM: usize = 4;

fn unit(tenant: &str, service: &str, severity: &str, start_ms: i64, ids: &[&str]) -> UnitPayload {
    UnitPayload {
        tenant: tenant.into(),
        unit: UnitKind::Window,
        services: vec![service.into()],
        kinds: vec!["log".into()],
        severities: vec![severity.into()],
        start_ms: Some(start_ms),
        end_ms: Some(start_ms + 59_000),
        record_ids: ids.iter().map(|s| s.to_string()).collect(),
        text: format!("{service} {severity}"),
    }
}

fn point(key: &str, vector: [f32; DIM], payload: UnitPayload) -> VectorPoint {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    VectorPoint {
        key: key.into(),
        vector: vector.iter().map(|x| x / norm).collect(),
        payload,
    }
}

/// Loads two tenants and checks isolation, filters, ranking and upsert by key.
fn exercise(store: &dyn VectorStore, tenant_a: &str, tenant_b: &str) {
    store
        .upsert(vec![
            point(
                "a1",
                [1.0, 0.0, 0.0, 0.0],
                unit(tenant_a, "gateway", "error", 60_000, &["r-1"]),
            ),
            point(
                "a2",
                [0.9, 0.1, 0.0, 0.0],
                unit(tenant_a, "auth", "info", 120_000, &["r-2"]),
            ),
            point(
                "a3",
                [0.0, 1.0, 0.0, 0.0],
                unit(tenant_a, "gateway", "info", 180_000, &["r-3"]),
            ),
            point(
                "b1",
                [1.0, 0.0, 0.0, 0.0],
                unit(tenant_b, "gateway", "error", 60_000, &["r-9"]),
            ),
        ])
        .expect("upsert");
    store.flush().expect("flush");
    store.optimize().expect("optimize");
    let query = [1.0, 0.0, 0.0, 0.0];

    let all_a = store
        .search(&query, &VectorFilter::tenant(tenant_a), 10, false)
        .expect("search");
    let ids: Vec<&str> = all_a
        .iter()
        .map(|h| h.payload.record_ids[0].as_str())
        .collect();
    assert_eq!(ids, ["r-1", "r-2", "r-3"], "nearest first, tenant A only");
    assert!(all_a[0].score > 0.99 && all_a[2].score < 0.01);
    assert_eq!(store.count(tenant_a).expect("count"), 3);
    assert_eq!(store.count(tenant_b).expect("count"), 1);

    let b = store
        .search(&query, &VectorFilter::tenant(tenant_b), 10, true)
        .expect("search b");
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].payload.record_ids, ["r-9"]);

    let no_tenant = store.search(&query, &VectorFilter::default(), 10, false);
    assert!(
        matches!(no_tenant, Err(VectorError::NoTenant)),
        "{no_tenant:?}"
    );

    let gateway_only = VectorFilter {
        services: vec!["gateway".into()],
        ..VectorFilter::tenant(tenant_a)
    };
    let found = store
        .search(&query, &gateway_only, 10, false)
        .expect("services");
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|h| h.payload.services == ["gateway"]));

    let errors_only = VectorFilter {
        severities: vec!["error".into(), "fatal".into()],
        ..VectorFilter::tenant(tenant_a)
    };
    let found = store
        .search(&query, &errors_only, 10, false)
        .expect("severities");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].payload.record_ids, ["r-1"]);

    // Units overlapping [100s, 170s): the one from 120s, and the one from
    // 60s ends at 119s, inside the range.
    let window = VectorFilter {
        from_ms: Some(100_000),
        to_ms: Some(170_000),
        ..VectorFilter::tenant(tenant_a)
    };
    let mut found: Vec<String> = store
        .search(&query, &window, 10, false)
        .expect("time")
        .into_iter()
        .map(|h| h.payload.record_ids[0].clone())
        .collect();
    found.sort();
    assert_eq!(found, ["r-1", "r-2"]);

    // Same key again: replaced, not added.
    store
        .upsert(vec![point(
            "a1",
            [0.0, 0.0, 1.0, 0.0],
            unit(tenant_a, "gateway", "error", 60_000, &["r-1"]),
        )])
        .expect("re-upsert");
    assert_eq!(store.count(tenant_a).expect("count"), 3);
    let top = store
        .search(
            &[0.0, 0.0, 1.0, 0.0],
            &VectorFilter::tenant(tenant_a),
            1,
            false,
        )
        .expect("search moved");
    assert_eq!(top[0].payload.record_ids, ["r-1"]);
    assert!(top[0].score > 0.99);

    let wrong = store.upsert(vec![VectorPoint {
        key: "bad".into(),
        vector: vec![1.0; DIM + 1],
        payload: unit(tenant_a, "gateway", "info", 0, &["r-x"]),
    }]);
    assert!(
        matches!(wrong, Err(VectorError::Dimension { .. })),
        "{wrong:?}"
    );

    // Retention: units that ended before the cutoff go, in one tenant only.
    let expired = VectorFilter {
        ended_before_ms: Some(180_000),
        ..VectorFilter::tenant(tenant_a)
    };
    store.delete(&expired).expect("retention");
    store.flush().expect("flush");
    let kept: Vec<String> = store
        .search(&query, &VectorFilter::tenant(tenant_a), 10, false)
        .expect("search after retention")
        .into_iter()
        .map(|h| h.payload.record_ids[0].clone())
        .collect();
    assert_eq!(kept, ["r-3"], "a1 ended at 119 s and a2 at 179 s");
    assert_eq!(
        store.count(tenant_b).expect("count"),
        1,
        "the other tenant keeps its own"
    );
    assert!(
        store.delete(&VectorFilter::default()).is_err(),
        "a delete names its tenant"
    );
}

#[test]
fn the_embedded_engine_isolates_tenants_and_filters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EdgeStore::open(dir.path(), "test-model", DIM).expect("open");
    exercise(&store, "acme", "initech");
}

#[test]
fn the_embedded_engine_keeps_points_across_reopen_and_refuses_another_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = EdgeStore::open(dir.path(), "test-model", DIM).expect("open");
        store
            .upsert(vec![point(
                "k",
                [1.0, 0.0, 0.0, 0.0],
                unit("acme", "gw", "info", 0, &["r-1"]),
            )])
            .expect("upsert");
        store.flush().expect("flush");
    }
    let reopened = EdgeStore::open(dir.path(), "test-model", DIM).expect("reopen");
    assert_eq!(reopened.count("acme").expect("count"), 1);
    drop(reopened);
    let other = EdgeStore::open(dir.path(), "another-model", DIM);
    assert!(matches!(other, Err(VectorError::ModelMismatch { .. })));
}

#[test]
fn a_qdrant_server_behaves_like_the_embedded_engine() {
    let Ok(url) = std::env::var("QDRANT_URL") else {
        eprintln!(
            "SKIPPED: QDRANT_URL is not set (no Qdrant server binary is installable here); \
             set it to a server's gRPC address, e.g. http://localhost:6334, to run this test"
        );
        return;
    };
    let run = std::process::id();
    let collection = format!("oncall-test-{run}");
    let layout = CollectionLayout::default();
    let store = QdrantStore::connect(
        &url,
        std::env::var("QDRANT_API_KEY").ok(),
        &collection,
        DIM,
        layout,
    )
    .expect("connect");
    exercise(&store, &format!("acme-{run}"), &format!("initech-{run}"));
}

#[test]
fn an_unreachable_qdrant_server_is_a_clear_error() {
    let result = QdrantStore::connect(
        "http://127.0.0.1:9",
        None,
        "oncall",
        DIM,
        CollectionLayout::default(),
    );
    let error = result.err().expect("nothing listens on port 9");
    assert!(error.to_string().starts_with("qdrant server:"), "{error}");
}
