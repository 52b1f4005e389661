use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use ingest::{Record, RecordId, Severity, SourceKind};
use retrieval::{
    Anomaly, Attribution, Direction, Filters, SearchMode, SearchQuery, Stores, TimeRange, Timeline,
    attribute, detect_anomalies, metric_shifts, precursors, state_changes,
};
use tracing::{debug, instrument};

use crate::answer::{Answer, EvidenceRole, Remediation, RootCause};
use crate::answer_builder::{AnswerBuilder, Section, no_evidence};
use crate::change_summary::summarize;
use crate::entity_evidence::{
    describe_followed, describe_precursors, follow_entities, outside_cause,
};
use crate::error::Result;
use crate::history_answer::answer_from_history;
use crate::intent::classify;
use crate::metric_evidence::{describe_metric_findings, metric_findings, metric_verify_step};
use crate::past_actions::action_items;
use crate::question_time::question_time;
use crate::remediation_plan::{
    EntityClass, entity_class, isolate_step, revert_step, ticket_of, verify_step,
};
use crate::state_evidence::{STATE_CHANGES_QUOTED, describe_state_changes};
use crate::toolbox::config_versions;

/// How far back of the onset a change still counts as a candidate cause.
const CHANGE_LOOKBACK: Duration = Duration::hours(24);
/// Window analysed around a time named in the question.
const WINDOW_BEFORE: Duration = Duration::minutes(90);
const WINDOW_AFTER: Duration = Duration::minutes(60);
/// Window analysed when the question names no time: the latest data.
const DEFAULT_WINDOW: Duration = Duration::hours(24);
/// Remediation steps that isolate an implicated entity, one per class.
const ISOLATION_STEPS: usize = 2;
/// First-seen warnings quoted before the onset.
const PRECURSORS_QUOTED: usize = 3;
/// Records read into one timeline.
const SCAN_LIMIT: usize = 500_000;

/// Evidence mode: a deterministic diagnosis from the records alone.
///
/// Onset of the strongest problem-shaped anomaly -> the nearest change
/// before it -> evidence ranked by role -> an answer whose every claim cites
/// the records it rests on.
pub struct EvidenceEngine<'a> {
    stores: &'a Stores,
    mode: SearchMode,
}

impl<'a> EvidenceEngine<'a> {
    /// An engine over the stores, searching them with hybrid retrieval.
    pub fn new(stores: &'a Stores) -> Self {
        EvidenceEngine {
            stores,
            mode: SearchMode::Hybrid,
        }
    }

    /// Searches with `mode` instead, to compare retrievers.
    pub fn with_search_mode(mut self, mode: SearchMode) -> Self {
        self.mode = mode;
        self
    }

    /// Answers `question` from `tenant`'s records.
    #[instrument(skip_all, fields(tenant))]
    pub fn ask(&self, tenant: &str, question: &str) -> Result<Answer> {
        let intent = classify(question);
        debug!(intent = intent.as_str(), "question classified");
        let history = || {
            answer_from_history(
                self.stores,
                self.mode,
                tenant,
                question,
                &search_text(question),
                intent,
            )
        };
        // Past incidents are answered from the knowledge base across all
        // time, not from the window of the latest data.
        if intent.reads_history()
            && let Some(answer) = history()?
        {
            return Ok(answer);
        }
        let diagnosis = self.diagnose(tenant, question)?;
        // No live symptom to diagnose: a past incident that matches the
        // question is the better answer, whatever its phrasing.
        if diagnosis.root_cause.is_none()
            && let Some(answer) = history()?
        {
            return Ok(answer);
        }
        Ok(diagnosis)
    }

