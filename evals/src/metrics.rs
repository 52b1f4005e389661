use ingest::RecordId;
use serde::{Deserialize, Serialize};

use crate::ground_truth::{GoldEvidence, GoldRootCause};

/// Fraction of gold evidence items satisfied by the first `k` cited ids.
pub fn evidence_recall_at(k: usize, cited: &[RecordId], gold: &[GoldEvidence]) -> f64 {
    if gold.is_empty() {
        return 1.0;
    }
    let top = &cited[..cited.len().min(k)];
    let found = gold
        .iter()
        .filter(|item| item.ids.iter().any(|id| top.contains(id)))
        .count();
    found as f64 / gold.len() as f64
}

/// Fraction of cited ids that belong to some gold evidence item.
pub fn citation_precision(cited: &[RecordId], gold: &[GoldEvidence]) -> f64 {
    if cited.is_empty() {
        return 0.0;
    }
    let hits = cited
        .iter()
        .filter(|id| gold.iter().any(|item| item.ids.contains(id)))
        .count();
    hits as f64 / cited.len() as f64
}

/// True when `statement` contains every key fact (any alternative of each).
pub fn root_cause_matches(statement: &str, gold: &GoldRootCause) -> bool {
    let statement = statement.to_lowercase();
    !gold.key_facts.is_empty()
        && gold.key_facts.iter().all(|alternatives| {
            alternatives
                .iter()
                .any(|fact| statement.contains(&fact.to_lowercase()))
        })
}

/// The scores of one case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseScore {
    /// Case id.
    pub case: String,
    /// Scenario family.
    pub family: String,
    /// Gold evidence items found in the first 5 citations.
    pub recall_at_5: f64,
    /// Gold evidence items found in the first 10 citations.
    pub recall_at_10: f64,
    /// Cited records that are gold.
    pub citation_precision: f64,
    /// Root cause names every key fact.
    pub root_cause_correct: bool,
    /// Every citation in the text resolves to a record of the tenant.
    pub citations_resolve: bool,
    /// Seconds to answer (retrieval and analysis).
    pub answer_secs: f64,
}

/// Mean of the case scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of cases.
    pub cases: usize,
    /// Mean recall@5.
    pub recall_at_5: f64,
    /// Mean recall@10.
    pub recall_at_10: f64,
    /// Mean citation precision.
    pub citation_precision: f64,
    /// Share of cases whose root cause is correct.
    pub root_cause_accuracy: f64,
    /// Share of cases whose citations all resolve.
    pub citations_resolve: f64,
}

impl Summary {
    /// Aggregates case scores.
    pub fn of(scores: &[CaseScore]) -> Self {
        let n = scores.len().max(1) as f64;
        let mean = |f: fn(&CaseScore) -> f64| scores.iter().map(f).sum::<f64>() / n;
        Summary {
            cases: scores.len(),
            recall_at_5: mean(|s| s.recall_at_5),
            recall_at_10: mean(|s| s.recall_at_10),
            citation_precision: mean(|s| s.citation_precision),
            root_cause_accuracy: mean(|s| f64::from(u8::from(s.root_cause_correct))),
            citations_resolve: mean(|s| f64::from(u8::from(s.citations_resolve))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gold() -> Vec<GoldEvidence> {
        let item = |ids: &[&str]| GoldEvidence {
            what: String::new(),
            records: Vec::new(),
            ids: ids.iter().map(|i| RecordId(i.to_string())).collect(),
        };
        vec![item(&["r-a"]), item(&["r-b", "r-c"])]
    }

    fn ids(list: &[&str]) -> Vec<RecordId> {
        list.iter().map(|i| RecordId(i.to_string())).collect()
    }

    #[test]
    fn recall_counts_items_not_records() {
        assert_eq!(
            evidence_recall_at(5, &ids(&["r-c", "r-x", "r-a"]), &gold()),
            1.0
        );
        assert_eq!(
            evidence_recall_at(1, &ids(&["r-c", "r-x", "r-a"]), &gold()),
            0.5
        );
        assert_eq!(evidence_recall_at(5, &ids(&[]), &gold()), 0.0);
    }

    #[test]
    fn precision_and_wrong_answers() {
        assert_eq!(citation_precision(&ids(&["r-a", "r-x"]), &gold()), 0.5);
        assert_eq!(citation_precision(&ids(&[]), &gold()), 0.0);
        let cause = GoldRootCause {
            statement: String::new(),
            key_facts: vec![vec!["rotat".into()], vec!["jwks".into(), "kid".into()]],
        };
        assert!(root_cause_matches("Key ROTATION left a stale JWKS", &cause));
        assert!(!root_cause_matches("database pool exhausted", &cause));
        assert!(!root_cause_matches("rotation only", &cause));
    }
}
