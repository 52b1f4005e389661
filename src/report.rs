//! How results are printed: human text, or JSON with `--json`.

use std::io::Write;
use std::path::Path;

use agent::Answer;
use anyhow::Result;
use retrieval::{Hit, IngestSummary};

pub fn ingest_summary(summary: &IngestSummary, quarantine: &Path, json: bool) -> Result<()> {
    let mut out = crate::terminal::stdout();
    if json {
        let value = serde_json::json!({
            "files": summary.files,
            "records": summary.records,
            "bad": summary.bad,
            "quarantine": quarantine,
            "up_to_date": summary.up_to_date,
            "inferred_zones": summary.inferred_zones.iter().map(|inferred| serde_json::json!({
                "source": inferred.source,
                "zone": inferred.zone.to_string(),
                "aligned_with": inferred.aligned_with,
            })).collect::<Vec<_>>(),
            "vector_units": summary.units,
            "embedded_texts": summary.embedded,
            "embedding_secs": summary.embedding_secs,
            "status": if summary.bad.is_empty() { "complete" } else { "partial" },
        });
        writeln!(out, "{value}")?;
        return Ok(());
    }
    writeln!(
        out,
        "ingested {} records from {} files; {} vector units ({} texts embedded)",
        summary.records, summary.files, summary.units, summary.embedded
    )?;
    for inferred in &summary.inferred_zones {
        writeln!(
            out,
            "{}: times without a zone read as UTC{} (its span then matches {}; --timezone overrides)",
            inferred.source, inferred.zone, inferred.aligned_with
        )?;
    }
    if !summary.bad.is_empty() {
        let mut err = crate::terminal::stderr();
        for bad in &summary.bad {
            writeln!(err, "bad input {}: {}", bad.origin, bad.reason)?;
        }
        writeln!(
            err,
            "partial: {} inputs could not be read; kept in {}",
            summary.bad.len(),
            quarantine.display()
        )?;
    }
    Ok(())
}

pub fn answer(answer: &Answer, json: bool) -> Result<()> {
    let mut out = crate::terminal::stdout();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(answer)?)?;
    } else {
        write!(out, "{}", agent::answer_text(answer))?;
    }
    Ok(())
}

pub fn hits(hits: &[Hit], json: bool) -> Result<()> {
    let mut out = crate::terminal::stdout();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(hits)?)?;
        return Ok(());
    }
    if hits.is_empty() {
        writeln!(out, "no matches")?;
    }
    for hit in hits {
        let ts = hit
            .record
            .ts
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "-".into());
        let mut why = Vec::new();
        if let Some(rank) = hit.ranks.text {
            why.push(format!("text #{rank} ({})", hit.why.join(", ")));
        }
        if let (Some(rank), Some(similarity)) = (hit.ranks.vector, hit.ranks.similarity) {
            why.push(format!("vector #{rank} (similarity {similarity:.2})"));
        }
        if why.is_empty() {
            why.push(hit.why.join(", "));
        }
        writeln!(
            out,
            "{:7.3}  [{}] {ts} {} {}  matched: {}",
            hit.score,
            hit.record.id,
            hit.record.service,
            hit.record.origin,
            why.join("; ")
        )?;
        writeln!(
            out,
            "         {}",
            hit.record.body.lines().next().unwrap_or_default()
        )?;
    }
    Ok(())
}

