//! Agent: answers diagnostic questions with cited evidence.
//!
//! Two paths, one [`Answer`]. [`EvidenceEngine::ask`] is evidence mode: a
//! deterministic diagnosis (anomaly onset, the change best linked to it,
//! ranked evidence) that needs no LLM and runs when no endpoint is
//! configured. [`LlmAgent::ask`] is LLM mode: a bounded tool loop
//! ([`Toolbox`]: search, timeline, anomalies, recent changes, JWT claims,
//! config diffs, similar incidents) against any OpenAI-compatible endpoint
//! ([`LlmClient`], async-openai), with native tool calls or
//! schema-constrained JSON steps, prompts from [`Prompts`], and a
//! faithfulness check of every claim against the records it cites. Every
//! request passes through the privacy filter, which fails closed; when the
//! LLM path fails, evidence mode answers with a note. [`LocalLlm`] runs
//! llama.cpp's server on loopback. Remediations are drafts: this crate
//! never executes anything.

mod answer;
mod answer_builder;
mod change_summary;
mod entity_evidence;
mod error;
mod evidence_engine;
mod faithfulness;
mod history_answer;
mod intent;
mod llm_agent;
mod llm_client;
mod local_llm;
mod metric_evidence;
mod past_actions;
mod prompts;
mod question_time;
mod remediation_plan;
mod render;
#[cfg(feature = "testing")]
pub mod scripted_llm;
mod state_evidence;
mod toolbox;
mod wording;

pub use answer::{AgentStep, Answer, AnswerMode, Citation, EvidenceRole, Remediation, RootCause};
pub use error::{AgentError, LlmFailure, Result};
pub use evidence_engine::EvidenceEngine;
pub use faithfulness::{CheckedText, UnsupportedClaim, check_claims};
pub use intent::{Intent, classify};
pub use llm_agent::{Audience, LlmAgent};
pub use llm_client::{
    ChatMessage, ChatReply, ChatRequest, LlmClient, LlmConfig, OutputSchema, Role, ToolCall,
    ToolCallMode, ToolSpec, Usage,
};
pub use local_llm::LocalLlm;
pub use prompts::Prompts;
pub use question_time::question_time;
pub use render::{answer_text, remediation_text};
pub use toolbox::Toolbox;
