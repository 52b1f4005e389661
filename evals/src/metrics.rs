use ingest::RecordId;
use serde::{Deserialize, Serialize};

use crate::ground_truth::{GoldEvidence, GoldRootCause};
use crate::judge::Agreement;

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

/// Share of gold remediation key points that `remediation` covers: a point
/// is covered when at least half of its content words (four letters or
/// more) appear in the remediation text.
pub fn remediation_coverage(remediation: &str, key_points: &[String]) -> f64 {
    if key_points.is_empty() {
        return 1.0;
    }
    let words = |text: &str| -> Vec<String> {
        text.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 4)
            .map(str::to_string)
            .collect()
    };
    let available = words(remediation);
    let covered = key_points
        .iter()
        .filter(|point| {
            let wanted = words(point);
            let found = wanted
                .iter()
                .filter(|w| {
                    available
                        .iter()
                        .any(|a| a.starts_with(w.as_str()) || w.starts_with(a.as_str()))
                })
                .count();
            !wanted.is_empty() && found * 2 >= wanted.len()
        })
        .count();
    covered as f64 / key_points.len() as f64
}

/// 1 / rank of the first cited id that satisfies a gold item (0 when none).
pub fn reciprocal_rank(cited: &[RecordId], gold: &[GoldEvidence]) -> f64 {
    cited
        .iter()
        .position(|id| gold.iter().any(|item| item.ids.contains(id)))
        .map_or(0.0, |rank| 1.0 / (rank + 1) as f64)
}

/// nDCG@k with binary gains: a citation gains when it satisfies a gold item
/// not satisfied by an earlier citation; the ideal cites one record per item.
pub fn ndcg_at(k: usize, cited: &[RecordId], gold: &[GoldEvidence]) -> f64 {
    let mut satisfied = vec![false; gold.len()];
    let mut dcg = 0.0;
    for (rank, id) in cited.iter().take(k).enumerate() {
        if let Some(item) = gold
            .iter()
            .enumerate()
            .position(|(i, g)| !satisfied[i] && g.ids.contains(id))
        {
            satisfied[item] = true;
            dcg += 1.0 / ((rank + 2) as f64).log2();
        }
    }
    let ideal: f64 = (0..gold.len().min(k))
        .map(|rank| 1.0 / ((rank + 2) as f64).log2())
        .sum();
    if ideal == 0.0 { 1.0 } else { dcg / ideal }
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

/// The planted secrets and personal data that appear in any of `payloads`
/// (case-insensitively): each one is a leak.
pub fn leaked<'a>(planted: &'a [String], payloads: &[String]) -> Vec<&'a str> {
    let payloads: Vec<String> = payloads.iter().map(|p| p.to_lowercase()).collect();
    planted
        .iter()
        .filter(|secret| {
            let secret = secret.to_lowercase();
            !secret.is_empty() && payloads.iter().any(|p| p.contains(&secret))
        })
        .map(String::as_str)
        .collect()
}

/// The scores of one case.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseScore {
    /// Case id.
    pub case: String,
    /// Scenario family.
    pub family: String,
    /// Gold evidence items found in the first 5 citations.
    pub recall_at_5: f64,
    /// Gold evidence items found in the first 10 citations.
    pub recall_at_10: f64,
    /// 1 / rank of the first gold citation.
    pub reciprocal_rank: f64,
    /// nDCG@10 of the citations against the gold items.
    pub ndcg_at_10: f64,
    /// Cited records that are gold.
    pub citation_precision: f64,
    /// Gold items cited anywhere in the answer.
    pub citation_recall: f64,
    /// Root cause names every key fact.
    pub root_cause_correct: bool,
    /// Gold remediation key points the drafted remediation covers.
    pub remediation_coverage: f64,
    /// Every citation in the text resolves to a record of the tenant.
    pub citations_resolve: bool,
    /// Seconds to answer, all stages.
    pub answer_secs: f64,
    /// Of which waiting for the LLM (the rest is retrieval and analysis).
    #[serde(default)]
    pub llm_secs: f64,
    /// Recall@10 of gold evidence when the question itself is searched,
    /// per retriever.
    #[serde(default)]
    pub search_recall_at_10: SearchRecall,
    /// LLM calls made for the answer.
    #[serde(default)]
    pub llm_calls: u32,
    /// LLM tokens (prompt and completion) spent on the answer.
    #[serde(default)]
    pub llm_tokens: u32,
    /// An LLM was configured but failed, so evidence mode answered.
    #[serde(default)]
    pub fell_back: bool,
    /// Planted secrets or personal data found in an outbound payload.
    #[serde(default)]
    pub leaks: usize,
    /// The drafted diff applies cleanly to the case's config (absent when
    /// the case has no config fix and the answer no diff).
    #[serde(default)]
    pub diff_applies: Option<bool>,
    /// The LLM judge's grade of the root cause (absent without a judge or
    /// when it gave no usable verdict).
    #[serde(default)]
    pub judge_correct: Option<bool>,
}

