use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};
use tracing::{debug, warn};

use crate::error::{IngestError, Result};
use crate::sources::{
    SourceContext, parse_access_log_line, parse_change_log, parse_config_document,
    parse_header_line, parse_json_document, parse_json_line, parse_markdown, parse_plain_text_line,
    parse_syslog_line, parse_terraform,
};
use crate::zone_inference::{SampledTimes, aligned_offset, sample_times};
use crate::{
    BadInput, Checkpoint, Format, HeaderFormat, IngestState, Origin, Record, SourceKind,
    TemplateMiner,
};

/// Lines longer than this are reported as bad input rather than indexed;
/// their bytes are skipped without being held in memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Whole-file formats (configs, JSON documents, Markdown, diffs) are parsed
/// in memory; larger ones are reported rather than parsed.
pub const MAX_DOCUMENT_BYTES: u64 = 128 << 20;
/// Records written between two commits of a growing source.
pub const BATCH_RECORDS: usize = 50_000;
/// Bytes hashed to recognise a source across runs.
const FINGERPRINT_BYTES: usize = 4096;
/// Marks the checkpoint of a path's previous file, kept after a rotation.
const ROTATED: &str = "#rotated-";

/// How to read inputs.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Tenant that owns every record read.
    pub tenant: String,
    /// Format to use instead of detection.
    pub format: Option<Format>,
    /// Layout of plain-text lines; when set, text files are read with it.
    pub header: Option<HeaderFormat>,
    /// Zone of timestamps written without one; `None`: each file's zone is
    /// inferred from the other files of the directory ingested
    /// ([`crate::zone_inference`]), UTC when nothing tells.
    pub zone: Option<chrono::FixedOffset>,
    /// In directories, read only files matching one of these globs (all when empty).
    pub include: Vec<String>,
    /// In directories, skip files matching any of these globs.
    pub exclude: Vec<String>,
    /// Most bytes a gzip file may expand to, whatever its ratio (`None`:
    /// the ratio limit only). Servers taking uploads from others set it.
    pub max_decompressed_bytes: Option<u64>,
}

impl ReadOptions {
    /// Detected formats, UTC, for `tenant`.
    pub fn new(tenant: &str) -> Self {
        ReadOptions {
            tenant: tenant.to_string(),
            format: None,
            header: None,
            zone: None,
            include: Vec::new(),
            exclude: Vec::new(),
            max_decompressed_bytes: None,
        }
    }
}

/// Error of a [`RecordSink`], boxed so any store can be one.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Where an [`Ingestor`] writes. `commit` must make everything written so
/// far durable together with `state`, atomically: after a crash the store
/// holds the records of the last commit and the state that goes with them.
pub trait RecordSink {
    /// Takes a batch of records and the bad inputs found while reading them.
    fn write(
        &mut self,
        records: Vec<Record>,
        bad: &[BadInput],
    ) -> std::result::Result<(), SinkError>;
    /// Commits what was written, with the ingest state to resume from.
    fn commit(&mut self, state: &IngestState) -> std::result::Result<(), SinkError>;
}

/// What an ingest read.
#[derive(Debug, Default)]
pub struct IngestReport {
    /// Files read, with the format used (`None`: empty or not readable).
    pub files: Vec<(String, Option<Format>)>,
    /// Records written.
    pub records: u64,
    /// Everything that could not be read, with file and line.
    pub bad: Vec<BadInput>,
    /// Files whose checkpoint showed nothing new.
    pub up_to_date: Vec<String>,
    /// Files whose zone-less times were read in an inferred zone.
    pub inferred_zones: Vec<InferredZone>,
}

/// A file whose times carry no zone, read in the zone that lines its span
/// up with another file's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InferredZone {
    /// The file read in `zone`.
    pub source: String,
    /// The zone its times were read in.
    pub zone: chrono::FixedOffset,
    /// The zoned file whose span it then matches.
    pub aligned_with: String,
}

/// Reads sources into a [`RecordSink`], streaming line formats in batches
/// and committing a checkpoint with each batch, so an interrupted ingest
/// resumes where its last commit ended.
pub struct Ingestor {
    options: ReadOptions,
    state: IngestState,
    /// Checkpoints moved since the last commit (rotations), to commit even
    /// when no record was written.
    moved: bool,
}

impl Ingestor {
    /// An ingestor resuming from `state` (the default state starts afresh).
    pub fn new(options: ReadOptions, state: IngestState) -> Self {
        Ingestor {
            options,
            state,
            moved: false,
        }
    }

    /// The state to persist with the records.
    pub fn state(&self) -> &IngestState {
        &self.state
    }

    /// Takes the state back.
    pub fn into_state(self) -> IngestState {
        self.state
    }

    /// Reads a file, or every file under a directory (recursively, in name
    /// order). Record origins are paths relative to `path` (or its file
    /// name), so ids do not depend on where the input sits on disk.
    pub fn ingest(&mut self, path: &Path, sink: &mut dyn RecordSink) -> Result<IngestReport> {
        let metadata = std::fs::metadata(path).map_err(|e| IngestError::io(path, e))?;
        let mut report = IngestReport::default();
        if metadata.is_dir() {
            let mut files = Vec::new();
            collect_files(path, &mut files)?;
            files.sort();
            let selected: Vec<(PathBuf, String)> = files
                .into_iter()
                .map(|file| {
                    let relative = source_name(file.strip_prefix(path).unwrap_or(&file));
                    (file, relative)
                })
                .filter(|(_, relative)| self.selected(relative))
                .collect();
            if self.options.zone.is_none() {
                report.inferred_zones = self.infer_zones(&selected);
            }
            for (file, relative) in &selected {
                let zone = report
                    .inferred_zones
                    .iter()
                    .find(|inferred| &inferred.source == relative)
                    .map(|inferred| inferred.zone);
                self.ingest_file(file, relative, zone, sink, &mut report)?;
            }
        } else {
            let name = path.file_name().map(PathBuf::from).unwrap_or_default();
            self.ingest_file(path, &source_name(&name), None, sink, &mut report)?;
        }
        if std::mem::take(&mut self.moved) {
            sink.commit(&self.state)
                .map_err(|e| IngestError::sink(&path.display().to_string(), e))?;
        }
        Ok(report)
    }

    /// The zones of the files among `files` whose times carry none, from a
    /// sample of the head and tail of each line-based file.
    fn infer_zones(&self, files: &[(PathBuf, String)]) -> Vec<InferredZone> {
        let mut zoned = Vec::new();
        let mut zoneless = Vec::new();
        for (path, source) in files {
            let Some(lines) = sample_lines(path, self.options.max_decompressed_bytes) else {
                continue;
            };
            let first_line = lines.iter().find(|line| !line.trim().is_empty());
            let Some(format) = self.format_of(source, first_line.map(String::as_str)) else {
                continue;
            };
            if !format.is_line_based() {
                continue;
            }
            let service = default_service(source);
            let time_in = |text: &str, zone: chrono::FixedOffset| {
                let ctx = SourceContext {
                    tenant: &self.options.tenant,
                    source,
                    default_service: &service,
                    zone,
                };
                parse_line(format, self.options.header.as_ref(), &ctx, 0, text)
                    .ok()
                    .and_then(|record| record.ts)
            };
            match sample_times(lines.iter().map(String::as_str), time_in) {
                Some(SampledTimes::Zoned(span)) => zoned.push((source.clone(), span)),
                Some(SampledTimes::Zoneless(span)) => zoneless.push((source.clone(), span)),
                None => {}
            }
        }
        zoneless
            .into_iter()
            .filter_map(|(source, span)| {
                let (zone, aligned_with) = aligned_offset(span, &zoned)?;
                debug!(source, %zone, aligned_with, "zone-less times read in an inferred zone");
                Some(InferredZone {
                    source,
                    zone,
                    aligned_with: aligned_with.to_string(),
                })
            })
            .collect()
    }

