//! History and lookup answers: the past incidents (postmortems, runbooks,
//! paging records) that match a question, searched across all time, and
//! the passages of the best one an engineer needs first, quoted and cited.
//!
//! Documents are indexed a section per record. A document's match is the
//! reciprocal-rank sum of its sections among the hits, so a report whose
//! summary names the symptom and whose cause section names the trigger
//! beats one lucky section elsewhere. From the best document, passages
//! (lines, or sentences of long lines) are chosen by the question's terms
//! weighted by their rarity across the documents (IDF), with a bonus for
//! the sections every postmortem template has for what happened, why and
//! what fixed it, and quoted in document order.

use std::collections::{BTreeSet, HashMap};

use ingest::{Record, SourceKind};
use retrieval::{Filters, SearchMode, SearchQuery, Stores};

use crate::answer::{Answer, EvidenceRole, Remediation, excerpt};
use crate::answer_builder::{AnswerBuilder, Section};
use crate::error::Result;
use crate::intent::Intent;

/// Sections retrieved to find the matching documents.
const SECTIONS_CONSIDERED: usize = 40;
/// Reciprocal-rank constant, as in hybrid search.
const RANK_K: f64 = 60.0;
/// Other matching documents named after the best one.
const OTHER_MATCHES: usize = 3;
/// Characters of passages quoted from the best document.
const QUOTE_CHARS: usize = 1300;
/// Characters of a document field (root cause, resolution) shown.
const FIELD_CHARS: usize = 320;
/// Shortest passage worth quoting.
const MIN_PASSAGE_CHARS: usize = 12;
/// Longest line kept whole; longer ones are split into sentences.
const MAX_PASSAGE_CHARS: usize = 320;
/// Most passages quoted, whatever their length.
const MAX_PASSAGES: usize = 10;

/// Headings (lower case, as prefixes or words) of the parts of a report an
/// engineer reads first, as the common postmortem templates name them
/// (Google SRE, PagerDuty, Atlassian, GitLab, free-form reports).
const KEY_SECTIONS: &[&str] = &[
    "summary",
    "overview",
    "what happened",
    "impact",
    "root cause",
    "cause",
    "trigger",
    "resolution",
    "fix",
    "mitigation",
    "remediation",
    "recovery",
    "action items",
    "follow-up",
    "follow up",
    "lessons",
    "timeline",
];

/// A matching document and its sections among the hits.
struct DocumentMatch {
    source: String,
    score: f64,
    /// IDF weight of the question terms the document's text holds.
    coverage: f64,
    best: Record,
}

