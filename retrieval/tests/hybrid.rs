//! Both stores written together and searched by text, vector and hybrid,
//! with the embedded vector engine and the test-only hashing embedder.

use std::sync::Arc;

use embed::HashingEmbedder;
use ingest::{ReadOptions, Record, TemplateMiner, read_path};
use retrieval::{Filters, SearchMode, SearchQuery, Stores, TextStore, VectorIndex};
use vectors::EdgeStore;

fn records(tenant: &str, lines: &str) -> Vec<Record> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("gateway.log"), lines).expect("write");
    read_path(
        dir.path(),
        &ReadOptions::new(tenant),
        &mut TemplateMiner::default(),
    )
    .expect("read")
    .records
}

fn stores(dir: &std::path::Path) -> Stores {
    let embedder = Arc::new(HashingEmbedder::new(64));
    let vectors = EdgeStore::open(&dir.join("vectors"), "hashing", 64).expect("vectors");
    Stores::new(
        TextStore::open(&dir.join("text")).expect("text"),
        Some(VectorIndex::new(Box::new(vectors), embedder)),
    )
}

const GATEWAY: &str = "\
2026-11-20T14:05:01Z ERROR jwt validation failed: kid sig-2 not found in cached JWKS
2026-11-20T14:05:02Z ERROR jwt validation failed: kid sig-2 not found in cached JWKS
2026-11-20T14:05:03Z INFO request served path=/api/orders status=200
2026-11-20T14:07:00Z INFO cache warmed entries=512
";

fn query(tenant: &str, text: &str, filters: Filters) -> SearchQuery {
    SearchQuery {
        tenant: tenant.into(),
        text: text.into(),
        filters,
        limit: 10,
    }
}

#[test]
fn records_are_searchable_by_vector_only_after_commit_and_only_by_their_tenant() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stores = stores(dir.path());
    stores.upsert(&records("acme", GATEWAY)).expect("upsert");
    let before = stores
        .search(
            &query("acme", "kid not found in JWKS", Filters::default()),
            SearchMode::Vector,
        )
        .expect("search");
    assert!(before.is_empty(), "nothing is visible before commit");
    stores.commit().expect("commit");
    stores.upsert(&records("initech", GATEWAY)).expect("upsert");
    stores.commit().expect("commit");

    let hits = stores
        .search(
            &query("acme", "kid not found in JWKS", Filters::default()),
            SearchMode::Vector,
        )
        .expect("search");
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.record.tenant == "acme"));
    assert!(
        hits[0].record.body.contains("kid sig-2 not found"),
        "{:?}",
        hits[0].record.body
    );
    assert!(hits[0].ranks.similarity.is_some() && hits[0].ranks.vector == Some(1));

    let vectors = stores.vectors().expect("vector side");
    let per_tenant = vectors.store().count("acme").expect("count");
    assert_eq!(per_tenant, vectors.store().count("initech").expect("count"));
    assert!(
        per_tenant > 0 && per_tenant < 12,
        "units, not lines: {per_tenant}"
    );

    let nobody = stores.search(&query("", "kid", Filters::default()), SearchMode::Vector);
    assert!(nobody.is_err(), "a query without a tenant is refused");
}

#[test]
fn vector_hits_honour_the_filters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stores = stores(dir.path());
    stores.upsert(&records("acme", GATEWAY)).expect("upsert");
    stores.commit().expect("commit");
    let errors = Filters {
        severities: vec![ingest::Severity::Error],
        ..Filters::default()
    };
    let hits = stores
        .search(
            &query("acme", "request served cache warmed", errors),
            SearchMode::Vector,
        )
        .expect("search");
    assert!(!hits.is_empty());
    assert!(
        hits.iter()
            .all(|h| h.record.severity == ingest::Severity::Error)
    );
    let elsewhere = Filters {
        services: vec!["billing".into()],
        ..Filters::default()
    };
    let hits = stores
        .search(
            &query("acme", "jwt validation", elsewhere),
            SearchMode::Vector,
        )
        .expect("search");
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn hybrid_fuses_both_lists_and_reingest_adds_no_vectors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stores = stores(dir.path());
    let batch = records("acme", GATEWAY);
    stores.upsert(&batch).expect("upsert");
    stores.commit().expect("commit");
    let count = stores
        .vectors()
        .expect("vectors")
        .store()
        .count("acme")
        .expect("count");

    let text = stores
        .search(&query("acme", "jwks", Filters::default()), SearchMode::Text)
        .expect("text");
    let hybrid = stores
        .search(
            &query("acme", "jwks", Filters::default()),
            SearchMode::Hybrid,
        )
        .expect("hybrid");
    assert_eq!(
        text[0].record.id, hybrid[0].record.id,
        "agreeing lists keep their leader"
    );
    assert!(hybrid[0].ranks.text.is_some() && hybrid[0].ranks.vector.is_some());
    assert!(hybrid.len() >= text.len());
    assert!(hybrid.windows(2).all(|w| w[0].score >= w[1].score));

    stores.upsert(&batch).expect("again");
    stores.commit().expect("commit");
    let again = stores
        .vectors()
        .expect("vectors")
        .store()
        .count("acme")
        .expect("count");
    assert_eq!(count, again);
}

#[test]
fn text_only_stores_search_by_text_and_refuse_vector_mode() {
    let stores = Stores::new(TextStore::in_memory().expect("text"), None);
    stores.upsert(&records("acme", GATEWAY)).expect("upsert");
    stores.commit().expect("commit");
    let hybrid = stores
        .search(
            &query("acme", "jwks", Filters::default()),
            SearchMode::Hybrid,
        )
        .expect("hybrid falls back to text");
    assert_eq!(hybrid.len(), 2);
    assert!(
        stores
            .search(
                &query("acme", "jwks", Filters::default()),
                SearchMode::Vector
            )
            .is_err()
    );
}