    /// The format to read `source` with: the one asked for, else detected
    /// from its name and first line.
    fn format_of(&self, source: &str, first_line: Option<&str>) -> Option<Format> {
        let detected = Format::detect(Path::new(source), first_line);
        self.options.format.or(match detected {
            Some(Format::PlainText) if self.options.header.is_some() => Some(Format::Header),
            other => other,
        })
    }

    fn ingest_file(
        &mut self,
        path: &Path,
        source: &str,
        inferred_zone: Option<chrono::FixedOffset>,
        sink: &mut dyn RecordSink,
        report: &mut IngestReport,
    ) -> Result<()> {
        let key = crate::checkpoint_key(
            &self.options.tenant,
            &std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.to_path_buf())
                .to_string_lossy(),
        );
        let bad_at = |line: u64, reason: String| BadInput {
            origin: Origin {
                source: source.to_string(),
                line,
            },
            reason,
        };
        let mut reader = match open_stream(path, self.options.max_decompressed_bytes) {
            Ok(reader) => reader,
            Err(e) => {
                report.bad.push(bad_at(1, format!("cannot open: {e}")));
                report.files.push((source.to_string(), None));
                return Ok(());
            }
        };
        let head = match reader.fill_buf() {
            Ok(head) => head.to_vec(),
            Err(e) => {
                report.bad.push(bad_at(1, format!("cannot read: {e}")));
                report.files.push((source.to_string(), None));
                return Ok(());
            }
        };
        if head.iter().take(8192).any(|b| *b == 0) {
            report.bad.push(bad_at(
                1,
                "binary content: not a log, trace or config format".into(),
            ));
            report.files.push((source.to_string(), None));
            return Ok(());
        }
        let fingerprint_len = head.len().min(FINGERPRINT_BYTES);
        let first_line = head
            .split(|b| *b == b'\n')
            .find(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(String::from_utf8_lossy);
        let format = self.format_of(source, first_line.as_deref());
        report.files.push((source.to_string(), format));
        let Some(format) = format else {
            debug!(source, "empty input");
            return Ok(());
        };
        let resume = self.resume_point(&key, &head);
        // A resumed file keeps the identity it was first checkpointed with.
        let (fingerprint, fingerprint_len) = match &resume {
            Some(checkpoint) => (checkpoint.fingerprint.clone(), checkpoint.fingerprint_len),
            None => (fingerprint(&head[..fingerprint_len]), fingerprint_len),
        };
        // A resumed file keeps the zone it was first read in.
        let zone = resume
            .as_ref()
            .and_then(Checkpoint::zone)
            .or(inferred_zone)
            .or(self.options.zone)
            .unwrap_or(crate::sources::UTC);
        let service = default_service(source);
        let mut file = FileRead {
            source,
            key: &key,
            fingerprint: &fingerprint,
            fingerprint_len,
            service: &service,
            zone,
            resume,
        };
        if format.is_line_based() {
            self.read_lines(&mut reader, &mut file, format, sink, report)
        } else {
            self.read_document(&mut reader, &mut file, format, sink, report)
        }
    }

    fn selected(&self, relative: &str) -> bool {
        let name = relative.rsplit('/').next().unwrap_or(relative);
        let matches = |pattern: &String| glob_match(pattern, relative) || glob_match(pattern, name);
        (self.options.include.is_empty() || self.options.include.iter().any(matches))
            && !self.options.exclude.iter().any(matches)
    }

    /// Where to resume `key`: its own checkpoint if the content is the same
    /// file; otherwise, after a rotation by rename, the checkpoint of the
    /// path it was renamed from (that path now holds a new file or none).
    /// Records `checkpoint` under `key` when it came from elsewhere (a
    /// rotation), so the next rotation still finds it.
    fn keep_checkpoint(&mut self, key: &str, checkpoint: &Checkpoint) {
        if self.state.checkpoints.get(key) != Some(checkpoint) {
            self.state
                .checkpoints
                .insert(key.to_string(), checkpoint.clone());
            self.moved = true;
        }
    }

    fn resume_point(&mut self, key: &str, head: &[u8]) -> Option<Checkpoint> {
        if let Some(own) = self.state.checkpoints.get(key) {
            if own.matches(head) {
                return Some(own.clone());
            }
            // Another file took this path: keep the old checkpoint for the
            // renamed file, which may still be read under its new name.
            let rotated = own.clone();
            self.state.checkpoints.remove(key);
            self.state
                .checkpoints
                .insert(format!("{key}{ROTATED}{}", rotated.fingerprint), rotated);
        }
        // A file renamed away from a checkpointed path resumes from the
        // furthest checkpoint of its content whose path no longer holds it.
        let (found_key, found) = self
            .state
            .checkpoints
            .iter()
            .filter(|(other, checkpoint)| {
                // Only this tenant's files: another tenant's reading of the
                // same content says nothing of this one.
                crate::split_checkpoint_key(other).is_some_and(|(tenant, path)| {
                    tenant == self.options.tenant
                        && checkpoint.matches(head)
                        && !still_holds(path, checkpoint)
                })
            })
            .max_by_key(|(_, checkpoint)| checkpoint.offset)
            .map(|(k, c)| (k.clone(), c.clone()))?;
        if found_key.contains(ROTATED) {
            self.state.checkpoints.remove(&found_key);
            self.moved = true;
        }
        Some(found)
    }

    fn read_document(
        &mut self,
        reader: &mut dyn BufRead,
        file: &mut FileRead<'_>,
        format: Format,
        sink: &mut dyn RecordSink,
        report: &mut IngestReport,
    ) -> Result<()> {
        let mut bytes = Vec::new();
        let mut bad = Vec::new();
        if let Err(e) = reader.take(MAX_DOCUMENT_BYTES + 1).read_to_end(&mut bytes) {
            bad.push(file.bad_at(
                1,
                format!("read stopped early (truncated, corrupt or refused stream): {e}"),
            ));
        }
        let oversized = bytes.len() as u64 > MAX_DOCUMENT_BYTES;
        if oversized {
            bad.push(file.bad_at(
                1,
                format!(
                    "document larger than the {MAX_DOCUMENT_BYTES}-byte limit for whole-file formats; split it or convert it to JSON lines"
                ),
            ));
        }
        let offset = bytes.len() as u64;
        if let Some(done) = file.resume.as_ref().filter(|c| c.offset == offset) {
            self.keep_checkpoint(file.key, done);
            report.up_to_date.push(file.source.to_string());
            return Ok(());
        }
        if oversized {
            // The checkpoint keeps the length read, so the next run finds it
            // up to date: it is reported once, like any bad input.
            bytes.clear();
        }
        let text = String::from_utf8_lossy(&bytes);
        if let std::borrow::Cow::Owned(_) = text {
            bad.push(file.bad_at(1, "invalid UTF-8 replaced with U+FFFD".into()));
        }
        let ctx = file.context(&self.options.tenant);
        let records = match format {
            _ if oversized => Vec::new(),
            Format::Terraform => {
                let (records, found) = parse_terraform(&ctx, &text);
                bad.extend(found);
                records
            }
            Format::JsonDocument => {
                let (records, found) = parse_json_document(&ctx, &text);
                bad.extend(found);
                records
            }
            Format::Markdown => parse_markdown(&ctx, &text),
            Format::ChangeLog => parse_change_log(&ctx, &text),
            _ => parse_config_document(&ctx, &text),
        };
        let line = text.lines().count() as u64;
        self.flush(
            file,
            records,
            bad,
            Checkpoint {
                fingerprint: file.fingerprint.to_string(),
                fingerprint_len: file.fingerprint_len,
                offset,
                line,
                zone_offset_secs: Some(file.zone.local_minus_utc()),
            },
            sink,
            report,
        )
    }

