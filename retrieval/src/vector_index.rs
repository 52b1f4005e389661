use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use embed::Embedder;
use vectors::{VectorFilter, VectorHit, VectorPoint, VectorStore};

use crate::error::{Result, RetrievalError};
use crate::query::Filters;
use crate::units::Unit;

/// Texts whose vectors are remembered across batches: windows of a quiet
/// service repeat the same lines minute after minute.
const CACHE_LIMIT: usize = 50_000;

/// The vector side of retrieval: an embedder and a vector store, with
/// identical texts embedded once.
pub struct VectorIndex {
    store: Box<dyn VectorStore>,
    embedder: Arc<dyn Embedder>,
    cache: Mutex<HashMap<String, Vec<f32>>>,
}

/// What one call to [`VectorIndex::index`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// Units stored.
    pub units: usize,
    /// Texts that went through the model (the rest were duplicates).
    pub embedded: usize,
    /// Time spent in the model.
    pub embedding_time: Duration,
}

impl VectorIndex {
    /// Units embedded by `embedder` and kept in `store`.
    pub fn new(store: Box<dyn VectorStore>, embedder: Arc<dyn Embedder>) -> Self {
        VectorIndex {
            store,
            embedder,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The vector store.
    pub fn store(&self) -> &dyn VectorStore {
        self.store.as_ref()
    }

    /// The embedder.
    pub fn embedder(&self) -> &dyn Embedder {
        self.embedder.as_ref()
    }

    /// Embeds the units' texts (each distinct text once) and stores them.
    pub fn index(&self, units: Vec<Unit>) -> Result<IndexStats> {
        if units.is_empty() {
            return Ok(IndexStats::default());
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let mut missing: Vec<String> = units
            .iter()
            .filter(|u| !cache.contains_key(&u.payload.text))
            .map(|u| u.payload.text.clone())
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let started = Instant::now();
        let vectors = self.embedder.embed(&missing)?;
        let embedding_time = started.elapsed();
        if cache.len() + missing.len() > CACHE_LIMIT {
            cache.clear();
        }
        let embedded = missing.len();
        let fresh: HashMap<String, Vec<f32>> = missing.into_iter().zip(vectors).collect();
        let mut points = Vec::with_capacity(units.len());
        for unit in units {
            let vector = fresh
                .get(&unit.payload.text)
                .or_else(|| cache.get(&unit.payload.text))
                .cloned()
                .ok_or_else(|| RetrievalError::Invariant("a unit lost its vector".into()))?;
            points.push(VectorPoint {
                key: unit.key,
                vector,
                payload: unit.payload,
            });
        }
        cache.extend(fresh);
        drop(cache);
        let stats = IndexStats {
            units: points.len(),
            embedded,
            embedding_time,
        };
        self.store.upsert(points)?;
        Ok(stats)
    }

    /// The units nearest to `text` within the tenant and filters.
    pub fn nearest(
        &self,
        tenant: &str,
        text: &str,
        filters: &Filters,
        limit: usize,
    ) -> Result<Vec<VectorHit>> {
        crate::error::require_tenant(tenant)?;
        let query = self
            .embedder
            .embed(&[text.to_string()])?
            .pop()
            .ok_or_else(|| RetrievalError::Invariant("no vector for the query".into()))?;
        Ok(self
            .store
            .search(&query, &vector_filter(tenant, filters), limit, false)?)
    }
}

/// The text store's filters in the vector store's terms.
pub fn vector_filter(tenant: &str, filters: &Filters) -> VectorFilter {
    VectorFilter {
        tenant: tenant.to_string(),
        services: filters.services.clone(),
        kinds: filters
            .kinds
            .iter()
            .map(|k| k.as_str().to_string())
            .collect(),
        severities: filters
            .severities
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
        from_ms: filters.time.from.map(|t| t.timestamp_millis()),
        to_ms: filters.time.to.map(|t| t.timestamp_millis()),
        ended_before_ms: None,
    }
}
