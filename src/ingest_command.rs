//! `oncall ingest`: paths, directories, stdin and followed files into the
//! stores, with bad input quarantined and progress on a terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use ingest::{Format, HeaderFormat, ReadOptions};
use retrieval::{IngestSummary, Stores};

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

pub fn run(
    stores: &Stores,
    home: &Path,
    tenant: &str,
    at_rest: Option<&privacy::AtRest>,
    args: IngestArgs,
) -> Result<ExitCode> {
    let options = ReadOptions {
        format: args.format,
        header: args.header,
        zone: args.timezone,
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
    let summary = ingest_paths(stores, home, options.clone(), &paths, at_rest)?;
    report::ingest_summary(
        &summary,
        &retrieval::quarantine_file(home, tenant),
        args.json,
    )?;
    if args.follow {
        loop {
            std::thread::sleep(FOLLOW_INTERVAL);
            let more = ingest_paths(stores, home, options.clone(), &paths, at_rest)?;
            if more.records > 0 || !more.bad.is_empty() {
                report::ingest_summary(
                    &more,
                    &retrieval::quarantine_file(home, tenant),
                    args.json,
                )?;
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

pub fn ingest_paths(
    stores: &Stores,
    home: &Path,
    options: ReadOptions,
    paths: &[PathBuf],
    at_rest: Option<&privacy::AtRest>,
) -> Result<IngestSummary> {
    let progress = std::io::stderr().is_terminal().then(progress_bar);
    let quarantine = retrieval::quarantine_file(home, &options.tenant);
    let summary = retrieval::ingest_files(
        stores,
        &quarantine,
        options,
        paths,
        at_rest,
        &mut |totals| {
            if let Some(bar) = &progress {
                let rate = totals.records as f64 / bar.elapsed().as_secs_f64().max(0.001);
                bar.set_message(format!(
                    "{} records ({rate:.0}/s), {} bad",
                    totals.records, totals.bad
                ));
            }
        },
    )
    .context("ingesting")?;
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
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
