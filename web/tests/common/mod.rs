//! Helpers shared by the web tests.

use retrieval::{Stores, TextStore};

/// In-memory stores holding, for each tenant, its files `(name, text)`,
/// read as the formats they are in.
pub fn stores_of(tenants: &[(&str, &[(&str, &str)])]) -> Stores {
    let stores = Stores::new(TextStore::in_memory().expect("store"), None);
    let mut miner = ingest::TemplateMiner::default();
    for (tenant, files) in tenants {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in *files {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        let parsed = ingest::read_path(dir.path(), &ingest::ReadOptions::new(tenant), &mut miner)
            .expect("read");
        stores.upsert(&parsed.records).expect("upsert");
    }
    stores.commit().expect("commit");
    stores
}
