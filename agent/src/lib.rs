//! Agent: answers diagnostic questions with cited evidence.
//!
//! The main entry is [`EvidenceEngine::ask`], which returns an [`Answer`]:
//! text whose claims cite record ids in square brackets, a root-cause
//! hypothesis, and a remediation draft. Evidence mode needs no LLM; it is
//! what runs when no endpoint is configured. Remediations are drafts: this
//! crate never executes anything.

mod answer;
mod error;
mod evidence_engine;
mod question_time;

pub use answer::{Answer, AnswerMode, Citation, EvidenceRole, Remediation, RootCause};
pub use error::{AgentError, Result};
pub use evidence_engine::EvidenceEngine;
pub use question_time::question_time;
