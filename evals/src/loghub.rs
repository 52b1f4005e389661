//! Template-mining accuracy on LogHub-style labelled samples.
//!
//! A folder holds `formats.tsv` (`system`, `log_format`) and, per system,
//! `NAME/NAME_2k.log` with `NAME/NAME_2k.log_structured.csv` (and, when
//! present, `..._structured_corrected.csv`). The header format string is the
//! only per-system input; the miner runs with its defaults.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use ingest::{HeaderFormat, MinerConfig, TemplateMiner};
use serde::Serialize;

use crate::error::{EvalError, Result};

/// Scores of one system.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SystemScore {
    /// System name.
    pub system: String,
    /// Share of lines whose mined group is exactly their labelled group (original labels).
    pub grouping_accuracy: f64,
    /// Share of lines whose mined template text equals the label (original labels).
    pub parsing_accuracy: f64,
    /// Grouping accuracy against the corrected labels, when present.
    pub grouping_accuracy_corrected: Option<f64>,
    /// Parsing accuracy against the corrected labels, when present.
    pub parsing_accuracy_corrected: Option<f64>,
    /// Templates mined.
    pub templates: usize,
    /// Lines whose header did not match the format (mined whole).
    pub unmatched_lines: usize,
    /// Mining throughput (mining only: header split and file reading excluded).
    pub lines_per_sec: f64,
}

/// Scores of every system and their means.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoghubReport {
    /// One entry per system, in `formats.tsv` order.
    pub systems: Vec<SystemScore>,
    /// Means over systems.
    pub average: Average,
}

/// Means over systems.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Average {
    /// Mean grouping accuracy (original labels).
    pub grouping_accuracy: f64,
    /// Mean parsing accuracy (original labels).
    pub parsing_accuracy: f64,
    /// Mean grouping accuracy over systems with corrected labels.
    pub grouping_accuracy_corrected: Option<f64>,
    /// Mean parsing accuracy over systems with corrected labels.
    pub parsing_accuracy_corrected: Option<f64>,
    /// Mean throughput.
    pub lines_per_sec: f64,
}

/// Evaluates every system listed in `dir/formats.tsv`, mining each log
/// `passes` times (fresh miner each pass) to time it steadily.
pub fn evaluate_loghub(dir: &Path, passes: usize) -> Result<LoghubReport> {
    let formats_path = dir.join("formats.tsv");
    let formats =
        std::fs::read_to_string(&formats_path).map_err(|e| EvalError::io(&formats_path, e))?;
    let mut systems = Vec::new();
    for line in formats.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let Some((system, format)) = line.split_once('\t') else {
            return Err(bad(
                &formats_path,
                format!("line {line:?} is not `system<TAB>log_format`"),
            ));
        };
        systems.push(evaluate_system(dir, system.trim(), format.trim(), passes)?);
    }
    let n = systems.len().max(1) as f64;
    let mean = |f: fn(&SystemScore) -> f64| systems.iter().map(f).sum::<f64>() / n;
    let mean_opt = |f: fn(&SystemScore) -> Option<f64>| {
        let values: Vec<f64> = systems.iter().filter_map(f).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    let average = Average {
        grouping_accuracy: mean(|s| s.grouping_accuracy),
        parsing_accuracy: mean(|s| s.parsing_accuracy),
        grouping_accuracy_corrected: mean_opt(|s| s.grouping_accuracy_corrected),
        parsing_accuracy_corrected: mean_opt(|s| s.parsing_accuracy_corrected),
        lines_per_sec: mean(|s| s.lines_per_sec),
    };
    Ok(LoghubReport { systems, average })
}

fn bad(path: &Path, reason: String) -> EvalError {
    EvalError::BadCase {
        path: path.to_path_buf(),
        reason,
    }
}

