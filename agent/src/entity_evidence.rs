//! Evidence beside the symptoms: what other sources say of the entities a
//! failure concentrates on (which attributed values are worth following,
//! and the lines that quote what was found), and the warnings first seen
//! just before the onset.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use ingest::Record;
use retrieval::{Attribution, EntityFinding, Precursor, pivot};

use crate::answer::{EvidenceRole, excerpt};
use crate::answer_builder::AnswerBuilder;
use crate::metric_evidence::{MetricFinding, direction};
use crate::wording::{readable, relation_to_onset};

/// Attributed values followed into other sources per answer.
pub(crate) const ENTITIES_FOLLOWED: usize = 4;
/// Findings quoted per answer, over all entities.
const FINDINGS_QUOTED: usize = 4;
/// Findings quoted per entity.
const FINDINGS_PER_ENTITY: usize = 2;
/// Characters of a finding's record quoted.
const FINDING_EXCERPT_CHARS: usize = 160;

/// What a followed entity turned up.
pub(crate) struct FollowedEntity<'r> {
    pub(crate) attribution: Attribution,
    pub(crate) findings: Vec<EntityFinding<'r>>,
}

/// Whether an attributed value names a thing (a node, a client, an
/// address, a network) rather than a path, a number or a word of the
/// template: only those are looked up elsewhere.
fn names_an_entity(attribution: &Attribution, template_words: &HashSet<String>) -> bool {
    let value = attribution.value.as_str();
    !value.starts_with('/')
        && !value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && value.chars().any(|c| c.is_alphanumeric())
        && !template_words.contains(&value.to_lowercase())
}

/// The findings about the strongest entity values among `attributed`, in
/// the `records` of sources other than `symptom_sources` (what the failing
/// sources say of the entity, attribution has told), at most [`FINDINGS_QUOTED`] in all; templates in `known` (the
/// symptoms) are not repeated, nor is a template already found through
/// another name of the same entity. Every value concentrated in the
/// failures (`aliases`) is another name of the failing entity (its
/// address, its id), not a difference.
pub(crate) fn follow_entities<'r>(
    attributed: &[Attribution],
    aliases: &[Attribution],
    records: &'r [Record],
    symptom_sources: &HashSet<&str>,
    known: &HashSet<&str>,
    template_words: &HashSet<String>,
    onset: DateTime<Utc>,
) -> Vec<FollowedEntity<'r>> {
    let elsewhere: Vec<&Record> = records
        .iter()
        .filter(|r| !symptom_sources.contains(r.origin.source.as_str()))
        .collect();
    let aliases: HashSet<&str> = aliases.iter().map(|a| a.value.as_str()).collect();
    let mut seen_values = HashSet::new();
    let mut seen_templates = HashSet::new();
    let mut quoted = 0;
    let mut followed = Vec::new();
    for attribution in attributed
        .iter()
        .filter(|a| names_an_entity(a, template_words))
        .filter(|a| seen_values.insert(a.value.clone()))
        .take(ENTITIES_FOLLOWED)
    {
        let findings: Vec<EntityFinding<'r>> = pivot(
            &attribution.value,
            &elsewhere,
            known,
            &aliases,
            onset,
            FINDINGS_PER_ENTITY,
        )
        .into_iter()
        .filter(|finding| {
            seen_templates.insert((finding.service.clone(), finding.template.clone()))
        })
        .take(FINDINGS_QUOTED - quoted)
        .collect();
        tracing::debug!(value = %attribution.value, findings = findings.len(), records = elsewhere.len(), "entity followed");
        quoted += findings.len();
        if !findings.is_empty() {
            followed.push(FollowedEntity {
                attribution: attribution.clone(),
                findings,
            });
        }
        if quoted == FINDINGS_QUOTED {
            break;
        }
    }
    followed
}