/// Recall of one search per retriever; the vector ones are absent when the
/// run had no vector side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchRecall {
    /// BM25 only.
    pub text: f64,
    /// Nearest units only.
    pub vector: Option<f64>,
    /// Both, fused.
    pub hybrid: Option<f64>,
}

/// A mean with its 95% confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The mean.
    pub mean: f64,
    /// Lower bound of the 95% interval.
    pub low: f64,
    /// Upper bound of the 95% interval.
    pub high: f64,
}

impl Estimate {
    /// Mean of `values` in [0, 1] with a Wilson interval, which stays
    /// honest for small samples and means near 0 or 1.
    pub fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        if values.is_empty() {
            return Estimate {
                mean: 0.0,
                low: 0.0,
                high: 0.0,
            };
        }
        let mean = values.iter().sum::<f64>() / n;
        let z = 1.96f64;
        let centre = (mean + z * z / (2.0 * n)) / (1.0 + z * z / n);
        let half = z * (mean * (1.0 - mean) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
        Estimate {
            mean,
            low: (centre - half).max(0.0),
            high: (centre + half).min(1.0),
        }
    }
}

/// Median and 95th percentile (nearest rank); zeros without values.
fn percentiles(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let mut sorted: Vec<f64> = values.collect();
    sorted.sort_by(f64::total_cmp);
    let at = |p: f64| {
        sorted
            .get(((sorted.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    (at(0.5), at(0.95))
}

/// The share of `true` among the grades given, if any was given.
fn graded(grades: &[Option<bool>]) -> Option<Estimate> {
    let given: Vec<f64> = grades
        .iter()
        .flatten()
        .map(|&g| f64::from(u8::from(g)))
        .collect();
    (!given.is_empty()).then(|| Estimate::of(&given))
}

/// The aggregate of a run; keys name the metrics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of cases.
    pub cases: usize,
    /// Mean recall@5 of gold evidence.
    pub recall_at_5: Estimate,
    /// Mean recall@10 of gold evidence.
    pub recall_at_10: Estimate,
    /// Mean reciprocal rank of the first gold citation.
    pub mrr: Estimate,
    /// Mean nDCG@10.
    pub ndcg_at_10: Estimate,
    /// Mean citation precision.
    pub citation_precision: Estimate,
    /// Mean citation recall.
    pub citation_recall: Estimate,
    /// Share of cases whose root cause names every key fact.
    pub root_cause_accuracy: Estimate,
    /// Mean share of gold remediation key points covered.
    pub remediation_coverage: Estimate,
    /// Share of cases whose citations all resolve.
    pub citations_resolve: Estimate,
    /// Mean search recall@10 with BM25 only.
    #[serde(default)]
    pub search_recall_text: Option<Estimate>,
    /// Mean search recall@10 with vectors only.
    #[serde(default)]
    pub search_recall_vector: Option<Estimate>,
    /// Mean search recall@10 with both fused.
    #[serde(default)]
    pub search_recall_hybrid: Option<Estimate>,
    /// Median seconds to answer.
    pub latency_p50_secs: f64,
    /// 95th percentile seconds to answer.
    pub latency_p95_secs: f64,
    /// Median and 95th percentile seconds of retrieval and analysis.
    #[serde(default)]
    pub retrieval_p50_secs: f64,
    /// 95th percentile seconds of retrieval and analysis.
    #[serde(default)]
    pub retrieval_p95_secs: f64,
    /// Median seconds waiting for the LLM.
    #[serde(default)]
    pub llm_p50_secs: f64,
    /// 95th percentile seconds waiting for the LLM.
    #[serde(default)]
    pub llm_p95_secs: f64,
    /// Mean LLM calls per answer.
    #[serde(default)]
    pub llm_calls_per_answer: f64,
    /// Mean LLM tokens per answer.
    #[serde(default)]
    pub llm_tokens_per_answer: f64,
    /// Share of answers where the LLM failed and evidence mode answered.
    #[serde(default)]
    pub llm_fallback_rate: f64,
    /// Planted secrets and personal data found in outbound payloads, over
    /// all cases: anything but 0 fails the run.
    #[serde(default)]
    pub leaks: usize,
    /// Share of drafted diffs that apply cleanly, over cases with a config
    /// fix or a diff.
    #[serde(default)]
    pub diff_apply_rate: Option<Estimate>,
    /// Share of root causes the LLM judge graded correct.
    #[serde(default)]
    pub judge_root_cause_accuracy: Option<Estimate>,
    /// Agreement between the judge and the key-fact match.
    #[serde(default)]
    pub judge_agreement: Option<Agreement>,
}

impl Summary {
    /// Aggregates case scores.
    pub fn of(scores: &[CaseScore]) -> Self {
        let estimate =
            |f: fn(&CaseScore) -> f64| Estimate::of(&scores.iter().map(f).collect::<Vec<_>>());
        let optional = |f: fn(&CaseScore) -> Option<f64>| {
            let values: Option<Vec<f64>> = scores.iter().map(f).collect();
            values.filter(|v| !v.is_empty()).map(|v| Estimate::of(&v))
        };
        let mean = |f: fn(&CaseScore) -> f64| {
            scores.iter().map(f).sum::<f64>() / scores.len().max(1) as f64
        };
        let (latency_p50_secs, latency_p95_secs) =
            percentiles(scores.iter().map(|s| s.answer_secs));
        let (retrieval_p50_secs, retrieval_p95_secs) =
            percentiles(scores.iter().map(|s| (s.answer_secs - s.llm_secs).max(0.0)));
        let (llm_p50_secs, llm_p95_secs) = percentiles(scores.iter().map(|s| s.llm_secs));
        Summary {
            cases: scores.len(),
            recall_at_5: estimate(|s| s.recall_at_5),
            recall_at_10: estimate(|s| s.recall_at_10),
            mrr: estimate(|s| s.reciprocal_rank),
            ndcg_at_10: estimate(|s| s.ndcg_at_10),
            citation_precision: estimate(|s| s.citation_precision),
            citation_recall: estimate(|s| s.citation_recall),
            root_cause_accuracy: estimate(|s| f64::from(u8::from(s.root_cause_correct))),
            remediation_coverage: estimate(|s| s.remediation_coverage),
            citations_resolve: estimate(|s| f64::from(u8::from(s.citations_resolve))),
            search_recall_text: optional(|s| Some(s.search_recall_at_10.text)),
            search_recall_vector: optional(|s| s.search_recall_at_10.vector),
            search_recall_hybrid: optional(|s| s.search_recall_at_10.hybrid),
            latency_p50_secs,
            latency_p95_secs,
            retrieval_p50_secs,
            retrieval_p95_secs,
            llm_p50_secs,
            llm_p95_secs,
            llm_calls_per_answer: mean(|s| f64::from(s.llm_calls)),
            llm_tokens_per_answer: mean(|s| f64::from(s.llm_tokens)),
            llm_fallback_rate: mean(|s| f64::from(u8::from(s.fell_back))),
            leaks: scores.iter().map(|s| s.leaks).sum(),
            diff_apply_rate: graded(&scores.iter().map(|s| s.diff_applies).collect::<Vec<_>>()),
            judge_root_cause_accuracy: graded(
                &scores.iter().map(|s| s.judge_correct).collect::<Vec<_>>(),
            ),
            judge_agreement: Agreement::of(
                &scores
                    .iter()
                    .filter_map(|s| s.judge_correct.map(|judge| (s.root_cause_correct, judge)))
                    .collect::<Vec<_>>(),
            ),
        }
    }

    /// The quality metrics by name, for comparisons with a baseline.
    pub fn named(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("recall_at_5", self.recall_at_5.mean),
            ("recall_at_10", self.recall_at_10.mean),
            ("mrr", self.mrr.mean),
            ("ndcg_at_10", self.ndcg_at_10.mean),
            ("citation_precision", self.citation_precision.mean),
            ("citation_recall", self.citation_recall.mean),
            ("root_cause_accuracy", self.root_cause_accuracy.mean),
            ("remediation_coverage", self.remediation_coverage.mean),
            ("citations_resolve", self.citations_resolve.mean),
        ]
        .into_iter()
        .chain(
            [
                ("search_recall_text", self.search_recall_text),
                ("search_recall_vector", self.search_recall_vector),
                ("search_recall_hybrid", self.search_recall_hybrid),
                ("diff_apply_rate", self.diff_apply_rate),
                ("judge_root_cause_accuracy", self.judge_root_cause_accuracy),
            ]
            .into_iter()
            .filter_map(|(name, estimate)| estimate.map(|e| (name, e.mean))),
        )
        .collect()
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
    fn rank_metrics_reward_early_gold() {
        assert_eq!(reciprocal_rank(&ids(&["r-x", "r-b"]), &gold()), 0.5);
        assert_eq!(reciprocal_rank(&ids(&["r-x"]), &gold()), 0.0);
        assert!((ndcg_at(10, &ids(&["r-a", "r-c"]), &gold()) - 1.0).abs() < 1e-9);
        let late = ndcg_at(10, &ids(&["r-x", "r-y", "r-a", "r-c"]), &gold());
        assert!(late > 0.0 && late < 1.0, "{late}");
        assert!(
            ndcg_at(10, &ids(&["r-b", "r-c"]), &gold()) < 1.0,
            "two citations of one item count once"
        );
    }

    #[test]
    fn remediation_coverage_counts_key_points() {
        let points = vec![
            "refresh the gateway JWKS cache".to_string(),
            "lower the TTL to five minutes".to_string(),
        ];
        assert_eq!(
            remediation_coverage("Flush and refresh the JWKS cache on the gateway", &points),
            0.5
        );
        assert_eq!(remediation_coverage("restart everything", &points), 0.0);
        assert_eq!(remediation_coverage("anything", &[]), 1.0);
    }

    #[test]
    fn wilson_intervals_bracket_the_mean() {
        let all_right = Estimate::of(&[1.0; 10]);
        assert_eq!(all_right.mean, 1.0);
        assert!(
            all_right.low > 0.65 && all_right.low < 0.75,
            "{all_right:?}"
        );
        let none = Estimate::of(&[]);
        assert_eq!(none.mean, 0.0);
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