    /// The diagnosis of the live records around the time the question names.
    fn diagnose(&self, tenant: &str, question: &str) -> Result<Answer> {
        let Some((first, last)) = self.stores.text().time_bounds(tenant)? else {
            return Ok(no_evidence(
                question,
                "No timestamped records are indexed for this tenant.",
            ));
        };
        let anchor = question_time(question, first, last);
        let (start, end) = analysis_window(first, last, anchor);
        let window = TimeRange::between(start, end);
        let activity = Filters {
            kinds: vec![SourceKind::Log, SourceKind::Auth],
            time: window,
            ..Filters::default()
        };
        let records = self.stores.text().scan(tenant, &activity, SCAN_LIMIT)?;
        // A full scan stops short of the window's end; past it, every series
        // would look like it dropped to zero.
        let end = match records.last().and_then(|r| r.ts) {
            Some(last) if records.len() == SCAN_LIMIT => last,
            _ => end,
        };
        // Series that begin with the data are not new: start at the first record.
        let start = records
            .first()
            .and_then(|r| r.ts)
            .map_or(start, |first| first.max(start));
        let timeline = Timeline::build(&records, start, end, Duration::minutes(1));
        let question_terms: BTreeSet<String> = self
            .stores
            .text()
            .analyze(&search_text(question))?
            .into_iter()
            .collect();
        let mut anomalies = detect_anomalies(&timeline);
        anomalies.sort_by(|a, b| {
            let score = |x: &Anomaly| self.symptom_score(x, &question_terms, anchor);
            score(b).total_cmp(&score(a))
        });
        debug!(
            records = records.len(),
            anomalies = anomalies.len(),
            ?anchor,
            "timeline analysed"
        );
        let search = |time: TimeRange, limit: usize| {
            let query = SearchQuery {
                tenant: tenant.to_string(),
                text: search_text(question),
                filters: Filters {
                    time,
                    ..Filters::default()
                },
                limit,
            };
            self.stores.search(&query, self.mode)
        };
        // Without a rate change (a failure too sparse or too steady for a
        // change point), the failing records the question names are the
        // symptom.
        if anomalies.is_empty()
            && let Some(symptom) = question_symptom(&search(window, QUESTION_HITS)?, &records)
        {
            anomalies.push(symptom);
        }
        let Some(primary) = anomalies.first().cloned() else {
            let matches = search(window, 5)?;
            return Ok(self.matches_only(question, matches.into_iter().map(|h| h.record).collect()));
        };
        let correlated: Vec<&Anomaly> = anomalies[1..]
            .iter()
            .filter(|a| (a.onset - primary.onset).num_minutes().abs() <= 5 && is_problem(a))
            .take(3)
            .collect();
        // The incident starts with its earliest symptom, whichever pattern shows it.
        let mut onset = self.refined_onset(tenant, &primary)?;
        for anomaly in &correlated {
            onset = onset.min(self.refined_onset(tenant, anomaly)?);
        }
        let mut changes = self.stores.text().scan(
            tenant,
            &Filters {
                kinds: vec![SourceKind::Change],
                time: TimeRange::between(onset - CHANGE_LOOKBACK, onset + Duration::seconds(1)),
                ..Filters::default()
            },
            MAX_CHANGES,
        )?;
        // A patch or diff file without a date is a candidate too: only what
        // it shares with the symptoms can link it.
        changes.extend(
            self.stores
                .text()
                .scan(
                    tenant,
                    &Filters {
                        kinds: vec![SourceKind::Change],
                        ..Filters::default()
                    },
                    MAX_CHANGES,
                )?
                .into_iter()
                .filter(|c| c.ts.is_none()),
        );
        let ids: Vec<RecordId> = primary
            .examples
            .iter()
            .take(2)
            .chain(correlated.iter().filter_map(|a| a.examples.first()))
            .cloned()
            .collect();
        let examples = self.stores.text().get(tenant, &ids)?;
        let by_id = |id: &RecordId| examples.iter().find(|r| &r.id == id);
        let mut builder = AnswerBuilder::new(question);
        builder.onset = Some(onset);
        builder.line_in(
            Section::Header,
            "Evidence mode: a deterministic analysis of the indexed records.".into(),
        );
        let symptom_ids: Vec<&Record> = primary.examples.iter().take(2).filter_map(by_id).collect();
        let cites = builder.cite_all(&symptom_ids, EvidenceRole::Symptom);
        builder.line(format!(
            "Since {} {}, {} shows {} \"{}\" ({}){} {}.",
            onset.format("%Y-%m-%d %H:%M:%S"),
            "UTC",
            primary.service,
            describe_direction(primary.direction),
            quoted_template(&primary.template),
            describe_rates(&primary),
            example_of(symptom_ids.first().copied()),
            cites
        ));
        let mut attributed = Vec::new();
        let mut aliases = Vec::new();
        let rising: HashSet<&str> = anomalies
            .iter()
            .filter(|a| a.direction != Direction::Drop && is_problem(a))
            .map(|a| a.template_id.as_str())
            .collect();
        let found = attribution_of(&primary, &records, &rising);
        let primary_entity = found.first().cloned();
        if let Some(line) = describe_attribution(named(&found), None) {
            builder.line(line);
        }
        attributed.extend(named(&found).iter().cloned());
        aliases.extend(found);
        // Patterns of one service moving the same way are one line: a
        // reader sees which of its requests fail without the sentence
        // repeated per endpoint.
        let mut groups: Vec<Vec<&Anomaly>> = Vec::new();
        for anomaly in &correlated {
            match groups
                .iter_mut()
                .find(|g| g[0].service == anomaly.service && g[0].direction == anomaly.direction)
            {
                Some(group) => group.push(anomaly),
                None => groups.push(vec![anomaly]),
            }
        }
        for group in &groups {
            let mut items = Vec::new();
            let mut concentrations = Vec::new();
            for anomaly in group {
                let Some(record) = anomaly.examples.first().and_then(by_id) else {
                    continue;
                };
                let cite = builder.cite(record, EvidenceRole::Correlated);
                items.push(format!(
                    "\"{}\" ({}){} {}",
                    quoted_template(&anomaly.template),
                    describe_rates(anomaly),
                    example_of(Some(record)),
                    cite
                ));
                let found = attribution_of(anomaly, &records, &rising);
                if !found.is_empty() {
                    concentrations.push((anomaly.template.as_str(), named(&found).to_vec()));
                }
                attributed.extend(named(&found).iter().cloned());
                aliases.extend(found);
            }
            let Some(first) = group.first() else {
                continue;
            };
            if items.is_empty() {
                continue;
            }
            builder.line(format!(
                "At the same time {} shows {} {}.",
                first.service,
                if items.len() == 1 {
                    describe_direction(first.direction)
                } else {
                    describe_directions(first.direction)
                },
                items.join("; ")
            ));
            let several = concentrations.len() > 1;
            for (template, found) in concentrations {
                // Several patterns on one line: each concentration says whose.
                let owner = several.then(|| crate::answer::excerpt(template, OWNER_TEMPLATE_CHARS));
                if let Some(line) = describe_attribution(&found, owner.as_deref()) {
                    builder.line(line);
                }
            }
        }
        let symptom_templates: HashSet<&str> = std::iter::once(&primary)
            .chain(correlated.iter().copied())
            .map(|a| a.template_id.as_str())
            .collect();
        let template_words: HashSet<String> = std::iter::once(&primary)
            .chain(correlated.iter().copied())
            .flat_map(|a| a.template.split_whitespace())
            .map(|w| w.to_lowercase())
            .collect();
        let symptom_sources: HashSet<&str> = records
            .iter()
            .filter(|r| {
                r.template
                    .as_ref()
                    .is_some_and(|t| symptom_templates.contains(t.id.as_str()))
            })
            .map(|r| r.origin.source.as_str())
            .collect();
        // A metric's shift is the mechanism's evidence: it comes right
        // after the symptoms it explains.
        let metric_records = self.stores.text().scan(
            tenant,
            &Filters {
                kinds: vec![SourceKind::Metric],
                time: window,
                ..Filters::default()
            },
            SCAN_LIMIT,
        )?;
        let (shifts, series_per_metric) = metric_shifts(&metric_records);
        let found_metrics = metric_findings(&shifts, &series_per_metric, onset);
        describe_metric_findings(&mut builder, &found_metrics, onset);
        // Status lines that changed near the onset, other than the symptoms.
        let changed_states =
            state_changes(&records, onset, &symptom_templates, STATE_CHANGES_QUOTED);
        describe_state_changes(&mut builder, &changed_states);
        let followed = follow_entities(
            &attributed,
            &aliases,
            &records,
            &symptom_sources,
            &symptom_templates,
            &template_words,
            onset,
        );
        describe_followed(&mut builder, &followed, onset);
        let mut quoted_templates = symptom_templates.clone();
        for finding in followed.iter().flat_map(|f| &f.findings) {
            if let Some(template) = finding.records.first().and_then(|r| r.template.as_ref()) {
                quoted_templates.insert(template.id.as_str());
            }
        }
        let found_precursors = precursors(
            &records,
            onset,
            &quoted_templates,
            &symptom_sources,
            PRECURSORS_QUOTED,
        );
        describe_precursors(&mut builder, &found_precursors);
        let mut symptom_terms = self.terms_of(&primary, &correlated)?;
        // The values that concentrate the failures link a change that names
        // them (a node, a client, a network) as strongly as shared words.
        for attribution in &attributed {
            symptom_terms.extend(self.stores.text().analyze(&attribution.value)?);
        }
        let symptom_services: BTreeSet<&str> = std::iter::once(&primary)
            .chain(correlated.iter().copied())
            .map(|a| a.service.as_str())
            .collect();
        // How common a term was before the incident, across every source.
        let baseline = Filters {
            time: TimeRange::between(start, onset),
            // Metric samples repeat their labels thousands of times: they
            // would make every service's name a common word.
            kinds: SourceKind::ALL
                .into_iter()
                .filter(|kind| *kind != SourceKind::Metric)
                .collect(),
            ..Filters::default()
        };
        // The entities the failures concentrate on, as a change would write
        // them: a change naming one is linked whatever words it uses.
        let entity_names: BTreeSet<String> = attributed
            .iter()
            .flat_map(|a| {
                let value = a.value.to_lowercase();
                let short = value.split('.').next().unwrap_or_default().to_string();
                let host_like =
                    a.value.contains('.') && short.chars().any(|c| c.is_ascii_alphabetic());
                std::iter::once(value).chain(host_like.then_some(short))
            })
            .filter(|name| name.chars().count() >= MIN_ENTITY_NAME_CHARS)
            .collect();
        let mut links = Vec::new();
        for change in &changes {
            let terms: BTreeSet<String> = self
                .stores
                .text()
                .analyze(&change_text(change))?
                .into_iter()
                .collect();
            let mut shared = Vec::new();
            for term in terms.intersection(&symptom_terms) {
                if term.chars().count() >= MIN_LINK_TERM_CHARS
                    && self.stores.text().term_share(tenant, term, &baseline)? < COMMON_TERM_SHARE
                {
                    shared.push(term.clone());
                }
            }
            let text = change_text(change).to_lowercase();
            let names: Vec<String> = entity_names
                .iter()
                .filter(|name| text.contains(name.as_str()))
                .cloned()
                .collect();
            links.push(ChangeLink {
                lead: change.ts.map(|ts| (onset - ts).num_minutes()),
                shared,
                names,
                // A change fed from a deploy tool is filed under that tool,
                // but its text (a chart path, a service key) names what it
                // touched.
                same_service: symptom_services.contains(change.service.as_str())
                    || symptom_services
                        .iter()
                        .any(|service| names_word(&text, service)),
                change,
            });
        }
        // The best-linked change wins; among equals, the nearest to the
        // onset. Timing and service alone make a suspect, never a verdict:
        // the cause shares something specific with the symptoms.
        links.sort_by_key(|l| l.rank());
        let outside = outside_cause(
            &followed,
            &found_precursors,
            &found_metrics,
            &attributed,
            (start, onset),
        );
        // Words alone, from a change to another service, are weaker evidence
        // than a warning or a metric of the very entity the failures
        // concentrate on; and, made long before the onset, weaker than a
        // failure first seen as the symptoms begin.
        let entity_evidence = outside.as_ref().is_some_and(|o| o.entity_scoped);
        let outside_evidence = outside.is_some();
        let cause = links
            .first()
            .filter(|l| l.is_linked())
            .filter(|l| {
                let words_only = l.names.is_empty() && !l.same_service;
                let long_before = l.lead.is_none_or(|lead| lead > CLOSE_LEAD_MINUTES);
                !(words_only && (entity_evidence || outside_evidence && long_before))
            })
            // A patch without a date may be months old: only naming where
            // the failures concentrate ties it to this incident.
            .filter(|l| l.lead.is_some() || !l.names.is_empty());
        let alternatives: Vec<String> = links
            .iter()
            .filter(|l| cause.is_none_or(|c| c.change.id != l.change.id))
            .take(3)
            .map(|l| {
                format!(
                    "Change on {} {} (\"{}\"): ruled out, {}.",
                    l.change.service,
                    l.when(),
                    crate::answer::excerpt(headline(&l.change.body), STATEMENT_CHANGE_CHARS),
                    l.weakness()
                )
            })
            .collect();
        // One step per class of implicated entity, the strongest first.
        let mut classes = Vec::new();
        let isolation: Vec<String> = attributed
            .iter()
            .filter(|a| {
                let class = entity_class(a);
                class != EntityClass::Other && {
                    let new = !classes.contains(&class);
                    classes.push(class);
                    new
                }
            })
            .take(ISOLATION_STEPS)
            .map(|a| isolate_step(a, &primary.service))
            .collect();
        let verify = verify_step(
            &quoted_template(&primary.template),
            &primary.service,
            primary_entity.as_ref(),
            primary.rate_before,
        );
        let (root_cause, mut remediation) = match cause {
            Some(link) => {
                let change = link.change;
                let shared = &link.shared;
                let same_service = link.same_service;
                let cite = builder.cite(change, EvidenceRole::Change);
                let mut confidence: f32 = 0.5;
                let mut reasons = vec![format!("it was made {}", link.when())];
                if !link.names.is_empty() {
                    confidence += 0.25;
                    reasons.push(format!(
                        "it names {}, where the failures concentrate",
                        link.names.join(", ")
                    ));
                }
                if !shared.is_empty() {
                    confidence += 0.25;
                    let terms: Vec<&str> = shared.iter().take(4).map(|s| s.as_str()).collect();
                    reasons.push(format!(
                        "it shares the terms {} with the failing pattern",
                        terms.join(", ")
                    ));
                }
                if same_service {
                    confidence += 0.1;
                    reasons.push("it touched a service that shows the anomaly".into());
                }
                if link.lead.is_some_and(|lead| lead <= CLOSE_LEAD_MINUTES) {
                    confidence += 0.1;
                }
                // A change is named as its team knows it: its id or commit.
                let (noun, known_ref) =
                    match (change.field_str("change_id"), change.field_str("commit")) {
                        (Some(id), _) => ("change", Some(id)),
                        (None, Some(commit)) => ("commit", Some(commit.chars().take(12).collect())),
                        (None, None) => ("change", None),
                    };
                let change_ref = known_ref.clone().unwrap_or_else(|| change.id.to_string());
                let named = match &known_ref {
                    Some(reference) => format!("{noun} {reference}"),
                    None => "the change".to_string(),
                };
                builder.line_in(
                    Section::Cause,
                    format!(
                        "Likely root cause: {named} on {} at {} UTC, \"{}\" {}: {}.",
                        change.service,
                        change
                            .ts
                            .map(|t| t.format("%H:%M:%S").to_string())
                            .unwrap_or_else(|| "an unrecorded time".into()),
                        crate::wording::excerpt_showing(
                            headline(&change.body),
                            link.names.first().map_or("", String::as_str),
                            HEADLINE_CHARS
                        ),
                        cite,
                        reasons.join("; ")
                    ),
                );
                let quoted = changed_lines_quoted(change, shared);
                if !quoted.is_empty() {
                    builder.line_in(
                        Section::Cause,
                        format!("  It changed: {}", quoted.join(" | ")),
                    );
                }
                // The cause line above quotes the whole change; the
                // statement names it.
                let statement = format!(
                    "Change on {} (\"{}\"), made {}, then {}.",
                    change.service,
                    crate::answer::excerpt(headline(&change.body), STATEMENT_CHANGE_CHARS),
                    link.when(),
                    symptoms_phrase(&primary, &correlated)
                );
                (
                    RootCause {
                        statement,
                        confidence: confidence.min(0.95),
                    },
                    Remediation {
                        steps: std::iter::once(revert_step(
                            noun,
                            &change_ref,
                            ticket_of(&change_text(change)).as_deref(),
                            &change.service,
                            &summarize(&change.field_str("changed_lines").unwrap_or_default()),
                        ))
                        .chain(std::iter::once(format!(
                            "Or complete the change on every dependent component that still holds the old state: {}.",
                            affected_components(&primary, &correlated)
                        )))
                        .chain(isolation.clone())
                        .chain(std::iter::once(verify.clone()))
                        .collect(),
                        diff: None,
                        rollback: vec![format!(
                            "Re-apply change {change_ref} once its dependents are ready."
                        )],
                        verify: verify_query(&primary),
                    },
                )
            }
            None => {
                let preceding = if links.is_empty() {
                    "no recorded change precedes the onset in the day before it".to_string()
                } else if links.first().is_some_and(|l| l.is_linked()) {
                    format!(
                        "{} change(s) precede the onset or carry no date, none naming the implicated entities; those sharing words with the symptoms touch no failing service, came long before, or are undated",
                        links.len()
                    )
                } else {
                    format!(
                        "{} change(s) precede the onset, none linked to the symptoms by shared terms or entities",
                        links.len()
                    )
                };
                let statement = match &outside {
                    Some(found) => {
                        let role = if found.record.kind == SourceKind::Metric {
                            EvidenceRole::Metric
                        } else {
                            EvidenceRole::Precursor
                        };
                        let cite = builder.cite(found.record, role);
                        builder.line_in(
                            Section::Cause,
                            format!(
                                "Likely cause, outside recorded changes: {} {cite}; {preceding}.",
                                found.text
                            ),
                        );
                        capitalize(&format!(
                            "{}, then {} since {} UTC; no recorded change is linked to it.",
                            found.text,
                            symptoms_phrase(&primary, &correlated),
                            onset.format("%H:%M")
                        ))
                    }
                    None => {
                        builder.line_in(
                            Section::Cause,
                            capitalize(&format!("{preceding}, so the cause is likely outside recorded changes (load, an attack, a dependency).")),
                        );
                        capitalize(&format!(
                            "{} since {} UTC, with no recorded change before it.",
                            symptoms_phrase(&primary, &correlated),
                            onset.format("%H:%M")
                        ))
                    }
                };
                let confidence = if outside.is_some() { 0.5 } else { 0.35 };
                (
                    RootCause { statement, confidence },
                    Remediation {
                        steps: found_precursors
                            .first()
                            .map(|p| {
                                format!(
                                    "Repair {} first: \"{}\" began {} min before the symptoms; the rest may follow from it.",
                                    p.first.service,
                                    crate::answer::excerpt(&p.template, 120),
                                    p.lead_minutes
                                )
                            })
                            .into_iter()
                            .chain(isolation.clone())
                            .chain(std::iter::once(format!(
                                "Inspect the first \"{}\" records from {} for the failing dependency or client.",
                                quoted_template(&primary.template), primary.service
                            )))
                            .chain(std::iter::once(verify.clone()))
                            .collect(),
                        diff: None,
                        rollback: Vec::new(),
                        verify: verify_query(&primary),
                    },
                )
            }
        };
        // The series that moved is the fix's measure too.
        remediation
            .steps
            .extend(found_metrics.first().map(metric_verify_step));
        if let Some(link) = cause
            && let Some((header, source, patch)) = self.revert_patch(tenant, link.change)?
        {
            remediation.steps.push(format!(
                "If rolling back is the fix, the patch below restores the previous {} ({source}); review it before applying.",
                header.trim_end_matches('{').trim_end()
            ));
            remediation.diff = Some(patch);
        }
        if let Some(past) =
            self.similar_incident(tenant, &primary, &correlated, cause.map(|link| link.change))?
        {
            let cite = builder.cite(&past, EvidenceRole::Match);
            let document = past
                .field_str("document")
                .unwrap_or_else(|| past.origin.source.clone());
            let mut line = format!("A similar past incident is documented in \"{document}\"");
            if let Some(cause) = past.field_str("root_cause") {
                line.push_str(&format!("; its root cause: {cause}"));
            }
            if let Some(fix) = past.field_str("resolution") {
                line.push_str(&format!("; resolved by: {fix}"));
                remediation.steps.push(format!(
                    "What resolved the similar incident \"{document}\": {fix}"
                ));
            }
            builder.line(format!("{line} {cite}."));
            // The steps the team wrote for this kind of failure come right
            // after the diagnosis's own first step.
            let sections = self.sections_of(tenant, &past)?;
            let steps: Vec<String> = action_items(&sections)
                .into_iter()
                .take(PAST_ACTIONS_QUOTED)
                .map(|(section, item)| {
                    let cite = builder.cite(section, EvidenceRole::Match);
                    format!(
                        "As \"{document}\" prescribes {cite}: {}",
                        crate::answer::excerpt(&item, PAST_ACTION_CHARS)
                    )
                })
                .collect();
            let at = remediation.steps.len().min(1);
            remediation.steps.splice(at..at, steps);
        }
        // Question matches that add something: from the incident, and not
        // another line of a pattern already cited.
        let cited_templates: BTreeSet<&str> = std::iter::once(&primary)
            .chain(correlated.iter().copied())
            .map(|a| a.template_id.as_str())
            .collect();
        let matches = search(TimeRange::between(onset - Duration::minutes(10), end), 20)?;
        let unseen: Vec<&Record> = matches
            .iter()
            .map(|h| &h.record)
            .filter(|r| !builder.has(&r.id))
            .filter(|r| {
                r.template
                    .as_ref()
                    .is_none_or(|t| !cited_templates.contains(t.id.as_str()))
            })
            .take(2)
            .collect();
        for record in unseen {
            builder.match_line("Matching the question: ", record);
        }
        Ok(builder.finish(Some(root_cause), alternatives, remediation))
    }

