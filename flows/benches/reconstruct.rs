//! Flow reconstruction and risky-event rules over a folder of auth traces
//! (`oncall gen-flows --flows 200000` writes about a million events):
//! events per second per stage and peak RSS. Run by `scripts/bench-flows`.
//!
//!     cargo bench -p flows --bench reconstruct -- DIR

use std::time::Instant;

use flows::{RuleConfig, StitchConfig, classify, flag_events, reconstruct};
use ingest::{ReadOptions, TemplateMiner};

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let Some(dir) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: cargo bench -p flows --bench reconstruct -- DIR");
        std::process::exit(2);
    };
    let started = Instant::now();
    let parsed = match ingest::read_path(
        std::path::Path::new(&dir),
        &ReadOptions::new("bench"),
        &mut TemplateMiner::default(),
    ) {
        Ok(parsed) => parsed,
        Err(error) => {
            eprintln!("{dir}: {error}");
            std::process::exit(1);
        }
    };
    let read = started.elapsed().as_secs_f64();
    let events = parsed.records.len() as f64;
    let started = Instant::now();
    let steps: Vec<_> = parsed.records.iter().filter_map(classify).collect();
    let step_count = steps.len();
    let flows = reconstruct(steps, &StitchConfig::default());
    let stitch = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let flags = flag_events(&parsed.records, &RuleConfig::default());
    let rules = started.elapsed().as_secs_f64();
    println!("events                 {events:.0} ({step_count} flow steps)");
    println!(
        "read and parse         {read:.2} s  {:.0} events/s",
        events / read
    );
    println!(
        "classify and stitch    {stitch:.2} s  {:.0} events/s  ({} flows)",
        events / stitch,
        flows.len()
    );
    println!(
        "risky-event rules      {rules:.2} s  {:.0} events/s  ({} flags)",
        events / rules,
        flags.len()
    );
    println!(
        "reconstruction total   {:.2} s  {:.0} events/s (stitch + rules, parsed records in memory)",
        stitch + rules,
        events / (stitch + rules)
    );
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS               {mb:.0} MB");
    }
}
