//! Runs are kept: each one as JSON under `runs/`, one of them accepted as
//! the baseline that later runs are checked against.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::dataset::Split;
use crate::error::{EvalError, Result};
use crate::metrics::{CaseScore, Summary};

/// One eval run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// When it ran.
    pub started: DateTime<Utc>,
    /// Dataset file.
    pub dataset: String,
    /// Split run (`None`: all).
    pub split: Option<Split>,
    /// How answers were produced.
    pub mode: String,
    /// Aggregates.
    pub summary: Summary,
    /// Per-case scores.
    pub cases: Vec<CaseScore>,
    /// Per-case answers and misses, in the order of `cases`.
    #[serde(default)]
    pub details: Vec<crate::case_run::CaseDetail>,
}

/// The run store in a directory.
#[derive(Clone, Debug)]
pub struct History {
    dir: PathBuf,
}

impl History {
    /// History kept in `dir` (created on first save).
    pub fn new(dir: &Path) -> Self {
        History {
            dir: dir.to_path_buf(),
        }
    }

    /// Saves a run and returns its file.
    pub fn save(&self, run: &Run) -> Result<PathBuf> {
        let stem = run.started.format("%Y%m%dT%H%M%S%.3fZ").to_string();
        let runs = self.dir.join("runs");
        let path = (0..)
            .map(|n| {
                runs.join(if n == 0 {
                    format!("{stem}.json")
                } else {
                    format!("{stem}-{n}.json")
                })
            })
            .find(|p| !p.exists())
            .unwrap_or_else(|| runs.join(format!("{stem}.json")));
        write_json(&path, run)?;
        Ok(path)
    }

    /// Every saved run, oldest first.
    pub fn runs(&self) -> Result<Vec<Run>> {
        let dir = self.dir.join("runs");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(EvalError::io(&dir, e)),
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        paths.iter().map(|p| read_json(p)).collect()
    }

    /// The accepted baseline, if any.
    pub fn baseline(&self) -> Result<Option<Run>> {
        let path = self.dir.join("baseline.json");
        if !path.exists() {
            return Ok(None);
        }
        read_json(&path).map(Some)
    }

    /// Makes `run` the baseline.
    pub fn accept(&self, run: &Run) -> Result<()> {
        write_json(&self.dir.join("baseline.json"), run)
    }
}

fn write_json(path: &Path, run: &Run) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| EvalError::io(dir, e))?;
    }
    let json = serde_json::to_string_pretty(run).map_err(|e| EvalError::BadCase {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    std::fs::write(path, json).map_err(|e| EvalError::io(path, e))
}

fn read_json(path: &Path) -> Result<Run> {
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| EvalError::BadCase {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Metrics of `run` that fell below `baseline` by more than `tolerance`,
/// matched by name (a metric only one of them has is not compared).
pub fn regressions(run: &Summary, baseline: &Summary, tolerance: f64) -> Vec<String> {
    let before = baseline.named();
    run.named()
        .into_iter()
        .filter_map(|(name, now)| {
            let (_, was) = before.iter().find(|(n, _)| *n == name)?;
            (now + tolerance < *was)
                .then(|| format!("{name}: {now:.3} < baseline {was:.3} - {tolerance}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::CaseScore;

    fn score(correct: bool, recall: f64) -> CaseScore {
        CaseScore {
            case: "c".into(),
            family: "f".into(),
            recall_at_5: recall,
            recall_at_10: recall,
            reciprocal_rank: recall,
            ndcg_at_10: recall,
            citation_precision: 1.0,
            citation_recall: recall,
            root_cause_correct: correct,
            remediation_coverage: 0.5,
            citations_resolve: true,
            answer_secs: 0.1,
            ..CaseScore::default()
        }
    }

    fn run(scores: Vec<CaseScore>) -> Run {
        Run {
            started: Utc::now(),
            dataset: "d".into(),
            split: None,
            mode: "evidence".into(),
            summary: Summary::of(&scores),
            cases: scores,
            details: Vec::new(),
        }
    }

    #[test]
    fn metrics_are_compared_by_name_when_runs_measure_different_things() {
        let mut baseline = score(true, 1.0);
        baseline.diff_applies = Some(true);
        let mut run = baseline.clone();
        run.search_recall_at_10.text = 0.1;
        run.search_recall_at_10.vector = Some(0.1);
        let (run, mut baseline) = (Summary::of(&[run]), Summary::of(&[baseline]));
        baseline.search_recall_vector = None;
        assert!(
            regressions(&run, &baseline, 0.02).is_empty(),
            "a metric the baseline lacks is not compared with another one"
        );
    }

    #[test]
    fn a_worse_run_fails_the_check_and_history_keeps_runs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let history = History::new(dir.path());
        let good = run(vec![score(true, 1.0), score(true, 0.8)]);
        history.save(&good).expect("save");
        history.accept(&good).expect("accept");
        let worse = run(vec![score(false, 1.0), score(true, 0.8)]);
        history.save(&worse).expect("save");
        let baseline = history.baseline().expect("baseline").expect("present");
        let failures = regressions(&worse.summary, &baseline.summary, 0.02);
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].starts_with("root_cause_accuracy"));
        assert!(regressions(&good.summary, &baseline.summary, 0.02).is_empty());
        assert_eq!(history.runs().expect("runs").len(), 2);
    }
}