    fn read_lines(
        &mut self,
        reader: &mut dyn BufRead,
        file: &mut FileRead<'_>,
        format: Format,
        sink: &mut dyn RecordSink,
        report: &mut IngestReport,
    ) -> Result<()> {
        let header = self.options.header.clone();
        let (mut offset, mut line_no) = file.resume.as_ref().map_or((0, 0), |c| (c.offset, c.line));
        if offset > 0 {
            let skipped = std::io::copy(&mut reader.take(offset), &mut std::io::sink())
                .map_err(|e| IngestError::io(Path::new(file.source), e))?;
            if skipped < offset {
                // The source shrank below the checkpoint: it was truncated in place. Start over.
                warn!(
                    source = file.source,
                    "source is shorter than its checkpoint; reading it again from the start"
                );
                return self.restart(file, format, sink, report);
            }
        }
        let ctx_tenant = self.options.tenant.clone();
        let mut records = Vec::new();
        let mut bad = Vec::new();
        let mut buffer = Vec::new();
        let mut committed_any = false;
        let (mut settled_offset, mut settled_line) = (offset, line_no);
        let mut clock = LineClock::new(format);
        let mut table = TableColumns::new(format, file.zone);
        loop {
            let read = match read_line_capped(reader, &mut buffer, MAX_LINE_BYTES) {
                Ok(Some(read)) => read,
                Ok(None) => break,
                Err(e) => {
                    bad.push(file.bad_at(
                        line_no + 1,
                        format!("read stopped early (truncated, corrupt or refused stream): {e}"),
                    ));
                    break;
                }
            };
            line_no += 1;
            offset += read.consumed as u64;
            // A last line without its newline may still be being written:
            // it is read, but the checkpoint stays before it.
            if read.terminated {
                (settled_offset, settled_line) = (offset, line_no);
            }
            let line = buffer.strip_suffix(b"\r").unwrap_or(&buffer);
            if read.total_len > MAX_LINE_BYTES {
                bad.push(file.bad_at(
                    line_no,
                    format!(
                        "line of {} bytes exceeds the {MAX_LINE_BYTES}-byte limit",
                        read.total_len
                    ),
                ));
            } else if !line.iter().all(u8::is_ascii_whitespace) {
                match std::str::from_utf8(line) {
                    Ok(text) => match parse_line(
                        format,
                        header.as_ref(),
                        &file.context(&ctx_tenant),
                        line_no,
                        text,
                    ) {
                        Ok(mut record) => {
                            table.read(&mut record, text);
                            clock.date(&mut record, &mut records);
                            records.push(record);
                        }
                        Err(reason) => bad.push(file.bad_at(line_no, reason)),
                    },
                    Err(e) => bad.push(file.bad_at(
                        line_no,
                        format!("invalid UTF-8 at byte {}", e.valid_up_to()),
                    )),
                }
            }
            if records.len() + bad.len() >= BATCH_RECORDS {
                let checkpoint = Checkpoint {
                    fingerprint: file.fingerprint.to_string(),
                    fingerprint_len: file.fingerprint_len,
                    offset: settled_offset,
                    line: settled_line,
                    zone_offset_secs: Some(file.zone.local_minus_utc()),
                };
                self.flush(
                    file,
                    std::mem::take(&mut records),
                    std::mem::take(&mut bad),
                    checkpoint,
                    sink,
                    report,
                )?;
                clock.flushed();
                committed_any = true;
            }
        }
        let unchanged = file.resume.as_ref().is_some_and(|c| c.offset == offset);
        if unchanged && !committed_any && records.is_empty() && bad.is_empty() {
            if let Some(done) = file.resume.clone() {
                self.keep_checkpoint(file.key, &done);
            }
            report.up_to_date.push(file.source.to_string());
            return Ok(());
        }
        let checkpoint = Checkpoint {
            fingerprint: file.fingerprint.to_string(),
            fingerprint_len: file.fingerprint_len,
            offset: settled_offset,
            line: settled_line,
            zone_offset_secs: Some(file.zone.local_minus_utc()),
        };
        self.flush(file, records, bad, checkpoint, sink, report)
    }

    fn restart(
        &mut self,
        file: &mut FileRead<'_>,
        format: Format,
        sink: &mut dyn RecordSink,
        report: &mut IngestReport,
    ) -> Result<()> {
        file.resume = None;
        let path = PathBuf::from(file.key);
        let mut reader = open_stream(&path, self.options.max_decompressed_bytes)
            .map_err(|e| IngestError::io(&path, e))?;
        self.read_lines(&mut reader, file, format, sink, report)
    }

    fn flush(
        &mut self,
        file: &FileRead<'_>,
        mut records: Vec<Record>,
        bad: Vec<BadInput>,
        checkpoint: Checkpoint,
        sink: &mut dyn RecordSink,
        report: &mut IngestReport,
    ) -> Result<()> {
        for record in &mut records {
            assign_template(&mut self.state.miner, record);
        }
        report.records += records.len() as u64;
        sink.write(records, &bad)
            .map_err(|e| IngestError::sink(file.source, e))?;
        report.bad.extend(bad);
        self.state
            .checkpoints
            .insert(file.key.to_string(), checkpoint);
        sink.commit(&self.state)
            .map_err(|e| IngestError::sink(file.source, e))
    }
}

/// Per-file facts the reading steps share.
struct FileRead<'a> {
    source: &'a str,
    key: &'a str,
    fingerprint: &'a str,
    fingerprint_len: usize,
    service: &'a str,
    /// Zone of the times written without one.
    zone: chrono::FixedOffset,
    resume: Option<Checkpoint>,
}

impl FileRead<'_> {
    fn context<'t>(&'t self, tenant: &'t str) -> SourceContext<'t> {
        SourceContext {
            tenant,
            source: self.source,
            default_service: self.service,
            zone: self.zone,
        }
    }

    fn bad_at(&self, line: u64, reason: String) -> BadInput {
        BadInput {
            origin: Origin {
                source: self.source.to_string(),
                line,
            },
            reason,
        }
    }
}

/// Text formats whose lines carry no structure of their own: only their
/// neighbours can date them or name their columns.
fn is_free_text(format: Format) -> bool {
    matches!(format, Format::PlainText | Format::Header)
}

/// Dates the untimed lines of a text file from their neighbours. A
/// transcript or snapshot (`kafka-consumer-groups` output under a dated
/// comment, `redis-cli INFO` after a `# collected <time>` line, a stack
/// trace under its log line) writes its time once: a line without one
/// takes the time of the last line before it that had one, and the lines
/// before a file's first time take that first time, when no batch was
/// written before it arrived. A file resumed from its checkpoint starts
/// without a time. Structured formats (JSON, access logs, syslog) time
/// every line, and are left alone.
struct LineClock {
    applies: bool,
    last: Option<DateTime<Utc>>,
    /// Index, in the batch not yet flushed, of the first untimed record
    /// that no time has preceded.
    leading_untimed: Option<usize>,
}

