//! Precursors: warnings seen for the first time shortly before an onset.
//!
//! Many causes are no change of ours: a leader election, a link flapping,
//! a disk out of burst credits, an upstream failing. They leave a first
//! record of a kind the sources had not written before, just before the
//! symptoms. A template is a precursor when its first record in the
//! window is a warning or worse (or states a failure in words, whatever
//! its level), falls in the [`PRECURSOR_LOOKBACK`] before
//! the onset (or within [`ONSET_SLACK`] after it), and the sources were
//! observed for at least [`MIN_QUIET`] before that without it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use ingest::{Record, Severity};

/// How long before the onset a first-seen warning is a candidate cause.
pub const PRECURSOR_LOOKBACK: Duration = Duration::minutes(60);
/// After the onset, a first record still belongs to its start: buckets
/// and clocks of different sources disagree by a little.
pub const ONSET_SLACK: Duration = Duration::minutes(2);
/// History a template must be absent from for its first record to be new.
pub const MIN_QUIET: Duration = Duration::minutes(30);

/// A template first seen shortly before the onset.
#[derive(Clone, Debug)]
pub struct Precursor<'r> {
    /// Its first record.
    pub first: &'r Record,
    /// The template's text (the body when none was mined).
    pub template: String,
    /// Its records in the window.
    pub count: usize,
    /// Minutes from its first record to the onset (negative: after it).
    pub lead_minutes: i64,
}

/// The precursors of `onset` in `records`, at most `limit`; templates in
/// `known` (the symptoms) are left out, and so are those of
/// `symptom_sources` that begin at or after the onset. Those from other
/// sources come first: a new failure in the sources that show the
/// symptoms is most often another symptom, while the cause is elsewhere.
/// Then those that began before the onset, then the worst severity, then
/// the nearest the onset.
pub fn precursors<'r>(
    records: &'r [Record],
    onset: DateTime<Utc>,
    known: &HashSet<&str>,
    symptom_sources: &HashSet<&str>,
    limit: usize,
) -> Vec<Precursor<'r>> {
    let Some(observed_from) = records.iter().filter_map(|r| r.ts).min() else {
        return Vec::new();
    };
    let mut firsts: HashMap<(&str, &str), (&Record, usize)> = HashMap::new();
    for record in records.iter().filter(|r| r.ts.is_some()) {
        let template = record
            .template
            .as_ref()
            .map_or(record.body.as_str(), |t| t.id.as_str());
        if known.contains(template) {
            continue;
        }
        firsts
            .entry((record.service.as_str(), template))
            .and_modify(|(first, count)| {
                *count += 1;
                if record.ts < first.ts {
                    *first = record;
                }
            })
            .or_insert((record, 1));
    }
    let mut found: Vec<Precursor<'r>> = firsts
        .into_values()
        .filter_map(|(first, count)| {
            let at = first.ts?;
            let new = at - observed_from >= MIN_QUIET
                && at >= onset - PRECURSOR_LOOKBACK
                && at <= onset + ONSET_SLACK
                && stated_severity(first) >= Severity::Warn;
            new.then(|| Precursor {
                first,
                template: first
                    .template
                    .as_ref()
                    .map_or_else(|| first.body.clone(), |t| t.text.clone()),
                count,
                lead_minutes: (onset - at).num_minutes(),
            })
        })
        .collect();
    let in_symptom_source =
        |p: &Precursor<'_>| symptom_sources.contains(p.first.origin.source.as_str());
    // In the symptoms' own sources, a failure that begins with them is one
    // more symptom, not what came before.
    found.retain(|p| p.lead_minutes > 0 || !in_symptom_source(p));
    found.sort_by(|a, b| {
        in_symptom_source(a)
            .cmp(&in_symptom_source(b))
            // What began with the symptoms is as likely one more of them
            // as what came before them.
            .then((b.lead_minutes > 0).cmp(&(a.lead_minutes > 0)))
            .then(stated_severity(b.first).cmp(&stated_severity(a.first)))
            .then(a.lead_minutes.abs().cmp(&b.lead_minutes.abs()))
            .then_with(|| a.template.cmp(&b.template))
    });
    found.truncate(limit);
    found
}

