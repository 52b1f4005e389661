//! State changes: a status line that read the same for a while, then reads
//! otherwise from near the onset on.
//!
//! Snapshots and periodic status output (`kubectl describe`, a health
//! summary, an `INFO` dump, a replica count) write the same lines again and
//! again; what matters is the line whose text changed (`4 current / 4
//! desired` to `12 current / 12 desired`, `ScalingLimited False` to
//! `ScalingLimited True`). A series of one source and template changed
//! state when its text first reads otherwise within [`PRECURSOR_LOOKBACK`]
//! before the onset or [`ONSET_SLACK`] after it, the new text holds for
//! [`MIN_HELD`] records, was not written before, and the old text never
//! returns. Snapshots are sparse, so one earlier reading is enough; request
//! logs do not qualify, since their lines seldom repeat word for word and
//! a few values alternate rather than give way.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use ingest::Record;

use crate::{ONSET_SLACK, PRECURSOR_LOOKBACK};

/// Records the new text must hold for: one reading of a new text is as
/// often a one-off event (a pod's name) as a new state.
pub const MIN_HELD: usize = 2;

/// Share of a series' consecutive records that must read the same for it
/// to be a status line.
pub const MIN_REPEAT_SHARE: f64 = 0.5;

/// A status line whose text changed near an onset.
#[derive(Clone, Debug)]
pub struct StateChange<'r> {
    /// The last record with the old text.
    pub before: &'r Record,
    /// The first record with the new text.
    pub after: &'r Record,
    /// Minutes from the change to the onset (negative: after it).
    pub lead_minutes: i64,
}

/// The state changes of `records` near `onset`, nearest the onset first,
/// at most `limit`, one per series; templates in `known` (the symptoms)
/// are left out.
pub fn state_changes<'r>(
    records: &'r [Record],
    onset: DateTime<Utc>,
    known: &HashSet<&str>,
    limit: usize,
) -> Vec<StateChange<'r>> {
    let mut series: HashMap<(&str, &str), Vec<&Record>> = HashMap::new();
    for record in records.iter().filter(|r| r.ts.is_some()) {
        let Some(template) = record
            .template
            .as_ref()
            .filter(|t| !known.contains(t.id.as_str()))
        else {
            continue;
        };
        series
            .entry((record.origin.source.as_str(), template.id.as_str()))
            .or_default()
            .push(record);
    }
    let mut found: Vec<StateChange<'r>> = series
        .into_values()
        .filter_map(|mut members| {
            members.sort_by_key(|r| (r.ts, r.origin.line));
            is_status_line(&members)
                .then(|| change_of(&members, onset))
                .flatten()
        })
        .collect();
    found.sort_by(|a, b| {
        a.lead_minutes
            .abs()
            .cmp(&b.lead_minutes.abs())
            .then_with(|| a.after.origin.source.cmp(&b.after.origin.source))
            .then_with(|| a.after.origin.line.cmp(&b.after.origin.line))
    });
    found.truncate(limit);
    found
}

/// A series that mostly repeats itself: at least [`MIN_REPEAT_SHARE`] of
/// its consecutive records read the same. A request log's latencies and
/// ids make nearly every line differ from the one before.
fn is_status_line(members: &[&Record]) -> bool {
    let pairs = members.len().saturating_sub(1);
    let repeats = members
        .windows(2)
        .filter(|pair| pair[0].body == pair[1].body)
        .count();
    pairs > 0 && repeats as f64 >= MIN_REPEAT_SHARE * pairs as f64
}

