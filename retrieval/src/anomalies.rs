use chrono::{DateTime, Utc};
use ingest::{RecordId, Severity};
use serde::{Deserialize, Serialize};

use crate::{TemplateSeries, Timeline};

/// How a template's rate changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Never seen before the onset.
    New,
    /// Rate rose.
    Spike,
    /// Rate fell (or stopped).
    Drop,
}

/// A template whose rate changed, with when it changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// Service emitting the template.
    pub service: String,
    /// Template id.
    pub template_id: String,
    /// Template text.
    pub template: String,
    /// Highest severity of the template's records.
    pub severity: Severity,
    /// Kind of change.
    pub direction: Direction,
    /// Start of the first bucket of the new regime.
    pub onset: DateTime<Utc>,
    /// Mean count per bucket before the onset.
    pub rate_before: f64,
    /// Mean count per bucket from the onset on.
    pub rate_after: f64,
    /// Size of the change in standard errors (Poisson), signed by direction.
    pub z: f64,
    /// Records from the onset on (for spikes and new templates) or before it
    /// (for drops), earliest first.
    pub examples: Vec<RecordId>,
}

/// Smallest change, in standard errors, reported as an anomaly. Four keeps
/// the false-alarm rate per template below one in ten thousand under a
/// Poisson null, whatever the corpus.
pub const MIN_Z: f64 = 4.0;

/// Finds, for every series, the single change point that best splits its
/// counts into two Poisson regimes, and keeps those significant at [`MIN_Z`].
/// Sorted by |z|, largest first.
pub fn detect_anomalies(timeline: &Timeline) -> Vec<Anomaly> {
    let mut anomalies: Vec<Anomaly> = timeline
        .series
        .iter()
        .filter_map(|series| change_point(timeline, series))
        .filter(|a| a.z.abs() >= MIN_Z)
        .collect();
    anomalies.sort_by(|a, b| b.z.abs().total_cmp(&a.z.abs()));
    anomalies
}

fn change_point(timeline: &Timeline, series: &TemplateSeries) -> Option<Anomaly> {
    let counts = &series.counts;
    let n = counts.len();
    if n < 3 {
        return None;
    }
    let prefix: Vec<f64> = std::iter::once(0.0)
        .chain(counts.iter().scan(0.0, |sum, c| {
            *sum += f64::from(*c);
            Some(*sum)
        }))
        .collect();
    let total = prefix[n];
    let mut best: Option<(usize, f64)> = None;
    for (split, sum_before) in prefix.iter().enumerate().take(n).skip(1) {
        let (len_before, len_after) = (split as f64, (n - split) as f64);
        let before = sum_before / len_before;
        let after = (total - sum_before) / len_after;
        // Standard error of the difference of two Poisson means; the half
        // count keeps an all-zero side from giving an infinite z.
        let variance =
            (before + 0.5 / len_before) / len_after + (after + 0.5 / len_after) / len_before;
        let z = (after - before) / variance.sqrt();
        if best.is_none_or(|(_, best_z)| z.abs() > best_z.abs()) {
            best = Some((split, z));
        }
    }
    let (best_split, z) = best?;
    let split = if z > 0.0 {
        ramp_start(counts, best_split)
    } else {
        best_split
    };
    let rate_before = prefix[split] / split as f64;
    let rate_after = (total - prefix[split]) / (n - split) as f64;
    let direction = if z < 0.0 {
        Direction::Drop
    } else if prefix[split] == 0.0 {
        Direction::New
    } else {
        Direction::Spike
    };
    let examples = series
        .examples
        .iter()
        .filter(|(bucket, _)| match direction {
            Direction::Drop => *bucket < split,
            _ => *bucket >= split,
        })
        .map(|(_, id)| id.clone())
        .take(8)
        .collect();
    Some(Anomaly {
        service: series.service.clone(),
        template_id: series.template_id.clone(),
        template: series.template.clone(),
        severity: series.severity,
        direction,
        onset: timeline.bucket_start(split),
        rate_before,
        rate_after,
        z,
        examples,
    })
}

/// Consecutive quiet buckets that end a walk back through a ramp.
const QUIET_RUN: usize = 3;

/// The best split of a rising series lands mid-ramp when a failure grows
/// gradually; walk back to where the counts first rose above what the
/// baseline explains. The baseline is the first half of the series before
/// the split, far from any ramp.
fn ramp_start(counts: &[u32], split: usize) -> usize {
    let early = &counts[..split.div_ceil(2)];
    let baseline = early.iter().map(|c| f64::from(*c)).sum::<f64>() / early.len().max(1) as f64;
    let significant = significant_count(baseline);
    let mut start = split;
    let mut quiet = 0;
    for index in (0..split).rev() {
        if counts[index] >= significant {
            start = index;
            quiet = 0;
        } else {
            quiet += 1;
            if quiet >= QUIET_RUN {
                break;
            }
        }
    }
    start.max(1)
}