    /// How strongly an anomaly looks like the problem asked about.
    fn symptom_score(
        &self,
        anomaly: &Anomaly,
        question_terms: &BTreeSet<String>,
        anchor: Option<DateTime<Utc>>,
    ) -> f64 {
        let problem_weight = match (anomaly.direction, problem_severity(anomaly)) {
            (
                Direction::New | Direction::Spike,
                Severity::Warn | Severity::Error | Severity::Fatal,
            ) => 1.0,
            (Direction::Drop, Severity::Info | Severity::Debug) => 0.6,
            (Direction::New | Direction::Spike, _) => 0.2,
            (Direction::Drop, _) => 0.05,
        };
        let template_terms: BTreeSet<String> = self
            .stores
            .text()
            .analyze(&anomaly.template)
            .unwrap_or_default()
            .into_iter()
            .collect();
        let overlap = question_terms.intersection(&template_terms).count() as f64;
        let nearness = anchor.map_or(1.0, |at| {
            1.0 / (1.0 + (anomaly.onset - at).num_minutes().abs() as f64 / 10.0)
        });
        anomaly.z.abs().ln_1p() * problem_weight * (1.0 + 0.5 * overlap) * nearness
    }

    /// A patch restoring the config a change modified, when the change names
    /// a config resource (an identifier such as `auth_signing_key.primary`)
    /// whose earlier and later versions were both ingested.
    fn revert_patch(
        &self,
        tenant: &str,
        change: &Record,
    ) -> Result<Option<(String, String, String)>> {
        for token in change
            .body
            .split(|c: char| c.is_whitespace() || "()[]{}'\",;".contains(c))
        {
            if !token.contains('_') {
                continue;
            }
            let words: Vec<String> = token
                .split('.')
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect();
            for block in config_versions(self.stores, tenant, &words)? {
                if let (Some(patch), Some(last)) = (block.revert(), block.versions.last()) {
                    return Ok(Some((
                        block.header.clone(),
                        last.origin.source.clone(),
                        patch,
                    )));
                }
            }
        }
        Ok(None)
    }