impl LineClock {
    fn new(format: Format) -> Self {
        LineClock {
            applies: is_free_text(format),
            last: None,
            leading_untimed: None,
        }
    }

    /// Dates `record` (about to join `batch`) or, when it brings the
    /// file's first time, the untimed lines of `batch` before it.
    fn date(&mut self, record: &mut Record, batch: &mut [Record]) {
        if !self.applies {
            return;
        }
        match (record.ts, self.last) {
            (Some(ts), None) => {
                if let Some(from) = self.leading_untimed.take() {
                    for earlier in batch.iter_mut().skip(from) {
                        earlier.ts = Some(ts);
                    }
                }
                self.last = Some(ts);
            }
            (Some(ts), Some(_)) => self.last = Some(ts),
            (None, Some(last)) => record.ts = Some(last),
            (None, None) => {
                self.leading_untimed.get_or_insert(batch.len());
            }
        }
    }

    /// Records already written keep the time they had.
    fn flushed(&mut self) {
        self.leading_untimed = None;
    }
}

/// Reads the rows of a table a text file prints (`kafka-consumer-groups
/// --describe`, VPC flow logs, `kubectl get`): under a header line of
/// three or more column names (`srcaddr dstaddr ... action`), a line with
/// no time of its own, as many columns and a number among them is a row.
/// Its columns become fields named by the header (lower case), so a
/// partition, an address or an action can be filtered and attributed, and
/// a column named as a time (`start`, `time`, `timestamp`) dates it. A line
/// of another width ends the table.
struct TableColumns {
    applies: bool,
    zone: chrono::FixedOffset,
    header: Option<Vec<String>>,
}

/// Column names that hold a row's time.
const TIME_COLUMNS: &[&str] = &["start", "time", "timestamp", "ts", "start_time", "date"];
/// Columns a header needs.
const MIN_TABLE_COLUMNS: usize = 3;

impl TableColumns {
    fn new(format: Format, zone: chrono::FixedOffset) -> Self {
        TableColumns {
            applies: is_free_text(format),
            zone,
            header: None,
        }
    }

    fn read(&mut self, record: &mut Record, text: &str) {
        if !self.applies {
            return;
        }
        if is_table_header(text) {
            self.header = Some(text.split_whitespace().map(str::to_lowercase).collect());
            return;
        }
        let Some(header) = &self.header else {
            return;
        };
        let tokens: Vec<&str> = text.split_whitespace().collect();
        if tokens.len() != header.len() {
            self.header = None;
            return;
        }
        let numeric = |t: &str| t.parse::<f64>().is_ok();
        if record.ts.is_some() || !tokens.iter().any(|t| numeric(t)) {
            return;
        }
        for (name, value) in header.iter().zip(&tokens) {
            if *value == "-" || record.fields.contains_key(name) {
                continue;
            }
            let value = value
                .parse::<i64>()
                .map(serde_json::Value::from)
                .unwrap_or_else(|_| serde_json::Value::from(*value));
            record.fields.insert(name.clone(), value);
        }
        record.ts = TIME_COLUMNS
            .iter()
            .filter_map(|column| header.iter().position(|h| h == column))
            .find_map(|at| crate::parse_timestamp_in(tokens[at], self.zone));
    }
}

/// Three or more column names: each starts with a letter and holds only
/// letters, digits, `-`, `_` and `.`, all in upper case (`GROUP TOPIC
/// PARTITION`) or in lower case with a joined name among them
/// (`account-id srcaddr action`), so a sentence is no header.
fn is_table_header(line: &str) -> bool {
    let tokens = || line.split_whitespace();
    let name = |t: &str| {
        t.starts_with(|c: char| c.is_ascii_alphabetic())
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    let upper = tokens().all(|t| !t.chars().any(|c| c.is_ascii_lowercase()));
    let lower = tokens().all(|t| !t.chars().any(|c| c.is_ascii_uppercase()));
    let joined = tokens().any(|t| t.contains(['-', '_']));
    tokens().count() >= MIN_TABLE_COLUMNS && tokens().all(name) && (upper || lower && joined)
}

/// Reads one line of a line-based `format`.
fn parse_line(
    format: Format,
    header: Option<&HeaderFormat>,
    ctx: &SourceContext<'_>,
    line: u64,
    text: &str,
) -> std::result::Result<Record, String> {
    match (format, header) {
        (Format::JsonLines, _) => parse_json_line(ctx, line, text),
        (Format::AccessLog, _) => parse_access_log_line(ctx, line, text),
        (Format::Syslog, _) => parse_syslog_line(ctx, line, text),
        (Format::Header, Some(header)) => parse_header_line(ctx, header, line, text),
        (Format::Header, None) => {
            Err("the header format needs a format string (--header)".to_string())
        }
        _ => parse_plain_text_line(ctx, line, text),
    }
}

/// Bytes read from each end of a file to sample its times.
const SAMPLE_BYTES: u64 = 64 << 10;

/// Whole lines from the first and (for a plain file) the last
/// [`SAMPLE_BYTES`] of a file; `None` when it cannot be read as text.
fn sample_lines(path: &Path, max_decompressed: Option<u64>) -> Option<Vec<String>> {
    use std::io::{Seek, SeekFrom};
    let mut head = Vec::new();
    open_stream(path, max_decompressed)
        .ok()?
        .take(SAMPLE_BYTES)
        .read_to_end(&mut head)
        .ok()?;
    if head.iter().take(8192).any(|b| *b == 0) {
        return None;
    }
    let whole_lines = |bytes: &[u8], skip_first: bool, keep_last: bool| -> Vec<String> {
        let mut lines: Vec<String> = String::from_utf8_lossy(bytes)
            .lines()
            .map(str::to_string)
            .collect();
        if !keep_last {
            lines.pop();
        }
        if skip_first && !lines.is_empty() {
            lines.remove(0);
        }
        lines
    };
    let mut file = File::open(path).ok()?;
    let length = file.metadata().ok()?.len();
    // A compressed stream cannot be entered at its end: its head stands for it.
    let compressed = is_gzip(path).ok()?;
    if length <= SAMPLE_BYTES || compressed {
        return Some(whole_lines(
            &head,
            false,
            length <= SAMPLE_BYTES && !compressed,
        ));
    }
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(length.saturating_sub(SAMPLE_BYTES)))
        .ok()?;
    file.take(SAMPLE_BYTES).read_to_end(&mut tail).ok()?;
    let mut lines = whole_lines(&head, false, false);
    lines.extend(whole_lines(&tail, length > 2 * SAMPLE_BYTES, true));
    Some(lines)
}

fn assign_template(miner: &mut TemplateMiner, record: &mut Record) {
    if record.template.is_none() && matches!(record.kind, SourceKind::Log | SourceKind::Auth) {
        record.template = Some(miner.add(&record.body));
    }
}

