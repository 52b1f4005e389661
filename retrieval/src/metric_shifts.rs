//! Change points of metric series: where a series left the level it held.
//!
//! A cause that is no change of ours often shows first in a metric, not in
//! a message: CPU throttling, a disk's busy time, a queue's depth. Each
//! series (a metric and its labels) is split where the between-segment sum
//! of squares is largest, the single change point of a step in its mean;
//! the shift counts when it is large against the series' own noise
//! (estimated from the successive differences of the old level) and
//! against its level. The shift starts at the first sample of the run that
//! left the old level, so a ramp is dated by its beginning, not its middle.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use ingest::{Record, SourceKind};

/// Samples each side of a change point needs, so that one spike is not a
/// new level.
pub const MIN_SEGMENT_SAMPLES: usize = 5;
/// Smallest shift, in units of the series' noise, that counts.
pub const MIN_SHIFT_NOISE_UNITS: f64 = 6.0;
/// Smallest shift relative to the larger of the two levels: a shift a
/// dashboard's eye would miss is not a finding.
pub const MIN_RELATIVE_SHIFT: f64 = 0.3;
/// A sample has left the old level when it lies this many noise units
/// beyond it, in the direction of the shift.
const DEPARTURE_NOISE_UNITS: f64 = 3.0;
/// The median absolute deviation times this estimates a normal standard
/// deviation.
const MAD_TO_SIGMA: f64 = 1.4826;

/// A sample: when, its number, and the record that holds it.
type Sample<'r> = (DateTime<Utc>, f64, &'r Record);

/// One series' shift in level.
#[derive(Clone, Debug)]
pub struct MetricShift<'r> {
    /// The metric's name.
    pub metric: String,
    /// The series' labels, `key="value"` sorted by key; empty for the
    /// mean of all the metric's series.
    pub labels: Vec<String>,
    /// The old level: the median before the shift began.
    pub before: f64,
    /// The new level: the median from the change point on.
    pub after: f64,
    /// The first sample of the run that left the old level.
    pub start: &'r Record,
    /// Size of the shift in units of the series' noise.
    pub noise_units: f64,
}

impl MetricShift<'_> {
    /// When the series began to leave its old level.
    pub fn starts(&self) -> Option<DateTime<Utc>> {
        self.start.ts
    }

    /// Whether the level rose.
    pub fn rose(&self) -> bool {
        self.after > self.before
    }

    /// Whether a label of the series names `entity`: as its value, or with
    /// a port (`instance="node-4:9100"` names `node-4`). The mean of all
    /// series names nothing.
    pub fn names(&self, entity: &str) -> bool {
        !self.labels.is_empty()
            && series_labels(self.start).any(|(_, value)| {
                value.as_str().is_some_and(|value| {
                    value == entity
                        || value
                            .strip_prefix(entity)
                            .is_some_and(|rest| rest.starts_with(':'))
                })
            })
    }
}

/// A sample record's labels: its fields but the metric's name and value.
fn series_labels(record: &Record) -> impl Iterator<Item = (&String, &serde_json::Value)> {
    record
        .fields
        .iter()
        .filter(|(key, _)| key.as_str() != "value" && key.as_str() != "metric")
}

/// The significant shifts among the metric records of `records` (one per
/// series at most; the mean of a metric's series when none of them shifts
/// alone), earliest first, and how many series each metric has.
pub fn metric_shifts(records: &[Record]) -> (Vec<MetricShift<'_>>, BTreeMap<String, usize>) {
    let mut series: HashMap<(String, Vec<String>), Vec<Sample<'_>>> = HashMap::new();
    for record in records.iter().filter(|r| r.kind == SourceKind::Metric) {
        let (Some(ts), Some(value), Some(metric)) = (
            record.ts,
            record
                .fields
                .get("value")
                .and_then(serde_json::Value::as_f64),
            record.field_str("metric"),
        ) else {
            continue;
        };
        let labels: Vec<String> = series_labels(record)
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        series
            .entry((metric, labels))
            .or_default()
            .push((ts, value, record));
    }
    let mut per_metric: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_metric: BTreeMap<String, Vec<Sample<'_>>> = BTreeMap::new();
    let mut shifts = Vec::new();
    for ((metric, labels), mut samples) in series {
        *per_metric.entry(metric.clone()).or_default() += 1;
        by_metric
            .entry(metric.clone())
            .or_default()
            .extend(samples.iter().copied());
        samples.sort_by_key(|(ts, _, _)| *ts);
        shifts.extend(shift_of(metric, labels, &samples));
    }
    // A rollout replaces its pods, and with them the series: each new one
    // starts at the new level. The metric's mean over its series at each
    // instant still shows the step.
    for (metric, samples) in by_metric {
        let shifted = shifts.iter().any(|s| s.metric == metric);
        if shifted || per_metric.get(&metric).is_none_or(|&n| n < 2) {
            continue;
        }
        shifts.extend(shift_of(metric, Vec::new(), &mean_per_instant(samples)));
    }
    shifts.sort_by(|a, b| {
        a.starts()
            .cmp(&b.starts())
            .then(b.noise_units.total_cmp(&a.noise_units))
    });
    (shifts, per_metric)
}

