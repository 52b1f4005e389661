//! The steps a matching runbook or postmortem prescribes: the list items
//! of its sections headed as actions to take (`Actions`, `Mitigation`,
//! `Workaround`, `Remediation`), which a team wrote for this kind of
//! failure and a remediation should carry.

use ingest::Record;

/// Words of a heading that name steps to take now. Follow-up "action
/// items" are long-term work, not a remediation, and are left out.
const ACTION_WORDS: &[&str] = &[
    "action",
    "actions",
    "remediation",
    "mitigation",
    "mitigations",
    "resolution",
    "workaround",
    "workarounds",
    "fix",
    "recovery",
    "response",
];
/// Heading words that make a section follow-up work.
const FOLLOW_UP_WORDS: &[&str] = &["item", "items", "follow-up", "followup", "lessons"];

/// The list items of `sections` (one document's knowledge records) under
/// an action heading, in document order, each with the section it is in.
pub(crate) fn action_items(sections: &[Record]) -> Vec<(&Record, String)> {
    let mut ordered: Vec<&Record> = sections.iter().filter(|s| is_action_section(s)).collect();
    ordered.sort_by_key(|s| s.origin.line);
    ordered
        .into_iter()
        .flat_map(|section| {
            list_items(&section.body)
                .into_iter()
                .map(move |item| (section, item))
        })
        .collect()
}

fn is_action_section(section: &Record) -> bool {
    let heading = section
        .field_str("section")
        .unwrap_or_default()
        .to_lowercase();
    let words: Vec<&str> = heading
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().any(|w| ACTION_WORDS.contains(w))
        && !words.iter().any(|w| FOLLOW_UP_WORDS.contains(w))
}

/// A Markdown body's list items (`- `, `* `, `+ `, `1. `), each with the
/// indented lines that continue it joined to it.
fn list_items(body: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    let mut open = false;
    for line in body.lines() {
        let trimmed = line.trim_start();
        if let Some(item) = item_text(trimmed) {
            items.push(item.to_string());
            open = true;
        } else if open && !trimmed.is_empty() && line.starts_with(char::is_whitespace) {
            if let Some(last) = items.last_mut() {
                last.push(' ');
                last.push_str(trimmed);
            }
        } else {
            open = false;
        }
    }
    items
}

/// The text of a list item's first line, without its marker.
fn item_text(line: &str) -> Option<&str> {
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return Some(rest.trim());
        }
    }
    let (number, rest) = line.split_once(". ")?;
    (!number.is_empty() && number.chars().all(|c| c.is_ascii_digit())).then(|| rest.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingest::{Origin, RecordId, Severity, SourceKind};

    fn section(heading: &str, line: u64, body: &str) -> Record {
        let origin = Origin {
            source: "runbooks/sso.md".into(),
            line,
        };
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("section".into(), heading.into());
        Record {
            id: RecordId::derive("t", &origin, body),
            tenant: "t".into(),
            kind: SourceKind::Knowledge,
            service: "runbooks".into(),
            host: None,
            ts: None,
            severity: Severity::Info,
            body: format!("{heading}\n{body}"),
            template: None,
            fields,
            origin,
        }
    }

    /// A runbook's "Actions" and a postmortem's "Mitigation" give their
    /// items, continuation lines joined; checks and follow-up action items
    /// give none.
    #[test]
    fn items_under_action_headings_are_the_steps() {
        let runbook = [
            section("Checks", 10, "1. Group failed logins by connection."),
            section(
                "Actions",
                20,
                "- Customer-side outage: open a case with the customer's IT contact,\n  keep the incident open.\n- Temporary alternative login only with approval.",
            ),
        ];
        let items: Vec<String> = action_items(&runbook).into_iter().map(|(_, i)| i).collect();
        assert_eq!(
            items,
            [
                "Customer-side outage: open a case with the customer's IT contact, keep the incident open.",
                "Temporary alternative login only with approval."
            ]
        );
        let postmortem = [
            section("Action items", 40, "- [ ] add an alert on pool saturation"),
            section(
                "Mitigation",
                30,
                "1. Raised the pool size to 80.\n2. Restarted the api pods.",
            ),
        ];
        let items: Vec<String> = action_items(&postmortem)
            .into_iter()
            .map(|(_, i)| i)
            .collect();
        assert_eq!(
            items,
            ["Raised the pool size to 80.", "Restarted the api pods."]
        );
    }
}
