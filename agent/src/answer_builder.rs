//! Accumulates the lines of an evidence-mode answer and the records they
//! cite, and finishes them into an [`Answer`]: one builder for every
//! answer shape (diagnosis, past incidents, matches only).

use chrono::{DateTime, Utc};
use ingest::{Record, RecordId};

use crate::answer::{Answer, AnswerMode, Citation, EvidenceRole, Remediation, RootCause, excerpt};

/// Characters of a matching record quoted in the answer text.
const MATCH_EXCERPT_CHARS: usize = 200;

pub(crate) fn no_evidence(question: &str, why: &str) -> Answer {
    let mut builder = AnswerBuilder::new(question);
    builder.line(format!(
        "Evidence mode: no supporting evidence. {why} Nothing is guessed."
    ));
    builder.finish(None, Vec::new(), Remediation::default())
}

/// Where a line goes in the answer: the conclusion leads, the evidence
/// for it follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Section {
    Header,
    Cause,
    Details,
}

/// Accumulates answer lines and the records they cite.
pub(crate) struct AnswerBuilder {
    question: String,
    lines: Vec<(Section, String)>,
    citations: Vec<Citation>,
    pub(crate) onset: Option<DateTime<Utc>>,
}

impl AnswerBuilder {
    pub(crate) fn new(question: &str) -> Self {
        AnswerBuilder {
            question: question.to_string(),
            lines: Vec::new(),
            citations: Vec::new(),
            onset: None,
        }
    }

    pub(crate) fn line(&mut self, text: String) {
        self.line_in(Section::Details, text);
    }

    pub(crate) fn line_in(&mut self, section: Section, text: String) {
        self.lines.push((section, text));
    }

    pub(crate) fn has(&self, id: &RecordId) -> bool {
        self.citations.iter().any(|c| &c.id == id)
    }

    pub(crate) fn cite(&mut self, record: &Record, role: EvidenceRole) -> String {
        if !self.has(&record.id) {
            self.citations.push(Citation::of(record, role));
        }
        format!("[{}]", record.id)
    }

    /// A line quoting a record that matched the question's words.
    pub(crate) fn match_line(&mut self, lead: &str, record: &Record) {
        let cite = self.cite(record, EvidenceRole::Match);
        self.line(format!(
            "{lead}{} \"{}\" {cite}.",
            record.service,
            excerpt(&record.body, MATCH_EXCERPT_CHARS)
        ));
    }

    pub(crate) fn cite_all(&mut self, records: &[&Record], role: EvidenceRole) -> String {
        records
            .iter()
            .map(|r| self.cite(r, role))
            .collect::<Vec<_>>()
            .join("")
    }

    pub(crate) fn finish(
        mut self,
        root_cause: Option<RootCause>,
        alternatives: Vec<String>,
        remediation: Remediation,
    ) -> Answer {
        self.lines.sort_by_key(|(section, _)| *section);
        let text = self
            .lines
            .into_iter()
            .map(|(_, line)| line)
            .collect::<Vec<_>>()
            .join("\n");
        // Citations in the order the text first cites them.
        let position = |id: &RecordId| text.find(&format!("[{id}]")).unwrap_or(usize::MAX);
        self.citations.sort_by_key(|c| position(&c.id));
        Answer {
            question: self.question,
            mode: AnswerMode::Evidence,
            text,
            onset: self.onset,
            root_cause,
            alternatives,
            remediation,
            citations: self.citations,
            prompt_version: None,
            usage: Default::default(),
            steps: Vec::new(),
            unsupported: Vec::new(),
            notes: Vec::new(),
        }
    }
}