pub fn eval(run: &evals::Run, saved: &std::path::Path, json: bool) -> Result<()> {
    let mut out = crate::terminal::stdout();
    let summary = &run.summary;
    if json {
        let mut object = serde_json::Map::new();
        for (name, value) in summary.named() {
            object.insert(name.into(), value.into());
        }
        object.insert("cases".into(), summary.cases.into());
        object.insert("split".into(), serde_json::to_value(run.split)?);
        object.insert("latency_p50_secs".into(), summary.latency_p50_secs.into());
        object.insert("latency_p95_secs".into(), summary.latency_p95_secs.into());
        for (name, value) in [
            ("retrieval_p50_secs", summary.retrieval_p50_secs),
            ("retrieval_p95_secs", summary.retrieval_p95_secs),
            ("llm_p50_secs", summary.llm_p50_secs),
            ("llm_p95_secs", summary.llm_p95_secs),
        ] {
            object.insert(name.into(), value.into());
        }
        object.insert("mode".into(), run.mode.clone().into());
        object.insert(
            "llm_calls_per_answer".into(),
            summary.llm_calls_per_answer.into(),
        );
        object.insert(
            "llm_tokens_per_answer".into(),
            summary.llm_tokens_per_answer.into(),
        );
        object.insert("llm_fallback_rate".into(), summary.llm_fallback_rate.into());
        object.insert("leaks".into(), summary.leaks.into());
        if let Some(agreement) = &summary.judge_agreement {
            object.insert("judge_agreement".into(), agreement.rate.into());
            object.insert("judge_kappa".into(), agreement.kappa.into());
        }
        object.insert("run".into(), saved.display().to_string().into());
        writeln!(out, "{}", serde_json::Value::Object(object))?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<28} {:>6} {:>6} {:>6} {:>6} {:>6} {:>8}",
        "case", "R@5", "R@10", "MRR", "prec", "cause", "secs"
    )?;
    for s in &run.cases {
        writeln!(
            out,
            "{:<28} {:>6.2} {:>6.2} {:>6.2} {:>6.2} {:>6} {:>8.3}",
            s.case,
            s.recall_at_5,
            s.recall_at_10,
            s.reciprocal_rank,
            s.citation_precision,
            if s.root_cause_correct { "yes" } else { "NO" },
            s.answer_secs
        )?;
    }
    let split = run.split.map_or("all", |s| {
        if s == evals::Split::Dev {
            "dev"
        } else {
            "test"
        }
    });
    writeln!(
        out,
        "\n{} cases, split {split}, {} mode (mean [95% interval]):",
        summary.cases, run.mode
    )?;
    for (name, estimate) in [
        ("recall@5", summary.recall_at_5),
        ("recall@10", summary.recall_at_10),
        ("MRR", summary.mrr),
        ("nDCG@10", summary.ndcg_at_10),
        ("citation precision", summary.citation_precision),
        ("citation recall", summary.citation_recall),
        ("root-cause accuracy", summary.root_cause_accuracy),
        ("remediation coverage", summary.remediation_coverage),
        ("citations resolving", summary.citations_resolve),
    ]
    .into_iter()
    .chain(
        [
            ("search recall@10 text", summary.search_recall_text),
            ("  vector", summary.search_recall_vector),
            ("  hybrid", summary.search_recall_hybrid),
            ("diffs applying", summary.diff_apply_rate),
            ("root cause (LLM judge)", summary.judge_root_cause_accuracy),
        ]
        .into_iter()
        .filter_map(|(name, estimate)| estimate.map(|e| (name, e))),
    ) {
        writeln!(
            out,
            "  {name:<22} {:.3} [{:.3}, {:.3}]",
            estimate.mean, estimate.low, estimate.high
        )?;
    }
    writeln!(
        out,
        "  latency p50 {:.3} s, p95 {:.3} s (retrieval and analysis p50 {:.3} s, p95 {:.3} s; LLM p50 {:.3} s, p95 {:.3} s)",
        summary.latency_p50_secs,
        summary.latency_p95_secs,
        summary.retrieval_p50_secs,
        summary.retrieval_p95_secs,
        summary.llm_p50_secs,
        summary.llm_p95_secs
    )?;
    if let Some(agreement) = &summary.judge_agreement {
        writeln!(
            out,
            "  judge and key-fact match agree on {:.0}% of {} cases (Cohen's kappa {})",
            100.0 * agreement.rate,
            agreement.cases,
            agreement
                .kappa
                .map_or("undefined: one grade only".to_string(), |k| format!(
                    "{k:.2}"
                ))
        )?;
    }
    writeln!(
        out,
        "  privacy: {} planted secrets or personal data in outbound payloads",
        summary.leaks
    )?;
    if run.mode.starts_with("llm:") {
        writeln!(
            out,
            "  LLM per answer: {:.1} calls, {:.0} tokens; fell back to evidence mode in {:.0}% of answers",
            summary.llm_calls_per_answer,
            summary.llm_tokens_per_answer,
            100.0 * summary.llm_fallback_rate
        )?;
    }
    writeln!(out, "run saved to {}", saved.display())?;
    Ok(())
}

