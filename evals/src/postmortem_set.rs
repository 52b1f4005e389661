//! Scores history answers and incident-time extraction on a postmortem set
//! written outside the project, as in `../shared/data/postmortems`: report
//! files (Markdown, in folders), `qa.jsonl` (questions, gold documents, key
//! facts) and `durations.jsonl` (the times each report states, in UTC).

use std::path::{Path, PathBuf};

use agent::EvidenceEngine;
use chrono::{DateTime, NaiveDateTime, Utc};
use ingest::{ReadOptions, Record};
use retrieval::{Stores, TextStore};
use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};
use crate::incident_set::{READ_CHARS, first_chars, states};

/// Files of a set that describe it rather than report an incident.
const METADATA_FILES: &[&str] = &["README.md", "SOURCES.md"];
/// Cited documents a gold document must be among.
pub const GOLD_WITHIN: usize = 3;
/// The key times a report may state, as `durations.jsonl` names them, with
/// the record field ingest extracts each into.
pub const TIME_FIELDS: [(&str, &str); 4] = [
    ("fault_occurs", "fault_at"),
    ("detected", "detected_at"),
    ("declared", "declared_at"),
    ("resolved", "resolved_at"),
];

/// One question of `qa.jsonl`.
#[derive(Clone, Debug, Deserialize)]
struct Question {
    id: String,
    question: String,
    gold_docs: Vec<String>,
    key_facts: Vec<String>,
    #[serde(default)]
    kind: String,
}

/// How one question was answered.
#[derive(Clone, Debug, Serialize)]
pub struct QuestionScore {
    /// Question id.
    pub id: String,
    /// Kind of question (seen-before, resolution, duration, ...).
    pub kind: String,
    /// Gold documents among the first [`GOLD_WITHIN`] cited documents.
    pub gold_cited: usize,
    /// Gold documents in all.
    pub gold: usize,
    /// Key facts stated in the first 2,000 characters.
    pub facts_found: usize,
    /// Key facts in all.
    pub facts: usize,
    /// The documents cited, in order.
    pub cited_documents: Vec<String>,
}

/// Extraction of one stated time.
#[derive(Clone, Debug, Serialize)]
pub struct TimeScore {
    /// Report file.
    pub doc: String,
    /// Field name as `durations.jsonl` has it.
    pub field: String,
    /// Stated time, UTC, `YYYY-MM-DD HH:MM`.
    pub expected: String,
    /// Extracted time, if any.
    pub extracted: Option<String>,
}

impl TimeScore {
    /// Whether the extracted time is the stated one, to the minute.
    pub fn correct(&self) -> bool {
        self.extracted.as_deref() == Some(self.expected.as_str())
    }
}

/// The scores of a postmortem set.
#[derive(Clone, Debug, Serialize)]
pub struct PostmortemReport {
    /// Folder of the set.
    pub dir: PathBuf,
    /// Reports ingested.
    pub documents: usize,
    /// One score per question.
    pub questions: Vec<QuestionScore>,
    /// One score per stated time.
    pub times: Vec<TimeScore>,
}

