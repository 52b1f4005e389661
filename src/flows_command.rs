//! `oncall flows`: login and token flows reconstructed from auth traces
//! (files given on the command line, or what the stores hold), filtered,
//! and with `--flags` the risky events each rule found.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use chrono::{DateTime, Utc};
use flows::{Flow, Outcome, RuleConfig, StitchConfig};
use ingest::{ReadOptions, Record, SourceKind, TemplateMiner};
use retrieval::{Filters, TimeRange};

/// Most records read from the stores for one reconstruction.
const MAX_STORED_RECORDS: usize = 2_000_000;

#[derive(clap::Args)]
pub struct FlowsArgs {
    /// Auth traces to read (files or directories); the stores when none.
    files: Vec<PathBuf>,
    /// Print, per input event, whether a risky-event rule flagged it and which.
    #[arg(long)]
    flags: bool,
    /// Print success rates per client and step, the failure reasons that
    /// appeared or grew with their onset, and the issuers' clock skew.
    #[arg(long)]
    summary: bool,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
    /// Keep flows of this OAuth client id.
    #[arg(long)]
    client: Option<String>,
    /// Keep flows of this user.
    #[arg(long)]
    user: Option<String>,
    /// Keep flows from this IP.
    #[arg(long)]
    ip: Option<String>,
    /// Keep flows with this outcome: success or failure.
    #[arg(long, value_parser = parse_outcome)]
    outcome: Option<Outcome>,
    /// Only events at or after this time (RFC 3339).
    #[arg(long, value_parser = super::parse_time)]
    from: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339).
    #[arg(long, value_parser = super::parse_time)]
    to: Option<DateTime<Utc>>,
}

fn parse_outcome(text: &str) -> Result<Outcome, String> {
    match text {
        "success" => Ok(Outcome::Success),
        "failure" => Ok(Outcome::Failure),
        other => Err(format!("unknown outcome {other:?}; success or failure")),
    }
}

/// Runs `oncall flows`; `stored` opens the stores when no file is given.
pub fn run(
    args: FlowsArgs,
    tenant: &str,
    rules: &RuleConfig,
    stored: impl FnOnce() -> Result<retrieval::Stores>,
) -> Result<()> {
    let time = TimeRange {
        from: args.from,
        to: args.to,
    };
    let records = if args.files.is_empty() {
        let stores = stored()?;
        let filters = Filters {
            kinds: vec![SourceKind::Auth, SourceKind::Log],
            time,
            ..Filters::default()
        };
        stores.text().scan(tenant, &filters, MAX_STORED_RECORDS)?
    } else {
        read_files(&args.files, tenant)?
            .into_iter()
            .filter(|r| r.ts.is_some() && time.contains(r.ts))
            .collect()
    };
    let mut out = crate::terminal::stdout();
    if args.flags {
        return print_flags(&mut out, &records, rules, args.json);
    }
    let steps: Vec<_> = records.iter().filter_map(flows::classify).collect();
    let flows: Vec<Flow> = flows::reconstruct(steps, &StitchConfig::default())
        .into_iter()
        .filter(|f| {
            args.client
                .as_ref()
                .is_none_or(|c| f.client.as_ref() == Some(c))
        })
        .filter(|f| {
            args.user
                .as_ref()
                .is_none_or(|u| f.user.as_deref() == Some(u.to_lowercase().as_str()))
        })
        .filter(|f| args.ip.as_ref().is_none_or(|ip| f.ip.as_ref() == Some(ip)))
        .filter(|f| args.outcome.is_none_or(|o| f.outcome == o))
        .collect();
    if args.summary {
        return print_summary(&mut out, &flows, &records, args.json);
    }
    if args.json {
        for flow in &flows {
            writeln!(out, "{}", serde_json::to_string(flow)?)?;
        }
        return Ok(());
    }
    for flow in &flows {
        let steps: Vec<String> = flow
            .steps
            .iter()
            .map(|s| {
                let mark = if s.step.outcome == Outcome::Success {
                    "ok"
                } else {
                    "FAIL"
                };
                format!("{} {mark} +{}ms", s.step.kind.as_str(), s.after_ms)
            })
            .collect();
        let failure = flow
            .first_failure
            .as_ref()
            .map(|(i, reason)| {
                format!(
                    "  first failure: {} ({}: {})",
                    flow.steps[*i].step.kind.as_str(),
                    reason.code,
                    reason.detail
                )
            })
            .unwrap_or_default();
        writeln!(
            out,
            "{} client={} user={} ip={} {:?}: {}{failure}",
            flow.started()
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default(),
            flow.client.as_deref().unwrap_or("-"),
            flow.user.as_deref().unwrap_or("-"),
            flow.ip.as_deref().unwrap_or("-"),
            flow.outcome,
            steps.join(" -> ")
        )?;
    }
    let failed = flows
        .iter()
        .filter(|f| f.outcome == Outcome::Failure)
        .count();
    writeln!(out, "{} flows, {failed} failed", flows.len())?;
    Ok(())
}

