//! How an answer states the status lines that changed near the onset: the
//! old text, the new one, and where they were written.

use retrieval::StateChange;

use crate::answer::EvidenceRole;
use crate::answer_builder::AnswerBuilder;
use crate::wording::{quote, relation_to_onset, source_of};

/// State changes named in one answer, the nearest the onset first.
pub(crate) const STATE_CHANGES_QUOTED: usize = 3;
/// Characters of each of the two texts quoted.
const STATE_TEXT_CHARS: usize = 110;

/// One line per change, citing the first record with the new text:
/// `Changed 8 min before the onset, k8s in k8s/hpa.txt: "… 4 current …" -> "… 12 current …"`.
pub(crate) fn describe_state_changes(builder: &mut AnswerBuilder, changes: &[StateChange<'_>]) {
    for change in changes.iter().take(STATE_CHANGES_QUOTED) {
        let cite = builder.cite(change.after, EvidenceRole::Precursor);
        builder.line(format!(
            "Changed {}, {} in {}: \"{}\" -> \"{}\" {cite}.",
            relation_to_onset(change.lead_minutes),
            source_of(change.after),
            change.after.origin.source,
            quote(&spaced(&change.before.body), STATE_TEXT_CHARS),
            quote(&spaced(&change.after.body), STATE_TEXT_CHARS),
        ));
    }
}

/// Text with its runs of spaces (a table's alignment) made single.
fn spaced(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