/// One line per finding: the entity's own warnings with when they began,
/// or the values that set its records apart from its peers'.
pub(crate) fn describe_followed(
    builder: &mut AnswerBuilder,
    followed: &[FollowedEntity<'_>],
    onset: DateTime<Utc>,
) {
    for entity in followed {
        let name = format!("{}={}", entity.attribution.key, entity.attribution.value);
        for finding in &entity.findings {
            let line = if finding.is_event_of_entity() {
                let Some(record) = nearest(&finding.records, onset) else {
                    continue;
                };
                let cite = builder.cite(record, EvidenceRole::Entity);
                // The record says what happened, with the values its
                // template masks.
                format!(
                    "  On {name}: {} \"{}\" ({} records of its kind, {:.0} % of that pattern's{}) {cite}.",
                    crate::wording::source_of(record),
                    crate::wording::quote(&record.body, FINDING_EXCERPT_CHARS),
                    finding.records.len(),
                    100.0 * finding.entity_share(),
                    first_seen(&finding.records, onset),
                )
            } else {
                let Some(difference) = finding.differences.first() else {
                    continue;
                };
                let Some(record) = finding.records.iter().copied().find(|r| {
                    retrieval::features(r)
                        .iter()
                        .any(|(k, v)| k == &difference.key && v == &difference.value)
                }) else {
                    continue;
                };
                let cite = builder.cite(record, EvidenceRole::Entity);
                let values: Vec<String> = finding
                    .differences
                    .iter()
                    .map(|d| {
                        format!(
                            "{}={} ({:.0} % of its {} records, {:.0} % of the others')",
                            d.key,
                            d.value,
                            100.0 * d.share(),
                            d.failing_total,
                            100.0 * d.contrast_share()
                        )
                    })
                    .collect();
                format!(
                    "  On {name}: its {} \"{}\" records differ from the others' in {} {cite}.",
                    finding.service,
                    excerpt(&finding.template, FINDING_EXCERPT_CHARS),
                    values.join("; ")
                )
            };
            builder.line(line);
        }
    }
}

/// The record nearest the onset: the one that says what happened then.
fn nearest<'r>(records: &[&'r Record], onset: DateTime<Utc>) -> Option<&'r Record> {
    records
        .iter()
        .copied()
        .min_by_key(|r| r.ts.map_or(i64::MAX, |ts| (ts - onset).num_seconds().abs()))
}

/// `, first at 15:20, 40 min before the onset`.
fn first_seen(records: &[&Record], onset: DateTime<Utc>) -> String {
    let Some(first) = records.iter().filter_map(|r| r.ts).min() else {
        return String::new();
    };
    let relation = relation_to_onset((onset - first).num_minutes());
    format!(", first at {} UTC, {relation}", first.format("%H:%M"))
}

/// One line per precursor: when it was first seen relative to the onset.
pub(crate) fn describe_precursors(builder: &mut AnswerBuilder, found: &[Precursor<'_>]) {
    for precursor in found {
        let record = precursor.first;
        let cite = builder.cite(record, EvidenceRole::Precursor);
        let relation = relation_to_onset(precursor.lead_minutes);
        // The first record says what the pattern does, with the values
        // its template masks (which server, for what reason).
        builder.line(format!(
            "First seen {relation}: {} \"{}\" ({} records of its kind from {} UTC) {cite}.",
            crate::wording::source_of(record),
            crate::wording::quote(&record.body, FINDING_EXCERPT_CHARS),
            precursor.count,
            record
                .ts
                .map_or_else(String::new, |t| t.format("%H:%M").to_string()),
        ));
    }
}

/// Minutes before the onset within which a precursor alone is named the
/// cause.
const IMMEDIATE_PRECURSOR_MINUTES: i64 = 5;

/// The likeliest cause when no change is linked: a warning of an implicated
/// entity that began by the onset, after a quiet stretch (the earliest,
/// since what starts first drives the rest), else the first precursor that began within minutes of
/// the onset.
/// A metric series labelled with an implicated entity that began to shift
/// by the onset counts as that entity's warning.
pub(crate) struct OutsideCause<'r> {
    pub(crate) record: &'r Record,
    pub(crate) text: String,
    /// It is a warning or a metric of an entity the failures concentrate
    /// on, not only a first-seen warning.
    pub(crate) entity_scoped: bool,
}

