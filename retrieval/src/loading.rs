//! Files into the stores: the one ingest loop behind the CLI and the web
//! upload, with bad input appended to a quarantine file as it is found, and
//! everything pseudonymized first when redaction at rest is on.

use std::io::Write;
use std::path::{Path, PathBuf};

use ingest::{BadInput, IngestState, ReadOptions, Record, RecordSink, SinkError};

use crate::error::{Result, RetrievalError};
use crate::stores::Stores;

/// What an ingest run read.
#[derive(Clone, Debug, Default)]
pub struct IngestSummary {
    /// Files read.
    pub files: usize,
    /// Records stored.
    pub records: usize,
    /// Inputs that could not be read; also appended to the quarantine file.
    pub bad: Vec<BadInput>,
    /// Files with nothing new since their checkpoint.
    pub up_to_date: usize,
    /// Files whose zone-less times were read in an inferred zone.
    pub inferred_zones: Vec<ingest::InferredZone>,
    /// Evidence units written to the vector store.
    pub units: usize,
    /// Distinct unit texts that went through the embedding model.
    pub embedded: usize,
    /// Seconds spent in the embedding model.
    pub embedding_secs: f64,
}

/// Running totals, reported after every batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestProgress {
    /// Records written so far.
    pub records: u64,
    /// Bad inputs found so far.
    pub bad: u64,
}

/// Reads `paths` into `stores`, resuming from the stores' checkpoints; with
/// `at_rest`, records and bad inputs are pseudonymized before they are
/// stored or quarantined.
/// Callers run one ingest at a time per store: each commit carries the
/// whole ingest state.
pub fn ingest_files(
    stores: &Stores,
    quarantine: &Path,
    options: ReadOptions,
    paths: &[PathBuf],
    at_rest: Option<&privacy::AtRest>,
    progress: &mut dyn FnMut(IngestProgress),
) -> Result<IngestSummary> {
    let mut summary = IngestSummary::default();
    let mut ingestor = ingest::Ingestor::new(options, stores.text().ingest_state()?);
    let indexed_before = stores.indexed();
    let mut destination = Destination {
        stores,
        quarantine,
        progress,
        totals: IngestProgress::default(),
        at_rest,
    };
    for path in paths {
        let report = ingestor
            .ingest(path, &mut destination)
            .map_err(|e| RetrievalError::Ingest(format!("{}: {e}", path.display())))?;
        summary.files += report.files.len();
        summary.records += report.records as usize;
        summary.up_to_date += report.up_to_date.len();
        summary.inferred_zones.extend(report.inferred_zones);
        summary.bad.extend(report.bad.into_iter().map(|mut bad| {
            if let Some(filter) = at_rest {
                redact_bad(filter, &mut bad);
            }
            bad
        }));
    }
    stores.optimize()?;
    let indexed = stores.indexed();
    summary.units = indexed.units - indexed_before.units;
    summary.embedded = indexed.embedded - indexed_before.embedded;
    summary.embedding_secs = (indexed.embedding_time - indexed_before.embedding_time).as_secs_f64();
    Ok(summary)
}

/// Where `tenant`'s bad input is kept in the data directory `home` (one
/// file per tenant: bad lines are tenant data).
pub fn quarantine_file(home: &Path, tenant: &str) -> PathBuf {
    home.join("quarantine")
        .join(tenant_folder(tenant))
        .join("bad-input.jsonl")
}

/// A folder name for `tenant` that stays inside its parent whatever the
/// tenant is called, and differs for every two tenants: lower-case ASCII
/// letters, digits and `-` stand for themselves, every other byte is `_`
/// and two hex digits (so `te.am` and `te_am` are `te_2eam` and `te_5fam`,
/// and `Acme` is not `acme` on a case-insensitive volume).
pub fn tenant_folder(tenant: &str) -> String {
    if tenant.is_empty() {
        // No encoding produces `_` followed by a non-hex letter.
        return "_none".to_string();
    }
    let mut folder = String::with_capacity(tenant.len());
    for byte in tenant.bytes() {
        if byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' {
            folder.push(char::from(byte));
        } else {
            folder.push_str(&format!("_{byte:02x}"));
        }
    }
    folder
}

/// Bad inputs kept in `quarantine`, oldest first; unreadable lines are skipped.
pub fn quarantined(quarantine: &Path) -> std::io::Result<Vec<BadInput>> {
    match std::fs::read_to_string(quarantine) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(error),
    }
}

struct Destination<'a> {
    stores: &'a Stores,
    quarantine: &'a Path,
    progress: &'a mut dyn FnMut(IngestProgress),
    totals: IngestProgress,
    at_rest: Option<&'a privacy::AtRest>,
}

/// A record with its text, fields and host pseudonymized. Its id stays the
/// hash of what was read, so a re-read adds nothing.
fn redact_record(filter: &privacy::AtRest, record: &mut Record) {
    record.body = filter.text(&record.body);
    if let Some(host) = &mut record.host {
        *host = filter.text(host);
    }
    if let Some(template) = &mut record.template {
        template.text = filter.text(&template.text);
    }
    for value in record.fields.values_mut() {
        filter.value(value);
    }
}

fn redact_bad(filter: &privacy::AtRest, bad: &mut BadInput) {
    bad.reason = filter.text(&bad.reason);
}

impl RecordSink for Destination<'_> {
    fn write(
        &mut self,
        mut records: Vec<Record>,
        bad: &[BadInput],
    ) -> std::result::Result<(), SinkError> {
        let mut bad = bad.to_vec();
        if let Some(filter) = self.at_rest {
            records.iter_mut().for_each(|r| redact_record(filter, r));
            bad.iter_mut().for_each(|b| redact_bad(filter, b));
        }
        let bad = bad.as_slice();
        if !bad.is_empty() {
            if let Some(dir) = self.quarantine.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.quarantine)?;
            for item in bad {
                writeln!(file, "{}", serde_json::to_string(item)?)?;
            }
        }
        self.totals.records += records.len() as u64;
        self.totals.bad += bad.len() as u64;
        (self.progress)(self.totals);
        RecordSink::write(&mut self.stores, records, bad)
    }

    fn commit(&mut self, state: &IngestState) -> std::result::Result<(), SinkError> {
        RecordSink::commit(&mut self.stores, state)
    }
}

#[cfg(test)]
mod tests {
    use super::tenant_folder;

    /// Issue 19, finding 8: `te.am` and `te_am` shared one folder.
    #[test]
    fn every_tenant_has_its_own_folder_inside_the_parent() {
        let tenants = [
            "te.am", "te_am", "te-am", "Te-am", "teAm", "../x", "", "_none", "ü",
        ];
        let folders: Vec<String> = tenants.iter().map(|t| tenant_folder(t)).collect();
        for (i, a) in folders.iter().enumerate() {
            assert!(!a.is_empty() && !a.contains(['/', '.', '\\']), "{a}");
            for b in &folders[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(tenant_folder("acme"), "acme");
        assert_eq!(tenant_folder("te.am"), "te_2eam");
    }
}