fn read_files(files: &[PathBuf], tenant: &str) -> Result<Vec<Record>> {
    let mut miner = TemplateMiner::default();
    let mut records = Vec::new();
    for path in files {
        let parsed = ingest::read_path(path, &ReadOptions::new(tenant), &mut miner)?;
        let mut err = crate::terminal::stderr();
        for bad in &parsed.bad {
            writeln!(err, "{}: {}", bad.origin, bad.reason)?;
        }
        records.extend(parsed.records);
    }
    Ok(records)
}

/// One line per input event: flagged or not, and by which rules.
fn print_flags(
    out: &mut impl Write,
    records: &[Record],
    rules: &RuleConfig,
    json: bool,
) -> Result<()> {
    let flags = flows::flag_events(records, rules);
    let mut by_record: std::collections::HashMap<&str, Vec<&'static str>> =
        std::collections::HashMap::new();
    for flag in &flags {
        for id in &flag.records {
            let rules = by_record.entry(id.0.as_str()).or_default();
            if !rules.contains(&flag.rule.as_str()) {
                rules.push(flag.rule.as_str());
            }
        }
    }
    if json {
        for record in records {
            let rules = by_record
                .get(record.id.0.as_str())
                .cloned()
                .unwrap_or_default();
            let line = serde_json::json!({
                "record": record.id,
                "origin": record.origin.to_string(),
                "ts": record.ts,
                "flagged": !rules.is_empty(),
                "rules": rules,
            });
            writeln!(out, "{line}")?;
        }
        return Ok(());
    }
    for flag in &flags {
        writeln!(
            out,
            "{} {:?} {} [{}]: {} ({} records)",
            flag.ts.format("%Y-%m-%d %H:%M:%S"),
            flag.severity,
            flag.rule.as_str(),
            flag.subject,
            flag.summary,
            flag.records.len()
        )?;
    }
    writeln!(out, "{} flags over {} events", flags.len(), records.len())?;
    Ok(())
}

fn print_summary(
    out: &mut impl Write,
    flows: &[Flow],
    records: &[Record],
    json: bool,
) -> Result<()> {
    let flows::FlowSummary {
        clients,
        connections,
        steps,
        over_time,
        rising,
    } = flows::summarize(flows);
    let skew = flows::clock_skew(records);
    if json {
        let summary = serde_json::json!({
            "flows": flows.len(),
            "clients": clients,
            "connections": connections,
            "steps": steps,
            "over_time": over_time,
            "rising_reasons": rising,
            "clock_skew": skew,
        });
        writeln!(out, "{summary}")?;
        return Ok(());
    }
    writeln!(out, "{} flows", flows.len())?;
    for (title, unit, rates) in [
        ("client", "flows", &clients),
        ("connection", "flows", &connections),
        ("step", "steps", &steps),
        ("time bucket", "flows", &over_time),
    ] {
        writeln!(out, "success rate per {title}:")?;
        for rate in rates {
            writeln!(
                out,
                "  {:<24} {:>7} {unit}  {:>6.1}%",
                rate.key,
                rate.attempts,
                100.0 * rate.success_rate()
            )?;
        }
    }
    writeln!(
        out,
        "failure reasons that appeared or grew (second half of the span):"
    )?;
    for trend in &rising {
        writeln!(
            out,
            "  {:<24} {} -> {}{}  since {}",
            trend.code,
            trend.before,
            trend.after,
            if trend.appeared { " (new)" } else { "" },
            trend.onset.format("%Y-%m-%d %H:%M:%S")
        )?;
    }
    match skew {
        Some(skew) => writeln!(
            out,
            "issuer clocks ahead: median {} s, max {} s, over {} tokens issued in the future",
            skew.median_secs, skew.max_secs, skew.samples
        )?,
        None => writeln!(out, "no token issued in the future: no clock skew seen")?,
    }
    Ok(())
}
