use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::Timelike;
use ingest::{Record, RecordId};
use regex::Regex;
use serde::{Deserialize, Serialize};

static RECORD_ID: LazyLock<Regex> = LazyLock::new(|| compile(r"r-[0-9a-f]{16}"));
/// A bracket holding one or more ids: `[r-…]`, `[r-…, r-…]`.
static CITATION: LazyLock<Regex> =
    LazyLock::new(|| compile(r"\[\s*r-[0-9a-fA-F]+(?:\s*[,;]\s*r-[0-9a-fA-F]+)*\s*\]"));
static TIME: LazyLock<Regex> =
    LazyLock::new(|| compile(r"\b([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?\b"));
/// HTTP statuses and snake_case error codes (`invalid_token`).
static CODE: LazyLock<Regex> = LazyLock::new(|| compile(r"\b(?:[1-5]\d\d|[a-z]+(?:_[a-z]+)+)\b"));
static COUNT: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"\b(\d+)\s+(?:requests|errors|failures|failed|events|records|times|logins|attempts|users|calls|responses|occurrences)\b",
    )
});

fn compile(pattern: &str) -> Regex {
    // The patterns are constants; a failure here is a bug caught by every test.
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("constant pattern")
}

/// A claim the check took out of an answer, with why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnsupportedClaim {
    /// The claim as the model wrote it.
    pub claim: String,
    /// What failed.
    pub reason: String,
}

/// An answer text after the check.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckedText {
    /// Supported claims, each citing only records that were shown.
    pub text: String,
    /// Claims removed.
    pub removed: Vec<UnsupportedClaim>,
}

/// Checks every claim of `text` against the records it cites, out of those
/// `shown` to the model: citations of ids never shown are dropped; a claim
/// stating a time, an error code or a count is kept only when a cited record
/// (or, for counts, a tool result in `tool_results`) bears it out.
pub fn check_claims(
    text: &str,
    shown: &BTreeMap<RecordId, Record>,
    tool_results: &str,
) -> CheckedText {
    let mut kept = Vec::new();
    let mut removed = Vec::new();
    for claim in claims(text) {
        let named = RECORD_ID.find_iter(&claim).count();
        let cited: Vec<&Record> = RECORD_ID
            .find_iter(&claim)
            .filter_map(|m| shown.get(&RecordId(m.as_str().to_string())))
            .collect();
        if named > 0 && cited.is_empty() {
            removed.push(UnsupportedClaim {
                claim: claim.trim().to_string(),
                reason: "cites only records that were never retrieved".into(),
            });
            continue;
        }
        let prose = CITATION
            .replace_all(&claim, "")
            .replace(" .", ".")
            .replace(" ,", ",")
            .trim()
            .to_string();
        let citations: String = dedup(cited.iter().map(|r| format!("[{}]", r.id)));
        match unsupported_fact(&prose, &cited, tool_results) {
            Some(reason) => removed.push(UnsupportedClaim {
                claim: claim.trim().to_string(),
                reason,
            }),
            None if prose.is_empty() => {}
            None => kept.push(if citations.is_empty() {
                prose
            } else {
                format!("{prose} {citations}")
            }),
        }
    }
    CheckedText {
        text: kept.join(" "),
        removed,
    }
}

/// Why a claim is not borne out by its records, if it is not.
fn unsupported_fact(prose: &str, cited: &[&Record], tool_results: &str) -> Option<String> {
    let states_facts = TIME.is_match(prose) || CODE.is_match(prose) || COUNT.is_match(prose);
    if cited.is_empty() {
        return states_facts.then(|| "states facts but cites no record that was retrieved".into());
    }
    let texts: Vec<String> = cited.iter().map(|r| record_text(r)).collect();
    for time in TIME.captures_iter(prose) {
        let (Ok(hour), Ok(minute)) = (time[1].parse::<i64>(), time[2].parse::<i64>()) else {
            continue;
        };
        let near = cited.iter().any(|r| {
            r.ts.is_some_and(|ts| {
                let at = i64::from(ts.hour()) * 60 + i64::from(ts.minute());
                (at - (hour * 60 + minute)).abs() <= 1
            })
        });
        if !near && !texts.iter().any(|t| t.contains(&time[0])) {
            return Some(format!("time {} is in no cited record", &time[0]));
        }
    }
    for code in CODE.find_iter(prose) {
        if !texts.iter().any(|t| t.contains(code.as_str())) {
            return Some(format!("{} is in no cited record", code.as_str()));
        }
    }
    for count in COUNT.captures_iter(prose) {
        let number = &count[1];
        let borne = texts.iter().any(|t| t.contains(number))
            || tool_results.contains(&format!("\"count\":{number}"));
        if !borne {
            return Some(format!(
                "count {number} is in no cited record or tool result"
            ));
        }
    }
    None
}

