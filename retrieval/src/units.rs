//! Evidence units: what goes into the vector store instead of single lines.
//!
//! A million log lines repeat a few hundred shapes, so embedding each line
//! would spend the model on duplicates. Records are grouped into units,
//! each embedded once and mapped back to its records on a hit:
//! - a template (one per template and batch),
//! - a window of related events (one trace, or one service's minute) that
//!   holds a warning or worse: quiet windows say nothing their templates
//!   do not,
//! - a group of authentication failures of one kind in one minute,
//! - a config resource or change record, on its own.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use ingest::{Record, Severity, SourceKind};
use vectors::{UnitKind, UnitPayload};

/// Records a unit keeps the ids of; a hit maps back to these.
const RECORDS_PER_UNIT: usize = 24;
/// Distinct lines of text a unit embeds.
const LINES_PER_UNIT: usize = 12;
/// Characters of a config or change record that are embedded.
const CONFIG_CHARS: usize = 1500;

/// A unit ready to embed, keyed so that the same records always give the
/// same key (re-ingest and resume are idempotent).
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// Stable key.
    pub key: String,
    /// Filterable fields, record ids and the text to embed.
    pub payload: UnitPayload,
}

struct Group {
    kind: UnitKind,
    label: String,
    heading: String,
    first_id: String,
    services: BTreeSet<String>,
    kinds: BTreeSet<String>,
    severities: BTreeSet<String>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    records: Vec<(Severity, String)>,
    lines: Vec<String>,
    distinct: HashSet<String>,
    worst: Severity,
}

impl Group {
    fn new(kind: UnitKind, label: String, heading: String, first: &Record) -> Self {
        Group {
            kind,
            label,
            heading,
            first_id: first.id.as_str().to_string(),
            services: BTreeSet::new(),
            kinds: BTreeSet::new(),
            severities: BTreeSet::new(),
            start: None,
            end: None,
            records: Vec::new(),
            lines: Vec::new(),
            distinct: HashSet::new(),
            worst: Severity::Debug,
        }
    }

    fn add(&mut self, record: &Record, line: &str) {
        self.worst = self.worst.max(record.severity);
        self.services.insert(record.service.clone());
        self.kinds.insert(record.kind.as_str().to_string());
        self.severities.insert(record.severity.as_str().to_string());
        if let Some(ts) = record.ts {
            self.start = Some(self.start.map_or(ts, |s| s.min(ts)));
            self.end = Some(self.end.map_or(ts, |e| e.max(ts)));
        }
        if self.records.len() < RECORDS_PER_UNIT {
            self.records
                .push((record.severity, record.id.as_str().to_string()));
        } else if let Some(weakest) = self
            .records
            .iter_mut()
            .filter(|(severity, _)| *severity < record.severity)
            .min_by_key(|(severity, _)| *severity)
        {
            // Keep the most severe records when a unit outgrows its sample.
            *weakest = (record.severity, record.id.as_str().to_string());
        }
        if self.lines.len() < LINES_PER_UNIT && self.distinct.insert(line.to_string()) {
            self.lines.push(line.to_string());
        }
    }

