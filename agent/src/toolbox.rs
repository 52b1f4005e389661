use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use ingest::{Record, RecordId, Severity, SourceKind};
use retrieval::{
    Direction, Filters, SearchMode, SearchQuery, Stores, TimeRange, Timeline, detect_anomalies,
    metric_shifts, precursors, state_changes,
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::answer::excerpt;
use crate::error::Result;
use crate::evidence_engine::{attribution_of, is_problem, named};

/// Every tool the model may call; `prompts/tools.vN.json` describes each.
pub(crate) const TOOL_NAMES: [&str; 8] = [
    "search",
    "timeline",
    "anomalies",
    "recent_changes",
    "inspect_jwt",
    "config_diff",
    "similar_incidents",
    "auth_flows",
];

/// Groups of log evidence shown per result; the rest is summarized.
const MAX_GROUPS: usize = 15;
/// Example records per group.
const EXAMPLES_PER_GROUP: usize = 2;
/// Characters of a record's text shown.
const EXCERPT_CHARS: usize = 240;
/// Records read for a timeline or an anomaly scan.
const SCAN_LIMIT: usize = 200_000;
const MAX_SEARCH_LIMIT: usize = 100;
const MAX_ANOMALIES: usize = 10;
/// Metric series shifts shown by `anomalies`, earliest first.
const MAX_METRIC_SHIFTS: usize = 8;
/// Anomalies for which `anomalies` names the values their records share.
const MAX_ATTRIBUTED: usize = 3;
/// Warnings first seen before the first problem's onset, shown by `anomalies`.
const MAX_PRECURSORS: usize = 5;
/// Status lines changed near that onset, shown by `anomalies`.
const MAX_STATE_CHANGES: usize = 3;
const MAX_CHANGES: usize = 20;
const MAX_CONFIG_VERSIONS: usize = 5;
const MAX_DOCUMENTS: usize = 5;
/// Failed flows and risky-event flags shown by `auth_flows`.
const MAX_FLOWS_SHOWN: usize = 5;
const MAX_FLAGS_SHOWN: usize = 5;

/// The tools over one tenant's stores. Results are compressed JSON (log
/// evidence as templates with counts, first/last times and a few example
/// records) and say what they left out. Every record whose id a result
/// shows is remembered, so an answer can cite only what the model saw.
pub struct Toolbox<'a> {
    stores: &'a Stores,
    tenant: &'a str,
    window: TimeRange,
    shown: BTreeMap<RecordId, Record>,
}

/// A record as a tool result shows it.
#[derive(Serialize)]
struct Example {
    id: String,
    ts: Option<String>,
    service: String,
    text: String,
}

/// Records of one (service, template), compressed.
#[derive(Serialize)]
struct Group {
    service: String,
    template: String,
    count: usize,
    first: Option<String>,
    last: Option<String>,
    examples: Vec<Example>,
}

impl<'a> Toolbox<'a> {
    /// Tools over `tenant`'s records; `window` is used where a call names
    /// no time.
    pub fn new(stores: &'a Stores, tenant: &'a str, window: TimeRange) -> Self {
        Toolbox {
            stores,
            tenant,
            window,
            shown: BTreeMap::new(),
        }
    }

    /// Records whose ids a result has shown, by id.
    pub fn shown(&self) -> &BTreeMap<RecordId, Record> {
        &self.shown
    }

    /// Runs tool `name` with the model's JSON `arguments`. Bad arguments
    /// and unknown tools come back as `{"error": ...}` for the model to
    /// correct; only store failures are errors.
    pub fn call(&mut self, name: &str, arguments: &str) -> Result<String> {
        let args: Value = if arguments.trim().is_empty() {
            json!({})
        } else {
            match serde_json::from_str(arguments) {
                Ok(value) => value,
                Err(e) => return Ok(error(&format!("arguments are not JSON: {e}"))),
            }
        };
        let result = match name {
            "search" => self.search(&args),
            "timeline" => self.timeline(&args),
            "anomalies" => self.anomalies(&args),
            "recent_changes" => self.recent_changes(&args),
            "inspect_jwt" => self.inspect_jwt(&args),
            "config_diff" => self.config_diff(&args),
            "similar_incidents" => self.similar_incidents(&args),
            "auth_flows" => self.auth_flows(&args),
            other => Ok(Err(format!(
                "no tool {other:?}; the tools are {}",
                TOOL_NAMES.join(", ")
            ))),
        }?;
        Ok(match result {
            Ok(value) => value.to_string(),
            Err(reason) => error(&reason),
        })
    }

