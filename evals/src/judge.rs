//! The LLM judge: a second opinion on root-cause correctness, from any
//! OpenAI-compatible endpoint, reported beside the deterministic key-fact
//! match with the agreement between the two.

use agent::{ChatMessage, ChatRequest, LlmClient, OutputSchema, Role};
use privacy::{AuditLog, RedactionSession, Redactor, prepare_outbound_parts};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{EvalError, Result};
use crate::ground_truth::GoldRootCause;

/// The judge's instructions, versioned like the agent's prompts.
const JUDGE_PROMPT: &str = include_str!("../../prompts/judge.v1.md");
/// Recorded with every judge payload in the audit log.
pub const JUDGE_PROMPT_VERSION: &str = "judge.v1";
/// A verdict is one boolean and a sentence.
const VERDICT_TOKENS: u32 = 256;

/// Grades root causes through an LLM. Its inputs pass the privacy filter
/// like any outbound payload (fails closed) and are audited.
pub struct Judge {
    client: LlmClient,
    redactor: Option<Redactor>,
    audit: AuditLog,
}

#[derive(Deserialize)]
struct Verdict {
    correct: bool,
}

impl Judge {
    /// A judge over `client`, recording what it sends in `audit`.
    pub fn new(client: LlmClient, audit: AuditLog) -> Self {
        let redactor = match Redactor::new() {
            Ok(redactor) => Some(redactor),
            Err(e) => {
                tracing::error!(error = %e, "privacy filter unavailable: the judge will send nothing");
                None
            }
        };
        Judge {
            client,
            redactor,
            audit,
        }
    }

    /// The judging model.
    pub fn model(&self) -> &str {
        &self.client.config().model
    }

    /// Where its requests are recorded.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Whether `stated` names the cause `gold` describes. An empty
    /// statement is wrong without asking.
    pub async fn root_cause_correct(
        &self,
        question: &str,
        gold: &GoldRootCause,
        stated: &str,
    ) -> Result<bool> {
        if stated.trim().is_empty() {
            return Ok(false);
        }
        let case = json!({
            "question": question,
            "reference_root_cause": gold.statement,
            "key_facts": gold.key_facts,
            "assistant_root_cause": stated,
        })
        .to_string();
        let mut session = RedactionSession::default();
        let sent = prepare_outbound_parts(
            self.redactor.as_ref(),
            &mut session,
            &self.audit,
            &format!("judge:{}", self.model()),
            &[JUDGE_PROMPT, &case],
            Some(JUDGE_PROMPT_VERSION),
        )
        .map_err(agent::AgentError::from)?;
        let messages = [
            ChatMessage::new(Role::System, sent[0].clone()),
            ChatMessage::new(Role::User, sent[1].clone()),
        ];
        let schema = OutputSchema {
            name: "verdict".into(),
            schema: json!({"type": "object", "properties": {
                "correct": {"type": "boolean"},
                "reason": {"type": "string", "maxLength": 120}
            }, "required": ["correct", "reason"], "additionalProperties": false}),
        };
        let reply = self
            .client
            .chat(
                &ChatRequest {
                    messages: &messages,
                    tools: &[],
                    schema: Some(&schema),
                    max_tokens: VERDICT_TOKENS,
                },
                None,
            )
            .await?;
        serde_json::from_str::<Verdict>(reply.content.trim())
            .map(|v| v.correct)
            .map_err(|e| EvalError::Judge(format!("unreadable verdict ({e})")))
    }
}

/// How often two graders agree on the same cases, and Cohen's kappa (the
/// agreement beyond what chance gives; absent when chance explains all).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Cases both graded.
    pub cases: usize,
    /// Share of cases with the same grade.
    pub rate: f64,
    /// Cohen's kappa.
    pub kappa: Option<f64>,
}

impl Agreement {
    /// Agreement over `(first, second)` grades; `None` without cases.
    pub fn of(pairs: &[(bool, bool)]) -> Option<Self> {
        if pairs.is_empty() {
            return None;
        }
        let n = pairs.len() as f64;
        let share =
            |f: &dyn Fn(&(bool, bool)) -> bool| pairs.iter().filter(|p| f(p)).count() as f64 / n;
        let observed = share(&|(a, b)| a == b);
        let (first_yes, second_yes) = (share(&|(a, _)| *a), share(&|(_, b)| *b));
        let chance = first_yes * second_yes + (1.0 - first_yes) * (1.0 - second_yes);
        Some(Agreement {
            cases: pairs.len(),
            rate: observed,
            kappa: (chance < 1.0).then(|| (observed - chance) / (1.0 - chance)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_and_kappa() {
        let perfect = Agreement::of(&[(true, true), (false, false)]).expect("cases");
        assert_eq!((perfect.rate, perfect.kappa), (1.0, Some(1.0)));
        let split = Agreement::of(&[(true, true), (true, false), (false, true), (false, false)])
            .expect("cases");
        assert_eq!((split.rate, split.kappa), (0.5, Some(0.0)));
        let all_yes = Agreement::of(&[(true, true), (true, true)]).expect("cases");
        assert_eq!(
            (all_yes.rate, all_yes.kappa),
            (1.0, None),
            "chance explains it"
        );
        assert_eq!(Agreement::of(&[]), None);
    }
}