    fn finish(mut self, tenant: &str) -> Unit {
        // Most severe first, then as they came.
        self.records.sort_by_key(|r| std::cmp::Reverse(r.0));
        // Sorted lines without counts: a quiet service's minutes then read
        // alike, and alike texts are embedded once.
        self.lines.sort();
        let text = match self.kind {
            UnitKind::Config => self.lines.join("\n"),
            _ => format!("{}: {}", self.heading, self.lines.join("; ")),
        };
        let kind_name = serde_json::to_value(self.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        Unit {
            key: format!("{tenant}/{kind_name}/{}/{}", self.label, self.first_id),
            payload: UnitPayload {
                tenant: tenant.to_string(),
                unit: self.kind,
                services: self.services.into_iter().collect(),
                kinds: self.kinds.into_iter().collect(),
                severities: self.severities.into_iter().collect(),
                start_ms: self.start.map(|t| t.timestamp_millis()),
                end_ms: self.end.map(|t| t.timestamp_millis()),
                record_ids: self.records.into_iter().map(|(_, id)| id).collect(),
                text,
            },
        }
    }
}

const HOUR_MS: i64 = 3_600_000;

fn union(into: &mut Vec<String>, from: Vec<String>) {
    into.extend(from);
    into.sort();
    into.dedup();
}

/// Folds `other` into `unit`: the union of their fields, the wider span,
/// and `other`'s records after `unit`'s while the sample has room.
fn merge(unit: &mut UnitPayload, other: UnitPayload) {
    union(&mut unit.services, other.services);
    union(&mut unit.kinds, other.kinds);
    union(&mut unit.severities, other.severities);
    unit.start_ms = unit
        .start_ms
        .min(other.start_ms)
        .or(unit.start_ms.or(other.start_ms));
    unit.end_ms = unit.end_ms.max(other.end_ms);
    let room = RECORDS_PER_UNIT.saturating_sub(unit.record_ids.len());
    unit.record_ids
        .extend(other.record_ids.into_iter().take(room));
}

/// Groups records into units as they stream by; [`UnitBuilder::drain`]
/// hands out the units of everything added since the last drain.
#[derive(Default)]
pub struct UnitBuilder {
    groups: HashMap<(String, UnitKind, String), Group>,
    order: Vec<(String, UnitKind, String)>,
}

fn minute(record: &Record) -> String {
    record.ts.map_or_else(
        || "undated".to_string(),
        |ts| ts.format("%Y-%m-%dT%H:%M").to_string(),
    )
}

fn is_failure(record: &Record) -> bool {
    record.severity >= Severity::Warn || record.field_str("oauth_error").is_some()
}

impl UnitBuilder {
    /// Adds a record to every unit it belongs to.
    pub fn add(&mut self, record: &Record) {
        let line = record
            .template
            .as_ref()
            .map_or(record.body.as_str(), |t| t.text.as_str());
        match record.kind {
            SourceKind::Config
            | SourceKind::Change
            | SourceKind::Knowledge
            | SourceKind::Incident => {
                let text: String = record.body.chars().take(CONFIG_CHARS).collect();
                self.push(
                    record,
                    UnitKind::Config,
                    (record.id.as_str().to_string(), String::new()),
                    &text,
                );
                return;
            }
            // Samples are numbers: their series are searched by text and
            // read by the metric analysis, not embedded one by one.
            SourceKind::Metric => return,
            SourceKind::Log | SourceKind::Auth => {}
        }
        if let Some(template) = &record.template {
            self.push(
                record,
                UnitKind::Template,
                (
                    format!("{} {}", record.service, template.id),
                    format!("{} {}", record.service, record.severity.as_str()),
                ),
                line,
            );
        }
        let window = match record.field_str("trace_id") {
            Some(trace) => format!("{} trace {trace}", record.service),
            None => format!("{} {}", record.service, minute(record)),
        };
        self.push(
            record,
            UnitKind::Window,
            (window, record.service.clone()),
            line,
        );
        if record.kind == SourceKind::Auth && is_failure(record) {
            let code = record
                .field_str("oauth_error")
                .or_else(|| record.template.as_ref().map(|t| t.id.clone()))
                .unwrap_or_default();
            self.push(
                record,
                UnitKind::AuthFailures,
                (
                    format!("{} {code} {}", record.service, minute(record)),
                    format!("{} authentication failures", record.service),
                ),
                line,
            );
        }
    }

    /// `names` is the group's label (part of the key) and the heading its
    /// embedded text starts with.
    fn push(&mut self, record: &Record, kind: UnitKind, names: (String, String), line: &str) {
        let (label, heading) = names;
        let key = (record.tenant.clone(), kind, label);
        let group = self.groups.entry(key.clone()).or_insert_with(|| {
            self.order.push(key.clone());
            Group::new(kind, key.2.clone(), heading, record)
        });
        group.add(record, line);
    }

    /// Units added since the last drain, in the order they were started.
    ///
    /// Units of one kind that read the same within the same hour become one:
    /// a thousand failing requests with the same trace shape are one unit,
    /// not a thousand identical vectors (which also starve an HNSW graph of
    /// ways out of the duplicate cluster).
    pub fn drain(&mut self) -> Vec<Unit> {
        let mut units: Vec<Unit> = Vec::with_capacity(self.order.len());
        let mut alike: HashMap<(String, UnitKind, String, i64), usize> = HashMap::new();
        for key in std::mem::take(&mut self.order) {
            let Some(group) = self.groups.remove(&key) else {
                continue;
            };
            if group.kind == UnitKind::Window && group.worst < Severity::Warn {
                continue;
            }
            let unit = group.finish(&key.0);
            let hour = unit
                .payload
                .start_ms
                .map_or(-1, |ms| ms.div_euclid(HOUR_MS));
            let same = (key.0, unit.payload.unit, unit.payload.text.clone(), hour);
            match alike.get(&same) {
                Some(&index) => merge(&mut units[index].payload, unit.payload),
                None => {
                    alike.insert(same, units.len());
                    units.push(unit);
                }
            }
        }
        units
    }

    /// Whether anything waits to be drained.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_records::record_at;
    use chrono::TimeZone;

    fn at(minute: u32, second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 14, minute, second)
            .single()
            .expect("valid time")
    }