    fn search(&mut self, args: &Value) -> Result<std::result::Result<Value, String>> {
        let Some(text) = arg_str(args, "query") else {
            return Ok(Err("search needs a \"query\"".into()));
        };
        let mut filters = match self.filters(args, false) {
            Ok(filters) => filters,
            Err(reason) => return Ok(Err(reason)),
        };
        if let Some(kind) = arg_str(args, "kind") {
            match SourceKind::parse(kind) {
                Some(kind) => filters.kinds = vec![kind],
                None => return Ok(Err(format!("unknown kind {kind:?}"))),
            }
        }
        if let Some(severity) = arg_str(args, "severity") {
            match Severity::parse(severity) {
                Some(severity) => filters.severities = vec![severity],
                None => return Ok(Err(format!("unknown severity {severity:?}"))),
            }
        }
        let limit = args
            .get("limit")
            .and_then(Value::as_u64)
            .map_or(30, |n| n as usize)
            .clamp(1, MAX_SEARCH_LIMIT);
        let query = SearchQuery {
            tenant: self.tenant.to_string(),
            text: text.to_string(),
            filters,
            limit,
        };
        let hits = self.stores.search(&query, SearchMode::Hybrid)?;
        let records: Vec<Record> = hits.into_iter().map(|h| h.record).collect();
        Ok(Ok(self.grouped("search", &records, false)))
    }

    fn timeline(&mut self, args: &Value) -> Result<std::result::Result<Value, String>> {
        let filters = match self.filters(args, true) {
            Ok(filters) => filters,
            Err(reason) => return Ok(Err(reason)),
        };
        let records = self.stores.text().scan(self.tenant, &filters, SCAN_LIMIT)?;
        let mut value = self.grouped("timeline", &records, true);
        // Risky events are part of what happened in the window.
        let flags = flows::flag_events(&records, &flows::RuleConfig::default());
        if !flags.is_empty() {
            let by_id: BTreeMap<&RecordId, &Record> = records.iter().map(|r| (&r.id, r)).collect();
            value["risky_events"] = json!(self.flags_shown(&flags, &by_id));
        }
        if records.len() == SCAN_LIMIT {
            value["note"] = json!(format!(
                "only the first {SCAN_LIMIT} records of the window were read; narrow it"
            ));
        }
        Ok(Ok(value))
    }