/// Answers `question` from past incidents, or `None` when no document
/// matches it (the caller then diagnoses the live data).
pub(crate) fn answer_from_history(
    stores: &Stores,
    mode: SearchMode,
    tenant: &str,
    question: &str,
    search_text: &str,
    intent: Intent,
) -> Result<Option<Answer>> {
    let knowledge = Filters {
        kinds: vec![SourceKind::Knowledge, SourceKind::Incident],
        ..Filters::default()
    };
    let query = SearchQuery {
        tenant: tenant.to_string(),
        text: search_text.to_string(),
        filters: knowledge.clone(),
        limit: SECTIONS_CONSIDERED,
    };
    let hits = stores.search(&query, mode)?;
    let mut documents: Vec<DocumentMatch> = Vec::new();
    for (rank, hit) in hits.into_iter().enumerate() {
        let score = 1.0 / (RANK_K + rank as f64 + 1.0);
        let source = hit.record.origin.source.clone();
        match documents.iter_mut().find(|d| d.source == source) {
            Some(document) => document.score += score,
            None => documents.push(DocumentMatch {
                source,
                score,
                coverage: 0.0,
                best: hit.record,
            }),
        }
    }
    if documents.is_empty() {
        return Ok(None);
    }
    let all = stores.text().scan(tenant, &knowledge, usize::MAX)?;
    let mut by_document: HashMap<&str, Vec<&Record>> = HashMap::new();
    for record in &all {
        by_document
            .entry(record.origin.source.as_str())
            .or_default()
            .push(record);
    }
    let terms: BTreeSet<String> = stores.text().analyze(search_text)?.into_iter().collect();
    let held = terms_held(stores, &terms, &by_document)?;
    let weights = term_weights(&terms, &held);
    // A report that covers more of the question's rare terms anywhere in
    // its text is the better match; the sections' ranks break ties.
    // Terms of the title (the author's own summary) count twice.
    for document in &mut documents {
        let titled: BTreeSet<String> = stores
            .text()
            .analyze(&title(&document.best))?
            .into_iter()
            .collect();
        document.coverage = held
            .get(document.source.as_str())
            .into_iter()
            .flatten()
            .filter_map(|t| {
                let weight = weights.get(t)?;
                Some(if titled.contains(t) {
                    2.0 * weight
                } else {
                    *weight
                })
            })
            .sum();
    }
    documents.sort_by(|a, b| {
        b.coverage
            .total_cmp(&a.coverage)
            .then(b.score.total_cmp(&a.score))
    });
    let Some(best) = documents.first() else {
        return Ok(None);
    };
    let mut sections: Vec<&Record> = by_document
        .get(best.source.as_str())
        .cloned()
        .unwrap_or_default();
    sections.sort_by_key(|r| r.origin.line);

    let mut builder = AnswerBuilder::new(question);
    builder.line_in(
        Section::Header,
        format!(
            "Evidence mode ({} question): the past incident that best matches, from the knowledge base across all time.",
            intent.as_str()
        ),
    );
    let first = sections.first().copied().unwrap_or(&best.best);
    let cite = builder.cite(first, EvidenceRole::Match);
    builder.line_in(
        Section::Cause,
        format!(
            "Past incident: \"{}\" ({}){} {cite}.",
            title(first),
            best.source,
            facts_of(first)
        ),
    );
    for (field, label, heading) in [
        ("root_cause", "Root cause then", "cause"),
        ("resolution", "What fixed it", "resolution"),
    ] {
        if let Some(value) = first.field_str(field).filter(|v| !v.trim().is_empty()) {
            let source = sections
                .iter()
                .find(|s| section_of(s).contains(heading))
                .copied()
                .unwrap_or(first);
            let cite = builder.cite(source, EvidenceRole::Match);
            builder.line_in(
                Section::Cause,
                format!("{label}: {} {cite}", excerpt(value.trim(), FIELD_CHARS)),
            );
        }
    }
    let passages = choose_passages(stores, &sections, &terms, &weights)?;
    if !passages.is_empty() {
        builder.line("From the report:".into());
    }
    for (record, passage) in passages {
        let cite = builder.cite(record, EvidenceRole::Match);
        let heading = section_of(record);
        let label = if heading.is_empty() {
            String::new()
        } else {
            format!("({}) ", excerpt(&heading, 40))
        };
        builder.line(format!("- {label}{passage} {cite}"));
    }
    let others: Vec<String> = documents
        .iter()
        .skip(1)
        .take(OTHER_MATCHES)
        .map(|d| {
            let cite = builder.cite(&d.best, EvidenceRole::Match);
            format!("\"{}\" ({}) {cite}", title(&d.best), d.source)
        })
        .collect();
    if !others.is_empty() {
        builder.line(format!("Other close matches: {}.", others.join("; ")));
    }
    let remediation = Remediation {
        steps: first
            .field_str("resolution")
            .filter(|v| !v.trim().is_empty())
            .map(|fix| {
                vec![format!(
                    "What resolved \"{}\": {}",
                    title(first),
                    excerpt(fix.trim(), FIELD_CHARS)
                )]
            })
            .unwrap_or_default(),
        diff: None,
        rollback: Vec::new(),
        verify: String::new(),
    };
    Ok(Some(builder.finish(None, Vec::new(), remediation)))
}

/// The document's title, as ingest recorded it.
fn title(record: &Record) -> String {
    record
        .field_str("document")
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| record.origin.source.clone())
}

/// The section heading of a record, lower case.
fn section_of(record: &Record) -> String {
    record
        .field_str("section")
        .unwrap_or_default()
        .to_lowercase()
}

/// `, fault 2019-04-03 10:50 UTC, resolved after 39 min`: the key times
/// the document states.
fn facts_of(record: &Record) -> String {
    let mut parts = Vec::new();
    for (field, label) in [
        ("fault_at", "fault"),
        ("detected_at", "detected"),
        ("resolved_at", "resolved"),
    ] {
        if let Some(at) = record
            .field_str(field)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        {
            parts.push(format!("{label} {} UTC", at.format("%Y-%m-%d %H:%M")));
        }
    }
    if let Some(minutes) = record.field_str("time_to_resolve_min") {
        parts.push(format!("{} to resolve", duration_text(&minutes)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(", {}", parts.join(", "))
    }
}

/// `110 min (1h50m)`: minutes, with hours and minutes past an hour, as
/// reports state durations.
fn duration_text(minutes: &str) -> String {
    match minutes.trim().parse::<u64>() {
        Ok(m) if m >= 60 => format!("{m} min ({}h{:02}m)", m / 60, m % 60),
        _ => format!("{} min", minutes.trim()),
    }
}

/// The question terms each document's sections hold.
fn terms_held<'d>(
    stores: &Stores,
    terms: &BTreeSet<String>,
    by_document: &HashMap<&'d str, Vec<&Record>>,
) -> Result<HashMap<&'d str, BTreeSet<String>>> {
    let mut held = HashMap::new();
    for (source, sections) in by_document {
        let mut seen = BTreeSet::new();
        for section in sections {
            for term in stores.text().analyze(&section.body)? {
                if terms.contains(&term) {
                    seen.insert(term);
                }
            }
        }
        held.insert(*source, seen);
    }
    Ok(held)
}