/// Ingests every report of `dir`, answers every question of its
/// `qa.jsonl` in evidence mode, and compares the extracted times with
/// `durations.jsonl`; with `answers`, each answer's text is also written
/// there as `<question id>.txt`, to read what was scored.
pub fn evaluate_postmortem_set(dir: &Path, answers: Option<&Path>) -> Result<PostmortemReport> {
    if let Some(answers) = answers {
        std::fs::create_dir_all(answers).map_err(|e| EvalError::io(answers, e))?;
    }
    let scratch = tempfile::tempdir().map_err(|e| EvalError::io(&std::env::temp_dir(), e))?;
    let documents = copy_reports(dir, dir, scratch.path())?;
    let tenant = "eval";
    let parsed = ingest::read_path(
        scratch.path(),
        &ReadOptions::new(tenant),
        &mut ingest::TemplateMiner::default(),
    )?;
    let stores = Stores::new(TextStore::in_memory()?, None);
    stores.upsert(&parsed.records)?;
    stores.commit()?;
    let engine = EvidenceEngine::new(&stores);
    let mut questions = Vec::new();
    for question in read_jsonl::<Question>(&dir.join("qa.jsonl"))? {
        let answer = engine.ask(tenant, &question.question)?;
        let text = agent::answer_text(&answer);
        if let Some(answers) = answers {
            let file = answers.join(format!("{}.txt", question.id));
            std::fs::write(&file, &text).map_err(|e| EvalError::io(&file, e))?;
        }
        let read = first_chars(&text, READ_CHARS).to_lowercase();
        let mut cited_documents: Vec<String> = Vec::new();
        for citation in &answer.citations {
            if !cited_documents.contains(&citation.origin.source) {
                cited_documents.push(citation.origin.source.clone());
            }
        }
        let first = &cited_documents[..cited_documents.len().min(GOLD_WITHIN)];
        questions.push(QuestionScore {
            gold_cited: question
                .gold_docs
                .iter()
                .filter(|g| first.contains(g))
                .count(),
            gold: question.gold_docs.len(),
            facts_found: question
                .key_facts
                .iter()
                .filter(|f| states(&read, f))
                .count(),
            facts: question.key_facts.len(),
            id: question.id,
            kind: question.kind,
            cited_documents,
        });
    }
    let times = score_times(&dir.join("durations.jsonl"), &parsed.records)?;
    Ok(PostmortemReport {
        dir: dir.to_path_buf(),
        documents,
        questions,
        times,
    })
}

/// Compares the times of `durations.jsonl` with what ingest extracted.
fn score_times(file: &Path, records: &[Record]) -> Result<Vec<TimeScore>> {
    let mut scores = Vec::new();
    for line in read_jsonl::<serde_json::Value>(file)? {
        let Some(doc) = line.get("doc").and_then(|d| d.as_str()) else {
            continue;
        };
        let record = records.iter().find(|r| r.origin.source == doc);
        for (stated, field) in TIME_FIELDS {
            let Some(expected) = line.get(stated).and_then(|v| v.as_str()) else {
                continue;
            };
            let extracted = record
                .and_then(|r| r.field_str(field))
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc).format("%Y-%m-%d %H:%M").to_string());
            let expected = NaiveDateTime::parse_from_str(expected, "%Y-%m-%d %H:%M")
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|_| expected.to_string());
            scores.push(TimeScore {
                doc: doc.to_string(),
                field: stated.to_string(),
                expected,
                extracted,
            });
        }
    }
    Ok(scores)
}

/// Copies the Markdown reports under `dir` (not its metadata files) to
/// `into`, keeping their paths relative to `root`; returns how many.
fn copy_reports(root: &Path, dir: &Path, into: &Path) -> Result<usize> {
    let mut copied = 0;
    let entries = std::fs::read_dir(dir).map_err(|e| EvalError::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| EvalError::io(dir, e))?.path();
        if path.is_dir() {
            copied += copy_reports(root, &path, into)?;
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !name.ends_with(".md") || METADATA_FILES.contains(&name) {
            continue;
        }
        let relative = path.strip_prefix(root).unwrap_or(&path);
        let target = into.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| EvalError::io(parent, e))?;
        }
        std::fs::copy(&path, &target).map_err(|e| EvalError::io(&path, e))?;
        copied += 1;
    }
    Ok(copied)
}

fn read_jsonl<T: serde::de::DeserializeOwned>(file: &Path) -> Result<Vec<T>> {
    let text = std::fs::read_to_string(file).map_err(|e| EvalError::io(file, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).map_err(|e| EvalError::BadCase {
                path: file.to_path_buf(),
                reason: format!("line {}: {e}", index + 1),
            })
        })
        .collect()
}
