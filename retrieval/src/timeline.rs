use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use ingest::{Record, RecordId, Severity};
use serde::{Deserialize, Serialize};

/// Events in a window, grouped by (service, template) with counts per bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Start of the first bucket.
    pub start: DateTime<Utc>,
    /// Width of each bucket in seconds.
    pub bucket_secs: i64,
    /// Number of buckets.
    pub buckets: usize,
    /// One series per (service, template).
    pub series: Vec<TemplateSeries>,
}

/// Counts of one template of one service over the timeline's buckets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateSeries {
    /// Service emitting the template.
    pub service: String,
    /// Template id (`t-…`), or the record id for untemplated records.
    pub template_id: String,
    /// Template text.
    pub template: String,
    /// Highest severity seen.
    pub severity: Severity,
    /// Count per bucket.
    pub counts: Vec<u32>,
    /// Record ids in time order (at most [`Timeline::EXAMPLES_PER_BUCKET`]
    /// per bucket, so every stretch of the series can be cited),
    /// with their bucket index.
    pub examples: Vec<(usize, RecordId)>,
    /// Total records.
    pub total: u64,
}

impl Timeline {
    /// Examples kept per series; enough to cite, few enough to stay small.
    pub const EXAMPLES_PER_BUCKET: u32 = 3;

    /// Buckets timestamped records of `records` into `bucket`-wide slots
    /// covering `[start, end)`. Records outside the window are ignored.
    pub fn build(
        records: &[Record],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        bucket: Duration,
    ) -> Self {
        let bucket_secs = bucket.num_seconds().max(1);
        let start = start
            .duration_trunc(Duration::seconds(bucket_secs))
            .unwrap_or(start);
        let buckets =
            (((end - start).num_seconds() + bucket_secs - 1) / bucket_secs).max(1) as usize;
        let mut by_key: BTreeMap<(String, String), TemplateSeries> = BTreeMap::new();
        for record in records {
            let Some(ts) = record.ts else { continue };
            if ts < start || ts >= end {
                continue;
            }
            let index = ((ts - start).num_seconds() / bucket_secs) as usize;
            let (template_id, template) = match &record.template {
                Some(t) => (t.id.clone(), t.text.clone()),
                None => (record.id.to_string(), record.body.clone()),
            };
            let series = by_key
                .entry((record.service.clone(), template_id.clone()))
                .or_insert_with(|| TemplateSeries {
                    service: record.service.clone(),
                    template_id,
                    template,
                    severity: record.severity,
                    counts: vec![0; buckets],
                    examples: Vec::new(),
                    total: 0,
                });
            let Some(count) = series.counts.get_mut(index) else {
                continue;
            };
            *count += 1;
            if *count <= Self::EXAMPLES_PER_BUCKET {
                series.examples.push((index, record.id.clone()));
            }
            series.severity = series.severity.max(record.severity);
            series.total += 1;
        }
        Timeline {
            start,
            bucket_secs,
            buckets,
            series: by_key.into_values().collect(),
        }
    }

    /// Start time of bucket `index`.
    pub fn bucket_start(&self, index: usize) -> DateTime<Utc> {
        self.start + Duration::seconds(self.bucket_secs * index as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_records::record_at;

    #[test]
    fn records_are_bucketed_per_template() {
        let base = DateTime::parse_from_rfc3339("2026-11-20T14:00:00Z")
            .expect("ts")
            .to_utc();
        let records = vec![
            record_at(base + Duration::seconds(5), "svc", "GET /a 200"),
            record_at(base + Duration::seconds(65), "svc", "GET /a 200"),
            record_at(base + Duration::seconds(70), "svc", "GET /a 200"),
            record_at(base + Duration::seconds(70), "svc", "kid k9 not found"),
        ];
        let timeline = Timeline::build(
            &records,
            base,
            base + Duration::minutes(3),
            Duration::minutes(1),
        );
        assert_eq!(timeline.buckets, 3);
        assert_eq!(timeline.series.len(), 2);
        let get = timeline
            .series
            .iter()
            .find(|s| s.template == "GET /a <*>")
            .expect("series");
        assert_eq!(get.counts, vec![1, 2, 0]);
        assert_eq!(get.total, 3);
        assert_eq!(timeline.bucket_start(2), base + Duration::minutes(2));
    }
}