/// A record's body and field values: what a claim may quote.
fn record_text(record: &Record) -> String {
    let mut text = record.body.clone();
    for value in record.fields.values() {
        text.push(' ');
        match value.as_str() {
            Some(s) => text.push_str(s),
            None => text.push_str(&value.to_string()),
        }
    }
    text
}

fn dedup(items: impl Iterator<Item = String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen.concat()
}

/// Record ids named in `text`, each once, in order of first mention.
pub(crate) fn record_ids(text: &str) -> Vec<RecordId> {
    let mut ids: Vec<RecordId> = Vec::new();
    for found in RECORD_ID.find_iter(text) {
        let id = RecordId(found.as_str().to_string());
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// Sentences, with a run of citations that follows a full stop kept with
/// the sentence before it.
pub(crate) fn claims(text: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            pieces.push(std::mem::take(&mut current));
            continue;
        }
        current.push(c);
        if matches!(c, '.' | '!' | '?') && chars.peek().is_some_and(|n| n.is_whitespace()) {
            pieces.push(std::mem::take(&mut current));
        }
    }
    pieces.push(current);
    let mut claims: Vec<String> = Vec::new();
    for piece in pieces {
        let only_citations = CITATION.replace_all(&piece, "").trim().is_empty();
        match claims.last_mut() {
            Some(last) if only_citations && !piece.trim().is_empty() => {
                last.push(' ');
                last.push_str(piece.trim());
            }
            _ if piece.trim().is_empty() => {}
            _ => claims.push(piece.trim().to_string()),
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use ingest::{Origin, Severity, SourceKind};

    use super::*;

    fn record(ts: &str, body: &str) -> Record {
        let origin = Origin {
            source: "gw.log".into(),
            line: 1,
        };
        Record {
            id: RecordId::derive("t", &origin, body),
            tenant: "t".into(),
            kind: SourceKind::Log,
            service: "gateway".into(),
            host: None,
            ts: Some(
                DateTime::parse_from_rfc3339(ts)
                    .expect("ts")
                    .with_timezone(&Utc),
            ),
            severity: Severity::Warn,
            body: body.into(),
            template: None,
            fields: Default::default(),
            origin,
        }
    }

    fn shown(records: &[&Record]) -> BTreeMap<RecordId, Record> {
        records
            .iter()
            .map(|r| (r.id.clone(), (*r).clone()))
            .collect()
    }

    #[test]
    fn supported_claims_stay_with_their_citations() {
        let change = record(
            "2026-11-20T14:02:00Z",
            "terraform apply: rotate signing key",
        );
        let symptom = record("2026-11-20T14:05:31Z", "GET /userinfo 401 invalid_token");
        let text = format!(
            "The signing key was rotated at 14:02 [{}]. Since 14:05 the gateway returns 401 invalid_token. [{}]",
            change.id, symptom.id
        );
        let checked = check_claims(&text, &shown(&[&change, &symptom]), "");
        assert!(checked.removed.is_empty(), "{:?}", checked.removed);
        assert_eq!(
            checked.text,
            format!(
                "The signing key was rotated at 14:02. [{}] Since 14:05 the gateway returns 401 invalid_token. [{}]",
                change.id, symptom.id
            )
        );
    }

    #[test]
    fn invented_ids_times_codes_and_counts_are_removed() {
        let symptom = record("2026-11-20T14:05:31Z", "GET /userinfo 401 invalid_token");
        let shown = shown(&[&symptom]);
        let id = &symptom.id;
        for (claim, reason) in [
            ("Errors began at 13:40 [ID].", "time 13:40"),
            ("The gateway returns 503 [ID].", "503"),
            ("Clients get invalid_grant [ID].", "invalid_grant"),
            ("There were 42 failures [ID].", "count 42"),
            (
                "Logins failed at 14:05 [r-00000000deadbeef].",
                "never retrieved",
            ),
            ("Billing caused it [r-00000000deadbeef].", "never retrieved"),
        ] {
            let text = claim.replace("ID", id.as_str());
            let checked = check_claims(&text, &shown, "{\"count\":7}");
            assert_eq!(checked.text, "", "{claim} should be removed");
            assert!(
                checked.removed[0].reason.contains(reason),
                "{:?}",
                checked.removed
            );
        }
        let counted = check_claims(
            &format!("There were 7 failures [{id}]."),
            &shown,
            "{\"count\":7}",
        );
        assert!(
            counted.removed.is_empty(),
            "a count from a tool result stands"
        );
    }

    #[test]
    fn prose_without_facts_needs_no_citation_and_unknown_ids_are_dropped() {
        let symptom = record("2026-11-20T14:05:31Z", "kid not found");
        let text = format!(
            "The evidence is thin. Tokens fail validation [{}, r-00000000deadbeef].",
            symptom.id
        );
        let checked = check_claims(&text, &shown(&[&symptom]), "");
        assert_eq!(
            checked.text,
            format!(
                "The evidence is thin. Tokens fail validation. [{}]",
                symptom.id
            )
        );
    }
}
