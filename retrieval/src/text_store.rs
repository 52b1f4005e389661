use std::collections::{BTreeSet, HashSet};
use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;

use ingest::{BadInput, IngestState, Record, RecordId, RecordSink, SinkError};
use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery, TermSetQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};
use tracing::debug;

use crate::error::{Result, RetrievalError};
use crate::log_tokenizer::LogTokenizer;
use crate::query::{Filters, Hit, Ranks, SearchQuery};

const LOG_TOKENIZER: &str = "log";
/// Indexing memory; larger means fewer, bigger segments to merge.
const WRITER_HEAP_BYTES: usize = 192 << 20;

/// The full-text store: a tantivy index on disk.
///
/// Log text is tokenized on punctuation but keeps `_` inside words, so
/// identifiers such as `invalid_token` stay one searchable term. Every query
/// is scoped to one tenant at this layer.
pub struct TextStore {
    index: Index,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    /// Ids added since the last commit, which searches cannot see yet.
    pending: Mutex<HashSet<String>>,
    fields: StoreFields,
}

#[derive(Clone, Copy)]
struct StoreFields {
    id: Field,
    tenant: Field,
    kind: Field,
    service: Field,
    severity: Field,
    template_id: Field,
    trace_id: Field,
    http_status: Field,
    oauth_error: Field,
    ts: Field,
    body: Field,
    template: Field,
    field_values: Field,
    record: Field,
}