/// Shell-style glob: `*` matches any run of characters, `?` one character.
fn glob_match(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '?' || *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, matched)) => {
                    p = star + 1;
                    t = matched + 1;
                    backtrack = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// True when the file at `path` is still the one `checkpoint` was taken of.
fn still_holds(path: &str, checkpoint: &Checkpoint) -> bool {
    // Only the head is read: no expansion limit applies.
    let Ok(mut reader) = open_stream(Path::new(path), None) else {
        return false;
    };
    reader.fill_buf().is_ok_and(|head| checkpoint.matches(head))
}

pub(crate) fn fingerprint(head: &[u8]) -> String {
    let digest = Sha256::digest(&head[..head.len().min(FINGERPRINT_BYTES)]);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

struct LineRead {
    /// Bytes consumed from the stream, newline included.
    consumed: usize,
    /// Length of the line without its newline, even when longer than kept.
    total_len: usize,
    /// The line ended with a newline (not cut off by the end of the stream).
    terminated: bool,
}

/// Reads one line into `buffer`, keeping at most `max` bytes of it: a 50 MB
/// line costs `max` bytes of memory, not 50 MB. `None` at end of stream.
fn read_line_capped(
    reader: &mut dyn BufRead,
    buffer: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<LineRead>> {
    buffer.clear();
    let mut consumed = 0;
    let mut total_len = 0;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok((consumed > 0).then_some(LineRead {
                consumed,
                total_len,
                terminated: false,
            }));
        }
        let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
            Some(end) => (&available[..end], Some(end + 1)),
            None => (available, None),
        };
        let room = (max + 1).saturating_sub(buffer.len());
        buffer.extend_from_slice(&chunk[..chunk.len().min(room)]);
        total_len += chunk.len();
        let used = done.unwrap_or(available.len());
        reader.consume(used);
        consumed += used;
        if done.is_some() {
            return Ok(Some(LineRead {
                consumed,
                total_len,
                terminated: true,
            }));
        }
    }
}

/// True when the file starts with gzip's magic bytes.
fn is_gzip(path: &Path) -> std::io::Result<bool> {
    let mut magic = [0u8; 2];
    Ok(File::open(path)?.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b])
}

/// Opens a file, gunzipping gzip content (by magic bytes, not by name) up
/// to the expansion limits, `absolute` among them.
fn open_stream(path: &Path, absolute: Option<u64>) -> std::io::Result<Box<dyn BufRead>> {
    let file = File::open(path)?;
    Ok(if is_gzip(path)? {
        let compressed = file.metadata()?.len();
        let inflated = ExpansionLimit::new(MultiGzDecoder::new(file), compressed, absolute);
        Box::new(BufReader::with_capacity(1 << 16, inflated))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, file))
    })
}

/// Logs gzip 5 to 20 times smaller (LogHub's samples, this project's
/// incidents); a file expanding past this ratio is almost surely built to.
pub const MAX_GZIP_EXPANSION: u64 = 200;
/// Below this many decompressed bytes no ratio is enforced: a small file
/// costs nothing whatever it expands to.
const EXPANSION_FLOOR: u64 = 64 << 20;

/// Stops a decompression bomb: reading fails once the output passes both
/// [`EXPANSION_FLOOR`] and [`MAX_GZIP_EXPANSION`] times the compressed size,
/// or an absolute cap when one is set, so what was read before stays and
/// memory and disk stay bounded.
struct ExpansionLimit<R> {
    inner: R,
    limit: u64,
    produced: u64,
}

impl<R> ExpansionLimit<R> {
    fn new(inner: R, compressed: u64, absolute: Option<u64>) -> Self {
        let limit = compressed
            .saturating_mul(MAX_GZIP_EXPANSION)
            .max(EXPANSION_FLOOR)
            .min(absolute.unwrap_or(u64::MAX));
        ExpansionLimit {
            inner,
            limit,
            produced: 0,
        }
    }
}

impl<R: Read> Read for ExpansionLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.produced >= self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "gzip content expands past {} bytes (over {MAX_GZIP_EXPANSION} times its compressed size, or this reader's cap): refused as a likely decompression bomb (decompress it and ingest the plain file if it is genuine)",
                    self.limit
                ),
            ));
        }
        let room = usize::try_from(self.limit - self.produced).unwrap_or(usize::MAX);
        let cap = buf.len().min(room);
        let read = self.inner.read(&mut buf[..cap])?;
        self.produced += read as u64;
        Ok(read)
    }
}

fn source_name(relative: &Path) -> String {
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| IngestError::io(dir, e))? {
        let entry = entry.map_err(|e| IngestError::io(dir, e))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| IngestError::io(&path, e))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if file_type.is_dir() {
            collect_files(&path, files)?;
        } else if file_type.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// The service a file's records belong to when they name none: its first
/// directory, or its name without extensions.
fn default_service(source: &str) -> String {
    match source.split_once('/') {
        Some((dir, _)) => dir.to_string(),
        None => crate::sources::file_stem(source).to_string(),
    }
}

/// Everything read from a path, in memory: for tests, evals and small inputs.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Records in file order.
    pub records: Vec<Record>,
    /// What could not be read, with file and line.
    pub bad: Vec<BadInput>,
    /// Files read, with the format used.
    pub files: Vec<(String, Option<Format>)>,
}

struct Collect(Vec<Record>);

impl RecordSink for Collect {
    fn write(
        &mut self,
        records: Vec<Record>,
        _bad: &[BadInput],
    ) -> std::result::Result<(), SinkError> {
        self.0.extend(records);
        Ok(())
    }

    fn commit(&mut self, _state: &IngestState) -> std::result::Result<(), SinkError> {
        Ok(())
    }
}