    /// The postmortem or runbook that best matches the symptoms' patterns
    /// and the change blamed for them, if it shares several of their terms.
    /// Documents are indexed a section per record, so terms are pooled per
    /// document: the summary may name the symptom and the cause section the
    /// change. Returns the document's best-ranked section.
    fn similar_incident(
        &self,
        tenant: &str,
        primary: &Anomaly,
        correlated: &[&Anomaly],
        cause: Option<&Record>,
    ) -> Result<Option<Record>> {
        const MIN_SHARED_TERMS: usize = 3;
        const SECTIONS_CONSIDERED: usize = 30;
        let text: Vec<&str> = std::iter::once(primary)
            .chain(correlated.iter().copied())
            .map(|a| a.template.as_str())
            .chain(cause.map(|c| c.body.as_str()))
            .collect();
        let query = SearchQuery {
            tenant: tenant.to_string(),
            text: text.join(" ").replace("<*>", " "),
            filters: Filters {
                kinds: vec![SourceKind::Knowledge, SourceKind::Incident],
                ..Filters::default()
            },
            limit: SECTIONS_CONSIDERED,
        };
        let hits = self.stores.text().search(&query)?;
        // Per document, in order of its best section: shared terms, best hit.
        let mut documents: Vec<(String, BTreeSet<String>, Record)> = Vec::new();
        for hit in hits {
            let document = hit
                .record
                .field_str("document")
                .unwrap_or_else(|| hit.record.origin.source.clone());
            match documents.iter_mut().find(|(d, _, _)| *d == document) {
                Some((_, terms, _)) => terms.extend(hit.why),
                None => documents.push((document, hit.why.into_iter().collect(), hit.record)),
            }
        }
        let most_shared = documents.iter().map(|(_, terms, _)| terms.len()).max();
        Ok(documents
            .into_iter()
            .find(|(_, terms, _)| {
                Some(terms.len()) == most_shared && terms.len() >= MIN_SHARED_TERMS
            })
            .map(|(_, _, record)| record))
    }