/// Configurations side by side, each metric with its delta against the
/// first configuration.
pub fn ablation(runs: &[evals::Run], json: bool) -> Result<()> {
    let mut out = crate::terminal::stdout();
    let rows = |run: &evals::Run| {
        let summary = &run.summary;
        let mut rows = summary.named();
        rows.push(("latency_p50_secs", summary.latency_p50_secs));
        rows.push(("retrieval_p50_secs", summary.retrieval_p50_secs));
        rows.push(("llm_p50_secs", summary.llm_p50_secs));
        rows.push(("llm_tokens_per_answer", summary.llm_tokens_per_answer));
        rows.push(("llm_fallback_rate", summary.llm_fallback_rate));
        rows.push(("leaks", summary.leaks as f64));
        rows
    };
    if json {
        let object: serde_json::Map<String, serde_json::Value> = runs
            .iter()
            .map(|run| {
                let metrics: serde_json::Map<String, serde_json::Value> = rows(run)
                    .into_iter()
                    .map(|(name, value)| (name.to_string(), value.into()))
                    .collect();
                (run.mode.clone(), metrics.into())
            })
            .collect();
        writeln!(out, "{}", serde_json::Value::Object(object))?;
        return Ok(());
    }
    let Some(first) = runs.first() else {
        return Ok(());
    };
    write!(out, "{:<24}", "metric")?;
    for run in runs {
        write!(out, " {:>22}", run.mode)?;
    }
    writeln!(out)?;
    for (name, base) in rows(first) {
        write!(out, "{name:<24} {base:>22.3}")?;
        for run in &runs[1..] {
            let value = rows(run)
                .into_iter()
                .find(|(other, _)| *other == name)
                .map_or(f64::NAN, |(_, v)| v);
            write!(out, " {:>22}", format!("{value:.3} ({:+.3})", value - base))?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{} cases each; deltas against {}.",
        first.summary.cases, first.mode
    )?;
    Ok(())
}

pub fn generated(dir: &std::path::Path, truth: &evals::GroundTruth) -> Result<()> {
    let mut out = crate::terminal::stdout();
    let gold: usize = truth.evidence.iter().map(|e| e.ids.len()).sum();
    writeln!(
        out,
        "{}\t{}\t{gold} gold records\t{}",
        dir.display(),
        truth.family,
        truth.question
    )?;
    Ok(())
}

pub fn demo_header(records: usize, case: &evals::Case) -> Result<()> {
    let mut out = crate::terminal::stdout();
    writeln!(
        out,
        "Ingested {records} records from the bundled incident ({}).",
        case.data.display()
    )?;
    writeln!(out, "Question: {}\n", case.truth.question)?;
    Ok(())
}

pub fn loghub(report: &evals::LoghubReport, json: bool) -> Result<()> {
    let mut out = crate::terminal::stdout();
    if json {
        writeln!(out, "{}", serde_json::to_string(report)?)?;
        return Ok(());
    }
    let optional = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"));
    writeln!(
        out,
        "{:<12} {:>7} {:>7} {:>9} {:>9} {:>9} {:>10}",
        "system", "GA", "PA", "GA corr", "PA corr", "templates", "lines/s"
    )?;
    for s in &report.systems {
        writeln!(
            out,
            "{:<12} {:>7.3} {:>7.3} {:>9} {:>9} {:>9} {:>10.0}",
            s.system,
            s.grouping_accuracy,
            s.parsing_accuracy,
            optional(s.grouping_accuracy_corrected),
            optional(s.parsing_accuracy_corrected),
            s.templates,
            s.lines_per_sec
        )?;
    }
    let a = &report.average;
    writeln!(
        out,
        "{:<12} {:>7.3} {:>7.3} {:>9} {:>9} {:>9} {:>10.0}",
        "average",
        a.grouping_accuracy,
        a.parsing_accuracy,
        optional(a.grouping_accuracy_corrected),
        optional(a.parsing_accuracy_corrected),
        "",
        a.lines_per_sec
    )?;
    Ok(())
}

pub fn redacted(redacted: &privacy::Redacted) -> Result<()> {
    std::io::stdout()
        .lock()
        .write_all(redacted.text.as_bytes())?;
    let mut err = crate::terminal::stderr();
    let total: usize = redacted.counts.values().sum();
    let parts: Vec<String> = redacted
        .counts
        .iter()
        .map(|(category, n)| format!("{} {n}", category.label().to_lowercase()))
        .collect();
    writeln!(err, "redacted {total}: {}", parts.join(", "))?;
    Ok(())
}

pub fn search_bench(bench: &evals::SearchBench, json: bool) -> Result<()> {
    let mut out = crate::terminal::stdout();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(bench)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<8} {:<9} {:>7} {:>9} {:>9}",
        "mode", "filters", "queries", "p50 ms", "p95 ms"
    )?;
    for latency in &bench.latencies {
        writeln!(
            out,
            "{:<8} {:<9} {:>7} {:>9.2} {:>9.2}",
            latency.mode,
            if latency.filtered { "yes" } else { "no" },
            latency.queries,
            latency.p50_ms,
            latency.p95_ms
        )?;
    }
    if let Some(units) = bench.vector_units {
        writeln!(out, "vector units: {units}")?;
    }
    if let Some(recall) = bench.ann_recall_at_10 {
        writeln!(
            out,
            "vector index recall@10 against exact search: {recall:.3}"
        )?;
    }
    Ok(())
}