/// Mines one system's log and scores it against its labels.
pub fn evaluate_system(
    dir: &Path,
    system: &str,
    format: &str,
    passes: usize,
) -> Result<SystemScore> {
    let base = dir.join(system);
    let log_path = base.join(format!("{system}_2k.log"));
    let header =
        HeaderFormat::parse(format).map_err(|e| bad(&dir.join("formats.tsv"), e.to_string()))?;
    let bytes = std::fs::read(&log_path).map_err(|e| EvalError::io(&log_path, e))?;
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let mut unmatched_lines = 0;
    let contents: Vec<&str> = lines
        .iter()
        .map(|line| {
            header.content(line.trim_end()).unwrap_or_else(|| {
                unmatched_lines += 1;
                line
            })
        })
        .collect();
    // Timed: mining only, as the Python reference is timed in the benchmark.
    let started = Instant::now();
    let mut mined = None;
    for _ in 0..passes.max(1) {
        let mut miner = TemplateMiner::new(MinerConfig::default());
        let assigned: Vec<String> = contents
            .iter()
            .map(|content| miner.add(content).id)
            .collect();
        mined = Some((miner, assigned));
    }
    let lines_per_sec =
        (lines.len() * passes.max(1)) as f64 / started.elapsed().as_secs_f64().max(1e-9);
    let Some((miner, assigned)) = mined else {
        return Err(bad(&log_path, "no pass ran".into()));
    };
    let templates = miner.templates();
    let text_of: HashMap<&str, &str> = templates
        .iter()
        .map(|t| (t.id.as_str(), t.text.as_str()))
        .collect();
    let predicted: Vec<(&str, &str)> = assigned
        .iter()
        .map(|id| {
            (
                id.as_str(),
                text_of.get(id.as_str()).copied().unwrap_or_default(),
            )
        })
        .collect();
    let score = |labels: &[String]| {
        (
            grouping_accuracy(&predicted, labels),
            parsing_accuracy(&predicted, labels),
        )
    };
    let original = read_labels(
        &base.join(format!("{system}_2k.log_structured.csv")),
        lines.len(),
    )?;
    let (grouping_accuracy, parsing_accuracy) = score(&original);
    let corrected_path = base.join(format!("{system}_2k.log_structured_corrected.csv"));
    let corrected = if corrected_path.exists() {
        Some(score(&read_labels(&corrected_path, lines.len())?))
    } else {
        None
    };
    Ok(SystemScore {
        system: system.to_string(),
        grouping_accuracy,
        parsing_accuracy,
        grouping_accuracy_corrected: corrected.map(|c| c.0),
        parsing_accuracy_corrected: corrected.map(|c| c.1),
        templates: templates.len(),
        unmatched_lines,
        lines_per_sec,
    })
}

/// The `EventTemplate` of every line, in line order.
fn read_labels(path: &Path, expected: usize) -> Result<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(path, e.to_string()))?;
    let headers = reader
        .headers()
        .map_err(|e| bad(path, e.to_string()))?
        .clone();
    let column = headers
        .iter()
        .position(|h| h == "EventTemplate")
        .ok_or_else(|| bad(path, "no EventTemplate column".into()))?;
    let mut labels = Vec::with_capacity(expected);
    for row in reader.records() {
        let row = row.map_err(|e| bad(path, e.to_string()))?;
        labels.push(row.get(column).unwrap_or_default().to_string());
    }
    if labels.len() != expected {
        return Err(bad(
            path,
            format!("{} labels for {expected} log lines", labels.len()),
        ));
    }
    Ok(labels)
}

/// Share of lines whose predicted group (by id) holds exactly the lines of
/// their labelled group (the standard grouping accuracy of the LogPAI
/// benchmarks).
pub fn grouping_accuracy(predicted: &[(&str, &str)], labels: &[String]) -> f64 {
    let mut by_prediction: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_label: HashMap<&str, Vec<usize>> = HashMap::new();
    for (line, ((id, _), label)) in predicted.iter().zip(labels).enumerate() {
        by_prediction.entry(id).or_default().push(line);
        by_label.entry(label.as_str()).or_default().push(line);
    }
    let correct: usize = by_prediction
        .values()
        .filter(|lines| by_label.get(labels[lines[0]].as_str()) == Some(*lines))
        .map(Vec::len)
        .sum();
    correct as f64 / labels.len().max(1) as f64
}

/// Share of lines whose predicted template text equals the label, spaces
/// normalized.
pub fn parsing_accuracy(predicted: &[(&str, &str)], labels: &[String]) -> f64 {
    let normalize = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let correct = predicted
        .iter()
        .zip(labels)
        .filter(|((_, text), label)| normalize(text) == normalize(label))
        .count();
    correct as f64 / labels.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn grouping_accuracy_needs_exact_groups() {
        let gold = labels(&["A", "A", "B", "C"]);
        let exact = [("1", "A"), ("1", "A"), ("2", "B"), ("3", "C")];
        assert_eq!(grouping_accuracy(&exact, &gold), 1.0);
        let merged = [("1", "x"), ("1", "x"), ("2", "x"), ("2", "x")];
        assert_eq!(
            grouping_accuracy(&merged, &gold),
            0.5,
            "A is exact; B and C merged are both wrong"
        );
        let split = [("1", "x"), ("9", "x"), ("2", "x"), ("3", "x")];
        assert_eq!(grouping_accuracy(&split, &gold), 0.5);
    }

    #[test]
    fn parsing_accuracy_compares_text() {
        let gold = labels(&["user <*> in", "user <*> in"]);
        assert_eq!(
            parsing_accuracy(&[("1", "user <*> in"), ("1", "user  <*>  in")], &gold),
            1.0
        );
        assert_eq!(
            parsing_accuracy(&[("1", "user bob in"), ("1", "user <*> in")], &gold),
            0.5
        );
    }
}
