//! `oncall ingest`: paths, directories, stdin and followed files into the
//! stores, with bad input quarantined and progress on a terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use ingest::{
    BadInput, Format, HeaderFormat, IngestState, ReadOptions, Record, RecordSink, SinkError,
};
use retrieval::Stores;

use crate::{EXIT_PARTIAL, report};

/// Arguments of `oncall ingest`.
#[derive(clap::Args)]
pub struct IngestArgs {
    /// Files or directories (recursively); `-` reads standard input.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Format instead of detection: jsonl, access-log, text, syslog, header, terraform, json, config, markdown, changes.
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// Layout of plain-text lines, e.g. '<Date> <Time> <Level> <Component>: <Content>'.
    #[arg(long, value_parser = parse_header)]
    header: Option<HeaderFormat>,
    /// Zone of timestamps written without one, e.g. +02:00.
    #[arg(long, value_parser = parse_zone)]
    timezone: Option<chrono::FixedOffset>,
    /// In directories, read only files matching this glob (repeatable).
    #[arg(long)]
    include: Vec<String>,
    /// In directories, skip files matching this glob (repeatable).
    #[arg(long)]
    exclude: Vec<String>,
    /// Keep reading as files grow (tail -F: survives rotation); stop with Ctrl-C.
    #[arg(long)]
    follow: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_format(name: &str) -> Result<Format, String> {
    Format::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!("unknown format {name:?}; one of {}", names.join(", "))
    })
}

fn parse_header(format: &str) -> Result<HeaderFormat, String> {
    HeaderFormat::parse(format).map_err(|e| e.to_string())
}

fn parse_zone(text: &str) -> Result<chrono::FixedOffset, String> {
    text.parse()
        .map_err(|_| format!("not a UTC offset like +02:00: {text:?}"))
}

/// How often a followed file is polled.
const FOLLOW_INTERVAL: Duration = Duration::from_secs(1);

pub fn run(stores: &mut Stores, home: &Path, tenant: &str, args: IngestArgs) -> Result<ExitCode> {
    let options = ReadOptions {
        format: args.format,
        header: args.header,
        zone: args.timezone.unwrap_or(ReadOptions::new(tenant).zone),
        include: args.include,
        exclude: args.exclude,
        ..ReadOptions::new(tenant)
    };
    let spool = tempfile::tempdir()?;
    let paths = args
        .paths
        .iter()
        .map(|path| {
            if path.as_os_str() == "-" {
                spool_stdin(spool.path())
            } else {
                Ok(path.clone())
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let summary = ingest_paths(stores, home, options.clone(), &paths)?;
    report::ingest_summary(&summary, args.json)?;
    if args.follow {
        loop {
            std::thread::sleep(FOLLOW_INTERVAL);
            let more = ingest_paths(stores, home, options.clone(), &paths)?;
            if more.records > 0 || !more.bad.is_empty() {
                report::ingest_summary(&more, args.json)?;
            }
        }
    }
    Ok(if summary.bad.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PARTIAL)
    })
}

/// Standard input, saved as a file named `stdin` so its records get stable
/// ids (the same input piped twice adds nothing).
fn spool_stdin(dir: &Path) -> Result<PathBuf> {
    let path = dir.join("stdin");
    let mut file = std::fs::File::create(&path)?;
    std::io::copy(&mut std::io::stdin().lock(), &mut file).context("reading standard input")?;
    Ok(path)
}

/// What an ingest run read.
pub struct IngestSummary {
    /// Files read.
    pub files: usize,
    /// Records stored.
    pub records: usize,
    /// Inputs that could not be read; also appended to the quarantine file.
    pub bad: Vec<BadInput>,
    /// Files with nothing new since their checkpoint.
    pub up_to_date: usize,
    /// Where bad inputs were written.
    pub quarantine: PathBuf,
    /// Evidence units written to the vector store.
    pub units: usize,
    /// Distinct unit texts that went through the embedding model.
    pub embedded: usize,
    /// Seconds spent in the embedding model.
    pub embedding_secs: f64,
}

pub fn ingest_paths(
    stores: &mut Stores,
    home: &Path,
    options: ReadOptions,
    paths: &[PathBuf],
) -> Result<IngestSummary> {
    let quarantine = home.join("quarantine").join("bad-input.jsonl");
    let mut summary = IngestSummary {
        files: 0,
        records: 0,
        bad: Vec::new(),
        up_to_date: 0,
        quarantine: quarantine.clone(),
        units: 0,
        embedded: 0,
        embedding_secs: 0.0,
    };
    let mut ingestor = ingest::Ingestor::new(options, stores.text().ingest_state()?);
    let indexed_before = stores.indexed();
    let progress = std::io::stderr().is_terminal().then(progress_bar);
    let mut destination = Destination {
        stores,
        quarantine: &quarantine,
        progress: progress.as_ref(),
        records: 0,
        bad: 0,
    };
    for path in paths {
        let report = ingestor
            .ingest(path, &mut destination)
            .with_context(|| format!("ingesting {}", path.display()))?;
        summary.files += report.files.len();
        summary.records += report.records as usize;
        summary.up_to_date += report.up_to_date.len();
        summary.bad.extend(report.bad);
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    destination.stores.optimize()?;
    let indexed = destination.stores.indexed();
    summary.units = indexed.units - indexed_before.units;
    summary.embedded = indexed.embedded - indexed_before.embedded;
    summary.embedding_secs = (indexed.embedding_time - indexed_before.embedding_time).as_secs_f64();
    Ok(summary)
}

fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The stores, with bad input appended to the quarantine file as it is
/// found and progress shown on a terminal.
struct Destination<'a> {
    stores: &'a mut Stores,
    quarantine: &'a Path,
    progress: Option<&'a indicatif::ProgressBar>,
    records: u64,
    bad: u64,
}

impl RecordSink for Destination<'_> {
    fn write(&mut self, records: Vec<Record>, bad: &[BadInput]) -> Result<(), SinkError> {
        if !bad.is_empty() {
            use std::io::Write;
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
        self.records += records.len() as u64;
        self.bad += bad.len() as u64;
        if let Some(bar) = self.progress {
            let rate = self.records as f64 / bar.elapsed().as_secs_f64().max(0.001);
            bar.set_message(format!(
                "{} records ({rate:.0}/s), {} bad",
                self.records, self.bad
            ));
        }
        self.stores.write(records, bad)
    }

    fn commit(&mut self, state: &IngestState) -> Result<(), SinkError> {
        RecordSink::commit(self.stores, state)
    }
}