    /// The onset to the record: the first record of a new or spiking pattern.
    /// The knowledge records of the document `past` is a section of.
    fn sections_of(&self, tenant: &str, past: &Record) -> Result<Vec<Record>> {
        let filters = Filters {
            kinds: vec![past.kind],
            services: vec![past.service.clone()],
            ..Filters::default()
        };
        Ok(self
            .stores
            .text()
            .scan(tenant, &filters, MAX_KNOWLEDGE_SECTIONS)?
            .into_iter()
            .filter(|s| s.origin.source == past.origin.source)
            .collect())
    }

    fn refined_onset(&self, tenant: &str, anomaly: &Anomaly) -> Result<DateTime<Utc>> {
        if anomaly.direction == Direction::Drop {
            return Ok(anomaly.onset);
        }
        let first = self
            .stores
            .text()
            .get(tenant, &anomaly.examples[..anomaly.examples.len().min(1)])?;
        Ok(first.first().and_then(|r| r.ts).unwrap_or(anomaly.onset))
    }

    fn terms_of(&self, primary: &Anomaly, correlated: &[&Anomaly]) -> Result<BTreeSet<String>> {
        let mut terms = BTreeSet::new();
        for anomaly in std::iter::once(primary).chain(correlated.iter().copied()) {
            terms.extend(self.stores.text().analyze(&anomaly.template)?);
            terms.extend(self.stores.text().analyze(&anomaly.service)?);
        }
        Ok(terms)
    }

    fn matches_only(&self, question: &str, records: Vec<Record>) -> Answer {
        if records.is_empty() {
            return no_evidence(
                question,
                "No anomaly and no record matching the question was found in the analysed window.",
            );
        }
        let mut builder = AnswerBuilder::new(question);
        builder.line("Evidence mode: no rate change stands out in the analysed window, so this is a list of the records that best match the question, not a diagnosis.".into());
        for record in &records {
            builder.match_line("", record);
        }
        builder.finish(None, Vec::new(), Remediation::default())
    }
}

/// The stretch of data a question is about: around the time it names, or
/// the latest hours of data when it names none.
pub(crate) fn analysis_window(
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    anchor: Option<DateTime<Utc>>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let end = last + Duration::minutes(1);
    match anchor {
        Some(at) => (at - WINDOW_BEFORE, (at + WINDOW_AFTER).min(end)),
        None => ((last - DEFAULT_WINDOW).max(first), end),
    }
}

