//! Scores answers on incident sets written outside the project: folders of
//! `case.json` (question, key facts, evidence regexes, remediation points)
//! beside a `data/` folder, as in `../shared/data/incidents`. The rules are
//! the set's own: a fact counts when 60 % of its content words appear in the
//! first 2,000 characters of the answer as a reader sees it; a pattern is hit
//! when a citation's excerpt or the source line it cites matches it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use agent::{Answer, EvidenceEngine};
use ingest::ReadOptions;
use retrieval::{Stores, TextStore};
use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};

/// Characters of an answer a reader is taken to read.
pub const READ_CHARS: usize = 2000;
/// Share of a fact's content words that must appear for it to count.
pub const FACT_WORD_SHARE: f64 = 0.6;

/// One case of an external incident set (`case.json`).
#[derive(Clone, Debug, Deserialize)]
pub struct ExternalCase {
    /// Case name.
    pub name: String,
    /// What the on-call engineer asks.
    pub question: String,
    /// Facts a correct answer states.
    pub key_facts: Vec<String>,
    /// Regexes (Python syntax, case-insensitive) of the gold evidence lines.
    pub evidence_patterns: Vec<String>,
    /// Points a good remediation contains.
    pub remediation_points: Vec<String>,
    /// Whether the cause is a recorded change.
    #[serde(default)]
    pub cause_is_change: bool,
}

/// How one answer scored.
#[derive(Clone, Debug, Serialize)]
pub struct ExternalScore {
    /// Case name.
    pub name: String,
    /// Whether the cause is a recorded change.
    pub cause_is_change: bool,
    /// Key facts stated, of `facts`.
    pub facts_found: usize,
    /// Key facts in the case.
    pub facts: usize,
    /// Evidence patterns hit by a citation, of `patterns`.
    pub patterns_hit: usize,
    /// Evidence patterns in the case.
    pub patterns: usize,
    /// Citations matching some pattern, of `citations`.
    pub citations_matching: usize,
    /// Citations in the answer.
    pub citations: usize,
    /// Remediation points covered, of `remediation_points`.
    pub remediation_found: usize,
    /// Remediation points in the case.
    pub remediation_points: usize,
    /// Records ingested.
    pub records: usize,
    /// Bad inputs reported while ingesting.
    pub bad_inputs: usize,
    /// Seconds to answer.
    pub answer_secs: f64,
    /// The facts not stated, to read why.
    pub missed_facts: Vec<String>,
}

/// The scores of a whole set, with totals.
#[derive(Clone, Debug, Serialize)]
pub struct ExternalReport {
    /// Folder of the set.
    pub dir: PathBuf,
    /// One score per case, by name.
    pub cases: Vec<ExternalScore>,
}

impl ExternalReport {
    /// Sums of (found, total) for facts, patterns, precision and
    /// remediation over the cases `keep` selects.
    pub fn totals(&self, keep: impl Fn(&ExternalScore) -> bool) -> [(usize, usize); 4] {
        let mut sums = [(0, 0); 4];
        for case in self.cases.iter().filter(|c| keep(c)) {
            let parts = [
                (case.facts_found, case.facts),
                (case.patterns_hit, case.patterns),
                (case.citations_matching, case.citations),
                (case.remediation_found, case.remediation_points),
            ];
            for (sum, (found, total)) in sums.iter_mut().zip(parts) {
                sum.0 += found;
                sum.1 += total;
            }
        }
        sums
    }
}

/// Every case folder of `dir` (a folder holding `case.json` and `data/`),
/// in name order.
pub fn load_incident_set(dir: &Path) -> Result<Vec<(PathBuf, ExternalCase)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| EvalError::io(dir, e))?;
    let mut cases = Vec::new();
    for entry in entries {
        let folder = entry.map_err(|e| EvalError::io(dir, e))?.path();
        let file = folder.join("case.json");
        if !file.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&file).map_err(|e| EvalError::io(&file, e))?;
        let case: ExternalCase = serde_json::from_str(&text).map_err(|e| EvalError::BadCase {
            path: file.clone(),
            reason: e.to_string(),
        })?;
        cases.push((folder, case));
    }
    cases.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    if cases.is_empty() {
        return Err(EvalError::BadCase {
            path: dir.to_path_buf(),
            reason: "no case folder (NAME/case.json with NAME/data/) in it".into(),
        });
    }
    Ok(cases)
}

/// Ingests each case's `data/` into a fresh store, asks its question in
/// evidence mode and scores the answer; with `answers`, each answer's text
/// is also written there as `<case>.txt`, to read what was scored.
pub fn evaluate_incident_set(dir: &Path, answers: Option<&Path>) -> Result<ExternalReport> {
    if let Some(answers) = answers {
        std::fs::create_dir_all(answers).map_err(|e| EvalError::io(answers, e))?;
    }
    let mut cases = Vec::new();
    for (folder, case) in load_incident_set(dir)? {
        let data = folder.join("data");
        let stores = Stores::new(TextStore::in_memory()?, None);
        let tenant = "eval";
        let parsed = ingest::read_path(
            &data,
            &ReadOptions::new(tenant),
            &mut ingest::TemplateMiner::default(),
        )?;
        stores.upsert(&parsed.records)?;
        stores.commit()?;
        let started = Instant::now();
        let answer = EvidenceEngine::new(&stores).ask(tenant, &case.question)?;
        let answer_secs = started.elapsed().as_secs_f64();
        if let Some(answers) = answers {
            let file = answers.join(format!("{}.txt", case.name));
            std::fs::write(&file, agent::answer_text(&answer))
                .map_err(|e| EvalError::io(&file, e))?;
        }
        let mut score = score_answer(&case, &answer, &data)?;
        score.records = parsed.records.len();
        score.bad_inputs = parsed.bad.len();
        score.answer_secs = answer_secs;
        tracing::info!(case = %case.name, facts = score.facts_found, of = score.facts, "case scored");
        cases.push(score);
    }
    Ok(ExternalReport {
        dir: dir.to_path_buf(),
        cases,
    })
}