/// The shift of one series (its samples in time order), if it has one.
fn shift_of<'r>(
    metric: String,
    labels: Vec<String>,
    samples: &[Sample<'r>],
) -> Option<MetricShift<'r>> {
    let values: Vec<f64> = samples.iter().map(|(_, v, _)| *v).collect();
    let step = level_shift(&values)?;
    Some(MetricShift {
        metric,
        labels,
        before: step.before,
        after: step.after,
        start: samples[step.start].2,
        noise_units: step.noise_units,
    })
}

/// The mean of the samples taken at each instant, in time order; each
/// instant keeps one of its records to cite.
fn mean_per_instant(mut samples: Vec<Sample<'_>>) -> Vec<Sample<'_>> {
    samples.sort_by_key(|(ts, _, _)| *ts);
    samples
        .chunk_by(|a, b| a.0 == b.0)
        .map(|instant| {
            let mean = instant.iter().map(|(_, v, _)| v).sum::<f64>() / instant.len() as f64;
            (instant[0].0, mean, instant[0].2)
        })
        .collect()
}

/// A step in a series' mean.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Step {
    before: f64,
    after: f64,
    /// Index of the first sample that left the old level.
    start: usize,
    noise_units: f64,
}

/// The significant step of `values`, if any.
fn level_shift(values: &[f64]) -> Option<Step> {
    let n = values.len();
    if n < 2 * MIN_SEGMENT_SAMPLES {
        return None;
    }
    let total: f64 = values.iter().sum();
    let mut left = 0.0;
    let mut best: Option<(usize, f64)> = None;
    for (k, value) in values.iter().enumerate().take(n - MIN_SEGMENT_SAMPLES) {
        left += value;
        let k = k + 1;
        if k < MIN_SEGMENT_SAMPLES {
            continue;
        }
        let (left_n, right_n) = (k as f64, (n - k) as f64);
        let gap = (total - left) / right_n - left / left_n;
        // Between-segment sum of squares of splitting before index k.
        let between = left_n * right_n / n as f64 * gap * gap;
        if best.is_none_or(|(_, b)| between > b) {
            best = Some((k, between));
        }
    }
    let (split, _) = best?;
    // The old level and its noise: judged on the samples before the split,
    // then again on those before the departure once it is known, since a
    // ramp's first part sits on the old side of the split.
    let after = median(&values[split..]);
    let mut start = split;
    let mut before = median(&values[..split]);
    let mut noise = noise_of(&values[..split]);
    for _ in 0..2 {
        let rising = after > before;
        let departed = |v: f64| {
            let beyond = if rising { v - before } else { before - v };
            beyond > DEPARTURE_NOISE_UNITS * noise
        };
        start = split;
        while start > 0 && departed(values[start - 1]) {
            start -= 1;
        }
        if start < MIN_SEGMENT_SAMPLES {
            return None;
        }
        before = median(&values[..start]);
        noise = noise_of(&values[..start]);
    }
    let shift = after - before;
    let noise_units = if noise > 0.0 {
        shift.abs() / noise
    } else {
        f64::INFINITY
    };
    let level = before.abs().max(after.abs());
    if shift == 0.0
        || noise_units < MIN_SHIFT_NOISE_UNITS
        || shift.abs() < MIN_RELATIVE_SHIFT * level
    {
        return None;
    }
    Some(Step {
        before,
        after,
        start,
        noise_units,
    })
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// A segment's noise: a robust standard deviation of its successive
/// differences, divided by √2 (the difference of two samples has twice a
/// sample's variance); a slow drift barely moves it.
fn noise_of(values: &[f64]) -> f64 {
    let mut diffs: Vec<f64> = values.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    if diffs.is_empty() {
        return 0.0;
    }
    diffs.sort_by(f64::total_cmp);
    let median = diffs[diffs.len() / 2];
    MAD_TO_SIGMA * median / std::f64::consts::SQRT_2
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use ingest::{Origin, RecordId, Severity};

    fn noisy(level: f64, i: usize) -> f64 {
        // Deterministic jitter of about ±5% of the level.
        level * (1.0 + 0.05 * (((i * 7919) % 13) as f64 / 6.0 - 1.0))
    }

    #[test]
    fn a_step_is_found_where_it_starts_and_noise_is_not() {
        let values: Vec<f64> = (0..60)
            .map(|i| {
                if i < 40 {
                    noisy(0.02, i)
                } else {
                    noisy(0.68, i)
                }
            })
            .collect();
        let step = level_shift(&values).expect("a step");
        assert_eq!(step.start, 40);
        assert!((step.before - 0.02).abs() < 0.002 && (step.after - 0.68).abs() < 0.03);
        let flat: Vec<f64> = (0..60).map(|i| noisy(57_000_000.0, i)).collect();
        assert_eq!(level_shift(&flat), None, "noise alone is no shift");
        let small: Vec<f64> = (0..60)
            .map(|i| if i < 30 { 100.0 } else { 110.0 })
            .collect();
        assert_eq!(
            level_shift(&small),
            None,
            "a 10% move is below the level share"
        );
    }

    /// A latency that ramps up is dated by the start of the ramp, and a
    /// count that falls (replicas, idle share) is a shift too.
    #[test]
    fn a_ramp_is_dated_by_its_beginning_and_falls_count() {
        let ramp: Vec<f64> = (0..80)
            .map(|i| {
                if i < 30 {
                    noisy(0.04, i)
                } else {
                    0.04 + 0.1 * (i - 29) as f64
                }
            })
            .collect();
        let step = level_shift(&ramp).expect("a ramp");
        assert_eq!(step.start, 30);
        let idle: Vec<f64> = (0..40)
            .map(|i| {
                if i < 25 {
                    noisy(0.76, i)
                } else {
                    noisy(0.21, i)
                }
            })
            .collect();
        let step = level_shift(&idle).expect("a fall");
        assert!(step.after < step.before);
        assert_eq!(step.start, 25);
        assert_eq!(level_shift(&[1.0, 9.0, 1.0]), None, "too short to tell");
    }

    fn sample(metric: &str, pod: &str, minute: i64, value: f64) -> Record {
        let origin = Origin {
            source: format!("metrics/{metric}.json"),
            line: 1,
        };
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("metric".into(), serde_json::json!(metric));
        fields.insert("pod".into(), serde_json::json!(pod));
        fields.insert("value".into(), serde_json::json!(value));
        Record {
            id: RecordId::derive("t", &origin, &format!("{pod} {minute}")),
            tenant: "t".into(),
            kind: SourceKind::Metric,
            service: "svc".into(),
            host: None,
            ts: Utc.timestamp_opt(1_768_930_800 + minute * 60, 0).single(),
            severity: Severity::Info,
            body: format!("{metric}{{pod=\"{pod}\"}} {value}"),
            template: None,
            fields,
            origin,
        }
    }

    /// Old pods at the old level, then new pods at the new one: no single
    /// series moves, the metric does.
    #[test]
    fn a_rollout_that_replaces_every_series_still_shows_its_step() {
        let mut records = Vec::new();
        for minute in 0..40 {
            let (pods, level) = if minute < 20 {
                (["old-1", "old-2"], 0.02)
            } else {
                (["new-1", "new-2"], 0.7)
            };
            for pod in pods {
                records.push(sample(
                    "throttled",
                    pod,
                    minute,
                    noisy(level, minute as usize),
                ));
            }
        }
        let (shifts, per_metric) = metric_shifts(&records);
        assert_eq!(per_metric.get("throttled"), Some(&4));
        assert_eq!(shifts.len(), 1, "{shifts:?}");
        assert!(shifts[0].labels.is_empty(), "the metric's mean");
        assert_eq!(
            shifts[0].starts(),
            Utc.timestamp_opt(1_768_930_800 + 20 * 60, 0).single()
        );
    }

    #[test]
    fn series_are_told_apart_by_their_labels() {
        let mut records = Vec::new();
        for minute in 0..40 {
            let step = if minute < 20 { 0.02 } else { 0.7 };
            records.push(sample(
                "throttled",
                "a",
                minute,
                noisy(step, minute as usize),
            ));
            records.push(sample(
                "throttled",
                "b",
                minute,
                noisy(0.02, minute as usize),
            ));
        }
        let (shifts, per_metric) = metric_shifts(&records);
        assert_eq!(per_metric.get("throttled"), Some(&2));
        assert_eq!(shifts.len(), 1, "{shifts:?}");
        assert_eq!(shifts[0].labels, vec!["pod=\"a\"".to_string()]);
        assert!(shifts[0].rose());
        assert_eq!(
            shifts[0].starts(),
            Utc.timestamp_opt(1_768_930_800 + 20 * 60, 0).single()
        );
    }
}