/// Weight of each question term: ln(1 + documents / documents with it).
fn term_weights(
    terms: &BTreeSet<String>,
    held: &HashMap<&str, BTreeSet<String>>,
) -> HashMap<String, f64> {
    let documents = held.len().max(1) as f64;
    terms
        .iter()
        .map(|term| {
            let df = held
                .values()
                .filter(|seen| seen.contains(term))
                .count()
                .max(1) as f64;
            (term.clone(), (1.0 + documents / df).ln())
        })
        .collect()
}

/// The passages of `sections` that answer best, in document order, within
/// [`QUOTE_CHARS`].
fn choose_passages<'r>(
    stores: &Stores,
    sections: &[&'r Record],
    terms: &BTreeSet<String>,
    weights: &HashMap<String, f64>,
) -> Result<Vec<(&'r Record, String)>> {
    let mean_weight = if weights.is_empty() {
        1.0
    } else {
        weights.values().sum::<f64>() / weights.len() as f64
    };
    let mut candidates: Vec<(usize, f64, &'r Record, String)> = Vec::new();
    for section in sections {
        let key = {
            let heading = section_of(section);
            KEY_SECTIONS.iter().any(|k| heading.contains(k))
        };
        for passage in passages(&section.body) {
            let found: BTreeSet<String> = stores
                .text()
                .analyze(&passage)?
                .into_iter()
                .filter(|t| terms.contains(t))
                .collect();
            let mut score: f64 = found.iter().filter_map(|t| weights.get(t)).sum();
            if key {
                score += 0.5 * mean_weight;
            }
            // What the responders found to be the cause is what a later
            // reader came for, wherever the report put it (often mid-timeline).
            if states_cause(&passage) {
                score += 0.5 * mean_weight;
            }
            // And what fixed it, which the next responder may repeat.
            if states_fix(&passage) {
                score += 0.5 * mean_weight;
            }
            if score > 0.0 {
                candidates.push((candidates.len(), score, section, passage));
            }
        }
    }
    let mut ranked: Vec<&(usize, f64, &Record, String)> = candidates.iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut chosen: Vec<&(usize, f64, &Record, String)> = Vec::new();
    let mut used = 0;
    for candidate in ranked {
        let length = candidate.3.chars().count();
        if used + length > QUOTE_CHARS || chosen.len() == MAX_PASSAGES {
            continue;
        }
        used += length;
        chosen.push(candidate);
    }
    chosen.sort_by_key(|c| c.0);
    Ok(chosen
        .into_iter()
        .map(|(_, _, record, passage)| (*record, passage.clone()))
        .collect())
}

/// Discourse markers by which English prose attributes a cause or states
/// a finding (lower case, matched as substrings).
const CAUSE_MARKERS: &[&str] = &[
    "cause",
    "because",
    "due to",
    "the problem",
    "the issue",
    "this means",
    "resulted in",
    "led to",
    "triggered",
    "was responsible",
    "introduced",
];

/// Words by which English prose reports what fixed or mitigated an
/// incident (lower case, matched as substrings).
const FIX_MARKERS: &[&str] = &[
    "fixed",
    "resolved",
    "reverted",
    "rolled back",
    "restored",
    "mitigated",
    "recovered",
    "restarted",
    "redeployed",
    "re-deployed",
    "taken down",
    "took down",
    "patched",
    "workaround",
];

/// Whether a passage reports what fixed or mitigated the incident: a
/// marker at the start of a word, so "unresolved" and "prefixed" are not.
fn states_fix(passage: &str) -> bool {
    let lower = passage.to_lowercase();
    FIX_MARKERS.iter().any(|marker| {
        lower.match_indices(marker).any(|(at, _)| {
            lower[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
        })
    })
}

/// Whether a passage attributes a cause or states a finding.
fn states_cause(passage: &str) -> bool {
    let lower = passage.to_lowercase();
    CAUSE_MARKERS.iter().any(|marker| lower.contains(marker))
}

/// A section body as passages: its paragraphs and list items with their
/// hard-wrapped lines joined (Markdown wraps prose at a fixed width, so a
/// line is often half a sentence), long ones cut into sentences; lines of
/// code blocks and table rows stay lines; the heading line, table rules
/// and bare markup are left out.
fn passages(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut unit = String::new();
    let mut in_code = false;
    for raw in body.lines().skip(1) {
        let trimmed = raw.trim();
        if trimmed.starts_with("```") {
            push_passage(&mut out, &mut unit);
            in_code = !in_code;
            continue;
        }
        let starts_unit = in_code || trimmed.is_empty() || starts_block(trimmed);
        if starts_unit {
            push_passage(&mut out, &mut unit);
        }
        let line = trimmed.trim_start_matches(['-', '*', '>', '#', '+']).trim();
        if line.is_empty() {
            continue;
        }
        if !unit.is_empty() {
            unit.push(' ');
        }
        unit.push_str(line);
        if in_code || trimmed.starts_with('|') {
            push_passage(&mut out, &mut unit);
        }
    }
    push_passage(&mut out, &mut unit);
    out
}

/// Whether a line opens a block of its own: a list item, a heading, a
/// quote or a table row.
fn starts_block(line: &str) -> bool {
    let numbered = line
        .split_once(['.', ')'])
        .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    numbered || line.starts_with(['-', '*', '+', '#', '>', '|'])
}

/// Adds the gathered `unit` to `out` as passages (sentences when long) and
/// clears it.
fn push_passage(out: &mut Vec<String>, unit: &mut String) {
    let text = std::mem::take(unit);
    let text = text.trim();
    let is_rule = text.chars().all(|c| "|-: ".contains(c));
    if text.chars().count() < MIN_PASSAGE_CHARS || is_rule {
        return;
    }
    if text.chars().count() <= MAX_PASSAGE_CHARS {
        out.push(text.to_string());
        return;
    }
    let mut sentence = String::new();
    for word in text.split_inclusive(". ") {
        sentence.push_str(word);
        if sentence.chars().count() >= MIN_PASSAGE_CHARS * 4 {
            out.push(excerpt(sentence.trim(), MAX_PASSAGE_CHARS));
            sentence.clear();
        }
    }
    if sentence.trim().chars().count() >= MIN_PASSAGE_CHARS {
        out.push(excerpt(sentence.trim(), MAX_PASSAGE_CHARS));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passages_that_attribute_a_cause_are_told_apart() {
        assert!(states_cause(
            "It looks like the problem in the above query is the LEFT OUTER JOIN"
        ));
        assert!(states_cause(
            "The outage was due to an expired certificate."
        ));
        assert!(states_cause(
            "I think this is probably the cause of our crash"
        ));
        assert!(!states_cause(
            "5:41 Team starts a live call, successfully restarts the hub"
        ));
        assert!(states_cause(
            "Additionally, a resource leak was introduced in the update to kubespawner"
        ));
    }

    #[test]
    fn passages_that_report_the_fix_are_told_apart() {
        assert!(states_fix(
            "Only the hub image is reverted to the last known good version."
        ));
        assert!(states_fix("The phishing domain has been taken down."));
        assert!(states_fix("Service restored after the pool was resized."));
        assert!(!states_fix("Launch success drops to zero."));
        assert!(!states_fix("The team starts a live call."));
        assert!(!states_fix(
            "The issue remained unresolved; IDs were prefixed."
        ));
    }

    #[test]
    fn durations_past_an_hour_also_read_in_hours() {
        assert_eq!(duration_text("110"), "110 min (1h50m)");
        assert_eq!(duration_text("540"), "540 min (9h00m)");
        assert_eq!(duration_text("37"), "37 min");
    }

    #[test]
    fn wrapped_lines_are_joined_into_paragraphs_and_list_items() {
        let body = "Root cause\nThe hub pod ran out of\nmemory on startup.\n\n1. It works when the server\n   starts within 10s.\n2. It fails\n   otherwise.\n```\nOOMKilled pod hub-1\nOOMKilled pod hub-2\n```";
        let found = passages(body);
        assert_eq!(
            found,
            [
                "The hub pod ran out of memory on startup.",
                "1. It works when the server starts within 10s.",
                "2. It fails otherwise.",
                "OOMKilled pod hub-1",
                "OOMKilled pod hub-2",
            ]
        );
    }

    #[test]
    fn passages_are_rows_items_and_sentences_of_long_paragraphs() {
        let long = format!("{}. {}.", "a".repeat(200), "b".repeat(200));
        let body =
            format!("Timeline\n| time | event |\n|---|---|\n- 10:43 paged on-call\n\nok\n\n{long}");
        let found = passages(&body);
        assert_eq!(found[0], "| time | event |");
        assert_eq!(found[1], "10:43 paged on-call");
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[2].starts_with("aaa"));
        assert!(found[3].starts_with("bbb"));
    }
}