/// The question as search terms: "401s" reads as the code it names, and
/// times and dates are dropped (they select the window, not the text).
fn search_text(question: &str) -> String {
    question
        .split_whitespace()
        .filter_map(|word| {
            let core = word.trim_matches(|c: char| c.is_ascii_punctuation());
            let is_time_or_date = core.contains([':', '-'])
                && core
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b':' || b == b'-');
            if is_time_or_date {
                return None;
            }
            Some(match core.strip_suffix('s') {
                Some(number)
                    if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    number.to_string()
                }
                _ => word.to_string(),
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Change records read as candidates at most.
const MAX_CHANGES: usize = 1000;
/// Changed lines quoted for the blamed change.
const CHANGED_LINES_QUOTED: usize = 4;

/// What a change says: its summary, message and changed lines.
fn change_text(change: &Record) -> String {
    let mut text = change.body.clone();
    for field in ["message", "changed_lines"] {
        if let Some(value) = change.field_str(field) {
            text.push('\n');
            text.push_str(&value);
        }
    }
    text
}

/// What the change did, at most [`CHANGED_LINES_QUOTED`] effects: settings
/// it modified first, then lines naming a term shared with the symptoms.
fn changed_lines_quoted(change: &Record, shared: &[String]) -> Vec<String> {
    // (is a modification, its text), each effect's text made once.
    let effects: Vec<(bool, String)> = change
        .field_str("changed_lines")
        .map(|lines| summarize(&lines))
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.is_modification(), e.text()))
        .filter(|(_, text)| !is_patch_header(text) && !is_comment(text))
        .collect();
    // How many of the change's lines each token is in: a token in one
    // line only (a name, an address, a limit) says what this line does;
    // one in every line (the namespace, the file's kind) says nothing.
    // Only values count: every line has a key path of its own, which
    // would make each look specific.
    let mut lines_with: HashMap<String, usize> = HashMap::new();
    for (_, text) in &effects {
        let tokens: HashSet<String> = line_tokens(setting_value(text)).collect();
        for token in tokens {
            *lines_with.entry(token).or_default() += 1;
        }
    }
    let informative = |text: &str| -> usize {
        line_tokens(setting_value(text))
            .filter(|t| lines_with.get(t) == Some(&1))
            .map(|t| value_weight(&t))
            .sum()
    };
    let names_shared = |text: &str| {
        let lower = text.to_lowercase();
        shared.iter().any(|term| lower.contains(term.as_str()))
    };
    let mut ordered: Vec<(&(bool, String), usize, bool)> = effects
        .iter()
        .map(|e| (e, informative(&e.1), names_shared(&e.1)))
        .collect();
    ordered.sort_by_key(|((modification, _), score, shares)| {
        (!modification, std::cmp::Reverse(*score), !shares)
    });
    let mut quoted: Vec<String> = Vec::new();
    for ((_, text), _, _) in ordered {
        let text = crate::answer::excerpt(text, 120);
        if !quoted.contains(&text) {
            quoted.push(text);
        }
        if quoted.len() == CHANGED_LINES_QUOTED {
            break;
        }
    }
    quoted
}

/// A changed line's content, without the `+ `/`- ` its text starts with.
fn line_content(text: &str) -> &str {
    text.strip_prefix("+ ")
        .or_else(|| text.strip_prefix("- "))
        .unwrap_or(text)
        .trim_start()
}

/// A patch's own bookkeeping (`diff --git`, `index`, `+++`/`---` file
/// names), which says which file changed, not what.
fn is_patch_header(text: &str) -> bool {
    let line = line_content(text).trim_start_matches(['+', '-', ' ']);
    line.starts_with("diff --git ")
        || line.starts_with("index ")
        || line.starts_with("a/")
        || line.starts_with("b/")
}

/// A comment line (`#`, `//`, `--`, `;`), which changes no behaviour.
fn is_comment(text: &str) -> bool {
    let line = line_content(text);
    line.starts_with('#')
        || line.starts_with("//")
        || line.starts_with("-- ")
        || line.starts_with(';')
}

/// Lower-cased tokens of a changed line, punctuation trimmed.
fn line_tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split_whitespace()
        .map(|t| {
            t.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|t| t.chars().count() >= 3)
}

/// What a changed line sets: the text after its key (`key: value`), or
/// the whole line when it has none.
fn setting_value(text: &str) -> &str {
    let content = line_content(text);
    content.split_once(": ").map_or(content, |(_, value)| value)
}

/// How much a token says about what a line does: a value with digits (an
/// address, a port, a limit, a ticket) most, then a joined name
/// (`default-deny-egress`), then a word.
fn value_weight(token: &str) -> usize {
    if token.chars().any(|c| c.is_ascii_digit()) {
        3
    } else if token.contains(['-', '_', '.', '/', ':']) {
        2
    } else {
        1
    }
}

/// Hits read to find the failing records a question names.
const QUESTION_HITS: usize = 50;

/// The template most of the question's failing hits (warnings and worse)
/// belong to, read as a symptom from its first record in the window on.
fn question_symptom(hits: &[retrieval::Hit], records: &[Record]) -> Option<Anomaly> {
    let mut counts: Vec<(&str, &str, usize)> = Vec::new();
    for hit in hits {
        let record = &hit.record;
        let Some(template) = record.template.as_ref() else {
            continue;
        };
        if record.severity < Severity::Warn {
            continue;
        }
        match counts
            .iter_mut()
            .find(|(id, service, _)| *id == template.id && *service == record.service)
        {
            Some((_, _, count)) => *count += 1,
            None => counts.push((&template.id, &record.service, 1)),
        }
    }
    let (template_id, service, _) = counts.into_iter().max_by_key(|(_, _, count)| *count)?;
    let members: Vec<&Record> = records
        .iter()
        .filter(|r| {
            r.service == service && r.template.as_ref().is_some_and(|t| t.id == template_id)
        })
        .collect();
    let first = members.first()?;
    let onset = first.ts?;
    let span_minutes = members
        .last()
        .and_then(|r| r.ts)
        .map_or(1.0, |last| ((last - onset).num_minutes() + 1) as f64);
    Some(Anomaly {
        service: service.to_string(),
        template_id: template_id.to_string(),
        template: first
            .template
            .as_ref()
            .map(|t| t.text.clone())
            .unwrap_or_default(),
        severity: members
            .iter()
            .map(|r| r.severity)
            .max()
            .unwrap_or(Severity::Warn),
        direction: Direction::New,
        onset,
        rate_before: 0.0,
        rate_after: members.len() as f64 / span_minutes,
        z: 0.0,
        examples: members.iter().take(3).map(|r| r.id.clone()).collect(),
    })
}

/// Failing records read for attribution at most, and contrast records:
/// evenly spaced samples beyond that keep the shares and bound the work.
const ATTRIBUTION_SAMPLE: usize = 20_000;
/// Knowledge sections read to find a matching document's action steps.
const MAX_KNOWLEDGE_SECTIONS: usize = 20_000;
/// Action steps of a matching runbook or postmortem put in a remediation.
const PAST_ACTIONS_QUOTED: usize = 3;
/// Characters of each such step quoted.
const PAST_ACTION_CHARS: usize = 240;

/// Groups of values named per symptom: values with the same counts (the
/// error, its code and its type, each on every failing record and no
/// other) are one finding, stated together.
const ATTRIBUTION_GROUPS_NAMED: usize = 3;
/// Values named per symptom at most, whatever their groups.
const ATTRIBUTIONS_NAMED: usize = 6;

/// The leading attributions named for a symptom: those of its first
/// [`ATTRIBUTION_GROUPS_NAMED`] groups of equal counts, at most
/// [`ATTRIBUTIONS_NAMED`]. Equal counts rank together, so the groups are
/// runs of the ranked list.
pub(crate) fn named(found: &[Attribution]) -> &[Attribution] {
    let mut groups = 0;
    let mut end = 0;
    for (at, attribution) in found.iter().enumerate().take(ATTRIBUTIONS_NAMED) {
        if at == 0 || counts(&found[at - 1]) != counts(attribution) {
            groups += 1;
            if groups > ATTRIBUTION_GROUPS_NAMED {
                break;
            }
        }
        end = at + 1;
    }
    &found[..end]
}
/// Values kept per symptom: beyond the named ones, they are other names
/// of the same failing population (its address, its user name), which
/// the entity pivot must not report as differences.
const ATTRIBUTIONS_WEIGHED: usize = 24;

/// The values that concentrate an anomaly's records: its template from the
/// onset on, against the other records of the same sources (the ones that
/// did not fail, when the anomaly is a failure). Drops have no failing set.
pub(crate) fn attribution_of(
    anomaly: &Anomaly,
    records: &[Record],
    rising: &HashSet<&str>,
) -> Vec<Attribution> {
    if anomaly.direction == Direction::Drop {
        return Vec::new();
    }
    let is_failing = |r: &Record| {
        r.service == anomaly.service
            && r.ts.is_some_and(|ts| ts >= anomaly.onset)
            && r.template
                .as_ref()
                .is_some_and(|t| t.id == anomaly.template_id)
    };
    let failing: Vec<&Record> = records.iter().filter(|r| is_failing(r)).collect();
    let sources: BTreeSet<&str> = failing.iter().map(|r| r.origin.source.as_str()).collect();
    // The contrast is what did not fail: records of the other templates
    // that rose at the incident are failures too, and would hide what
    // the failures share.
    let is_rising = |r: &Record| {
        r.template
            .as_ref()
            .is_some_and(|t| rising.contains(t.id.as_str()))
    };
    let contrast: Vec<&Record> = records
        .iter()
        .filter(|r| sources.contains(r.origin.source.as_str()) && !is_failing(r))
        .filter(|r| !is_rising(r))
        .filter(|r| anomaly.severity < Severity::Warn || r.severity < Severity::Warn)
        .collect();
    // A value that defines the failing set (a constant word of its
    // template, its severity) concentrates it by construction: not a finding.
    let constant: BTreeSet<String> = anomaly
        .template
        .split_whitespace()
        .filter(|t| !t.contains("<*>"))
        .map(|t| {
            t.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .chain(Severity::ALL.iter().map(|s| s.as_str().to_string()))
        .collect();
    let mut found = attribute(
        &evenly(&failing, ATTRIBUTION_SAMPLE),
        &evenly(&contrast, ATTRIBUTION_SAMPLE),
        ATTRIBUTIONS_WEIGHED + constant.len().min(8),
    );
    found.retain(|a| !constant.contains(&a.value.to_lowercase()));
    found.truncate(ATTRIBUTIONS_WEIGHED);
    found
}

/// At most `n` of `items`, evenly spaced.
fn evenly<'r>(items: &[&'r Record], n: usize) -> Vec<&'r Record> {
    if items.len() <= n {
        return items.to_vec();
    }
    let step = items.len() as f64 / n as f64;
    (0..n)
        .filter_map(|i| items.get((i as f64 * step) as usize).copied())
        .collect()
}

/// An attribution's failing and contrast counts and totals: values with
/// equal counts are one finding.
type Counts = (usize, usize, usize, usize);

fn counts(a: &Attribution) -> Counts {
    (a.failing, a.failing_total, a.contrast, a.contrast_total)
}

/// "Concentrated on node=ip-10-8-44-12 (94 % of 312, 3 % of the others)":
/// the others are the records of the same sources that did not fail.
/// Values with the same counts are stated together, the shares once:
/// "a=x, b=y (100 % of 460, 0 % of the others)". With an `owner`, the
/// pattern whose records they are leads the line.
fn describe_attribution(found: &[Attribution], owner: Option<&str>) -> Option<String> {
    // (counts, the shares they read as, the values with them)
    let mut groups: Vec<(Counts, String, Vec<String>)> = Vec::new();
    for a in found {
        let before = if a.contrast_total == 0 {
            String::new()
        } else {
            format!(", {:.0} % of the others", 100.0 * a.contrast_share())
        };
        let shares = format!("{:.0} % of {}{before}", 100.0 * a.share(), a.failing_total);
        // A network is read as one: `k8s_node in subnet 10.30.3.0/24`.
        let named = match retrieval::network_key_base(&a.key) {
            Some(base) => format!("{base} in subnet {}", a.value),
            None => format!(
                "{}={}",
                a.key,
                crate::wording::quote(&a.value, ATTRIBUTION_VALUE_CHARS)
            ),
        };
        match groups.iter_mut().find(|(c, _, _)| *c == counts(a)) {
            Some((_, _, names)) => names.push(named),
            None => groups.push((counts(a), shares, vec![named])),
        }
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(_, shares, names)| format!("{} ({shares})", names.join(", ")))
        .collect();
    let lead = match owner {
        Some(template) => format!("\"{template}\" concentrated on"),
        None => "Concentrated on".to_string(),
    };
    (!parts.is_empty()).then(|| format!("  {lead} {}.", parts.join("; ")))
}

