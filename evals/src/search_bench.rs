//! How fast search answers and how much the approximate vector index
//! loses, measured on whatever the stores hold (`oncall eval search`).

use std::time::Instant;

use chrono::Duration;
use ingest::Record;
use retrieval::{Filters, SearchMode, SearchQuery, Stores, TimeRange, vector_filter};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::generator::Rng;

/// Hits per query, as the agent asks.
const HITS: usize = 10;

/// Latency of one kind of query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// `text`, `vector` or `hybrid`.
    pub mode: String,
    /// Whether the queries carried filters.
    pub filtered: bool,
    /// Queries timed.
    pub queries: usize,
    /// Median milliseconds.
    pub p50_ms: f64,
    /// 95th percentile milliseconds.
    pub p95_ms: f64,
}

/// What `oncall eval search` reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchBench {
    /// The queries, so peers can run the very same ones.
    pub queries: Vec<SearchQuery>,
    /// Latency per mode, with and without filters.
    pub latencies: Vec<Latency>,
    /// Share of the exact top 10 the approximate index matches (a hit
    /// scoring at least the exact tenth counts: equal texts tie).
    pub ann_recall_at_10: Option<f64>,
    /// Vector units stored for the tenant.
    pub vector_units: Option<usize>,
}

/// Builds `count` queries from records picked at random: a few words of a
/// record's template, and for every other query a filter on its service,
/// its severity or the hour around it.
fn sample_queries(
    stores: &Stores,
    tenant: &str,
    count: usize,
    seed: u64,
) -> Result<Vec<SearchQuery>> {
    let Some((first, last)) = stores.text().time_bounds(tenant)? else {
        return Ok(Vec::new());
    };
    let span = (last - first).num_seconds().max(1) as u64;
    let mut rng = Rng::new(seed);
    let mut queries = Vec::with_capacity(count);
    let mut attempts = 0;
    while queries.len() < count && attempts < count * 5 {
        attempts += 1;
        let at = first + Duration::seconds(rng.below(span) as i64);
        // The records right after a random instant: data with gaps still
        // yields a record for every draw.
        let after = Filters {
            time: TimeRange {
                from: Some(at),
                to: None,
            },
            ..Filters::default()
        };
        let candidates = stores.text().scan(tenant, &after, 20)?;
        let Some(record) = candidates.get(rng.below(candidates.len() as u64) as usize) else {
            continue;
        };
        let text = query_words(record);
        if text.is_empty() {
            continue;
        }
        let filters = match queries.len() % 6 {
            1 => Filters {
                services: vec![record.service.clone()],
                ..Filters::default()
            },
            3 => Filters {
                severities: vec![record.severity],
                ..Filters::default()
            },
            5 => Filters {
                time: TimeRange::between(at - Duration::minutes(30), at + Duration::minutes(30)),
                ..Filters::default()
            },
            _ => Filters::default(),
        };
        queries.push(SearchQuery {
            tenant: tenant.to_string(),
            text,
            filters,
            limit: HITS,
        });
    }
    Ok(queries)
}

/// Up to five words of the record's template, placeholders dropped.
fn query_words(record: &Record) -> String {
    let source = record
        .template
        .as_ref()
        .map_or(record.body.as_str(), |t| t.text.as_str());
    source
        .split_whitespace()
        .filter(|w| !w.contains("<*>") && w.chars().any(char::is_alphabetic))
        .take(5)
        .collect::<Vec<_>>()
        .join(" ")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

/// Times `count` sampled queries per mode and measures the vector index's
/// recall@10 against exact search on the same vectors.
pub fn bench_search(stores: &Stores, tenant: &str, count: usize, seed: u64) -> Result<SearchBench> {
    let queries = sample_queries(stores, tenant, count, seed)?;
    let modes: &[SearchMode] = if stores.vectors().is_some() {
        &SearchMode::ALL
    } else {
        &[SearchMode::Text]
    };
    let mut latencies = Vec::new();
    for &mode in modes {
        for filtered in [false, true] {
            let mut millis = Vec::new();
            for query in queries
                .iter()
                .filter(|q| (q.filters != Filters::default()) == filtered)
            {
                let started = Instant::now();
                stores.search(query, mode)?;
                millis.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            millis.sort_by(f64::total_cmp);
            latencies.push(Latency {
                mode: mode.as_str().to_string(),
                filtered,
                queries: millis.len(),
                p50_ms: percentile(&millis, 0.5),
                p95_ms: percentile(&millis, 0.95),
            });
        }
    }
    let (ann_recall_at_10, vector_units) = match stores.vectors() {
        Some(index) => {
            let mut found = 0usize;
            let mut wanted = 0usize;
            for query in &queries {
                let Some(vector) = index
                    .embedder()
                    .embed(std::slice::from_ref(&query.text))
                    .map_err(retrieval::RetrievalError::from)?
                    .pop()
                else {
                    continue;
                };
                let filter = vector_filter(tenant, &query.filters);
                let store = index.store();
                let exact = store
                    .search(&vector, &filter, HITS, true)
                    .map_err(retrieval::RetrievalError::from)?;
                let approximate = store
                    .search(&vector, &filter, HITS, false)
                    .map_err(retrieval::RetrievalError::from)?;
                // Units with the same text have the same vector, so the
                // exact top 10 is one of many equally good sets: an
                // approximate hit counts when it scores as well as the
                // exact tenth.
                let Some(bar) = exact.last().map(|e| e.score - 1e-5) else {
                    continue;
                };
                wanted += exact.len();
                found += approximate
                    .iter()
                    .filter(|a| a.score >= bar)
                    .count()
                    .min(exact.len());
            }
            let units = index
                .store()
                .count(tenant)
                .map_err(retrieval::RetrievalError::from)?;
            (
                (wanted > 0).then(|| found as f64 / wanted as f64),
                Some(units),
            )
        }
        None => (None, None),
    };
    Ok(SearchBench {
        queries,
        latencies,
        ann_recall_at_10,
        vector_units,
    })
}