fn schema() -> (Schema, StoreFields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(LOG_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = StoreFields {
        id: builder.add_text_field("id", STRING | STORED),
        tenant: builder.add_text_field("tenant", STRING),
        kind: builder.add_text_field("kind", STRING | FAST),
        service: builder.add_text_field("service", STRING | FAST),
        severity: builder.add_text_field("severity", STRING | FAST),
        template_id: builder.add_text_field("template_id", STRING),
        trace_id: builder.add_text_field("trace_id", STRING),
        http_status: builder.add_text_field("http_status", STRING),
        oauth_error: builder.add_text_field("oauth_error", STRING),
        ts: builder.add_i64_field("ts", INDEXED | FAST),
        body: builder.add_text_field("body", text.clone()),
        template: builder.add_text_field("template", text.clone()),
        field_values: builder.add_text_field("field_values", text),
        record: builder.add_text_field("record", STORED),
    };
    (builder.build(), fields)
}

fn log_analyzer() -> Result<TextAnalyzer> {
    let tokenizer = LogTokenizer::default();
    let stop_words = StopWordFilter::new(Language::English)
        .ok_or_else(|| RetrievalError::Invariant("no English stop words".into()))?;
    Ok(TextAnalyzer::builder(tokenizer)
        .filter(RemoveLongFilter::limit(80))
        .filter(LowerCaser)
        .filter(stop_words)
        .filter(Stemmer::new(Language::English))
        .build())
}

impl TextStore {
    /// Opens the index in `dir`, creating it when absent.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| RetrievalError::DataDir {
            path: dir.to_path_buf(),
            source: e.into(),
        })?;
        let (schema, fields) = schema();
        let index = Index::open_or_create(MmapDirectory::open(dir)?, schema)?;
        Self::with_index(index, fields)
    }

    /// An index in memory, for tests and one-shot runs.
    pub fn in_memory() -> Result<Self> {
        let (schema, fields) = schema();
        Self::with_index(Index::create_in_ram(schema), fields)
    }

    fn with_index(index: Index, fields: StoreFields) -> Result<Self> {
        index.tokenizers().register(LOG_TOKENIZER, log_analyzer()?);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(TextStore {
            index,
            reader,
            writer: Mutex::new(None),
            pending: Mutex::new(HashSet::new()),
            fields,
        })
    }

    /// Sees what other processes committed since this store last looked (a
    /// server reads while `oncall ingest` writes). Cheap when nothing
    /// changed: the index's meta file is read and compared.
    pub fn refresh(&self) -> Result<()> {
        Ok(self.reader.reload()?)
    }

    /// Adds the records whose ids are not stored yet, so re-ingest is
    /// idempotent, and returns the positions of those it added. Nothing is
    /// visible to searches until [`TextStore::commit`].
    pub fn upsert(&self, records: &[Record]) -> Result<Vec<usize>> {
        let stored = self.stored_ids(records)?;
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(self.index.writer(WRITER_HEAP_BYTES)?);
        }
        let Some(writer) = guard.as_mut() else {
            return Ok(Vec::new());
        };
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let mut added = Vec::new();
        for (position, record) in records.iter().enumerate() {
            // Ids are content hashes: a known id is this very record.
            if stored.contains(record.id.as_str()) || !pending.insert(record.id.to_string()) {
                continue;
            }
            writer.add_document(self.document(record)?)?;
            added.push(position);
        }
        Ok(added)
    }

    /// Which of these records' ids are already committed. One set query per
    /// batch: deleting by id per record made every commit scan every segment.
    fn stored_ids(&self, records: &[Record]) -> Result<HashSet<String>> {
        let f = self.fields;
        let query = TermSetQuery::new(
            records
                .iter()
                .map(|r| Term::from_field_text(f.id, r.id.as_str())),
        );
        let searcher = self.reader.searcher();
        if searcher.search(&query, &Count)? == 0 {
            return Ok(HashSet::new());
        }
        let mut ids = HashSet::new();
        for address in searcher.search(&query, &DocSetCollector)? {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = doc.get_first(f.id).and_then(|v| v.as_str()) {
                ids.insert(id.to_string());
            }
        }
        Ok(ids)
    }

    fn document(&self, record: &Record) -> Result<TantivyDocument> {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, record.id.as_str());
        doc.add_text(f.tenant, &record.tenant);
        doc.add_text(f.kind, record.kind.as_str());
        doc.add_text(f.service, &record.service);
        doc.add_text(f.severity, record.severity.as_str());
        if let Some(ts) = record.ts {
            doc.add_i64(f.ts, ts.timestamp_millis());
        }
        doc.add_text(f.body, &record.body);
        if let Some(template) = &record.template {
            doc.add_text(f.template_id, &template.id);
            doc.add_text(f.template, &template.text);
        }
        for (name, field) in [
            ("trace_id", f.trace_id),
            ("http_status", f.http_status),
            ("oauth_error", f.oauth_error),
        ] {
            if let Some(value) = record.field_str(name) {
                doc.add_text(field, &value);
            }
        }
        let values: Vec<String> = searchable_values(record).collect();
        doc.add_text(f.field_values, values.join(" "));
        let json = serde_json::to_string(record)
            .map_err(|e| RetrievalError::StoredRecord(e.to_string()))?;
        doc.add_text(f.record, json);
        Ok(doc)
    }

    /// Makes every upserted record durable and visible to searches.
    pub fn commit(&self) -> Result<()> {
        self.commit_with(None)
    }

    /// Commits, storing `payload` atomically with the records: after a
    /// crash, [`TextStore::payload`] is the payload of the last commit.
    pub fn commit_with(&self, payload: Option<&str>) -> Result<()> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() && payload.is_some() {
            *guard = Some(self.index.writer(WRITER_HEAP_BYTES)?);
        }
        if let Some(writer) = guard.as_mut() {
            let mut prepared = writer.prepare_commit()?;
            if let Some(payload) = payload {
                prepared.set_payload(payload);
            }
            prepared.commit()?;
        }
        drop(guard);
        self.reader.reload()?;
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        Ok(())
    }

    /// Deletes the tenant's records stamped before `cutoff` (retention) and
    /// commits, keeping the ingest state, so checkpoints still say what was
    /// read and nothing comes back on the next ingest. Records without a
    /// timestamp (configs, runbooks) are kept. Returns how many went. Not
    /// for use while the same process ingests: the commit carries the state
    /// read at its start.
    pub fn delete_before(
        &self,
        tenant: &str,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize> {
        let expired = Filters {
            time: crate::TimeRange {
                from: None,
                to: Some(cutoff),
            },
            ..Filters::default()
        };
        let query = BooleanQuery::new(self.scope(tenant, &expired)?);
        let count = self.reader.searcher().search(&query, &Count)?;
        if count == 0 {
            return Ok(0);
        }
        {
            let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            if guard.is_none() {
                *guard = Some(self.index.writer(WRITER_HEAP_BYTES)?);
            }
            if let Some(writer) = guard.as_mut() {
                writer.delete_query(Box::new(query))?;
            }
        }
        self.commit_with(self.payload()?.as_deref())?;
        Ok(count)
    }

    /// The payload of the last commit, if it had one.
    pub fn payload(&self) -> Result<Option<String>> {
        Ok(self.index.load_metas()?.payload)
    }

    /// The ingest state committed with the records (template miner and
    /// checkpoints), or a fresh one for a new store.
    pub fn ingest_state(&self) -> Result<IngestState> {
        match self.payload()? {
            Some(json) => IngestState::from_json(&json)
                .map_err(|e| RetrievalError::StoredRecord(format!("ingest state: {e}"))),
            None => Ok(IngestState::default()),
        }
    }

    fn scope(&self, tenant: &str, filters: &Filters) -> Result<Vec<(Occur, Box<dyn Query>)>> {
        crate::error::require_tenant(tenant)?;
        let f = self.fields;
        let term = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            ))
        };
        let any_of = |field: Field, values: Vec<&str>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                values
                    .into_iter()
                    .map(|v| (Occur::Should, term(field, v)))
                    .collect(),
            ))
        };
        let mut clauses = vec![(Occur::Must, term(f.tenant, tenant))];
        if !filters.services.is_empty() {
            let services = filters.services.iter().map(String::as_str).collect();
            clauses.push((Occur::Must, any_of(f.service, services)));
        }
        if !filters.kinds.is_empty() {
            let kinds = filters.kinds.iter().map(|k| k.as_str()).collect();
            clauses.push((Occur::Must, any_of(f.kind, kinds)));
        }
        if !filters.severities.is_empty() {
            let severities = filters.severities.iter().map(|s| s.as_str()).collect();
            clauses.push((Occur::Must, any_of(f.severity, severities)));
        }
        let range = filters.time;
        if range.from.is_some() || range.to.is_some() {
            let bound = |ts: Option<chrono::DateTime<chrono::Utc>>, inclusive: bool| match ts {
                Some(ts) if inclusive => {
                    Bound::Included(Term::from_field_i64(f.ts, ts.timestamp_millis()))
                }
                Some(ts) => Bound::Excluded(Term::from_field_i64(f.ts, ts.timestamp_millis())),
                None => Bound::Unbounded,
            };
            let lower = match range.from {
                Some(from) => bound(Some(from), true),
                None => Bound::Included(Term::from_field_i64(f.ts, i64::MIN)),
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(lower, bound(range.to, false))),
            ));
        }
        Ok(clauses)
    }

    /// Terms of `text` as the index sees them.
    pub fn analyze(&self, text: &str) -> Result<Vec<String>> {
        let mut analyzer = self.index.tokenizer_for_field(self.fields.body)?;
        let mut stream = analyzer.token_stream(text);
        let mut terms = Vec::new();
        let mut seen = std::collections::HashSet::new();
        while stream.advance() {
            let term = &stream.token().text;
            if seen.insert(term.clone()) {
                terms.push(term.clone());
            }
        }
        Ok(terms)
    }

    /// Share of a tenant's records matching `filters` whose text contains
    /// `term` (an analyzed term), 0 to 1: how little a shared term says
    /// about a link. Measured on a baseline window, a term common only
    /// because an incident repeats it still counts as specific.
    pub fn term_share(&self, tenant: &str, term: &str, filters: &Filters) -> Result<f64> {
        let total = self.count(tenant, filters)?;
        if total == 0 {
            return Ok(0.0);
        }
        let mut clauses = self.scope(tenant, filters)?;
        clauses.push((
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_text(self.fields.body, term),
                IndexRecordOption::Basic,
            )),
        ));
        let matching = self
            .reader
            .searcher()
            .search(&BooleanQuery::new(clauses), &Count)?;
        Ok(matching as f64 / total as f64)
    }

    /// Ranked full-text search (BM25) within the query's tenant and filters.
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        let f = self.fields;
        let terms = self.analyze(&query.text)?;
        if terms.is_empty() || query.limit == 0 {
            return Ok(Vec::new());
        }
        let mut text_clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in &terms {
            for field in [f.body, f.template, f.field_values] {
                text_clauses.push((
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(field, term),
                        IndexRecordOption::WithFreqs,
                    )),
                ));
            }
        }
        let mut clauses = self.scope(&query.tenant, &query.filters)?;
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(text_clauses))));
        let searcher = self.reader.searcher();
        let top = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(query.limit).order_by_score(),
        )?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let record = self.stored_record(&searcher.doc(address)?)?;
            let why = self.matched_terms(&terms, &record)?;
            hits.push(Hit {
                record,
                score,
                why,
                ranks: Ranks::default(),
            });
        }
        Ok(hits)
    }

    /// Which of the analyzed query `terms` the record contains.
    pub fn matched_terms(&self, terms: &[String], record: &Record) -> Result<Vec<String>> {
        let seen: BTreeSet<String> = self
            .analyze(&format!("{} {}", record.body, field_text(record)))?
            .into_iter()
            .collect();
        Ok(terms
            .iter()
            .filter(|t| seen.contains(*t))
            .cloned()
            .collect())
    }

    /// Records matching the filters, oldest first, at most `limit`.
    pub fn scan(&self, tenant: &str, filters: &Filters, limit: usize) -> Result<Vec<Record>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let query = BooleanQuery::new(self.scope(tenant, filters)?);
        // The collector sets aside room for `2 × limit` hits per segment up
        // front: with generous limits (the agent scans up to 500,000) that
        // was tens of MB per call whatever matched. Ask for what exists.
        let limit = limit.min(searcher.search(&query, &Count)?);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let top = searcher.search(
            &query,
            &TopDocs::with_limit(limit).order_by_fast_field::<i64>("ts", Order::Asc),
        )?;
        let mut records = Vec::with_capacity(top.len());
        for (_, address) in top {
            records.push(self.stored_record(&searcher.doc(address)?)?);
        }
        debug!(tenant, found = records.len(), "scan");
        Ok(records)
    }

    /// The records with these ids, in the order given; unknown ids are skipped.
    pub fn get(&self, tenant: &str, ids: &[RecordId]) -> Result<Vec<Record>> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let mut records = Vec::new();
        for id in ids {
            let query = BooleanQuery::new(vec![
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.tenant, tenant),
                        IndexRecordOption::Basic,
                    )) as Box<dyn Query>,
                ),
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.id, id.as_str()),
                        IndexRecordOption::Basic,
                    )),
                ),
            ]);
            if let Some((_, address)) = searcher
                .search(&query, &TopDocs::with_limit(1).order_by_score())?
                .first()
            {
                records.push(self.stored_record(&searcher.doc(*address)?)?);
            }
        }
        Ok(records)
    }

    /// Number of records matching the filters.
    pub fn count(&self, tenant: &str, filters: &Filters) -> Result<usize> {
        let query = BooleanQuery::new(self.scope(tenant, filters)?);
        Ok(self.reader.searcher().search(&query, &Count)?)
    }

    /// Timestamps of the oldest and newest timestamped records of a tenant.
    pub fn time_bounds(
        &self,
        tenant: &str,
    ) -> Result<Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)>> {
        let searcher = self.reader.searcher();
        let query = BooleanQuery::new(self.scope(tenant, &Filters::default())?);
        let mut ends = Vec::new();
        for order in [Order::Asc, Order::Desc] {
            let top = searcher.search(
                &query,
                &TopDocs::with_limit(1).order_by_fast_field::<i64>("ts", order),
            )?;
            ends.push(
                top.first()
                    .and_then(|(ts, _)| *ts)
                    .and_then(chrono::DateTime::from_timestamp_millis),
            );
        }
        Ok(match (ends[0], ends[1]) {
            (Some(first), Some(last)) => Some((first, last)),
            _ => None,
        })
    }

    fn stored_record(&self, doc: &TantivyDocument) -> Result<Record> {
        let json = doc
            .get_first(self.fields.record)
            .and_then(|v| v.as_str())
            .ok_or_else(|| RetrievalError::StoredRecord("record field missing".into()))?;
        serde_json::from_str(json).map_err(|e| RetrievalError::StoredRecord(e.to_string()))
    }
}

/// The field values a record is found by. Instants (RFC 3339 values such
/// as a report's `resolved_at`) are left out: their digits match no one's
/// words and only dilute the record's terms.
fn searchable_values(record: &Record) -> impl Iterator<Item = String> + '_ {
    record
        .fields
        .keys()
        .filter_map(|k| record.field_str(k))
        .filter(|v| chrono::DateTime::parse_from_rfc3339(v).is_err())
}

/// The searchable text of a record's template and fields.
fn field_text(record: &Record) -> String {
    let mut text = String::new();
    if let Some(template) = &record.template {
        text.push_str(&template.text);
    }
    for value in searchable_values(record) {
        text.push(' ');
        text.push_str(&value);
    }
    text
}

/// The store as an ingest destination: each commit carries the ingest state,
/// so records, template ids and checkpoints stay consistent across crashes.
impl RecordSink for TextStore {
    fn write(
        &mut self,
        records: Vec<Record>,
        _bad: &[BadInput],
    ) -> std::result::Result<(), SinkError> {
        self.upsert(&records)?;
        Ok(())
    }

    fn commit(&mut self, state: &IngestState) -> std::result::Result<(), SinkError> {
        let payload = state.to_json()?;
        Ok(self.commit_with(Some(&payload))?)
    }
}