/// The record's severity as its words state it: a health check marking a
/// server down for a timeout is often logged without a level.
fn stated_severity(record: &Record) -> Severity {
    let text = record
        .template
        .as_ref()
        .map_or(record.body.as_str(), |t| t.text.as_str());
    crate::stated_severity(record.severity, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_records::record_at;
    use chrono::TimeZone;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 2, 9, 0, 0)
            .single()
            .expect("time")
            + Duration::minutes(minute)
    }

    fn record(service: &str, body: &str, severity: Severity, minute: i64) -> Record {
        let mut record = record_at(at(minute), service, body);
        record.severity = severity;
        record.template = Some(ingest::TemplateRef::from_text(body.into()));
        record
    }

    /// A leader election and a link flap, each first seen minutes before
    /// the symptoms, are named; the warning seen all along and the info
    /// line are not.
    #[test]
    fn warnings_first_seen_before_the_onset_are_precursors() {
        let mut records = Vec::new();
        for minute in 0..120 {
            records.push(record("api", "request ok", Severity::Info, minute));
            if minute % 10 == 0 {
                records.push(record("api", "slow query", Severity::Warn, minute));
            }
        }
        records.push(record(
            "consul",
            "leader election started",
            Severity::Warn,
            88,
        ));
        records.push(record(
            "router",
            "BFD session down on ae1",
            Severity::Error,
            70,
        ));
        records.push(record("api", "config reloaded", Severity::Info, 89));
        records.push(record("api", "upstream timeout", Severity::Error, 90));
        records.sort_by_key(|r| r.ts);
        let symptom = ingest::TemplateRef::from_text("upstream timeout".into()).id;
        let known: HashSet<&str> = [symptom.as_str()].into();
        let found = precursors(&records, at(90), &known, &HashSet::new(), 3);
        let named: Vec<(&str, i64)> = found
            .iter()
            .map(|p| (p.first.service.as_str(), p.lead_minutes))
            .collect();
        assert_eq!(named, [("router", 20), ("consul", 2)]);
    }

    #[test]
    fn a_failure_beginning_with_the_symptoms_in_their_source_is_no_precursor() {
        let mut records: Vec<Record> = (0..60)
            .map(|minute| record("gw", "GET /a 200", Severity::Info, minute))
            .collect();
        records.push(record("gw", "GET /b 401", Severity::Warn, 50));
        records.push(record("consul", "no cluster leader", Severity::Error, 50));
        for record in &mut records {
            record.origin.source = format!("{}.log", record.service);
        }
        let sources: HashSet<&str> = ["gw.log"].into();
        let found = precursors(&records, at(50), &HashSet::new(), &sources, 3);
        let services: Vec<&str> = found.iter().map(|p| p.first.service.as_str()).collect();
        assert_eq!(services, ["consul"]);
    }

    /// A health check's "server DOWN, reason: Layer4 timeout" and a
    /// router's "BFD session timed out", written without a level, are
    /// precursors by their words; a new info line that states nothing is not.
    #[test]
    fn lines_stating_a_failure_without_a_level_are_precursors() {
        let mut records: Vec<Record> = (0..60)
            .map(|minute| record("api", "GET /a 200", Severity::Info, minute))
            .collect();
        records.push(record(
            "haproxy",
            "Server be/auth-2 is DOWN, reason: Layer4 timeout",
            Severity::Info,
            50,
        ));
        records.push(record(
            "router",
            "neighbor state Full to Down: BFD session timed out",
            Severity::Info,
            52,
        ));
        records.push(record("api", "cache warmed", Severity::Info, 53));
        // Beginning with the symptoms, an error elsewhere comes after
        // what came before them.
        records.push(record("db", "pool timed out", Severity::Error, 55));
        records.sort_by_key(|r| r.ts);
        let found = precursors(&records, at(55), &HashSet::new(), &HashSet::new(), 5);
        let services: Vec<&str> = found.iter().map(|p| p.first.service.as_str()).collect();
        assert_eq!(services, ["router", "haproxy", "db"]);
    }

    #[test]
    fn nothing_is_new_without_history_before_it() {
        let records = vec![
            record("consul", "leader election started", Severity::Warn, 0),
            record("api", "upstream timeout", Severity::Error, 5),
        ];
        assert!(precursors(&records, at(5), &HashSet::new(), &HashSet::new(), 3).is_empty());
    }
}
