//! What a question asks for, read from how it is phrased: each intent has
//! its own path through the evidence and its own answer shape.
//!
//! A small cue classifier, no model: each intent has phrases that English
//! speakers use for it ("have we seen", "what fixed it", "how long", "who
//! is"), matched on word boundaries; the intent with the most cue weight
//! wins and a question with none is a diagnosis. The cues are about the
//! kind of question, never about a system, a vendor or an incident.

use serde::Serialize;

/// The kind of answer a question wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// What broke and why (the default).
    Diagnose,
    /// Have we seen this before, and what fixed it then.
    History,
    /// A fact about a past incident or change: how long, when, which, how many.
    Lookup,
    /// Who is doing this, who is affected, did anyone get in.
    Investigate,
}

impl Intent {
    /// The lowercase name, for logs and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Diagnose => "diagnose",
            Intent::History => "history",
            Intent::Lookup => "lookup",
            Intent::Investigate => "investigate",
        }
    }

    /// Whether the answer comes from past incidents (postmortems, runbooks)
    /// across all time, not from the live window.
    pub fn reads_history(self) -> bool {
        matches!(self, Intent::History | Intent::Lookup)
    }
}

/// Cue phrases per intent, with a weight: 2 for phrases that alone say what
/// is asked, 1 for weaker hints.
const CUES: &[(Intent, u8, &[&str])] = &[
    (
        Intent::History,
        2,
        &[
            "seen this",
            "seen it",
            "seen that",
            "seen before",
            "happened before",
            "this before",
            "it before",
            "last time",
            "previous incident",
            "past incident",
            "similar incident",
            "what fixed",
            "what did we do",
            "how did we fix",
            "how was it fixed",
            "how did we resolve",
            "how was it resolved",
            "has this happened",
            "did this happen",
        ],
    ),
    (
        Intent::History,
        1,
        &["postmortem", "post-mortem", "runbook", "again", "before?"],
    ),
    (
        Intent::Lookup,
        2,
        &[
            "how long",
            "when did",
            "when was",
            "what time",
            "which change",
            "which commit",
            "which deploy",
            "how many",
            "duration",
            "time to resolve",
            "time to detect",
            "what was the root cause",
            "what caused the",
            "what was the bug",
            "actual bug",
        ],
    ),
    (
        Intent::Investigate,
        2,
        &[
            "who is",
            "who's",
            "who was",
            "which users",
            "which accounts",
            "which clients",
            "which ips",
            "users affected",
            "accounts affected",
            "get in",
            "got in",
            "attacker",
            "attacking",
            "attack",
            "compromised",
            "takeover",
            "brute force",
            "credential stuffing",
            "password spray",
        ],
    ),
    (
        Intent::Investigate,
        1,
        &["suspicious", "malicious", "breach"],
    ),
];

/// The intent of `question`.
pub fn classify(question: &str) -> Intent {
    let text = format!(" {} ", normalize(question));
    let mut scores = [
        (Intent::History, 0u32),
        (Intent::Lookup, 0),
        (Intent::Investigate, 0),
    ];
    for (intent, weight, phrases) in CUES {
        let hits = phrases
            .iter()
            .filter(|p| text.contains(&format!(" {} ", normalize(p))))
            .count() as u32;
        if let Some((_, score)) = scores.iter_mut().find(|(i, _)| i == intent) {
            *score += hits * u32::from(*weight);
        }
    }
    // Ties go to the first listed: history before lookup before investigate.
    scores
        .iter()
        .filter(|(_, score)| *score > 0)
        .max_by(|a, b| a.1.cmp(&b.1).then(std::cmp::Ordering::Greater))
        .map_or(Intent::Diagnose, |(intent, _)| *intent)
}

/// Lower case, punctuation other than `?`, `'` and `-` as spaces, `?` kept
/// apart, spaces collapsed.
fn normalize(text: &str) -> String {
    let spaced: String = text
        .to_lowercase()
        .chars()
        .map(|c| match c {
            '?' | '\'' | '-' => c,
            '’' => '\'',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    spaced
        .replace('?', " ?")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" ?", "?")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(question: &str, expected: Intent) {
        assert_eq!(classify(question), expected, "{question}");
    }

    #[test]
    fn questions_are_read_by_how_they_are_phrased() {
        check(
            "authn has been throwing 503s since the 2.31 rollout. should I roll it back?",
            Intent::Diagnose,
        );
        check(
            "why are logins failing with invalid_token since 14:05?",
            Intent::Diagnose,
        );
        check(
            "pods forbidden: exceeded quota, but we're nowhere near that. seen it before?",
            Intent::History,
        );
        check(
            "proxy pods crashlooping again — what did we do last time?",
            Intent::History,
        );
        check(
            "has this happened before? launch success went to zero",
            Intent::History,
        );
        check(
            "how long was beta down in the hub 403 incident and what was the actual bug?",
            Intent::Lookup,
        );
        check("when did we last rotate the signing key?", Intent::Lookup);
        check(
            "which change caused the registry outage in March?",
            Intent::Lookup,
        );
        check("who is attacking the login endpoint?", Intent::Investigate);
        check(
            "did anyone get in during the password spray last night?",
            Intent::Investigate,
        );
        check(
            "which users are affected by the lockouts?",
            Intent::Investigate,
        );
    }

    #[test]
    fn cues_match_whole_words_only() {
        // "attacks" in a word like "counterattackship" or "before" inside
        // "beforehand" must not count.
        check(
            "the counterattackship deploy failed beforehand",
            Intent::Diagnose,
        );
        assert_eq!(normalize("Seen  it, BEFORE?"), "seen it before?");
    }
}