    #[test]
    fn lines_become_template_and_minute_units_not_one_vector_each() {
        let mut builder = UnitBuilder::default();
        for second in 0..30 {
            builder.add(&record_at(
                at(5, second),
                "gateway",
                &format!("served in {second} ms"),
            ));
        }
        let mut failure = record_at(at(5, 40), "gateway", "upstream reset");
        failure.severity = Severity::Error;
        builder.add(&failure);
        builder.add(&record_at(at(6, 0), "gateway", "served in 7 ms"));
        let units = builder.drain();
        let kinds: Vec<UnitKind> = units.iter().map(|u| u.payload.unit).collect();
        assert_eq!(
            kinds,
            [UnitKind::Template, UnitKind::Window, UnitKind::Template],
            "the quiet minute 14:06 has no window of its own"
        );
        let template = &units[0].payload;
        assert_eq!(template.text, "gateway info: served in <*> ms");
        assert_eq!(template.record_ids.len(), RECORDS_PER_UNIT);
        let window = &units[1].payload;
        assert_eq!(window.text, "gateway: served in <*> ms; upstream reset");
        assert_eq!(window.start_ms, Some(at(5, 0).timestamp_millis()));
        assert_eq!(window.end_ms, Some(at(5, 40).timestamp_millis()));
        assert!(builder.is_empty());
    }

    #[test]
    fn the_same_records_give_the_same_keys() {
        let lines = [
            record_at(at(5, 1), "gateway", "served in 3 ms"),
            record_at(at(5, 2), "billing", "invoice 42 sent"),
        ];
        let keys = || {
            let mut builder = UnitBuilder::default();
            lines.iter().for_each(|r| builder.add(r));
            builder
                .drain()
                .into_iter()
                .map(|u| u.key)
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(), keys());
        assert_eq!(keys().len(), 2);
    }

    #[test]
    fn windows_that_read_alike_within_an_hour_are_one_unit() {
        let mut builder = UnitBuilder::default();
        for (minute, trace) in [(5, "t1"), (6, "t2"), (59, "t3")] {
            let mut failure = record_at(at(minute, 0), "gateway", "kid abc not found");
            failure.severity = Severity::Error;
            failure
                .fields
                .insert("trace_id".into(), serde_json::Value::String(trace.into()));
            builder.add(&failure);
        }
        let mut later = record_at(
            at(5, 0) + chrono::Duration::hours(1),
            "gateway",
            "kid abc not found",
        );
        later.severity = Severity::Error;
        builder.add(&later);
        let windows: Vec<Unit> = builder
            .drain()
            .into_iter()
            .filter(|u| u.payload.unit == UnitKind::Window)
            .collect();
        assert_eq!(
            windows.len(),
            2,
            "three traces at 14:xx merge; 15:05 stands apart"
        );
        assert_eq!(windows[0].payload.record_ids.len(), 3);
        assert_eq!(
            windows[0].payload.start_ms,
            Some(at(5, 0).timestamp_millis())
        );
        assert_eq!(
            windows[0].payload.end_ms,
            Some(at(59, 0).timestamp_millis())
        );
    }

    #[test]
    fn severe_records_are_kept_when_a_unit_overflows() {
        let mut builder = UnitBuilder::default();
        for second in 0..40 {
            builder.add(&record_at(
                at(5, second),
                "gateway",
                &format!("served in {second} ms"),
            ));
        }
        let mut failure = record_at(at(5, 50), "gateway", "upstream reset");
        failure.severity = Severity::Error;
        builder.add(&failure);
        let window = builder
            .drain()
            .into_iter()
            .find(|u| u.payload.unit == UnitKind::Window)
            .expect("a window");
        assert_eq!(window.payload.record_ids[0], failure.id.as_str());
        assert_eq!(window.payload.severities, ["error", "info"]);
    }

    #[test]
    fn config_records_and_auth_failures_get_units_of_their_own() {
        let mut builder = UnitBuilder::default();
        let mut change = record_at(at(1, 0), "deploy", "terraform apply: rotate signing key");
        change.kind = SourceKind::Change;
        builder.add(&change);
        let mut failure = record_at(at(5, 0), "okta", "user.session.start FAILURE");
        failure.kind = SourceKind::Auth;
        failure.severity = Severity::Warn;
        builder.add(&failure);
        let units = builder.drain();
        let kinds: Vec<UnitKind> = units.iter().map(|u| u.payload.unit).collect();
        assert_eq!(
            kinds,
            [
                UnitKind::Config,
                UnitKind::Template,
                UnitKind::Window,
                UnitKind::AuthFailures
            ]
        );
        assert_eq!(units[0].payload.text, "terraform apply: rotate signing key");
        assert!(
            units[3]
                .payload
                .text
                .starts_with("okta authentication failures: ")
        );
    }
}