/// The first change near the onset of one series, in time order, to a
/// text the series had not written before, which holds for [`MIN_HELD`]
/// records while the old text does not come back: a line
/// toggling among a few values is no state change.
fn change_of<'r>(members: &[&'r Record], onset: DateTime<Utc>) -> Option<StateChange<'r>> {
    for (at_index, pair) in members.windows(2).enumerate() {
        let (previous, current) = (pair[0], pair[1]);
        if current.body == previous.body {
            continue;
        }
        let at = current.ts?;
        let near = at >= onset - PRECURSOR_LOOKBACK && at <= onset + ONSET_SLACK;
        let rest = &members[at_index + 1..];
        let holds =
            rest.len() >= MIN_HELD && rest[..MIN_HELD].iter().all(|r| r.body == current.body);
        let gone = rest.iter().all(|r| r.body != previous.body);
        let fresh = members[..=at_index].iter().all(|r| r.body != current.body);
        if near && holds && gone && fresh {
            return Some(StateChange {
                before: previous,
                after: current,
                lead_minutes: (onset - at).num_minutes(),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_records::record_at;
    use chrono::{Duration, TimeZone};

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 20, 18, 0, 0)
            .single()
            .expect("time")
            + Duration::minutes(minute)
    }

    fn line(source: &str, template: &str, body: &str, minute: i64) -> Record {
        let mut record = record_at(at(minute), "k8s", body);
        record.origin.source = source.into();
        record.template = Some(ingest::TemplateRef::from_text(template.into()));
        record
    }

    /// A replica count that held at 4 and reads 12 from minute 40, and a
    /// condition that flipped at minute 20, are state changes, nearest the
    /// onset first; a line that never changed, a request log whose lines
    /// all differ and a line alternating between values are not.
    #[test]
    fn a_status_line_that_held_then_changed_near_the_onset_is_found() {
        let pods = "Deployment pods: <*> current / <*> desired";
        let limited = "ScalingLimited <*> <*>";
        let mut records = Vec::new();
        for (minute, count) in [(0, 4), (10, 4), (20, 4), (30, 4), (40, 12), (50, 12)] {
            let body = format!("Deployment pods: {count} current / {count} desired");
            records.push(line("hpa.txt", pods, &body, minute));
            let flag = if minute >= 20 {
                "True TooManyReplicas"
            } else {
                "False DesiredWithinRange"
            };
            records.push(line(
                "hpa.txt",
                limited,
                &format!("ScalingLimited {flag}"),
                minute,
            ));
            records.push(line(
                "hpa.txt",
                "Max replicas: <*>",
                "Max replicas: 12",
                minute,
            ));
        }
        for minute in 0..50 {
            let body = format!("GET /orders/{minute} 200");
            records.push(line("access.log", "GET /orders/<*> 200", &body, minute));
        }
        // A replica's link to its primary, in another snapshot file.
        for (minute, status) in [
            (0, "up"),
            (15, "up"),
            (30, "up"),
            (43, "down"),
            (58, "down"),
        ] {
            let body = format!("master_link_status:{status}");
            records.push(line("info.txt", "master_link_status:<*>", &body, minute));
        }
        // Latencies that happen to repeat once are no status.
        for (minute, ms) in [(0, 41), (3, 52), (6, 37), (9, 64), (12, 64), (15, 48)] {
            let body = format!("POST /session 200 in {ms}ms");
            records.push(line(
                "api.log",
                "POST /session 200 in <*>",
                &body,
                minute + 30,
            ));
        }
        // A line toggling between two values, or changing once and back.
        for (minute, user) in [
            (0, "ann"),
            (5, "ann"),
            (30, "bob"),
            (35, "ann"),
            (44, "bob"),
        ] {
            records.push(line(
                "auth.log",
                "login <*>",
                &format!("login {user}"),
                minute,
            ));
        }
        let found = state_changes(&records, at(45), &HashSet::new(), 5);
        let changes: Vec<(&str, &str, i64)> = found
            .iter()
            .map(|c| {
                (
                    c.before.body.as_str(),
                    c.after.body.as_str(),
                    c.lead_minutes,
                )
            })
            .collect();
        assert_eq!(
            changes,
            [
                ("master_link_status:up", "master_link_status:down", 2),
                (
                    "Deployment pods: 4 current / 4 desired",
                    "Deployment pods: 12 current / 12 desired",
                    5
                ),
                (
                    "ScalingLimited False DesiredWithinRange",
                    "ScalingLimited True TooManyReplicas",
                    25
                ),
            ]
        );
    }

    /// A change long before the onset, or well after it, is not its cause;
    /// one earlier reading of a sparse snapshot is enough to change from.
    #[test]
    fn a_change_far_from_the_onset_is_not_reported() {
        let records: Vec<Record> = [(10, "a"), (20, "b"), (30, "b")]
            .into_iter()
            .map(|(minute, state)| line("s.txt", "state <*>", &format!("state {state}"), minute))
            .collect();
        assert!(state_changes(&records, at(200), &HashSet::new(), 3).is_empty());
        assert!(state_changes(&records, at(10), &HashSet::new(), 3).is_empty());
        assert_eq!(state_changes(&records, at(21), &HashSet::new(), 3).len(), 1);
    }
}