/// Scores on an external incident set: per case, then totals for the
/// cases whose cause is a change, the others, and all.
pub fn incident_set(report: &evals::ExternalReport, json: bool) -> Result<()> {
    let mut out = crate::terminal::stdout();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(report)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<36} {:>6} {:>7} {:>9} {:>7} {:>7} {:>6} {:>7}",
        "case", "change", "facts", "evidence", "cited", "remed.", "bad", "secs"
    )?;
    let ratio = |found: usize, total: usize| format!("{found}/{total}");
    for case in &report.cases {
        writeln!(
            out,
            "{:<36} {:>6} {:>7} {:>9} {:>7} {:>7} {:>6} {:>7.2}",
            case.name,
            if case.cause_is_change { "yes" } else { "no" },
            ratio(case.facts_found, case.facts),
            ratio(case.patterns_hit, case.patterns),
            ratio(case.citations_matching, case.citations),
            ratio(case.remediation_found, case.remediation_points),
            case.bad_inputs,
            case.answer_secs
        )?;
    }
    let share = |(found, total): (usize, usize)| {
        if total == 0 {
            "-".to_string()
        } else {
            format!("{:.3} ({found}/{total})", found as f64 / total as f64)
        }
    };
    writeln!(out)?;
    type Keep = fn(&evals::ExternalScore) -> bool;
    let groups: [(&str, Keep); 3] = [
        ("cause is a change", |c| c.cause_is_change),
        ("cause is not a change", |c| !c.cause_is_change),
        ("all", |_| true),
    ];
    for (label, keep) in groups {
        let [facts, patterns, precision, remediation] = report.totals(keep);
        writeln!(
            out,
            "{label}: key facts {}, evidence patterns {}, citation precision {}, remediation {}",
            share(facts),
            share(patterns),
            share(precision),
            share(remediation)
        )?;
    }
    Ok(())
}

/// Scores on a postmortem set: per question, then the time fields.
pub fn postmortem_set(report: &evals::PostmortemReport, json: bool) -> Result<()> {
    let mut out = crate::terminal::stdout();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(report)?)?;
        return Ok(());
    }
    writeln!(out, "{} reports ingested", report.documents)?;
    writeln!(
        out,
        "{:<8} {:<12} {:>6} {:>7}",
        "question", "kind", "gold", "facts"
    )?;
    let (mut gold, mut golds, mut facts, mut all_facts) = (0, 0, 0, 0);
    for question in &report.questions {
        writeln!(
            out,
            "{:<8} {:<12} {:>6} {:>7}",
            question.id,
            question.kind,
            format!("{}/{}", question.gold_cited, question.gold),
            format!("{}/{}", question.facts_found, question.facts)
        )?;
        gold += question.gold_cited;
        golds += question.gold;
        facts += question.facts_found;
        all_facts += question.facts;
    }
    let share = |found: usize, total: usize| found as f64 / total.max(1) as f64;
    writeln!(
        out,
        "gold document in the first {} cited: {:.3} ({gold}/{golds}); key facts: {:.3} ({facts}/{all_facts})",
        evals::GOLD_WITHIN,
        share(gold, golds),
        share(facts, all_facts)
    )?;
    writeln!(out, "\nstated times extracted to the minute:")?;
    let mut correct_all = 0;
    for (field, _) in evals::TIME_FIELDS {
        let of_field: Vec<&evals::TimeScore> =
            report.times.iter().filter(|t| t.field == field).collect();
        let correct = of_field.iter().filter(|t| t.correct()).count();
        correct_all += correct;
        writeln!(
            out,
            "  {field:<13} {correct}/{} ({:.3})",
            of_field.len(),
            share(correct, of_field.len())
        )?;
    }
    writeln!(
        out,
        "  {:<13} {correct_all}/{} ({:.3})",
        "all",
        report.times.len(),
        share(correct_all, report.times.len())
    )?;
    Ok(())
}

/// Flow reconstruction scores.
pub fn flow_scores(scores: &evals::FlowScores, json: bool) -> Result<()> {
    let mut out = crate::terminal::stdout();
    if json {
        writeln!(out, "{}", serde_json::to_string(scores)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} events, {} read as flow steps; {} true flows, {} reconstructed",
        scores.events, scores.steps, scores.true_flows, scores.found_flows
    )?;
    writeln!(
        out,
        "grouping: pairwise precision {:.3}, recall {:.3}",
        scores.pairwise_precision, scores.pairwise_recall
    )?;
    writeln!(
        out,
        "first failing step and reason named for {} of {} failing flows ({:.1}%)",
        scores.first_failure_correct,
        scores.failing_flows,
        100.0 * scores.first_failure_correct as f64 / scores.failing_flows.max(1) as f64
    )?;
    Ok(())
}
