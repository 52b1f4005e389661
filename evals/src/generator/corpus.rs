use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use ingest::{Origin, RecordId};

use crate::error::{EvalError, Result};
use crate::ground_truth::GoldEvidence;

/// Lines kept per gold evidence item: the first ones after the onset.
const GOLD_RECORDS_KEPT: usize = 50;

/// Lines of a scenario, per file, before they are sorted and written.
#[derive(Default)]
pub(crate) struct Corpus {
    files: BTreeMap<String, Vec<Entry>>,
    documents: BTreeMap<String, String>,
    gold: Vec<String>,
    sequence: u64,
}

struct Entry {
    ts: DateTime<Utc>,
    sequence: u64,
    line: String,
    gold: Option<usize>,
}

impl Corpus {
    /// Declares a gold evidence item and returns its index for [`Corpus::emit_gold`].
    pub(crate) fn gold_item(&mut self, what: &str) -> usize {
        self.gold.push(what.to_string());
        self.gold.len() - 1
    }

    pub(crate) fn emit(&mut self, source: &str, ts: DateTime<Utc>, line: String) {
        self.push(source, ts, line, None);
    }

    pub(crate) fn emit_gold(&mut self, item: usize, source: &str, ts: DateTime<Utc>, line: String) {
        self.push(source, ts, line, Some(item));
    }

    /// A whole file (a config version) written as given.
    pub(crate) fn document(&mut self, source: &str, text: String) {
        self.documents.insert(source.to_string(), text);
    }

    fn push(&mut self, source: &str, ts: DateTime<Utc>, line: String, gold: Option<usize>) {
        self.sequence += 1;
        self.files
            .entry(source.to_string())
            .or_default()
            .push(Entry {
                ts,
                sequence: self.sequence,
                line,
                gold,
            });
    }

    /// Writes every file in time order under `data` and returns the gold
    /// evidence with the ids ingest will give those lines.
    pub(crate) fn write(mut self, data: &Path, tenant: &str) -> Result<Vec<GoldEvidence>> {
        let mut gold: Vec<GoldEvidence> = self
            .gold
            .iter()
            .map(|what| GoldEvidence {
                what: what.clone(),
                records: Vec::new(),
                ids: Vec::new(),
            })
            .collect();
        for (source, text) in &self.documents {
            let path = data.join(source);
            create_parent(&path)?;
            std::fs::write(&path, text).map_err(|e| EvalError::io(&path, e))?;
        }
        for (source, entries) in &mut self.files {
            entries.sort_by_key(|e| (e.ts, e.sequence));
            let path = data.join(source);
            create_parent(&path)?;
            let file = std::fs::File::create(&path).map_err(|e| EvalError::io(&path, e))?;
            let mut out = BufWriter::new(file);
            for (index, entry) in entries.iter().enumerate() {
                writeln!(out, "{}", entry.line).map_err(|e| EvalError::io(&path, e))?;
                let Some(item) = entry.gold.and_then(|i| gold.get_mut(i)) else {
                    continue;
                };
                if item.ids.len() < GOLD_RECORDS_KEPT {
                    let origin = Origin {
                        source: source.clone(),
                        line: index as u64 + 1,
                    };
                    item.ids
                        .push(RecordId::derive(tenant, &origin, &entry.line));
                    item.records.push(origin.to_string());
                }
            }
            out.flush().map_err(|e| EvalError::io(&path, e))?;
        }
        Ok(gold)
    }
}

fn create_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent).map_err(|e| EvalError::io(parent, e)),
        None => Ok(()),
    }
}
