//! What the agent and the UI ask of many flows at once: success rates per
//! client and per step, the failure reasons that appeared or grew (with
//! their onset), and how far token issuers' clocks are off.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use ingest::Record;
use serde::{Deserialize, Serialize};

use crate::step::{Outcome, StepKind};
use crate::stitch::Flow;

/// Attempts and successes of one client (or one step kind).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// Client id or step kind.
    pub key: String,
    /// Flows (or steps) seen.
    pub attempts: usize,
    /// Of which succeeded.
    pub successes: usize,
}

impl Rate {
    /// Share that succeeded.
    pub fn success_rate(&self) -> f64 {
        self.successes as f64 / self.attempts.max(1) as f64
    }
}

/// A failure reason whose count rose after `split`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReasonTrend {
    /// Reason code.
    pub code: String,
    /// Count before the split.
    pub before: usize,
    /// Count after the split.
    pub after: usize,
    /// Absent before the split.
    pub appeared: bool,
    /// First failure with this reason after the split.
    pub onset: DateTime<Utc>,
}

/// How far issuers' clocks are ahead of the receiving side, from tokens
/// whose `iat` lies after the time they were logged.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClockSkew {
    /// Tokens compared.
    pub samples: usize,
    /// Median of `iat` minus receive time, seconds (positive: issuer ahead).
    pub median_secs: i64,
    /// Largest such offset.
    pub max_secs: i64,
}

/// Failures after the split a reason needs to count as rising.
const MIN_RISING_FAILURES: usize = 3;

/// What the CLI, the web page and the agent show of many flows at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowSummary {
    /// Success per client.
    pub clients: Vec<Rate>,
    /// Success per identity-provider connection.
    pub connections: Vec<Rate>,
    /// Success per step kind.
    pub steps: Vec<Rate>,
    /// Success per time bucket (about a dozen over the span).
    pub over_time: Vec<Rate>,
    /// Failure reasons that appeared or grew in the second half of the span.
    pub rising: Vec<ReasonTrend>,
}

/// The summary of `flows`.
pub fn summarize(flows: &[Flow]) -> FlowSummary {
    FlowSummary {
        clients: success_by_client(flows),
        connections: success_by_connection(flows),
        steps: success_by_step(flows),
        over_time: success_over_time(flows, natural_bucket(flows)),
        rising: rising_reasons(flows, None, MIN_RISING_FAILURES),
    }
}

/// Success rate of flows per client, most attempts first.
pub fn success_by_client(flows: &[Flow]) -> Vec<Rate> {
    success_by(flows, |f| f.client.as_deref())
}

/// Success rate of flows per identity-provider connection, most attempts
/// first (flows whose source names no connection are left out).
pub fn success_by_connection(flows: &[Flow]) -> Vec<Rate> {
    let with_connection: Vec<Flow> = flows
        .iter()
        .filter(|f| f.connection.is_some())
        .cloned()
        .collect();
    success_by(&with_connection, |f| f.connection.as_deref())
}

/// Success rate of flows per time bucket of `bucket` (by each flow's
/// start), oldest first; each key is the bucket's start (RFC 3339).
pub fn success_over_time(flows: &[Flow], bucket: Duration) -> Vec<Rate> {
    let width = bucket.num_seconds().max(1);
    let mut rates: BTreeMap<i64, Rate> = BTreeMap::new();
    for flow in flows {
        let Some(started) = flow.started() else {
            continue;
        };
        let slot = started.timestamp().div_euclid(width) * width;
        let rate = rates.entry(slot).or_insert_with(|| Rate {
            key: DateTime::from_timestamp(slot, 0)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default(),
            attempts: 0,
            successes: 0,
        });
        rate.attempts += 1;
        rate.successes += usize::from(flow.outcome == Outcome::Success);
    }
    rates.into_values().collect()
}

/// Buckets that cut the flows' span into about a dozen, in whole minutes.
pub fn natural_bucket(flows: &[Flow]) -> Duration {
    const BUCKETS: i64 = 12;
    let starts = flows.iter().filter_map(Flow::started);
    let span = match (starts.clone().min(), starts.max()) {
        (Some(first), Some(last)) => last - first,
        _ => Duration::zero(),
    };
    Duration::minutes((span.num_minutes() + BUCKETS - 1) / BUCKETS).max(Duration::minutes(1))
}

fn success_by(flows: &[Flow], key: impl Fn(&Flow) -> Option<&str>) -> Vec<Rate> {
    let mut rates: BTreeMap<String, Rate> = BTreeMap::new();
    for flow in flows {
        let key = key(flow).unwrap_or("-").to_string();
        let rate = rates.entry(key.clone()).or_insert(Rate {
            key,
            attempts: 0,
            successes: 0,
        });
        rate.attempts += 1;
        rate.successes += usize::from(flow.outcome == Outcome::Success);
    }
    sorted(rates)
}

/// Success rate of steps per kind, in flow order.
pub fn success_by_step(flows: &[Flow]) -> Vec<Rate> {
    let mut rates: BTreeMap<StepKind, Rate> = BTreeMap::new();
    for step in flows.iter().flat_map(|f| &f.steps) {
        let rate = rates.entry(step.step.kind).or_insert(Rate {
            key: step.step.kind.as_str().into(),
            attempts: 0,
            successes: 0,
        });
        rate.attempts += 1;
        rate.successes += usize::from(step.step.outcome == Outcome::Success);
    }
    rates.into_values().collect()
}

