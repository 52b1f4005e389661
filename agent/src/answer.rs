use chrono::{DateTime, Utc};
use ingest::{Origin, Record, RecordId, SourceKind};
use serde::{Deserialize, Serialize};

use crate::faithfulness::UnsupportedClaim;
use crate::llm_client::Usage;

/// How an answer was produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum AnswerMode {
    /// Deterministic analysis of the records; no LLM involved.
    Evidence,
    /// An LLM's tool loop over the records, checked against them.
    Llm {
        /// The model that answered.
        model: String,
    },
}

impl AnswerMode {
    /// The mode's name, as serialized: `evidence` or `llm`.
    pub fn name(&self) -> &'static str {
        match self {
            AnswerMode::Evidence => "evidence",
            AnswerMode::Llm { .. } => "llm",
        }
    }
}

/// Why a record is in the evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceRole {
    /// A change that preceded the onset.
    Change,
    /// The first records of the main anomaly.
    Symptom,
    /// Records of other anomalies starting near the same time.
    Correlated,
    /// Full-text matches of the question.
    Match,
    /// Records elsewhere that name an entity the failures concentrate on.
    Entity,
    /// A warning first seen shortly before the onset.
    Precursor,
    /// The sample where a metric series began to shift.
    Metric,
}

impl EvidenceRole {
    /// The role's name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceRole::Change => "change",
            EvidenceRole::Symptom => "symptom",
            EvidenceRole::Correlated => "correlated",
            EvidenceRole::Match => "match",
            EvidenceRole::Entity => "entity",
            EvidenceRole::Precursor => "precursor",
            EvidenceRole::Metric => "metric",
        }
    }
}

/// A record cited by an answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    /// The cited record.
    pub id: RecordId,
    /// Why it is cited.
    pub role: EvidenceRole,
    /// Where it was read.
    pub origin: Origin,
    /// Its kind.
    pub kind: SourceKind,
    /// Its service.
    pub service: String,
    /// Its timestamp.
    pub ts: Option<DateTime<Utc>>,
    /// Its text, shortened.
    pub excerpt: String,
}

/// Characters of a record's text a citation keeps.
const CITATION_EXCERPT_CHARS: usize = 200;

impl Citation {
    /// `record`, cited as `role`.
    pub(crate) fn of(record: &Record, role: EvidenceRole) -> Self {
        Citation {
            id: record.id.clone(),
            role,
            origin: record.origin.clone(),
            kind: record.kind,
            service: record.service.clone(),
            ts: record.ts,
            excerpt: excerpt(&record.body, CITATION_EXCERPT_CHARS),
        }
    }
}

/// `text` cut to `max_chars`, with an ellipsis where it was cut.
pub(crate) fn excerpt(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// The hypothesis an answer stands on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RootCause {
    /// One sentence.
    pub statement: String,
    /// 0 to 1.
    pub confidence: f32,
}

/// A reviewable fix. Drafts only: nothing is ever executed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Remediation {
    /// Ordered steps.
    pub steps: Vec<String>,
    /// A unified diff of the config to change, where the cause is a config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// How to undo the steps.
    pub rollback: Vec<String>,
    /// A search that shows whether the fix worked.
    pub verify: String,
}

/// The answer to a diagnostic question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The question asked.
    pub question: String,
    /// How it was produced.
    #[serde(flatten)]
    pub mode: AnswerMode,
    /// Text with inline citations such as `[r-3f9a2c1d4e5b6a7c]`.
    pub text: String,
    /// Onset of the problem, when one was found.
    pub onset: Option<DateTime<Utc>>,
    /// Main hypothesis.
    pub root_cause: Option<RootCause>,
    /// Other explanations considered.
    pub alternatives: Vec<String>,
    /// Draft fix.
    pub remediation: Remediation,
    /// Every record the text cites, in the order first cited.
    pub citations: Vec<Citation>,
    /// Prompt set the LLM was given (`v1`, ...); none in evidence mode.
    #[serde(default)]
    pub prompt_version: Option<String>,
    /// LLM calls and tokens spent.
    #[serde(default)]
    pub usage: Usage,
    /// The agent's tool steps, in order.
    #[serde(default)]
    pub steps: Vec<AgentStep>,
    /// Claims the faithfulness check removed.
    #[serde(default)]
    pub unsupported: Vec<UnsupportedClaim>,
    /// What the reader should know about how this answer was made, e.g.
    /// that the LLM failed and evidence mode answered instead.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// One tool call of the agent's loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentStep {
    /// Tool name.
    pub tool: String,
    /// Arguments as the model wrote them (placeholders, not originals).
    pub arguments: String,
    /// Bytes of the result returned to the model.
    pub result_bytes: usize,
}

impl Answer {
    /// Ids cited inline in the text, in order of first appearance.
    pub fn cited_ids(&self) -> Vec<RecordId> {
        let mut ids: Vec<RecordId> = Vec::new();
        let mut rest = self.text.as_str();
        while let Some(start) = rest.find("[r-") {
            let after = &rest[start + 1..];
            let Some(end) = after.find(']') else { break };
            let id = RecordId(after[..end].to_string());
            if !ids.contains(&id) {
                ids.push(id);
            }
            rest = &after[end..];
        }
        ids
    }
}
