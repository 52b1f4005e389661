use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use ingest::{BadInput, IngestState, Record, RecordId, RecordSink, SinkError};

use crate::error::{Result, RetrievalError};
use crate::query::{Hit, Ranks, SearchMode, SearchQuery};
use crate::text_store::TextStore;
use crate::units::UnitBuilder;
use crate::vector_index::{IndexStats, VectorIndex};

/// Reciprocal rank fusion's damping constant (Cormack et al. use 60): a
/// record's fused score is the sum of `1 / (RRF_K + rank)` over the lists.
const RRF_K: f64 = 60.0;
/// Each retriever is asked for this many times the hits wanted, so fusion
/// has candidates to choose from.
const CANDIDATES_PER_HIT: usize = 3;
/// Records a vector hit may bring in.
const RECORDS_PER_VECTOR_HIT: usize = 6;

/// The text store and, when configured, the vector index, written together
/// by ingest and searched together by [`Stores::search`]. Shared by
/// reference: one ingest at a time may write while any number search.
pub struct Stores {
    text: TextStore,
    vectors: Option<VectorIndex>,
    pending: Mutex<UnitBuilder>,
    indexed: Mutex<IndexStats>,
}

impl Stores {
    /// Both stores; `vectors` is `None` for text-only retrieval.
    pub fn new(text: TextStore, vectors: Option<VectorIndex>) -> Self {
        Stores {
            text,
            vectors,
            pending: Mutex::default(),
            indexed: Mutex::default(),
        }
    }

    /// The full-text store.
    pub fn text(&self) -> &TextStore {
        &self.text
    }

    /// The vector index, when there is one.
    pub fn vectors(&self) -> Option<&VectorIndex> {
        self.vectors.as_ref()
    }

