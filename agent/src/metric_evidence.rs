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
    /// The first of its series to move the other way at the same time:
    /// load moving from one region, node or pool to another.
    pub opposite: Option<MetricShift<'r>>,
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
            Some(finding) if finding.first.rose() == shift.rose() => finding.shifted += 1,
            Some(finding) => {
                finding.opposite.get_or_insert_with(|| shift.clone());
            }
            None => findings.push(MetricFinding {
                first: shift.clone(),
                shifted: 1,
                opposite: None,
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
        // Only a metric of several series is averaged; one without labels
        // is just its own series.
        let series = if shift.labels.is_empty() && finding.series > 1 {
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
        let opposite = match finding.opposite.as_ref().filter(|o| !o.labels.is_empty()) {
            Some(other) => format!(
                "; meanwhile {} {} from {} to {} {}",
                // The labels that tell the two series apart.
                other
                    .labels
                    .iter()
                    .filter(|label| !shift.labels.contains(label))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                direction(other),
                readable(other.before),
                readable(other.after),
                builder.cite(other.start, EvidenceRole::Metric)
            ),
            None => String::new(),
        };
        builder.line(format!(
            "Metric {} {} from {} to {} from {} UTC, {relation}{series} {cite}{opposite}.",
            shift.metric,
            direction(shift),
            readable(shift.before),
            readable(shift.after),
            at.format("%H:%M"),
        ));
    }
}

/// `rose` or `fell`.
pub(crate) fn direction(shift: &MetricShift<'_>) -> &'static str {
    if shift.rose() { "rose" } else { "fell" }
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
        direction(shift),
        readable(shift.after)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use ingest::{Origin, Record, RecordId, Severity, SourceKind};

    fn sample(minute: i64) -> Record {
        let origin = Origin {
            source: "metrics/rps.json".into(),
            line: 1,
        };
        Record {
            id: RecordId::derive("t", &origin, &minute.to_string()),
            tenant: "t".into(),
            kind: SourceKind::Metric,
            service: "edge".into(),
            host: None,
            ts: Utc.timestamp_opt(1_795_338_000 + minute * 60, 0).single(),
            severity: Severity::Info,
            body: "rps".into(),
            template: None,
            fields: Default::default(),
            origin,
        }
    }

    fn shift<'r>(region: &str, before: f64, after: f64, start: &'r Record) -> MetricShift<'r> {
        MetricShift {
            metric: "rps".into(),
            labels: vec![format!("region=\"{region}\"")],
            before,
            after,
            start,
            noise_units: 50.0,
        }
    }

    /// Traffic leaving one region for another: the fall is the finding,
    /// the rise elsewhere at the same time is said beside it.
    #[test]
    fn a_series_moving_the_other_way_is_named_beside_the_first() {
        let (at_onset, later) = (sample(60), sample(61));
        let shifts = [
            shift("fra", 1454.0, 44.5, &at_onset),
            shift("iad", 1380.0, 2440.0, &later),
        ];
        let per_metric = BTreeMap::from([("rps".to_string(), 2)]);
        let onset = Utc
            .timestamp_opt(1_795_338_000 + 60 * 60, 0)
            .single()
            .expect("time");
        let findings = metric_findings(&shifts, &per_metric, onset);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].shifted, 1);
        let other = findings[0].opposite.as_ref().expect("the rise");
        assert_eq!(direction(other), "rose");
        assert_eq!(other.labels, ["region=\"iad\""]);
    }
}
