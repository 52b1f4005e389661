//! Renders an [`Answer`] as the plain text a reader sees in a terminal:
//! the one renderer behind `oncall ask` and the evals that score what a
//! reader is shown.

use std::fmt::Write;

use crate::answer::{Answer, AnswerMode, Remediation};

/// The whole answer as text: notes, the answer, root cause, alternatives,
/// remediation, then the evidence list.
pub fn answer_text(answer: &Answer) -> String {
    let mut out = String::new();
    for note in &answer.notes {
        let _ = writeln!(out, "Note: {note}");
    }
    if let AnswerMode::Llm { model } = &answer.mode {
        let _ = writeln!(
            out,
            "LLM mode ({model}, prompts {}): {} calls, {} tokens, {} tool steps; {} unsupported claims removed.\n",
            answer.prompt_version.as_deref().unwrap_or("-"),
            answer.usage.calls,
            answer.usage.total(),
            answer.steps.len(),
            answer.unsupported.len()
        );
    }
    let _ = writeln!(out, "{}", answer.text);
    if let Some(cause) = &answer.root_cause {
        let _ = writeln!(
            out,
            "\nRoot cause (confidence {:.2}): {}",
            cause.confidence, cause.statement
        );
    }
    if !answer.alternatives.is_empty() {
        let _ = writeln!(out, "\nAlternatives considered:");
        for alternative in &answer.alternatives {
            let _ = writeln!(out, "  - {alternative}");
        }
    }
    if !answer.remediation.steps.is_empty() {
        let _ = writeln!(out, "\nRemediation (draft, nothing is executed):");
        out.push_str(&remediation_text(&answer.remediation));
    }
    if !answer.citations.is_empty() {
        let _ = writeln!(out, "\nEvidence:");
        for citation in &answer.citations {
            let ts = citation
                .ts
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "  [{}] {ts} {} {} ({}): {}",
                citation.id,
                citation.service,
                citation.origin,
                citation.role.as_str(),
                citation.excerpt
            );
        }
    }
    out
}

/// The remediation draft: numbered steps, the config patch, rollback and
/// how to verify.
pub fn remediation_text(remediation: &Remediation) -> String {
    let mut out = String::new();
    for (index, step) in remediation.steps.iter().enumerate() {
        let _ = writeln!(out, "  {}. {step}", index + 1);
    }
    if let Some(diff) = &remediation.diff {
        let _ = writeln!(out, "  config patch:");
        for line in diff.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    for step in &remediation.rollback {
        let _ = writeln!(out, "  rollback: {step}");
    }
    if !remediation.verify.is_empty() {
        let _ = writeln!(out, "  verify: {}", remediation.verify);
    }
    out
}