/// `, e.g. "…first record…" `: the values a template masks, as one record
/// shows them.
fn example_of(record: Option<&Record>) -> String {
    record.map_or(String::new(), |r| {
        let details = message_fields(r);
        // A body with no variables repeats its template: only the details
        // the fields add are news.
        let body_is_template = r.template.as_ref().is_some_and(|t| t.text == r.body);
        if body_is_template && details.is_empty() {
            return String::new();
        }
        let mut quoted = Vec::new();
        if !body_is_template {
            quoted.push(format!(
                "\"{}\"",
                crate::wording::quote(&r.body, EXAMPLE_CHARS)
            ));
        }
        quoted.extend(details.iter().map(|(key, value)| {
            format!("{key}: \"{}\"", crate::wording::quote(value, EXAMPLE_CHARS))
        }));
        format!(", e.g. {}", quoted.join(", "))
    })
}

/// A record's fields that read as messages (text of several words the body
/// does not already say: an error, a reason, a detail), at most
/// [`DETAIL_FIELDS`], longest first: there the failing dependency, address
/// or code usually is, where a template summary of the body cannot show it.
fn message_fields(record: &Record) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = record
        .fields
        .iter()
        .filter_map(|(key, value)| {
            let text = value.as_str()?;
            // Prose has plain lower-case words ("failed to connect"); a
            // user agent or a path of several tokens has none or one.
            let prose_words = text
                .split_whitespace()
                .filter(|w| w.len() >= 2 && w.chars().all(|c| c.is_ascii_lowercase()))
                .count();
            (prose_words >= DETAIL_MIN_WORDS && !record.body.contains(text))
                .then(|| (key.clone(), text.to_string()))
        })
        .collect();
    found.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    // A vendor's field mapped under a second name holds the same text.
    found.dedup_by(|a, b| a.1 == b.1);
    found.truncate(DETAIL_FIELDS);
    found
}

/// Characters of a change's text in the root-cause statement and in the
/// alternatives ruled out.
const STATEMENT_CHANGE_CHARS: usize = 120;
/// Characters of a change's first line in the root-cause line.
const HEADLINE_CHARS: usize = 200;
/// Message-like fields quoted with an example record.
const DETAIL_FIELDS: usize = 2;
/// Plain lower-case words a field's text needs to read as a message
/// rather than a value.
const DETAIL_MIN_WORDS: usize = 2;

/// Characters of a template quoted in a symptom's line: the example
/// record that follows shows the values anyway.
const TEMPLATE_CHARS: usize = 120;
/// Characters of a symptom's example record quoted in its line.
const EXAMPLE_CHARS: usize = 160;
/// Characters of a concentrated value quoted (a message field can be long).
const ATTRIBUTION_VALUE_CHARS: usize = 100;
/// Characters of a template naming whose concentration a line states.
const OWNER_TEMPLATE_CHARS: usize = 40;
/// Words of a template in the search a remediation verifies with.
const VERIFY_QUERY_WORDS: usize = 12;

pub(crate) fn is_problem(anomaly: &Anomaly) -> bool {
    match anomaly.direction {
        Direction::New | Direction::Spike => problem_severity(anomaly) >= Severity::Warn,
        Direction::Drop => problem_severity(anomaly) <= Severity::Info,
    }
}

/// The anomaly's severity, at least a warning when its template states a
/// failure in words: a failure its writer logged at info level is still one.
fn problem_severity(anomaly: &Anomaly) -> Severity {
    retrieval::stated_severity(anomaly.severity, &anomaly.template)
}

/// How a change relates to the symptoms.
struct ChangeLink<'r> {
    change: &'r Record,
    /// Minutes from the change to the onset (`None`: the change is undated).
    lead: Option<i64>,
    /// Terms the change shares with the symptoms' templates and services.
    shared: Vec<String>,
    /// Entity values the failures concentrate on that the change names.
    names: Vec<String>,
    /// The change touched a service that shows a symptom.
    same_service: bool,
}

/// How strongly a change is linked, compared field by field: entities
/// named, shared terms, same service, within minutes, within a quarter hour.
type LinkStrength = (usize, usize, bool, bool, bool);

/// Whether `text` names `word` (case-insensitive) as a whole name: the
/// characters beside it are neither letters, digits, `-` nor `_`, so
/// `mfa` is not named by `mfa-verify`.
fn names_word(text: &str, word: &str) -> bool {
    let text = text.to_lowercase();
    let word = word.to_lowercase();
    if word.is_empty() {
        return false;
    }
    let part_of_name = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word.as_str()).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(part_of_name) && !after.is_some_and(part_of_name)
    })
}

/// A change this close to the onset is a suspect on timing alone.
const CLOSE_LEAD_MINUTES: i64 = 15;
/// Within this, timing is strong evidence: most bad changes bite at once.
const IMMEDIATE_LEAD_MINUTES: i64 = 5;
/// A term in more than this share of records links nothing (IDF reasoning).
const COMMON_TERM_SHARE: f64 = 0.05;
/// Shorter terms (a digit of a version, `v2`) link nothing.
const MIN_LINK_TERM_CHARS: usize = 3;
/// Shorter entity values are too common to link a change by name.
const MIN_ENTITY_NAME_CHARS: usize = 4;

impl ChangeLink<'_> {
    /// "12 min before the onset", or "at a time not recorded".
    fn when(&self) -> String {
        match self.lead {
            Some(lead) => format!("{lead} min before the onset"),
            None => "at a time not recorded".to_string(),
        }
    }

    /// Whether anything specific links the change to the symptoms.
    fn is_linked(&self) -> bool {
        !self.shared.is_empty() || !self.names.is_empty()
    }

    /// Sort key, best first: more implicated entities named, then more
    /// shared specific terms, then the service,
    /// then timing (within minutes is stronger), then nearness.
    fn rank(&self) -> (std::cmp::Reverse<LinkStrength>, i64) {
        (
            std::cmp::Reverse((
                self.names.len(),
                self.shared.len(),
                self.same_service,
                self.lead.is_some_and(|l| l <= IMMEDIATE_LEAD_MINUTES),
                self.lead.is_some_and(|l| l <= CLOSE_LEAD_MINUTES),
            )),
            self.lead.unwrap_or(i64::MAX),
        )
    }

    fn weakness(&self) -> String {
        let mut reasons = Vec::new();
        if let Some(lead) = self.lead.filter(|l| *l > CLOSE_LEAD_MINUTES) {
            reasons.push(format!("{lead} min is long before the onset"));
        }
        if self.lead.is_none() && self.names.is_empty() {
            reasons.push("it carries no date and names no implicated entity".to_string());
        }
        if !self.is_linked() {
            reasons.push("it shares no terms with the symptoms".to_string());
        }
        if !self.same_service {
            reasons.push("it touches no service that shows them".to_string());
        }
        if reasons.is_empty() {
            reasons.push("a closer or better-linked change was found".to_string());
        }
        reasons.join(", ")
    }
}

