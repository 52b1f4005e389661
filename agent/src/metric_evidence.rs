//! Metric series whose level shifted around the onset, as cited lines: a
//! cause that writes no error (throttling, a saturated disk, a drained
//! pool) shows here before it shows in the logs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use retrieval::{MetricShift, ONSET_SLACK, PRECURSOR_LOOKBACK};

use crate::answer::EvidenceRole;
use crate::answer_builder::AnswerBuilder;
use crate::wording::{readable, relation_to_onset};

/// Metrics named in one answer; the earliest to move come first.
pub(crate) const METRICS_QUOTED: usize = 3;

/// One metric's shifted series near the onset.
#[derive(Clone, Debug)]
pub(crate) struct MetricFinding<'r> {
    /// The series that moved first (the largest shift among equals).
    pub first: MetricShift<'r>,
    /// How many of the metric's series shifted in the same direction.
    pub shifted: usize,
    /// How many series the metric has.
    pub series: usize,
}

/// The metrics whose series began to shift within the precursor lookback
/// of `onset` (or just after it), one finding per metric, earliest first.
pub(crate) fn metric_findings<'r>(
    shifts: &[MetricShift<'r>],
    per_metric: &BTreeMap<String, usize>,
    onset: DateTime<Utc>,
) -> Vec<MetricFinding<'r>> {
    let near = |shift: &&MetricShift<'r>| {
        shift
            .starts()
            .is_some_and(|at| at >= onset - PRECURSOR_LOOKBACK && at <= onset + ONSET_SLACK)
    };
    let mut findings: Vec<MetricFinding<'r>> = Vec::new();
    // `shifts` is earliest first, so a metric's first entry is its first mover.
    for shift in shifts.iter().filter(near) {
        match findings.iter_mut().find(|f| f.first.metric == shift.metric) {
            Some(finding) => {
                finding.shifted += usize::from(finding.first.rose() == shift.rose());
            }
            None => findings.push(MetricFinding {
                first: shift.clone(),
                shifted: 1,
                series: per_metric.get(&shift.metric).copied().unwrap_or(1),
            }),
        }
    }
    findings
}

/// One line per finding, citing the sample where the shift began.
pub(crate) fn describe_metric_findings(
    builder: &mut AnswerBuilder,
    findings: &[MetricFinding<'_>],
    onset: DateTime<Utc>,
) {
    for finding in findings.iter().take(METRICS_QUOTED) {
        let shift = &finding.first;
        let Some(at) = shift.starts() else { continue };
        let cite = builder.cite(shift.start, EvidenceRole::Metric);
        let relation = relation_to_onset((onset - at).num_minutes());
        let series = if shift.labels.is_empty() {
            format!(" (the mean of its {} series)", finding.series)
        } else if finding.series > 1 {
            format!(
                " in {} of its {} series, first {}",
                finding.shifted,
                finding.series,
                shift.labels.join(", ")
            )
        } else {
            String::new()
        };
        builder.line(format!(
            "Metric {} {} from {} to {} from {} UTC, {relation}{series} {cite}.",
            shift.metric,
            if shift.rose() { "rose" } else { "fell" },
            readable(shift.before),
            readable(shift.after),
            at.format("%H:%M"),
        ));
    }
}

/// The step that checks a fix by the metric that moved first: its series
/// back near the level it held before.
pub(crate) fn metric_verify_step(finding: &MetricFinding<'_>) -> String {
    let shift = &finding.first;
    let scope = if shift.labels.is_empty() {
        String::new()
    } else {
        format!(" ({})", shift.labels.join(", "))
    };
    format!(
        "Verify {}{scope} returns to about {} (it {} to {}).",
        shift.metric,
        readable(shift.before),
        if shift.rose() { "rose" } else { "fell" },
        readable(shift.after)
    )
}