    /// Units and embeddings written by this handle so far.
    pub fn indexed(&self) -> IndexStats {
        *self.indexed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds records to the text store and groups the new ones into units
    /// for the vector store; both become visible at the next commit.
    pub fn upsert(&self, records: &[Record]) -> Result<()> {
        let added = self.text.upsert(records)?;
        if self.vectors.is_some() {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            for position in added {
                pending.add(&records[position]);
            }
        }
        Ok(())
    }

    /// Commits both stores.
    pub fn commit(&self) -> Result<()> {
        self.commit_with(None)
    }

    /// Vectors first, made durable, then the text commit carrying
    /// `payload` (the ingest checkpoint). A crash in between re-reads the
    /// batch on resume, and the units it makes again have the same keys.
    fn commit_with(&self, payload: Option<&str>) -> Result<()> {
        if let Some(vectors) = &self.vectors {
            let units = self
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .drain();
            let stats = vectors.index(units)?;
            vectors.store().flush()?;
            let mut indexed = self.indexed.lock().unwrap_or_else(PoisonError::into_inner);
            indexed.units += stats.units;
            indexed.embedded += stats.embedded;
            indexed.embedding_time += stats.embedding_time;
        }
        self.text.commit_with(payload)
    }

    /// Retention: deletes the tenant's records stamped before `cutoff` and
    /// the vector units that ended before it. Vectors go first; a crash in
    /// between leaves records whose units are gone, which a re-run removes.
    /// Returns the number of records deleted.
    pub fn delete_before(
        &self,
        tenant: &str,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize> {
        if let Some(vectors) = &self.vectors {
            let expired = vectors::VectorFilter {
                ended_before_ms: Some(cutoff.timestamp_millis()),
                ..vectors::VectorFilter::tenant(tenant)
            };
            vectors.store().delete(&expired)?;
            vectors.store().flush()?;
        }
        self.text.delete_before(tenant, cutoff)
    }

    /// Builds the vector store's approximate index after a bulk load
    /// (searches stay exact until then).
    pub fn optimize(&self) -> Result<()> {
        if let Some(vectors) = &self.vectors {
            vectors.store().optimize()?;
        }
        Ok(())
    }

    /// Ranked records for a query: BM25, nearest units mapped back to their
    /// records, or both fused by reciprocal rank.
    pub fn search(&self, query: &SearchQuery, mode: SearchMode) -> Result<Vec<Hit>> {
        let wanted = query.limit;
        let candidates = SearchQuery {
            limit: wanted.saturating_mul(CANDIDATES_PER_HIT).max(30),
            ..query.clone()
        };
        let mode = match (mode, &self.vectors) {
            (SearchMode::Vector, None) => return Err(RetrievalError::NoVectors),
            (SearchMode::Hybrid, None) => SearchMode::Text,
            (mode, _) => mode,
        };
        let text_hits = if mode == SearchMode::Vector {
            Vec::new()
        } else {
            self.text.search(&candidates)?
        };
        let vector_hits = match (mode, &self.vectors) {
            (SearchMode::Text, _) | (_, None) => Vec::new(),
            (_, Some(vectors)) => self.vector_records(vectors, &candidates)?,
        };
        let mut fused: HashMap<RecordId, (f64, Hit)> = HashMap::new();
        for (rank, mut hit) in text_hits.into_iter().enumerate() {
            hit.ranks.text = Some(rank + 1);
            let score = 1.0 / (RRF_K + (rank + 1) as f64);
            fused.insert(hit.record.id.clone(), (score, hit));
        }
        for (rank, hit) in vector_hits.into_iter().enumerate() {
            let score = 1.0 / (RRF_K + (rank + 1) as f64);
            let entry = fused
                .entry(hit.record.id.clone())
                .or_insert_with(|| (0.0, hit.clone()));
            entry.0 += score;
            entry.1.ranks.vector = Some(rank + 1);
            entry.1.ranks.similarity = hit.ranks.similarity;
        }
        let mut hits: Vec<(f64, Hit)> = fused.into_values().collect();
        hits.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| {
                    a.1.ranks
                        .text
                        .unwrap_or(usize::MAX)
                        .cmp(&b.1.ranks.text.unwrap_or(usize::MAX))
                })
                .then_with(|| a.1.record.id.as_str().cmp(b.1.record.id.as_str()))
        });
        Ok(hits
            .into_iter()
            .take(wanted)
            .map(|(score, mut hit)| {
                // Each mode keeps its own scale: BM25, cosine, or fused.
                hit.score = match mode {
                    SearchMode::Text => hit.score,
                    SearchMode::Vector => hit.ranks.similarity.unwrap_or(0.0),
                    SearchMode::Hybrid => score as f32,
                };
                hit
            })
            .collect())
    }

    /// Records behind the nearest units, in unit order, within the filters.
    fn vector_records(&self, vectors: &VectorIndex, query: &SearchQuery) -> Result<Vec<Hit>> {
        let units = query.limit.div_ceil(RECORDS_PER_VECTOR_HIT).max(10);
        let found = vectors.nearest(&query.tenant, &query.text, &query.filters, units)?;
        let mut seen = HashSet::new();
        let mut wanted: Vec<(RecordId, f32)> = Vec::new();
        for hit in &found {
            for id in hit.payload.record_ids.iter().take(RECORDS_PER_VECTOR_HIT) {
                if seen.insert(id.clone()) {
                    wanted.push((RecordId(id.clone()), hit.score));
                }
            }
        }
        let ids: Vec<RecordId> = wanted.iter().map(|(id, _)| id.clone()).collect();
        let similarity: HashMap<RecordId, f32> = wanted.into_iter().collect();
        let terms = self.text.analyze(&query.text)?;
        let mut hits = Vec::new();
        for record in self.text.get(&query.tenant, &ids)? {
            if !query.filters.matches(&record) {
                continue;
            }
            let why = self.text.matched_terms(&terms, &record)?;
            let similarity = similarity.get(&record.id).copied();
            hits.push(Hit {
                score: similarity.unwrap_or(0.0),
                why,
                ranks: Ranks {
                    similarity,
                    ..Ranks::default()
                },
                record,
            });
            if hits.len() >= query.limit {
                break;
            }
        }
        Ok(hits)
    }
}

/// Both stores as one ingest destination: each commit carries the ingest
/// state, so records, vectors, template ids and checkpoints stay consistent
/// across crashes.
impl RecordSink for &Stores {
    fn write(
        &mut self,
        records: Vec<Record>,
        _bad: &[BadInput],
    ) -> std::result::Result<(), SinkError> {
        Ok(self.upsert(&records)?)
    }

    fn commit(&mut self, state: &IngestState) -> std::result::Result<(), SinkError> {
        let payload = state.to_json()?;
        Ok(self.commit_with(Some(&payload))?)
    }
}