pub(crate) fn outside_cause<'r>(
    followed: &[FollowedEntity<'r>],
    found: &[Precursor<'r>],
    metrics: &[MetricFinding<'r>],
    implicated: &[Attribution],
    (observed_from, onset): (DateTime<Utc>, DateTime<Utc>),
) -> Option<OutsideCause<'r>> {
    let metric_of_entity = metrics
        .iter()
        .filter_map(|finding| {
            let entity = implicated
                .iter()
                .find(|attribution| finding.first.names(&attribution.value))?;
            let lead = (onset - finding.first.starts()?).num_minutes();
            (lead >= -retrieval::ONSET_SLACK.num_minutes()).then_some((entity, finding, lead))
        })
        .max_by_key(|(_, _, lead)| *lead);
    let entity_event = followed
        .iter()
        .flat_map(|entity| entity.findings.iter().map(move |f| (entity, f)))
        .filter(|(_, f)| f.is_event_of_entity())
        .filter_map(|(entity, f)| {
            let first = f
                .records
                .iter()
                .copied()
                .filter(|r| r.ts.is_some())
                .min_by_key(|r| r.ts)?;
            let at = first.ts?;
            let lead = (onset - at).num_minutes();
            // What the entity wrote from the start of the data is how it
            // always is, not what changed: like a precursor, an event
            // begins after a quiet stretch.
            let new = at - observed_from >= retrieval::MIN_QUIET;
            (new && lead >= -retrieval::ONSET_SLACK.num_minutes())
                .then_some((entity, f, first, lead))
        })
        .max_by_key(|(_, _, _, lead)| *lead);
    // Whichever began first leads.
    let event_lead = entity_event.as_ref().map(|(_, _, _, lead)| *lead);
    if let Some((entity, finding, lead)) =
        metric_of_entity.filter(|(_, _, lead)| event_lead.is_none_or(|event| *lead > event))
    {
        let shift = &finding.first;
        return Some(OutsideCause {
            record: shift.start,
            text: format!(
                "metric {} {} from {} to {} on {}={}, from {} UTC ({})",
                shift.metric,
                direction(shift),
                readable(shift.before),
                readable(shift.after),
                entity.key,
                entity.value,
                shift
                    .starts()
                    .map_or_else(String::new, |t| t.format("%H:%M").to_string()),
                relation_to_onset(lead)
            ),
            entity_scoped: true,
        });
    }
    if let Some((entity, finding, first, lead)) = entity_event {
        return Some(OutsideCause {
            entity_scoped: true,
            record: first,
            text: format!(
                "{} \"{}\" on {}={}, from {} UTC ({})",
                finding.service,
                excerpt(&finding.template, FINDING_EXCERPT_CHARS),
                entity.attribution.key,
                entity.attribution.value,
                first
                    .ts
                    .map_or_else(String::new, |t| t.format("%H:%M").to_string()),
                relation_to_onset(lead)
            ),
        });
    }
    // A first-seen warning an hour ahead is as often noise: alone, only one
    // that begins with the failure (within minutes) is named the cause.
    let precursor = found
        .iter()
        .find(|p| p.lead_minutes <= IMMEDIATE_PRECURSOR_MINUTES)?;
    Some(OutsideCause {
        entity_scoped: false,
        record: precursor.first,
        text: format!(
            "{} \"{}\", first seen {}",
            crate::wording::source_of(precursor.first),
            crate::wording::quote(&precursor.first.body, FINDING_EXCERPT_CHARS),
            relation_to_onset(precursor.lead_minutes)
        ),
    })
}