fn sorted(rates: BTreeMap<String, Rate>) -> Vec<Rate> {
    let mut rates: Vec<Rate> = rates.into_values().collect();
    rates.sort_by(|a, b| b.attempts.cmp(&a.attempts).then(a.key.cmp(&b.key)));
    rates
}

/// Failure reasons that appeared after `split` (absent before, at least
/// `min_after` after) or grew (their rate per hour at least doubled, with
/// at least `min_after` after). `split` defaults to the middle of the
/// flows' span.
pub fn rising_reasons(
    flows: &[Flow],
    split: Option<DateTime<Utc>>,
    min_after: usize,
) -> Vec<ReasonTrend> {
    let failures: Vec<(DateTime<Utc>, &str)> = flows
        .iter()
        .flat_map(|f| &f.steps)
        .filter_map(|s| Some((s.step.ts, s.step.reason.as_ref()?.code.as_str())))
        .collect();
    let (Some(first), Some(last)) = (
        flows.iter().filter_map(Flow::started).min(),
        flows
            .iter()
            .flat_map(|f| f.steps.last())
            .map(|s| s.step.ts)
            .max(),
    ) else {
        return Vec::new();
    };
    let split = split.unwrap_or(first + (last - first) / 2);
    let hours = |span: Duration| (span.num_seconds().max(60) as f64) / 3600.0;
    let (before_hours, after_hours) = (hours(split - first), hours(last - split));
    let mut counts: BTreeMap<&str, (usize, usize, Option<DateTime<Utc>>)> = BTreeMap::new();
    for (ts, code) in failures {
        let entry = counts.entry(code).or_insert((0, 0, None));
        if ts < split {
            entry.0 += 1;
        } else {
            entry.1 += 1;
            entry.2 = Some(entry.2.map_or(ts, |t: DateTime<Utc>| t.min(ts)));
        }
    }
    let mut trends: Vec<ReasonTrend> = counts
        .into_iter()
        .filter_map(|(code, (before, after, onset))| {
            let grew = after as f64 / after_hours >= 2.0 * (before as f64 / before_hours);
            (after >= min_after && (before == 0 || grew)).then(|| ReasonTrend {
                code: code.to_string(),
                before,
                after,
                appeared: before == 0,
                onset: onset.unwrap_or(split),
            })
        })
        .collect();
    trends.sort_by_key(|t| t.onset);
    trends
}

/// Issuers' clock offset from the tokens seen in `records` (decoded `iat`
/// against the record's time), when any token is issued in the future.
pub fn clock_skew(records: &[Record]) -> Option<ClockSkew> {
    let mut ahead: Vec<i64> = records
        .iter()
        .filter_map(|r| {
            let issued: i64 = r.field_str("jwt_iat")?.parse().ok()?;
            Some(issued - r.ts?.timestamp())
        })
        .filter(|offset| *offset > 0)
        .collect();
    if ahead.is_empty() {
        return None;
    }
    ahead.sort_unstable();
    Some(ClockSkew {
        samples: ahead.len(),
        median_secs: ahead[ahead.len() / 2],
        max_secs: *ahead.last()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason::FailureReason;
    use crate::step::Step;
    use crate::stitch::{StitchConfig, reconstruct};
    use chrono::TimeZone;
    use ingest::RecordId;

    fn step(minute: i64, user: &str, client: &str, reason: Option<&str>) -> Step {
        Step {
            record: RecordId(format!("r-{minute}-{user}")),
            outcome: if reason.is_some() {
                Outcome::Failure
            } else {
                Outcome::Success
            },
            reason: reason.map(|code| FailureReason {
                code: code.into(),
                detail: String::new(),
            }),
            user: Some(user.into()),
            client: Some(client.into()),
            ..crate::step::test_step(minute * 60, StepKind::Token)
        }
    }

    #[test]
    fn rates_and_the_reason_that_appeared_with_its_onset() {
        let mut steps = Vec::new();
        for minute in 0..60 {
            let broken = minute >= 40 && minute % 2 == 0;
            let reason = if broken {
                Some("kid_unknown")
            } else if minute == 5 || minute == 45 {
                Some("invalid_grant")
            } else {
                None
            };
            steps.push(step(
                minute,
                &format!("u{minute}"),
                if minute % 3 == 0 { "cli" } else { "web" },
                reason,
            ));
        }
        let flows = reconstruct(steps, &StitchConfig::default());
        let clients = success_by_client(&flows);
        assert_eq!(clients[0].key, "web");
        assert_eq!(clients.iter().map(|c| c.attempts).sum::<usize>(), 60);
        let split = Utc.with_ymd_and_hms(2026, 11, 20, 14, 30, 0).single();
        let rising = rising_reasons(&flows, split, 3);
        assert_eq!(rising.len(), 1, "{rising:?}");
        assert_eq!(
            (rising[0].code.as_str(), rising[0].appeared),
            ("kid_unknown", true)
        );
        assert_eq!(rising[0].onset.format("%H:%M").to_string(), "14:40");
        let over_time = success_over_time(&flows, Duration::minutes(30));
        assert_eq!(
            over_time
                .iter()
                .map(|r| (r.key.as_str(), r.successes))
                .collect::<Vec<_>>(),
            [("2026-11-20T14:00:00Z", 29), ("2026-11-20T14:30:00Z", 19)],
            "the breakage shows in the second half hour"
        );
        assert!(
            success_by_connection(&flows).is_empty(),
            "no source named a connection"
        );
        let steps = success_by_step(&flows);
        assert_eq!(steps[0].key, "token");
        assert!((steps[0].success_rate() - 48.0 / 60.0).abs() < 1e-9);
    }
}