/// Reads `path` into memory with `miner` assigning templates.
pub fn read_path(path: &Path, options: &ReadOptions, miner: &mut TemplateMiner) -> Result<Parsed> {
    let state = IngestState {
        miner: std::mem::take(miner),
        ..IngestState::default()
    };
    let mut ingestor = Ingestor::new(options.clone(), state);
    let mut sink = Collect(Vec::new());
    let report = ingestor.ingest(path, &mut sink);
    *miner = ingestor.into_state().miner;
    let report = report?;
    Ok(Parsed {
        records: sink.0,
        bad: report.bad,
        files: report.files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_is_limited_only_past_the_floor_and_the_ratio() {
        assert_eq!(
            ExpansionLimit::new(std::io::empty(), 1000, None).limit,
            EXPANSION_FLOOR
        );
        assert_eq!(
            ExpansionLimit::new(std::io::empty(), 1 << 30, None).limit,
            MAX_GZIP_EXPANSION << 30
        );
        assert_eq!(
            ExpansionLimit::new(std::io::empty(), 1 << 30, Some(1 << 31)).limit,
            1 << 31,
            "an absolute cap bounds a file whose ratio would allow more"
        );
        let mut limited = ExpansionLimit {
            inner: std::io::repeat(b'x'),
            limit: 10,
            produced: 0,
        };
        let mut out = Vec::new();
        let error = limited.read_to_end(&mut out).expect_err("stops");
        assert_eq!(out.len(), 10, "everything up to the limit is delivered");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    }
    use std::io::Write;

    fn options() -> ReadOptions {
        ReadOptions::new("acme")
    }

    fn read(path: &Path) -> Parsed {
        read_path(path, &options(), &mut TemplateMiner::default()).expect("reads")
    }

    #[test]
    fn bad_lines_are_reported_and_good_ones_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut content =
            b"{\"ts\":\"2026-11-20T14:00:00Z\",\"msg\":\"ok 1\"}\n{\"ts\":\n".to_vec();
        content.extend_from_slice(b"{\"msg\":\"bad \xff utf8\"}\n");
        content.extend_from_slice(b"{\"ts\":\"2026-11-20T14:00:02Z\",\"msg\":\"ok 2\"}\n");
        std::fs::write(dir.path().join("app.jsonl"), content).expect("write");
        let parsed = read(&dir.path().join("app.jsonl"));
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.bad.len(), 2);
        assert_eq!(parsed.bad[0].origin.to_string(), "app.jsonl:2");
        assert!(
            parsed.bad[1].reason.contains("UTF-8"),
            "{:?}",
            parsed.bad[1]
        );
        assert_eq!(parsed.records[1].origin.line, 4);
    }

    #[test]
    fn gzip_and_truncated_gzip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for i in 0..2000 {
            writeln!(
                encoder,
                "2026-11-20T14:00:{:02}Z INFO app: tick {i} {}",
                i % 60,
                "x".repeat(i % 50)
            )
            .expect("write");
        }
        let gz = encoder.finish().expect("finish");
        std::fs::write(dir.path().join("app.log.gz"), &gz).expect("write");
        std::fs::write(dir.path().join("cut.log.gz"), &gz[..gz.len() / 2]).expect("write");
        let parsed = read(dir.path());
        let full = parsed
            .records
            .iter()
            .filter(|r| r.origin.source == "app.log.gz")
            .count();
        assert_eq!(full, 2000);
        assert!(
            parsed
                .bad
                .iter()
                .any(|b| b.origin.source == "cut.log.gz" && b.reason.contains("truncated")),
            "{:?}",
            parsed.bad
        );
        let from_cut = parsed
            .records
            .iter()
            .filter(|r| r.origin.source == "cut.log.gz")
            .count();
        assert!(
            from_cut > 0 && from_cut < 2000,
            "kept {from_cut} records from the readable part"
        );
    }

    /// A layout nobody described is read, not refused: lines with a
    /// timestamp anywhere in their first tokens are timed, the lines of a
    /// file with none are kept untimed, so they can be searched and cited.
    #[test]
    fn unknown_layouts_are_read_with_whatever_time_they_carry() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("notes.txt"),
            "remember to rotate keys\nand the milk\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("alb.log"),
            "h2 2026-03-23T22:30:00Z app/idp-prod-alb/50dc 10.30.3.17:5956 503\nh2 2026-03-23T22:30:05Z app/idp-prod-alb/50dc 10.30.1.9:5956 200\n",
        )
        .expect("write");
        let parsed = read(dir.path());
        assert!(parsed.bad.is_empty(), "{:?}", parsed.bad);
        let notes: Vec<&Record> = parsed
            .records
            .iter()
            .filter(|r| r.origin.source == "notes.txt")
            .collect();
        assert_eq!(notes.len(), 2);
        assert!(notes.iter().all(|r| r.ts.is_none()));
        let request = parsed
            .records
            .iter()
            .find(|r| r.body.contains("503"))
            .expect("ALB record");
        assert_eq!(
            request.ts.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-03-23T22:30:00+00:00")
        );
    }

    #[test]
    fn untimed_lines_of_a_transcript_take_the_time_written_near_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("groups.txt"),
            "$ kafka-consumer-groups.sh --describe\n\
             GROUP TOPIC PARTITION LAG\n\
             # 2026-05-27T11:00:00Z snapshot\n\
             indexer audit 2 30\n\
             # 2026-05-27T11:40:00Z snapshot\n\
             indexer audit 2 41877\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("events.jsonl"),
            "{\"msg\":\"untimed\"}\n{\"ts\":\"2026-05-27T11:00:00Z\",\"msg\":\"timed\"}\n",
        )
        .expect("write");
        let parsed = read(dir.path());
        let time_of = |needle: &str| {
            parsed
                .records
                .iter()
                .find(|r| r.body.contains(needle))
                .and_then(|r| r.ts)
                .map(|t| t.format("%H:%M").to_string())
        };
        // Before the file's first time, that first time; after, the last one.
        assert_eq!(time_of("kafka-consumer-groups").as_deref(), Some("11:00"));
        assert_eq!(time_of("audit 2 30").as_deref(), Some("11:00"));
        assert_eq!(time_of("audit 2 41877").as_deref(), Some("11:40"));
        // A JSON line times itself or stays untimed.
        assert_eq!(time_of("untimed"), None);
    }

    #[test]
    fn rows_under_a_header_get_its_columns_as_fields_and_its_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("flows.log"),
            "version account-id srcaddr dstaddr dstport start action\n\
             2 4815 10.30.3.17 10.30.21.38 5432 1774305000 REJECT\n\
             2 4815 10.30.1.9 10.30.21.38 5432 1774305060 ACCEPT\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("groups.txt"),
            "# 2026-05-27T11:40:00Z snapshot\n\
             GROUP TOPIC PARTITION LAG CONSUMER-ID\n\
             indexer iam.audit.events 2 41877 c-1\n\
             indexer iam.audit.events 3 0 -\n\
             this closes the table\n\
             indexer iam.audit.events 4 12 c-2\n",
        )
        .expect("write");
        let parsed = read(dir.path());
        let row = |needle: &str| {
            parsed
                .records
                .iter()
                .find(|r| r.body.contains(needle))
                .unwrap_or_else(|| panic!("{needle}"))
        };
        let rejected = row("10.30.3.17");
        assert_eq!(rejected.field_str("action").as_deref(), Some("REJECT"));
        assert_eq!(rejected.field_str("srcaddr").as_deref(), Some("10.30.3.17"));
        assert_eq!(
            rejected.ts.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-03-23T22:30:00+00:00")
        );
        let lagging = row("41877");
        assert_eq!(lagging.field_str("partition").as_deref(), Some("2"));
        assert_eq!(lagging.field_str("consumer-id").as_deref(), Some("c-1"));
        assert!(
            !row("iam.audit.events 3 0")
                .fields
                .contains_key("consumer-id")
        );
        // After a line of another width, rows are plain lines again.
        assert!(
            !row("iam.audit.events 4 12")
                .fields
                .contains_key("partition")
        );
        // Prose is no header.
        assert!(!is_table_header("Starting the server"));
        assert!(!is_table_header("connection reset by peer"));
    }

    #[test]
    fn binary_and_empty_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("blob.bin"), [0u8, 1, 2, 0, 159]).expect("write");
        std::fs::write(dir.path().join("empty.log"), b"").expect("write");
        let parsed = read(dir.path());
        assert!(parsed.records.is_empty());
        assert_eq!(parsed.bad.len(), 1);
        assert!(parsed.bad[0].reason.contains("binary"));
    }

    #[test]
    fn a_huge_line_is_reported_without_losing_its_neighbours() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut content =
            b"2026-11-20T14:00:00Z INFO app: before\n2026-11-20T14:00:01Z INFO app: ".to_vec();
        content.extend(std::iter::repeat_n(b'x', 50 << 20));
        content.extend_from_slice(b"\n2026-11-20T14:00:02Z INFO app: after\n");
        std::fs::write(dir.path().join("big.log"), content).expect("write");
        let parsed = read(dir.path());
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.bad.len(), 1);
        assert_eq!(parsed.bad[0].origin.line, 2);
        assert!(
            parsed.bad[0].reason.contains("exceeds"),
            "{}",
            parsed.bad[0].reason
        );
        assert_eq!(parsed.records[1].origin.line, 3);
    }

    #[test]
    fn ids_do_not_depend_on_location_and_templates_are_set() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        for dir in [&a, &b] {
            std::fs::create_dir(dir.path().join("svc")).expect("mkdir");
            std::fs::write(
                dir.path().join("svc/x.log"),
                "2026-11-20T14:00:00Z ERROR db: pool exhausted 40/40\n",
            )
            .expect("write");
        }
        let (ra, rb) = (read(a.path()), read(b.path()));
        assert_eq!(ra.records[0].id, rb.records[0].id);
        assert_eq!(ra.records[0].service, "svc");
        let template = ra.records[0].template.as_ref().expect("template");
        assert_eq!(template.text, "pool exhausted <*>");
    }

    #[test]
    fn a_rotated_file_is_finished_from_its_checkpoint_and_the_new_one_read_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("access.log");
        let line = |i: usize| {
            format!(
                "2026-11-20T14:00:{:02}Z INFO gw: request {i} {}\n",
                i % 60,
                "x".repeat(80)
            )
        };
        let first: String = (0..100).map(line).collect();
        std::fs::write(&log, &first).expect("write");
        let mut sink = Collect(Vec::new());
        let mut ingestor = Ingestor::new(options(), IngestState::default());
        ingestor.ingest(&log, &mut sink).expect("first read");
        // More lines arrive, then the file is rotated by rename and a new one starts.
        let grown: String = (0..130).map(line).collect();
        std::fs::write(&log, &grown).expect("grow");
        std::fs::rename(&log, dir.path().join("access.log.1")).expect("rotate");
        std::fs::write(&log, (500..510).map(line).collect::<String>()).expect("new file");
        ingestor
            .ingest(dir.path(), &mut sink)
            .expect("after rotation");
        assert_eq!(
            sink.0.len(),
            140,
            "100 + the 30 written before rotation + 10 in the new file, nothing twice"
        );
    }

    /// Issue 19, finding 7: a tenant's upload of content another tenant had
    /// ingested (and since removed) resumed from that tenant's checkpoint
    /// and read nothing.
    #[test]
    fn another_tenants_checkpoint_is_never_resumed_from() {
        let dir = tempfile::tempdir().expect("tempdir");
        let content: String = (0..50)
            .map(|i| format!("2026-11-20T14:00:{:02}Z INFO gw: request {i}\n", i % 60))
            .collect();
        let first = dir.path().join("a.log");
        std::fs::write(&first, &content).expect("write");
        let mut sink = Collect(Vec::new());
        let mut ingestor = Ingestor::new(ReadOptions::new("tenant-a"), IngestState::default());
        ingestor.ingest(&first, &mut sink).expect("tenant a");
        std::fs::remove_file(&first).expect("remove");
        let state = ingestor.into_state();
        let second = dir.path().join("b.log");
        std::fs::write(&second, &content).expect("write");
        let mut other = Collect(Vec::new());
        let mut ingestor = Ingestor::new(ReadOptions::new("tenant-b"), state.clone());
        ingestor.ingest(&second, &mut other).expect("tenant b");
        assert_eq!(other.0.len(), 50, "every line of tenant b's file");
        // The same tenant renaming its file still resumes from its checkpoint.
        let mut again = Collect(Vec::new());
        let mut ingestor = Ingestor::new(ReadOptions::new("tenant-a"), state);
        ingestor
            .ingest(&second, &mut again)
            .expect("tenant a again");
        assert_eq!(
            again.0.len(),
            0,
            "a rename within a tenant is not new content"
        );
    }

    #[test]
    fn globs_select_files_in_directories() {
        assert!(glob_match("*.log", "gateway/access.log"));
        assert!(glob_match("gateway/*", "gateway/access.log"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("*.log", "access.log.gz"));
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["a.log", "b.log", "c.txt"] {
            std::fs::write(dir.path().join(name), "2026-11-20T14:00:00Z INFO x: y\n")
                .expect("write");
        }
        let options = ReadOptions {
            include: vec!["*.log".into()],
            exclude: vec!["b.*".into()],
            ..ReadOptions::new("t")
        };
        let parsed = read_path(dir.path(), &options, &mut TemplateMiner::default()).expect("read");
        let sources: Vec<&str> = parsed
            .records
            .iter()
            .map(|r| r.origin.source.as_str())
            .collect();
        assert_eq!(sources, vec!["a.log"]);
    }

    #[test]
    fn small_growing_files_and_a_second_rotation_are_read_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("app.log");
        let line = |i: usize| format!("2026-11-20T14:00:{:02}Z INFO app: event {i}\n", i % 60);
        let write = |range: std::ops::Range<usize>| {
            std::fs::write(&log, range.map(line).collect::<String>()).expect("write")
        };
        let mut sink = Collect(Vec::new());
        let mut ingestor = Ingestor::new(options(), IngestState::default());
        write(0..3);
        ingestor.ingest(dir.path(), &mut sink).expect("read");
        write(0..6); // a small file grows: its fingerprint must not change
        ingestor.ingest(dir.path(), &mut sink).expect("read");
        assert_eq!(sink.0.len(), 6);
        std::fs::rename(&log, dir.path().join("app.log.1")).expect("rotate");
        write(100..104);
        ingestor.ingest(dir.path(), &mut sink).expect("read");
        std::fs::rename(dir.path().join("app.log.1"), dir.path().join("app.log.2"))
            .expect("rotate");
        std::fs::rename(&log, dir.path().join("app.log.1")).expect("rotate");
        write(200..202);
        ingestor.ingest(dir.path(), &mut sink).expect("read");
        let mut ids: Vec<_> = sink.0.iter().map(|r| r.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(
            sink.0.len(),
            12,
            "6 + 4 + 2, nothing read twice across two rotations"
        );
        assert_eq!(ids.len(), 12);
    }

    #[test]
    fn an_unterminated_last_line_is_read_and_finished_later() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("app.log");
        std::fs::write(
            &log,
            "2026-11-20T14:00:00Z INFO app: one\n2026-11-20T14:00:01Z INFO app: tw",
        )
        .expect("write");
        let mut sink = Collect(Vec::new());
        let mut ingestor = Ingestor::new(options(), IngestState::default());
        ingestor.ingest(&log, &mut sink).expect("read");
        assert_eq!(sink.0.len(), 2, "the partial line is kept");
        std::fs::write(
            &log,
            "2026-11-20T14:00:00Z INFO app: one\n2026-11-20T14:00:01Z INFO app: two\n",
        )
        .expect("write");
        ingestor.ingest(&log, &mut sink).expect("read");
        assert_eq!(
            sink.0.last().map(|r| r.body.as_str()),
            Some("two"),
            "the finished line is read in full"
        );
        assert_eq!(
            sink.0.iter().filter(|r| r.body == "one").count(),
            1,
            "the first line is not read again"
        );
    }

    #[test]
    fn missing_path_is_an_error() {
        assert!(
            read_path(
                Path::new("/nonexistent/oncall"),
                &options(),
                &mut TemplateMiner::default()
            )
            .is_err()
        );
    }

    /// A sink that fails its n-th commit, like a process killed mid-ingest.
    struct Flaky {
        committed: Vec<Record>,
        pending: Vec<Record>,
        state: Option<IngestState>,
        fail_at: usize,
        commits: usize,
    }

    impl RecordSink for Flaky {
        fn write(
            &mut self,
            records: Vec<Record>,
            _bad: &[BadInput],
        ) -> std::result::Result<(), SinkError> {
            self.pending.extend(records);
            Ok(())
        }

        fn commit(&mut self, state: &IngestState) -> std::result::Result<(), SinkError> {
            self.commits += 1;
            if self.commits == self.fail_at {
                self.pending.clear();
                return Err("disk on fire".into());
            }
            self.committed.append(&mut self.pending);
            self.state = Some(state.clone());
            Ok(())
        }
    }

    #[test]
    fn an_interrupted_ingest_resumes_from_its_last_commit_without_loss_or_duplicates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lines = BATCH_RECORDS * 3 + 17;
        let mut content = String::new();
        for i in 0..lines {
            content.push_str(&format!(
                "2026-11-20T14:{:02}:{:02}Z INFO app: event {i}\n",
                (i / 60) % 60,
                i % 60
            ));
        }
        std::fs::write(dir.path().join("app.log"), content).expect("write");
        let mut sink = Flaky {
            committed: Vec::new(),
            pending: Vec::new(),
            state: None,
            fail_at: 3,
            commits: 0,
        };
        let mut first = Ingestor::new(options(), IngestState::default());
        assert!(
            first.ingest(dir.path(), &mut sink).is_err(),
            "the failed commit surfaces"
        );
        assert_eq!(sink.committed.len(), 2 * BATCH_RECORDS);
        let mut resumed = Ingestor::new(options(), sink.state.clone().expect("a commit happened"));
        sink.fail_at = 0;
        resumed.ingest(dir.path(), &mut sink).expect("resume");
        assert_eq!(sink.committed.len(), lines);
        let mut ids: Vec<_> = sink.committed.iter().map(|r| r.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), lines, "no record lost or duplicated");
        let report = resumed.ingest(dir.path(), &mut sink).expect("again");
        assert_eq!(report.records, 0);
        assert_eq!(report.up_to_date, vec!["app.log".to_string()]);
    }

    /// Ingests `dir` and returns the records with the report.
    fn ingest_dir(ingestor: &mut Ingestor, dir: &Path) -> (Vec<Record>, IngestReport) {
        let mut sink = Collect(Vec::new());
        let report = ingestor.ingest(dir, &mut sink).expect("ingests");
        (sink.0, report)
    }

    fn first_time_of(records: &[Record], source: &str) -> String {
        records
            .iter()
            .find(|r| r.origin.source == source)
            .and_then(|r| r.ts)
            .map(|ts| ts.to_rfc3339())
            .unwrap_or_default()
    }

    /// Two unrelated layouts whose times carry no zone, each beside a file
    /// whose times do: an nginx error log next to an access log written at
    /// -05:00, and a Spring Boot log next to UTC JSON lines at +01:00.
    #[test]
    fn zoneless_files_are_read_in_the_zone_that_aligns_them_with_their_neighbours() {
        let dir = tempfile::tempdir().expect("tempdir");
        let edge = dir.path().join("edge");
        std::fs::create_dir(&edge).expect("mkdir");
        let access: String = (0..30)
            .map(|i| {
                format!("10.0.0.{i} - - [27/Oct/2026:20:{:02}:00 -0500] \"GET /login HTTP/1.1\" 502 0 \"-\" \"curl\"\n", i + 10)
            })
            .collect();
        let error: String = (0..30)
            .map(|i| {
                format!(
                    "2026/10/27 20:{:02}:30 [error] 7#7: *{i} upstream timed out\n",
                    i + 12
                )
            })
            .collect();
        std::fs::write(edge.join("access.log"), access).expect("write");
        std::fs::write(edge.join("error.log"), error).expect("write");
        let mut ingestor = Ingestor::new(options(), IngestState::default());
        let (records, report) = ingest_dir(&mut ingestor, &edge);
        assert_eq!(
            first_time_of(&records, "error.log"),
            "2026-10-28T01:12:30+00:00"
        );
        assert_eq!(
            report.inferred_zones.len(),
            1,
            "{:?}",
            report.inferred_zones
        );
        assert_eq!(report.inferred_zones[0].zone.to_string(), "-05:00");
        assert_eq!(report.inferred_zones[0].aligned_with, "access.log");

        let app = dir.path().join("app");
        std::fs::create_dir(&app).expect("mkdir");
        let json: String = (0..20)
            .map(|i| format!("{{\"ts\":\"2026-11-20T14:{:02}:00Z\",\"level\":\"error\",\"msg\":\"payment declined\"}}\n", i * 2))
            .collect();
        let spring: String = (0..20)
            .map(|i| format!("2026-11-20 15:{:02}:10.123  WARN 1 --- [nio-8080-exec-{i}] c.e.PaymentClient : retrying charge\n", i * 2 + 1))
            .collect();
        std::fs::write(app.join("payments.jsonl"), json).expect("write");
        std::fs::write(app.join("service.log"), spring).expect("write");
        let (records, report) = ingest_dir(&mut ingestor, &app);
        assert_eq!(
            first_time_of(&records, "service.log"),
            "2026-11-20T14:01:10.123+00:00"
        );
        assert_eq!(
            report.inferred_zones.len(),
            1,
            "{:?}",
            report.inferred_zones
        );
        assert_eq!(report.inferred_zones[0].zone.to_string(), "+01:00");
    }

    /// Without a zoned neighbour, or with a zone given, zone-less times are
    /// read as the options say and nothing is inferred.
    #[test]
    fn zoneless_files_alone_or_with_a_given_zone_are_not_inferred() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error: String = (0..10)
            .map(|i| {
                format!(
                    "2026/10/27 20:{:02}:30 [error] 7#7: *{i} upstream timed out\n",
                    i + 12
                )
            })
            .collect();
        std::fs::write(dir.path().join("error.log"), error).expect("write");
        let mut ingestor = Ingestor::new(options(), IngestState::default());
        let (records, report) = ingest_dir(&mut ingestor, dir.path());
        assert!(report.inferred_zones.is_empty());
        assert_eq!(
            first_time_of(&records, "error.log"),
            "2026-10-27T20:12:30+00:00"
        );

        let access: String = (0..10)
            .map(|i| {
                format!("10.0.0.{i} - - [27/Oct/2026:20:{:02}:00 -0500] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"\n", i + 12)
            })
            .collect();
        std::fs::write(dir.path().join("access.log"), access).expect("write");
        let given = ReadOptions {
            zone: chrono::FixedOffset::east_opt(3600),
            ..options()
        };
        let mut ingestor = Ingestor::new(given, IngestState::default());
        let (records, report) = ingest_dir(&mut ingestor, dir.path());
        assert!(
            report.inferred_zones.is_empty(),
            "{:?}",
            report.inferred_zones
        );
        assert_eq!(
            first_time_of(&records, "error.log"),
            "2026-10-27T19:12:30+00:00"
        );
    }

    /// Lines appended to a file after its first read are read in the zone
    /// the file was first read in, even when the neighbour that decided it
    /// is gone.
    #[test]
    fn a_resumed_file_keeps_the_zone_it_was_first_read_in() {
        let dir = tempfile::tempdir().expect("tempdir");
        let access: String = (0..30)
            .map(|i| {
                format!("10.0.0.{i} - - [27/Oct/2026:20:{:02}:00 +0200] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"\n", i + 10)
            })
            .collect();
        let line = |i: usize| {
            format!(
                "2026/10/27 20:{:02}:30 [error] 7#7: *{i} connect() failed\n",
                i + 12
            )
        };
        let first: String = (0..20).map(line).collect();
        std::fs::write(dir.path().join("access.log"), access).expect("write");
        std::fs::write(dir.path().join("error.log"), &first).expect("write");
        let mut ingestor = Ingestor::new(options(), IngestState::default());
        let (_, report) = ingest_dir(&mut ingestor, dir.path());
        assert_eq!(
            report.inferred_zones.len(),
            1,
            "{:?}",
            report.inferred_zones
        );
        std::fs::remove_file(dir.path().join("access.log")).expect("remove");
        let grown: String = (0..25).map(line).collect();
        std::fs::write(dir.path().join("error.log"), grown).expect("grow");
        let (records, _) = ingest_dir(&mut ingestor, dir.path());
        assert_eq!(records.len(), 5, "only the appended lines");
        assert_eq!(
            first_time_of(&records, "error.log"),
            "2026-10-27T18:32:30+00:00"
        );
    }
}