/// Scores `answer` against `case`; `data` is where cited sources live.
pub fn score_answer(case: &ExternalCase, answer: &Answer, data: &Path) -> Result<ExternalScore> {
    let read = first_chars(&agent::answer_text(answer), READ_CHARS).to_lowercase();
    let remediation =
        first_chars(&agent::remediation_text(&answer.remediation), READ_CHARS).to_lowercase();
    let missed_facts: Vec<String> = case
        .key_facts
        .iter()
        .filter(|fact| !states(&read, fact))
        .cloned()
        .collect();
    let patterns = case
        .evidence_patterns
        .iter()
        .map(|p| {
            fancy_regex::RegexBuilder::new(p)
                .case_insensitive(true)
                .build()
                .map_err(|e| EvalError::BadCase {
                    path: data.to_path_buf(),
                    reason: format!("pattern {p:?}: {e}"),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut lines = SourceLines::new(data);
    let mut hit = vec![false; patterns.len()];
    let mut citations_matching = 0;
    for citation in &answer.citations {
        let line = lines.line(&citation.origin.source, citation.origin.line);
        let mut matches_any = false;
        for (pattern, hit) in patterns.iter().zip(hit.iter_mut()) {
            let matches = |text: &str| pattern.is_match(text).unwrap_or(false);
            if matches(&citation.excerpt) || line.is_some_and(matches) {
                *hit = true;
                matches_any = true;
            }
        }
        citations_matching += usize::from(matches_any);
    }
    Ok(ExternalScore {
        name: case.name.clone(),
        cause_is_change: case.cause_is_change,
        facts_found: case.key_facts.len() - missed_facts.len(),
        facts: case.key_facts.len(),
        patterns_hit: hit.iter().filter(|h| **h).count(),
        patterns: patterns.len(),
        citations_matching,
        citations: answer.citations.len(),
        remediation_found: case
            .remediation_points
            .iter()
            .filter(|point| states(&remediation, point))
            .count(),
        remediation_points: case.remediation_points.len(),
        records: 0,
        bad_inputs: 0,
        answer_secs: 0.0,
        missed_facts,
    })
}

/// Whether `text` (lower case) states `fact`: at least [`FACT_WORD_SHARE`]
/// of the fact's content words occur in it as substrings.
pub fn states(text: &str, fact: &str) -> bool {
    let words = content_words(fact);
    if words.is_empty() {
        return true;
    }
    let found = words.iter().filter(|w| text.contains(w.as_str())).count();
    found as f64 >= FACT_WORD_SHARE * words.len() as f64
}

/// Words of two or more characters, lower case, punctuation at their ends
/// trimmed, English stop words left out.
pub fn content_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| w.chars().count() >= 2 && !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

/// Common English function words, which say nothing about a fact.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "before", "but", "by", "can", "did", "do", "does", "for", "from", "had", "has", "have", "he",
    "her", "his", "how", "if", "in", "into", "is", "it", "its", "like", "more", "no", "not", "now",
    "of", "off", "on", "only", "or", "other", "our", "out", "over", "she", "so", "some", "such",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those",
    "to", "too", "under", "until", "up", "was", "we", "were", "what", "when", "where", "which",
    "while", "who", "why", "will", "with", "would", "you", "your",
];

/// The first `n` characters of `text`.
pub(crate) fn first_chars(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Lines of the cited source files, each file read once.
struct SourceLines<'a> {
    root: &'a Path,
    files: HashMap<String, Vec<String>>,
}

impl<'a> SourceLines<'a> {
    fn new(root: &'a Path) -> Self {
        SourceLines {
            root,
            files: HashMap::new(),
        }
    }

    fn line(&mut self, source: &str, line: u64) -> Option<&str> {
        let root = self.root;
        let lines = self.files.entry(source.to_string()).or_insert_with(|| {
            std::fs::read(root.join(source))
                .map(|bytes| {
                    String::from_utf8_lossy(&bytes)
                        .lines()
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        });
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        lines.get(index).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fact_counts_when_most_of_its_content_words_appear() {
        let text = "only client_id 0oa9reportsvc7 gets 403 insufficient_scope on invoices-v2";
        assert!(states(
            text,
            "only client_id 0oa9reportsvc7 litware-nightly-reporting gets 403 insufficient_scope"
        ));
        assert!(!states(
            text,
            "its tokens carry only the legacy scope invoices, not invoices:read"
        ));
        assert_eq!(
            content_words("the DB is at 10.61.8.21:5432, (not refused)"),
            ["db", "10.61.8.21:5432", "refused"]
        );
    }

    #[test]
    fn only_the_first_characters_are_read() {
        assert_eq!(first_chars("abcdef", 3), "abc");
        assert_eq!(first_chars("ab", 3), "ab");
        assert_eq!(first_chars("é日本", 2), "é日");
    }
}
