//! Eval runs as trends: one line per configuration (dataset, split, mode)
//! for each quality metric, so architects see whether changes helped.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::chart::{COLOURS, polyline};

/// Metrics charted, in order; others are in the JSON.
const CHARTED: [&str; 6] = [
    "root_cause_accuracy",
    "recall_at_10",
    "citation_precision",
    "remediation_coverage",
    "diff_apply_rate",
    "judge_root_cause_accuracy",
];
/// Chart size in SVG user units.
const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 120.0;

/// One run, as the JSON API and the table show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RunRow {
    /// When it started (UTC).
    pub started: String,
    /// Dataset file.
    pub dataset: String,
    /// Split run (dev, test or all).
    pub split: String,
    /// Retrieval mode and model.
    pub mode: String,
    /// Cases run.
    pub cases: usize,
    /// Planted secrets that leaked.
    pub leaks: usize,
    /// Whether this run is the baseline.
    pub baseline: bool,
    /// Metric values by name.
    pub metrics: BTreeMap<String, f64>,
}

/// A configuration's values of one metric over its runs.
#[derive(Clone, Debug)]
pub(crate) struct Line {
    pub label: String,
    pub colour: &'static str,
    /// SVG polyline points, oldest run on the left.
    pub points: String,
    pub last: f64,
}

/// One chart: a metric, every configuration that measured it.
#[derive(Clone, Debug)]
pub(crate) struct Chart {
    pub metric: &'static str,
    pub lines: Vec<Line>,
}

pub(crate) fn rows(history: &evals::History) -> evals::Result<Vec<RunRow>> {
    let baseline = history.baseline()?.map(|run| run.started);
    Ok(history
        .runs()?
        .into_iter()
        .map(|run| RunRow {
            started: run.started.format("%Y-%m-%d %H:%M:%S").to_string(),
            dataset: file_name(&run.dataset),
            split: run
                .split
                .map_or("all".into(), |s| format!("{s:?}").to_lowercase()),
            cases: run.summary.cases,
            leaks: run.summary.leaks,
            baseline: baseline == Some(run.started),
            metrics: run
                .summary
                .named()
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect(),
            mode: run.mode,
        })
        .collect())
}

/// One chart per charted metric that some run has; lines per configuration.
pub(crate) fn charts(rows: &[RunRow]) -> Vec<Chart> {
    let mut series: BTreeMap<String, Vec<&RunRow>> = BTreeMap::new();
    for row in rows {
        series
            .entry(format!("{} · {} · {}", row.mode, row.dataset, row.split))
            .or_default()
            .push(row);
    }
    CHARTED
        .iter()
        .filter_map(|&metric| {
            let lines: Vec<Line> = series
                .iter()
                .enumerate()
                .filter_map(|(index, (label, runs))| {
                    let values: Vec<f64> = runs
                        .iter()
                        .filter_map(|r| r.metrics.get(metric).copied())
                        .collect();
                    let last = *values.last()?;
                    Some(Line {
                        label: label.clone(),
                        colour: COLOURS[index % COLOURS.len()],
                        points: polyline(&values, 1.0, WIDTH, HEIGHT),
                        last,
                    })
                })
                .collect();
            (!lines.is_empty()).then_some(Chart { metric, lines })
        })
        .collect()
}

fn file_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(mode: &str, recall: f64) -> RunRow {
        RunRow {
            started: String::new(),
            dataset: "default.jsonl".into(),
            split: "test".into(),
            mode: mode.into(),
            cases: 1,
            leaks: 0,
            baseline: false,
            metrics: [("recall_at_10".to_string(), recall)].into(),
        }
    }

    #[test]
    fn one_line_per_configuration_scaled_to_the_chart() {
        let charts = charts(&[row("a", 0.0), row("b", 1.0), row("a", 1.0)]);
        assert_eq!(charts.len(), 1, "only metrics some run has");
        let lines = &charts[0].lines;
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].points, "0.0,120.0 320.0,0.0");
        assert_eq!(lines[1].points, "0.0,0.0 6.0,0.0");
        assert_eq!(lines[0].last, 1.0);
    }
}