/// "a new pattern "X" in a and a spike of "Y" in b": the main symptom and
/// the strongest one from another service.
fn symptoms_phrase(primary: &Anomaly, correlated: &[&Anomaly]) -> String {
    let describe = |a: &Anomaly| {
        format!(
            "{} \"{}\" in {}",
            describe_direction(a.direction),
            quoted_template(&a.template),
            a.service
        )
    };
    match correlated.iter().find(|a| a.service != primary.service) {
        Some(other) => format!("{} and {}", describe(primary), describe(other)),
        None => describe(primary),
    }
}
/// Where the symptoms show, with what they say: the components a fix must reach.
fn affected_components(primary: &Anomaly, correlated: &[&Anomaly]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let mut parts = Vec::new();
    for anomaly in std::iter::once(primary).chain(correlated.iter().copied()) {
        if !seen.contains(&anomaly.service.as_str()) {
            seen.push(&anomaly.service);
            parts.push(format!(
                "{} (\"{}\")",
                anomaly.service,
                quoted_template(&anomaly.template)
            ));
        }
    }
    parts.join(", ")
}

/// A search for the symptom's records: its service and the first constant
/// words of its template, enough to find them.
fn verify_query(anomaly: &Anomaly) -> String {
    format!(
        "oncall search --service {} \"{}\"",
        anomaly.service,
        anomaly
            .template
            .replace("<*>", "")
            .split_whitespace()
            .take(VERIFY_QUERY_WORDS)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// A template as the answer quotes it: long ones cut, since the example
/// record beside it shows the rest.
fn quoted_template(template: &str) -> String {
    crate::answer::excerpt(template, TEMPLATE_CHARS)
}

/// A record's first non-blank line (a commit's subject, a change's
/// summary): the whole of a diff is quoted by the lines it changed.
fn headline(body: &str) -> &str {
    body.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or_default()
}

fn describe_direction(direction: Direction) -> &'static str {
    match direction {
        Direction::New => "a new pattern",
        Direction::Spike => "a spike of",
        Direction::Drop => "a drop of",
    }
}

/// [`describe_direction`] for several patterns.
fn describe_directions(direction: Direction) -> &'static str {
    match direction {
        Direction::New => "new patterns",
        Direction::Spike => "spikes of",
        Direction::Drop => "drops of",
    }
}

fn describe_rates(anomaly: &Anomaly) -> String {
    format!(
        "{:.1}/min before, {:.1}/min after",
        anomaly.rate_before, anomaly.rate_after
    )
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingest::Origin;

    #[test]
    fn a_service_is_named_only_as_a_whole_name() {
        assert!(names_word(
            "FINOPS-219 (files: charts/token-issuer/values-prod.yaml)",
            "token-issuer"
        ));
        assert!(names_word("service=mfa version=3.14.0", "MFA"));
        assert!(!names_word("service=mfa-verify version=3.14.0", "mfa"));
        assert!(!names_word("bump mfaverify", "mfa"));
        assert!(!names_word("anything", ""));
    }

    fn record(body: &str, fields: &[(&str, &str)]) -> Record {
        let origin = Origin {
            source: "app.log".into(),
            line: 1,
        };
        Record {
            id: RecordId::derive("t", &origin, body),
            tenant: "t".into(),
            kind: SourceKind::Log,
            service: "app".into(),
            host: None,
            ts: None,
            severity: Severity::Error,
            body: body.into(),
            template: Some(ingest::TemplateRef {
                id: "t-1".into(),
                text: body.into(),
            }),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
                .collect(),
            origin,
        }
    }

    fn change(changed_lines: &str) -> Record {
        record("change", &[("changed_lines", changed_lines)])
    }

    fn attribution(key: &str, failing: usize, contrast: usize) -> Attribution {
        Attribution {
            key: key.into(),
            value: "v".into(),
            failing,
            failing_total: 100,
            contrast,
            contrast_total: 1000,
            g: (failing * 10 - contrast) as f64,
        }
    }

    /// The error's message, code and type on every failing record are one
    /// finding; the connection they come through still gets named.
    #[test]
    fn values_with_equal_counts_are_named_as_one_finding() {
        let found = [
            attribution("error.message", 100, 0),
            attribution("error.code", 100, 0),
            attribution("error.type", 100, 0),
            attribution("connection", 100, 40),
            attribution("client", 90, 30),
            attribution("region", 80, 300),
        ];
        let keys: Vec<&str> = named(&found).iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "error.message",
                "error.code",
                "error.type",
                "connection",
                "client"
            ]
        );
        let line = describe_attribution(named(&found), None).expect("a line");
        assert!(
            line.starts_with("  Concentrated on error.message=v, error.code=v, error.type=v (100 % of 100, 0 % of the others); connection=v (100 % of 100, 4 % of the others)"),
            "{line}"
        );
        let distinct: Vec<Attribution> = (0..8).map(|i| attribution("k", 100 - i, i)).collect();
        assert_eq!(named(&distinct).len(), ATTRIBUTION_GROUPS_NAMED);
        let equal: Vec<Attribution> = (0..8).map(|_| attribution("k", 100, 0)).collect();
        assert_eq!(named(&equal).len(), ATTRIBUTIONS_NAMED);
    }

    #[test]
    fn an_example_quotes_the_message_fields_not_user_agents_or_copies() {
        let pool = record(
            "acquire connection",
            &[
                (
                    "error",
                    "dial tcp 10.61.8.21:5432: i/o timeout after retries",
                ),
                (
                    "copy",
                    "dial tcp 10.61.8.21:5432: i/o timeout after retries",
                ),
                (
                    "user_agent",
                    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
                ),
                ("pool", "authn"),
            ],
        );
        let example = example_of(Some(&pool));
        assert!(example.contains("i/o timeout"), "{example}");
        assert!(!example.contains("Mozilla"), "{example}");
        assert_eq!(example.matches("i/o timeout").count(), 1, "{example}");
        // A body without variables is its template: the details stand alone.
        assert!(!example.contains("\"acquire connection\""), "{example}");

        let tls = record(
            "handshake failed",
            &[("reason", "unable to get local issuer certificate")],
        );
        assert!(example_of(Some(&tls)).contains("unable to get local issuer"));
        let plain = record("GET /v1/session 503", &[("ua", "okhttp/4.12.0")]);
        // Nor does a line with neither variables nor details: its template
        // says it all.
        assert_eq!(example_of(Some(&plain)), "");
    }

    #[test]
    fn quoted_change_lines_are_the_specific_ones_not_comments_or_boilerplate() {
        let policy = change(
            "+diff --git a/np.yaml b/np.yaml\n+# allow the database subnet\n+namespace: iam-prod\n+namespace: iam-prod\n+policyTypes: Egress\n+cidr: 10.60.8.0/24\n+namespace: iam-prod",
        );
        let quoted = changed_lines_quoted(&policy, &[]);
        assert_eq!(
            quoted.first().map(String::as_str),
            Some("+ cidr: 10.60.8.0/24"),
            "{quoted:?}"
        );
        assert!(
            quoted
                .iter()
                .all(|l| !l.contains('#') && !l.contains("diff --git")),
            "{quoted:?}"
        );
        assert_eq!(
            quoted.iter().filter(|l| l.contains("namespace")).count(),
            1,
            "{quoted:?}"
        );

        let limits = change("-  cpu: 2000m\n+  cpu: 500m\n+// tuned from p95\n+replicas: 3");
        let quoted = changed_lines_quoted(&limits, &[]);
        assert_eq!(
            quoted.first().map(String::as_str),
            Some("cpu: 2000m -> 500m"),
            "{quoted:?}"
        );
        assert!(quoted.iter().all(|l| !l.contains("tuned")), "{quoted:?}");
    }
}