    fn anomalies(&mut self, args: &Value) -> Result<std::result::Result<Value, String>> {
        let filters = match self.filters(args, true) {
            Ok(filters) => filters,
            Err(reason) => return Ok(Err(reason)),
        };
        let (Some(start), Some(end)) = (filters.time.from, filters.time.to) else {
            return Ok(Err("anomalies needs a bounded window".into()));
        };
        let records = self.stores.text().scan(self.tenant, &filters, SCAN_LIMIT)?;
        let timeline = Timeline::build(&records, start, end, Duration::minutes(1));
        let anomalies = detect_anomalies(&timeline);
        // The same analyses evidence mode runs: what each failure's records
        // share, and what began or changed just before the first of them.
        let rising: HashSet<&str> = anomalies
            .iter()
            .filter(|a| a.direction != Direction::Drop && is_problem(a))
            .map(|a| a.template_id.as_str())
            .collect();
        let known: HashSet<&str> = anomalies.iter().map(|a| a.template_id.as_str()).collect();
        let mut list = Vec::new();
        for (index, anomaly) in anomalies.iter().take(MAX_ANOMALIES).enumerate() {
            let concentrated: Vec<Value> = if index < MAX_ATTRIBUTED && is_problem(anomaly) {
                named(&attribution_of(anomaly, &records, &rising))
                    .iter()
                    .map(|a| {
                        json!({
                            "key": a.key,
                            "value": a.value,
                            "share_of_failures": round2(a.share()),
                            "share_of_others": round2(a.contrast_share()),
                        })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let ids: Vec<RecordId> = anomaly
                .examples
                .iter()
                .take(EXAMPLES_PER_GROUP)
                .cloned()
                .collect();
            let examples = self.stores.text().get(self.tenant, &ids)?;
            list.push(json!({
                "service": anomaly.service,
                "template": anomaly.template,
                "direction": anomaly.direction,
                "onset": format_ts(anomaly.onset),
                "per_minute_before": round1(anomaly.rate_before),
                "per_minute_after": round1(anomaly.rate_after),
                "z": round1(anomaly.z),
                "examples": examples.iter().map(|r| self.show(r)).collect::<Vec<_>>(),
                "concentrated_on": concentrated,
            }));
        }
        let (mut before_first, mut changed) = (Vec::new(), Vec::new());
        if let Some(first) = anomalies
            .iter()
            .filter(|a| is_problem(a))
            .min_by_key(|a| a.onset)
        {
            for precursor in precursors(
                &records,
                first.onset,
                &known,
                &HashSet::new(),
                MAX_PRECURSORS,
            ) {
                before_first.push(json!({
                    "service": precursor.first.service,
                    "template": precursor.template,
                    "count": precursor.count,
                    "minutes_before_onset": precursor.lead_minutes,
                    "first": self.show(precursor.first),
                }));
            }
            for change in state_changes(&records, first.onset, &known, MAX_STATE_CHANGES) {
                changed.push(json!({
                    "source": change.after.origin.source,
                    "minutes_before_onset": change.lead_minutes,
                    "before": excerpt(&change.before.body, EXCERPT_CHARS),
                    "after": self.show(change.after),
                }));
            }
        }
        let samples = self.stores.text().scan(
            self.tenant,
            &Filters {
                kinds: vec![SourceKind::Metric],
                ..filters.clone()
            },
            SCAN_LIMIT,
        )?;
        let (shifts, _) = metric_shifts(&samples);
        let shifted: Vec<Value> = shifts
            .iter()
            .take(MAX_METRIC_SHIFTS)
            .map(|shift| {
                json!({
                    "metric": shift.metric,
                    "labels": shift.labels,
                    "direction": if shift.rose() { "rose" } else { "fell" },
                    "before": shift.before,
                    "after": shift.after,
                    "starts": shift.starts().map(format_ts),
                    "example": self.show(shift.start),
                })
            })
            .collect();
        let mut value = json!({
            "tool": "anomalies",
            "window": window_json(&filters.time),
            "anomalies": list,
            "metric_shifts": shifted,
            "first_seen_before_onset": before_first,
            "status_lines_changed": changed,
        });
        if anomalies.len() > MAX_ANOMALIES {
            value["omitted"] = json!(format!(
                "{} weaker anomalies not shown; narrow the window to see them",
                anomalies.len() - MAX_ANOMALIES
            ));
        }
        Ok(Ok(value))
    }

    fn recent_changes(&mut self, args: &Value) -> Result<std::result::Result<Value, String>> {
        let before = match arg_time(args, "before") {
            Ok(Some(at)) => at,
            Ok(None) => self.window.to.unwrap_or_else(Utc::now),
            Err(reason) => return Ok(Err(reason)),
        };
        let minutes = args
            .get("minutes")
            .and_then(Value::as_i64)
            .unwrap_or(120)
            .clamp(1, 7 * 24 * 60);
        let filters = Filters {
            kinds: vec![SourceKind::Change],
            time: TimeRange::between(before - Duration::minutes(minutes), before),
            ..Filters::default()
        };
        let mut changes = self.stores.text().scan(self.tenant, &filters, 10_000)?;
        changes.reverse();
        let total = changes.len();
        let shown: Vec<Value> = changes
            .iter()
            .take(MAX_CHANGES)
            .map(|r| {
                let mut example = self.show(r);
                let details: BTreeMap<&str, &Value> = r
                    .fields
                    .iter()
                    .filter(|(_, v)| v.as_str().is_some_and(|s| s.len() <= 120) || v.is_number())
                    .take(8)
                    .map(|(k, v)| (k.as_str(), v))
                    .collect();
                example["fields"] = json!(details);
                example
            })
            .collect();
        let mut value = json!({"tool": "recent_changes", "window": window_json(&filters.time), "changes": shown});
        if total > MAX_CHANGES {
            value["omitted"] = json!(format!(
                "{} older changes not shown; shorten \"minutes\"",
                total - MAX_CHANGES
            ));
        }
        Ok(Ok(value))
    }

    fn inspect_jwt(&mut self, args: &Value) -> Result<std::result::Result<Value, String>> {
        let Some(id) = arg_str(args, "record_id") else {
            return Ok(Err("inspect_jwt needs a \"record_id\"".into()));
        };
        let id = RecordId(id.trim_matches(['[', ']']).to_string());
        let Some(record) = self
            .stores
            .text()
            .get(self.tenant, std::slice::from_ref(&id))?
            .pop()
        else {
            return Ok(Err(format!("no record {id}")));
        };
        let claims: BTreeMap<&str, &Value> = record
            .fields
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("jwt_").map(|name| (name, v)))
            .collect();
        let example = self.show(&record);
        if claims.is_empty() {
            return Ok(Err(format!(
                "record {id} carries no decoded token; search for records with jwt fields"
            )));
        }
        Ok(Ok(
            json!({"tool": "inspect_jwt", "record": example, "header_and_claims": claims}),
        ))
    }

    fn config_diff(&mut self, args: &Value) -> Result<std::result::Result<Value, String>> {
        let Some(resource) = arg_str(args, "resource") else {
            return Ok(Err("config_diff needs a \"resource\"".into()));
        };
        let words: Vec<String> = resource
            .split(|c: char| c.is_whitespace() || c == '.' || c == '"')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        let blocks = config_versions(self.stores, self.tenant, &words)?;
        if blocks.is_empty() {
            return Ok(Err(format!("no config block mentions {resource:?}")));
        }
        let mut results = Vec::new();
        for block in blocks.into_iter().take(MAX_CONFIG_VERSIONS) {
            let diff = block.diff();
            let shown: Vec<Value> = block
                .versions
                .iter()
                .map(|r| json!({"id": self.remember(r), "file": r.origin.source, "line": r.origin.line}))
                .collect();
            results.push(json!({"resource": block.header, "versions": shown, "diff": diff}));
        }
        Ok(Ok(json!({"tool": "config_diff", "blocks": results})))
    }

    fn similar_incidents(&mut self, args: &Value) -> Result<std::result::Result<Value, String>> {
        let Some(symptoms) = arg_str(args, "symptoms") else {
            return Ok(Err("similar_incidents needs \"symptoms\"".into()));
        };
        let query = SearchQuery {
            tenant: self.tenant.to_string(),
            text: symptoms.to_string(),
            filters: Filters {
                kinds: vec![SourceKind::Knowledge, SourceKind::Incident],
                ..Filters::default()
            },
            limit: 30,
        };
        let hits = self.stores.search(&query, SearchMode::Hybrid)?;
        let mut documents: Vec<(String, Value)> = Vec::new();
        for hit in hits {
            let record = hit.record;
            let document = record
                .field_str("document")
                .unwrap_or_else(|| record.origin.source.clone());
            if documents.iter().any(|(d, _)| *d == document) {
                continue;
            }
            if documents.len() == MAX_DOCUMENTS {
                break;
            }
            let mut shown = self.show(&record);
            for field in [
                "root_cause",
                "resolution",
                "services",
                "time_to_resolve_min",
            ] {
                if let Some(value) = record.fields.get(field) {
                    shown[field] = value.clone();
                }
            }
            documents.push((
                document.clone(),
                json!({"document": document, "match": shown}),
            ));
        }
        if documents.is_empty() {
            return Ok(Err("no postmortem or runbook matches these symptoms".into()));
        }
        let list: Vec<Value> = documents.into_iter().map(|(_, v)| v).collect();
        Ok(Ok(json!({"tool": "similar_incidents", "documents": list})))
    }

    /// Login and token flows in the window: success per client, the failure
    /// reasons that appeared or grew, the latest failed flows with their
    /// first failing step, and risky-event flags, each citing records.
    fn auth_flows(&mut self, args: &Value) -> Result<std::result::Result<Value, String>> {
        let filters = match self.filters(args, true) {
            Ok(filters) => filters,
            Err(reason) => return Ok(Err(reason)),
        };
        let records = self.stores.text().scan(self.tenant, &filters, SCAN_LIMIT)?;
        let steps: Vec<_> = records.iter().filter_map(flows::classify).collect();
        let client = arg_str(args, "client");
        let user = arg_str(args, "user").map(str::to_lowercase);
        let all: Vec<flows::Flow> = flows::reconstruct(steps, &flows::StitchConfig::default())
            .into_iter()
            .filter(|f| client.is_none_or(|c| f.client.as_deref() == Some(c)))
            .filter(|f| user.as_ref().is_none_or(|u| f.user.as_ref() == Some(u)))
            .collect();
        if all.is_empty() {
            return Ok(Err("no login or token flow in this window".into()));
        }
        let by_id: BTreeMap<&RecordId, &Record> = records.iter().map(|r| (&r.id, r)).collect();
        let failed: Vec<&flows::Flow> = all
            .iter()
            .filter(|f| f.outcome == flows::Outcome::Failure)
            .collect();
        let mut shown_flows = Vec::new();
        for flow in failed.iter().rev().take(MAX_FLOWS_SHOWN) {
            let steps: Vec<String> = flow
                .steps
                .iter()
                .map(|s| format!("{}:{:?}", s.step.kind.as_str(), s.step.outcome).to_lowercase())
                .collect();
            let failure = match &flow.first_failure {
                Some((index, reason)) => {
                    let id = &flow.steps[*index].step.record;
                    let cited = by_id.get(id).map(|r| self.remember(r));
                    json!({"step": flow.steps[*index].step.kind.as_str(), "reason": reason.code, "detail": excerpt(&reason.detail, EXCERPT_CHARS), "id": cited})
                }
                None => Value::Null,
            };
            shown_flows
                .push(json!({"client": flow.client, "steps": steps, "first_failure": failure}));
        }
        let flags = flows::flag_events(&records, &flows::RuleConfig::default());
        let shown_flags = self.flags_shown(&flags, &by_id);
        let rates = |rates: Vec<flows::Rate>| -> Vec<Value> {
            rates
                .iter()
                .map(|r| json!({"key": r.key, "flows": r.attempts, "success_rate": (r.success_rate() * 1000.0).round() / 1000.0}))
                .collect()
        };
        let summary = flows::summarize(&all);
        let clients = rates(summary.clients);
        let connections = rates(summary.connections);
        let over_time = rates(summary.over_time);
        let rising: Vec<Value> = summary
            .rising
            .iter()
            .map(|t| json!({"reason": t.code, "before": t.before, "after": t.after, "new": t.appeared, "since": format_ts(t.onset)}))
            .collect();
        let mut value = json!({
            "tool": "auth_flows",
            "flows": all.len(),
            "failed": failed.len(),
            "clients": clients,
            "connections": connections,
            "success_over_time": over_time,
            "rising_reasons": rising,
            "failed_flows": shown_flows,
            "flags": shown_flags,
        });
        let hidden = failed.len().saturating_sub(MAX_FLOWS_SHOWN)
            + flags.len().saturating_sub(MAX_FLAGS_SHOWN);
        if hidden > 0 {
            value["omitted"] = json!(format!(
                "{} more failed flows and {} more flags not shown; narrow by client, user or time to see them",
                failed.len().saturating_sub(MAX_FLOWS_SHOWN),
                flags.len().saturating_sub(MAX_FLAGS_SHOWN)
            ));
        }
        Ok(Ok(value))
    }

    /// The first risky-event flags, each with a few citable records.
    fn flags_shown(
        &mut self,
        flags: &[flows::Flag],
        by_id: &BTreeMap<&RecordId, &Record>,
    ) -> Vec<Value> {
        let mut shown = Vec::new();
        for flag in flags.iter().take(MAX_FLAGS_SHOWN) {
            let ids: Vec<String> = flag
                .records
                .iter()
                .take(EXAMPLES_PER_GROUP)
                .filter_map(|id| by_id.get(id).map(|r| self.remember(r)))
                .collect();
            shown.push(json!({"rule": flag.rule.as_str(), "severity": flag.severity, "at": format_ts(flag.ts), "summary": flag.summary, "records": flag.records.len(), "ids": ids}));
        }
        shown
    }

    /// Filters from `from`, `to` and `service`; with `bounded`, an omitted
    /// end falls back to the question's window.
    fn filters(&self, args: &Value, bounded: bool) -> std::result::Result<Filters, String> {
        let from = arg_time(args, "from")?;
        let to = arg_time(args, "to")?;
        let time = if bounded {
            TimeRange {
                from: from.or(self.window.from),
                to: to.or(self.window.to),
            }
        } else {
            TimeRange { from, to }
        };
        Ok(Filters {
            services: arg_str(args, "service")
                .map(|s| vec![s.to_string()])
                .unwrap_or_default(),
            kinds: if bounded {
                vec![SourceKind::Log, SourceKind::Auth]
            } else {
                Vec::new()
            },
            time,
            ..Filters::default()
        })
    }

    /// Records grouped by (service, template): in hit order, or by count.
    fn grouped(&mut self, tool: &str, records: &[Record], by_count: bool) -> Value {
        let mut groups: Vec<(String, String, Vec<&Record>)> = Vec::new();
        for record in records {
            let template = record
                .template
                .as_ref()
                .map_or_else(|| record.body.clone(), |t| t.text.clone());
            match groups
                .iter_mut()
                .find(|(s, t, _)| *s == record.service && *t == template)
            {
                Some((_, _, members)) => members.push(record),
                None => groups.push((record.service.clone(), template, vec![record])),
            }
        }
        if by_count {
            groups.sort_by_key(|(_, _, members)| std::cmp::Reverse(members.len()));
        }
        let omitted_groups = groups.len().saturating_sub(MAX_GROUPS);
        let omitted_records: usize = groups
            .iter()
            .skip(MAX_GROUPS)
            .map(|(_, _, m)| m.len())
            .sum();
        let shown: Vec<Group> = groups
            .into_iter()
            .take(MAX_GROUPS)
            .map(|(service, template, members)| {
                let times: Vec<DateTime<Utc>> = members.iter().filter_map(|r| r.ts).collect();
                Group {
                    service,
                    template: excerpt(&template, EXCERPT_CHARS),
                    count: members.len(),
                    first: times.iter().min().copied().map(format_ts),
                    last: times.iter().max().copied().map(format_ts),
                    examples: members
                        .iter()
                        .take(EXAMPLES_PER_GROUP)
                        .map(|r| self.example(r))
                        .collect(),
                }
            })
            .collect();
        let mut value = json!({"tool": tool, "records": records.len(), "groups": shown});
        if omitted_groups > 0 {
            value["omitted"] = json!(format!(
                "{omitted_groups} more groups ({omitted_records} records) not shown; narrow by service or time to see them"
            ));
        }
        value
    }

    fn remember(&mut self, record: &Record) -> String {
        self.shown
            .entry(record.id.clone())
            .or_insert_with(|| record.clone());
        record.id.to_string()
    }

    fn example(&mut self, record: &Record) -> Example {
        Example {
            id: self.remember(record),
            ts: record.ts.map(format_ts),
            service: record.service.clone(),
            text: excerpt(&record.body, EXCERPT_CHARS),
        }
    }

    fn show(&mut self, record: &Record) -> Value {
        json!(self.example(record))
    }
}

fn error(reason: &str) -> String {
    json!({ "error": reason }).to_string()
}

fn arg_str<'v>(args: &'v Value, name: &str) -> Option<&'v str> {
    args.get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn arg_time(args: &Value, name: &str) -> std::result::Result<Option<DateTime<Utc>>, String> {
    match arg_str(args, name) {
        None => Ok(None),
        Some(text) => ingest::parse_timestamp(text)
            .map(Some)
            .ok_or_else(|| format!("\"{name}\" is not a time: {text:?} (use RFC 3339)")),
    }
}

/// An instant as tools and prompts write it: RFC 3339, UTC, seconds.
pub(crate) fn format_ts(ts: DateTime<Utc>) -> String {
    ts.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn window_json(time: &TimeRange) -> Value {
    json!({"from": time.from.map(format_ts), "to": time.to.map(format_ts)})
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The versions of one config block (Terraform block, YAML document,
/// server block) across the ingested files, earliest state first.
pub(crate) struct ConfigBlock {
    /// The block's first line, shared by its versions.
    pub header: String,
    /// One record per file holding it.
    pub versions: Vec<Record>,
}

impl ConfigBlock {
    /// A unified diff from the first version to the last, if they differ.
    pub fn diff(&self) -> Option<String> {
        match (self.versions.first(), self.versions.last()) {
            (Some(old), Some(new)) if old.body != new.body => Some(unified_diff(old, new)),
            _ => None,
        }
    }

    /// The patch that restores the first version over the last.
    pub fn revert(&self) -> Option<String> {
        match (self.versions.first(), self.versions.last()) {
            (Some(old), Some(new)) if old.body != new.body => Some(unified_diff(new, old)),
            _ => None,
        }
    }
}

/// Config blocks whose text holds every one of `words` (lowercase).
pub(crate) fn config_versions(
    stores: &Stores,
    tenant: &str,
    words: &[String],
) -> Result<Vec<ConfigBlock>> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let filters = Filters {
        kinds: vec![SourceKind::Config],
        ..Filters::default()
    };
    let configs = stores.text().scan(tenant, &filters, 50_000)?;
    let mut blocks: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    for record in configs {
        let body = record.body.to_lowercase();
        if words.iter().all(|w| body.contains(w.as_str())) {
            let header = record.body.lines().next().unwrap_or_default().to_string();
            blocks.entry(header).or_default().push(record);
        }
    }
    Ok(blocks
        .into_iter()
        .map(|(header, mut versions)| {
            versions.sort_by(|a, b| {
                (version_rank(&a.origin.source), &a.origin.source)
                    .cmp(&(version_rank(&b.origin.source), &b.origin.source))
            });
            ConfigBlock { header, versions }
        })
        .collect())
}

/// Orders versions of a file: folders named like the earlier state first.
fn version_rank(source: &str) -> u8 {
    let segments: Vec<String> = source.split('/').map(str::to_lowercase).collect();
    let has = |names: &[&str]| segments.iter().any(|s| names.contains(&s.as_str()));
    if has(&["before", "old", "previous", "prev", "current", "live"]) {
        0
    } else if has(&["after", "new", "next", "proposed", "desired"]) {
        2
    } else {
        1
    }
}

fn unified_diff(old: &Record, new: &Record) -> String {
    similar::TextDiff::from_lines(&old.body, &new.body)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{}", old.origin.source),
            &format!("b/{}", new.origin.source),
        )
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use retrieval::TextStore;

    /// Stores holding every record read under `dir` for tenant `acme`, and
    /// how many records that is.
    fn stores_of(dir: &std::path::Path) -> (Stores, usize) {
        let parsed = ingest::read_path(
            dir,
            &ingest::ReadOptions::new("acme"),
            &mut ingest::TemplateMiner::default(),
        )
        .expect("read");
        let stores = Stores::new(TextStore::in_memory().expect("store"), None);
        stores.upsert(&parsed.records).expect("upsert");
        stores.commit().expect("commit");
        (stores, parsed.records.len())
    }

    /// Verify failures on node-4 from 10:00, a consensus error first seen
    /// a minute before them: `anomalies` names the node the failures share
    /// and the error that came first, both citable.
    #[test]
    fn anomalies_name_what_failures_share_and_what_came_first() {
        use std::fmt::Write;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut api = String::new();
        for i in 0..5400u32 {
            let (minute, second) = (i / 60, i % 60);
            let ts = format!(
                "2026-11-22T{:02}:{:02}:{second:02}.000Z",
                9 + minute / 60,
                minute % 60
            );
            let node = i % 6;
            let (level, msg) = if minute >= 60 && node == 4 {
                ("error", "verify aborted: deadline exceeded")
            } else {
                ("info", "verify served")
            };
            writeln!(
                api,
                r#"{{"ts":"{ts}","level":"{level}","msg":"{msg}","service":"api","node":"node-{node}"}}"#
            )
            .expect("write");
        }
        writeln!(
            api,
            r#"{{"ts":"2026-11-22T09:59:10.000Z","level":"error","msg":"no cluster leader","service":"consul"}}"#
        )
        .expect("write");
        std::fs::write(dir.path().join("api.jsonl"), api).expect("write");
        let (stores, _) = stores_of(dir.path());
        let mut toolbox = Toolbox::new(&stores, "acme", TimeRange::default());
        let result: Value = serde_json::from_str(
            &toolbox
                .call(
                    "anomalies",
                    r#"{"from": "2026-11-22T09:00:00Z", "to": "2026-11-22T10:30:00Z"}"#,
                )
                .expect("runs"),
        )
        .expect("json");
        let failing = result["anomalies"]
            .as_array()
            .and_then(|list| {
                list.iter()
                    .find(|a| a["template"] == "verify aborted: deadline exceeded")
            })
            .unwrap_or_else(|| panic!("{result}"));
        let shared = &failing["concentrated_on"][0];
        assert_eq!(shared["value"], "node-4", "{result}");
        assert_eq!(shared["share_of_failures"], 1.0);
        let first = &result["first_seen_before_onset"][0];
        assert_eq!(first["service"], "consul", "{result}");
        assert_eq!(first["minutes_before_onset"], 0);
        let cited = first["first"]["id"].as_str().expect("an id");
        assert!(toolbox.shown().keys().any(|id| id.0 == cited));
    }

    #[test]
    fn auth_flows_shows_failed_flows_and_flags_with_citable_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lines: String = (0..12)
            .map(|i| {
                format!(
                    "{{\"log_id\":\"90{i:04}\",\"date\":\"2026-11-20T14:0{}:{:02}.000Z\",\"type\":\"fp\",\"description\":\"Wrong email or password.\",\"client_id\":\"web\",\"ip\":\"203.0.113.9\",\"user_name\":\"ana@example.com\"}}\n",
                    i / 6,
                    (i % 6) * 10
                )
            })
            .collect();
        std::fs::write(dir.path().join("tenant-logs.jsonl"), lines).expect("write");
        let (stores, _) = stores_of(dir.path());
        let mut toolbox = Toolbox::new(&stores, "acme", TimeRange::default());
        let result: Value =
            serde_json::from_str(&toolbox.call("auth_flows", "{}").expect("runs")).expect("json");
        assert_eq!(result["failed"], 1, "{result}");
        assert_eq!(
            result["failed_flows"][0]["first_failure"]["reason"],
            "invalid_credentials"
        );
        assert_eq!(result["flags"][0]["rule"], "brute_force");
        let timeline: Value = serde_json::from_str(
            &toolbox
                .call(
                    "timeline",
                    r#"{"from": "2026-11-20T13:00:00Z", "to": "2026-11-20T15:00:00Z"}"#,
                )
                .expect("runs"),
        )
        .expect("json");
        assert_eq!(
            timeline["risky_events"][0]["rule"], "brute_force",
            "flags appear in the timeline: {timeline}"
        );
        let cited = result["failed_flows"][0]["first_failure"]["id"]
            .as_str()
            .expect("an id");
        assert!(
            toolbox.shown().keys().any(|id| id.0 == cited),
            "what the tool showed can be cited"
        );
    }

    /// The anomalies tool shows a metric series' shift with the sample it
    /// began at, citable like any record it shows.
    #[test]
    fn anomalies_show_metric_shifts_with_citable_samples() {
        let dir = tempfile::tempdir().expect("tempdir");
        let start = 1_795_338_000_i64; // 2026-11-22T09:00:00Z
        let values: Vec<String> = (0..60)
            .map(|step| {
                let level = if step < 40 { 0.02 } else { 0.7 };
                let jitter = f64::from(step % 5) / 1000.0;
                format!("[{},\"{}\"]", start + i64::from(step) * 60, level + jitter)
            })
            .collect();
        std::fs::write(
            dir.path().join("throttled.json"),
            format!(
                r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"container":"signer"}},"values":[{}]}}]}}}}"#,
                values.join(",")
            ),
        )
        .expect("write");
        let (stores, records) = stores_of(dir.path());
        assert_eq!(records, 60);
        let mut toolbox = Toolbox::new(&stores, "acme", TimeRange::default());
        let result: Value = serde_json::from_str(
            &toolbox
                .call(
                    "anomalies",
                    r#"{"from": "2026-11-22T09:00:00Z", "to": "2026-11-22T10:00:00Z"}"#,
                )
                .expect("runs"),
        )
        .expect("json");
        let shift = &result["metric_shifts"][0];
        assert_eq!(shift["metric"], "throttled", "{result}");
        assert_eq!(shift["direction"], "rose");
        assert_eq!(shift["starts"], "2026-11-22T09:40:00Z");
        let cited = shift["example"]["id"].as_str().expect("an id");
        assert!(toolbox.shown().keys().any(|id| id.0 == cited));
    }
}