/// Smallest count a Poisson(`rate`) bucket reaches with probability 1% or less.
fn significant_count(rate: f64) -> u32 {
    let mut term = (-rate).exp();
    let mut below = 0.0;
    let mut count = 0;
    loop {
        below += term;
        count += 1;
        term *= rate / f64::from(count);
        if 1.0 - below <= 0.01 || count > 10_000 {
            return count;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_records::record_at;
    use chrono::Duration;

    fn minute(base: DateTime<Utc>, m: i64, s: i64) -> DateTime<Utc> {
        base + Duration::minutes(m) + Duration::seconds(s)
    }

    #[test]
    fn onset_of_a_new_error_template_is_found() {
        let base = DateTime::parse_from_rfc3339("2026-11-20T13:30:00Z")
            .expect("ts")
            .to_utc();
        let mut records = Vec::new();
        for m in 0..60 {
            for s in [3, 23, 43] {
                records.push(record_at(minute(base, m, s), "gw", "GET /userinfo 200"));
            }
            if m >= 35 {
                for s in [10, 30, 50] {
                    records.push(record_at(minute(base, m, s), "gw", "kid k9 not found"));
                }
            }
            if m % 7 == 0 {
                records.push(record_at(minute(base, m, 1), "billing", "invoice job done"));
            }
        }
        let timeline = Timeline::build(
            &records,
            base,
            base + Duration::minutes(60),
            Duration::minutes(1),
        );
        let anomalies = detect_anomalies(&timeline);
        assert_eq!(anomalies.len(), 1, "{anomalies:#?}");
        let top = &anomalies[0];
        assert_eq!(top.direction, Direction::New);
        assert_eq!(top.onset, minute(base, 35, 0));
        assert_eq!(top.template, "kid <*> not found");
        assert!(top.rate_after > 2.9 && top.rate_before == 0.0);
    }

    #[test]
    fn onset_of_a_ramp_is_where_it_starts_not_where_it_is_steepest() {
        let base = DateTime::parse_from_rfc3339("2026-11-20T13:30:00Z")
            .expect("ts")
            .to_utc();
        let mut records = Vec::new();
        for m in 0..70 {
            records.push(record_at(minute(base, m, 2), "gw", "GET /ok 200"));
            let failures = if m < 35 { 0 } else { 1 + (m - 35) / 4 };
            for s in 0..failures {
                records.push(record_at(minute(base, m, 5 + s), "gw", "kid k9 not found"));
            }
        }
        let timeline = Timeline::build(
            &records,
            base,
            base + Duration::minutes(70),
            Duration::minutes(1),
        );
        let anomalies = detect_anomalies(&timeline);
        let ramp = anomalies
            .iter()
            .find(|a| a.template == "kid <*> not found")
            .expect("ramp found");
        assert_eq!(ramp.onset, minute(base, 35, 0));
        assert_eq!(ramp.rate_before, 0.0);
    }

    #[test]
    fn a_spike_of_a_busy_template_still_has_examples_to_cite() {
        let base = DateTime::parse_from_rfc3339("2026-11-20T13:30:00Z")
            .expect("ts")
            .to_utc();
        let mut records = Vec::new();
        for m in 0..60 {
            let per_minute = if m < 40 { 3 } else { 30 };
            for s in 0..per_minute {
                records.push(record_at(minute(base, m, s), "gw", "GET /orders 503"));
            }
        }
        let timeline = Timeline::build(
            &records,
            base,
            base + Duration::minutes(60),
            Duration::minutes(1),
        );
        let spike = detect_anomalies(&timeline)
            .into_iter()
            .find(|a| a.direction == Direction::Spike)
            .expect("spike");
        assert_eq!(spike.onset, minute(base, 40, 0));
        assert!(
            !spike.examples.is_empty(),
            "120 records before the onset must not crowd out the examples after it"
        );
    }

    #[test]
    fn significant_counts_follow_the_poisson_tail() {
        assert_eq!(significant_count(0.0), 1);
        assert_eq!(significant_count(0.4), 3);
        assert!(significant_count(10.0) > 15);
    }

    #[test]
    fn drops_are_found_and_steady_series_are_not() {
        let base = DateTime::parse_from_rfc3339("2026-11-20T13:30:00Z")
            .expect("ts")
            .to_utc();
        let mut records = Vec::new();
        for m in 0..40 {
            let logins = if m < 20 { 6 } else { 1 };
            for s in 0..logins {
                records.push(record_at(minute(base, m, s * 9), "idp", "login success"));
            }
            records.push(record_at(minute(base, m, 30), "idp", "heartbeat"));
        }
        let timeline = Timeline::build(
            &records,
            base,
            base + Duration::minutes(40),
            Duration::minutes(1),
        );
        let anomalies = detect_anomalies(&timeline);
        assert_eq!(anomalies.len(), 1, "{anomalies:#?}");
        assert_eq!(anomalies[0].direction, Direction::Drop);
        assert_eq!(anomalies[0].onset, minute(base, 20, 0));
    }
}
